-- Start-up stays cheap (issue 12): `require "purecloud"` and creating a client
-- load neither libcurl nor the transport module; the first request loads
-- them, and the call works. Checked in a fresh lua5.4 process by reading its
-- own memory map (Linux), against the emulator.
local emu = require "support.emulator"
local sh = require "support.shell"

local SCRIPT = [[
local function mapped(name)
  local f = assert(io.open("/proc/self/maps"))
  local maps = f:read("*a")
  f:close()
  return maps:find(name, 1, true) ~= nil
end
local purecloud = require "purecloud"
local c = purecloud.new{ base_url = os.getenv("EMU"), login_url = os.getenv("EMU"),
  client_id = "emulator-client", client_secret = "emulator-secret", log = "none" }
assert(c.users, "no users")
print("after new: libcurl " .. tostring(mapped("libcurl")) .. ", module "
  .. tostring(package.loaded["purecloud.transport.curl"] ~= nil))
local page = assert(c.users.get_users{ page_size = 1 })
print("after a call: libcurl " .. tostring(mapped("libcurl")) .. ", module "
  .. tostring(package.loaded["purecloud.transport.curl"] ~= nil) .. ", entities " .. #page.entities)
]]

describe("start-up", function()
  local f
  lazy_setup(function()
    emu.reset{ users = 3 }
    f = os.tmpname()
    local h = assert(io.open(f, "w"))
    h:write(SCRIPT)
    h:close()
  end)
  lazy_teardown(function() os.remove(f) end)

  it("loads libcurl at the first request, not at require or new", function()
    local rc, out = sh.run(("EMU=%s LUA_PATH='./lua/?.lua;./lua/?/init.lua;;' LUA_CPATH='./build/lua5.4/?.so;;' "
      .. "env -u LD_PRELOAD lua5.4 %s"):format(emu.url, f))
    assert.are.equal(0, rc, out)
    assert.matches("after new: libcurl false, module false", out, 1, true)
    assert.matches("after a call: libcurl true, module true, entities 1", out, 1, true)
  end)

  it("says what is missing when the transport module is not installed", function()
    -- core from the build, lua-cjson from wherever this Lua finds it, and no
    -- path where purecloud/transport/curl.so could be found.
    local _, cjson = sh.run("lua5.4 -e 'print(package.searchpath(\"cjson\", package.cpath))'")
    cjson = assert(cjson:match("^(%S+%.so)"), cjson)
    local rc, out = sh.run(("LUA_PATH='./lua/?.lua;./lua/?/init.lua;;' LUA_CPATH='./build/lua5.4/purecloud/?.so' "
      .. "env -u LD_PRELOAD lua5.4 -e \"package.preload['purecloud.core'] = package.loadlib("
      .. "'./build/lua5.4/purecloud/core.so', 'luaopen_purecloud_core'); "
      .. "package.preload.cjson = package.loadlib('%s', 'luaopen_cjson'); "
      .. "package.preload['cjson.safe'] = package.loadlib('%s', 'luaopen_cjson_safe'); "
      .. "require('purecloud').new{ base_url = 'http://127.0.0.1:9', access_token = 't' }\""):format(cjson, cjson))
    assert.are_not.equal(0, rc)
    assert.matches("the libcurl transport (module purecloud.transport.curl) is not installed; pass option "
      .. "'transport'", out, 1, true)
  end)
end)
