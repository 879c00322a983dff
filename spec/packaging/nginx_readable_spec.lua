-- examples/nginx/run checks at start that nginx's workers can read what
-- lua_package_path and lua_package_cpath name: started as root, nginx runs
-- them as nobody, and from a 0700 checkout the failure would otherwise be a
-- misleading "module not found" (README "Inside nginx / OpenResty").
local shell = require "support.shell"
local sh = shell.run

local function copy_checkout()
  local _, d = sh("mktemp -d")
  d = d:gsub("%s+$", "")
  assert.are.equal(0, (sh(("mkdir -p %s/co/build && cp -r lua examples emulator api Makefile %s/co/ && "
    .. "cp -r build/luajit %s/co/build/"):format(d, d, d))))
  return d
end

describe("examples/nginx/run (make nginx-example)", function()
  lazy_setup(function() assert.are.equal(0, (sh("make --no-print-directory luajit"))) end)

  it("refuses, saying why, when nginx's workers cannot read the library (a 0700 folder above it)", function()
    if select(2, sh("id -u")):match("^0%s") == nil then
      pending("only as root does nginx run its workers as another user")
      return
    end
    local d = copy_checkout() -- mktemp -d: 0700
    local ok, err = pcall(function()
      local code, out = sh(("cd %s/co && PURECLOUD_BASE_URL=http://127.0.0.1:1 PURECLOUD_CLIENT_ID=x "
        .. "NGINX_EXAMPLE_PORT=1 examples/nginx/run"):format(d))
      assert.are.equal(1, code, out)
      assert.matches("nginx's workers run as nobody and cannot read " .. d .. "/co/lua/purecloud/init.lua", out, 1, true)
      assert.matches("(" .. d .. " is not searchable by nobody: e.g. a 0700 home)", out, 1, true)
      assert.matches('misleading "module not found"', out, 1, true)
      -- Readable, it starts.
      sh("chmod 0755 " .. d)
      local port = select(2, sh("emulator/ctl free-port")):gsub("%s+$", "")
      code, out = sh(("cd %s/co && PURECLOUD_BASE_URL=http://127.0.0.1:1 PURECLOUD_CLIENT_ID=x "
        .. "NGINX_EXAMPLE_PORT=%s examples/nginx/run"):format(d, port))
      assert.are.equal(0, code, out)
      assert.are.equal(0, (sh(("curl -sf -o /dev/null --max-time 5 http://127.0.0.1:%s/health"):format(port))))
    end)
    sh(("cd %s/co && examples/nginx/run stop; rm -rf %s"):format(d, d))
    assert(ok, err)
  end)
end)
