-- emulator/ctl as the runners use it: free ports picked by `--port 0` so that
-- parallel runs never collide, one .emulator/<port>/ prefix per instance that
-- stop removes, checkouts nobody else may read, and start failures that stop
-- at once with the emulator's own reason.
local emu = require "support.emulator"

local sh = require("support.shell").run

local function exists(path)
  local f = io.open(path)
  if f then f:close() end
  return f ~= nil
end

local function port_of(url) return assert(tonumber(url:match(":(%d+)$")), "no port in " .. tostring(url)) end

-- A copy of the emulator (and the run-specs tool) in a fresh directory, the
-- checkout itself inside a directory only its owner may enter.
local function copy_checkout()
  local dir = assert(io.popen("mktemp -d"):read("l"))
  local root = dir .. "/checkout"
  assert(sh(("chmod 0700 %s && mkdir -p %s/tools && cp -r emulator api %s/ && cp tools/run-specs %s/tools/")
    :format(dir, root, root, root)) == 0)
  return dir, root
end

describe("emulator/ctl start --port 0", function()
  it("starts instances on different free ports, each in its own prefix that stop --url removes", function()
    local a = emu.start{ users = 3 }
    local b = emu.start{ users = 5 }
    local ok, err = pcall(function()
      assert.matches("^http://127%.0%.0%.1:%d+$", a)
      assert.are_not.equal(a, b)
      assert.are.equal(3, emu.request("GET", "/__emulator/health", { base = a }).json.users)
      assert.are.equal(5, emu.request("GET", "/__emulator/health", { base = b }).json.users)
      assert.is_true(exists(".emulator/" .. port_of(a) .. "/nginx.conf"))
      assert.are.equal(0, sh("emulator/ctl stop --url " .. a))
      assert.are.equal(0, emu.request("GET", "/__emulator/health", { base = a, max_time = 2 }).status)
      assert.is_false(exists(".emulator/" .. port_of(a) .. "/nginx.conf"))
      assert.are.equal(200, emu.request("GET", "/__emulator/health", { base = b }).status)
    end)
    emu.stop(a)
    emu.stop(b)
    assert(ok, err)
    assert.is_false(exists(".emulator/" .. port_of(b) .. "/nginx.conf"))
  end)

  it("prints a port nobody listens on for other servers, and refuses to stop port 0", function()
    local rc, out = sh("emulator/ctl free-port")
    assert.are.equal(0, rc)
    local port = tonumber(out:match("^(%d+)\n$"))
    assert.is_number(port)
    assert.is_true(port >= 1024 and port < 65535)
    assert.are.equal(0, emu.request("GET", "/", { base = "http://127.0.0.1:" .. port, max_time = 2 }).status)
    rc, out = sh("emulator/ctl stop --port 0")
    assert.are.equal(2, rc)
    assert.matches("stop needs the port", out)
  end)
end)

describe("emulator/ctl start, away from this checkout", function()
  local dir, root
  lazy_setup(function() dir, root = copy_checkout() end)
  lazy_teardown(function() os.execute("rm -rf " .. dir) end)

  it("starts from a checkout that other users cannot read", function()
    local rc, out = sh(root .. "/emulator/ctl start --port 0 --users 2")
    local url = out:match("(http://[%d.:]+)\n$")
    if url then sh(root .. "/emulator/ctl stop --url " .. url) end
    assert.are.equal(0, rc, out)
    assert.is_string(url)
  end)

  it("fails at once with nginx's own reason when the port is taken", function()
    local url = emu.start{ users = 2 }
    local rc, out = sh(("%s/emulator/ctl start --port %d"):format(root, port_of(url)))
    emu.stop(url)
    assert.are.equal(1, rc, out)
    assert.matches("nginx failed to start on port " .. port_of(url), out)
    assert.matches("Address already in use", out)
  end)

  it("fails fast with the emulator's error log, and run-specs then runs no spec", function()
    local f = assert(io.open(root .. "/emulator/lua/emu/app.lua", "a"))
    f:write("\nthis is not Lua\n")
    f:close()
    local rc, out = sh(root .. "/emulator/ctl start --port 0")
    assert.are.equal(1, rc, out)
    assert.matches("the emulator's own words", out)
    assert.matches("error loading module 'emu.app'", out)
    assert.are.equal(1, (sh("ls -A " .. root .. "/.emulator | grep -q .")), "a prefix was left behind")
    rc, out = sh("env -u PURECLOUD_EMULATOR_PORT " .. root .. "/tools/run-specs")
    assert.are.equal(1, rc, out)
    assert.matches("error loading module 'emu.app'", out)
    assert.matches("no spec was run", out)
    assert.matches("\n0 passed, 1 failed\n", out)
  end)
end)
