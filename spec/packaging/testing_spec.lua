-- The emulator as a fixture for users' own specs: purecloud.testing starts
-- and stops one (also at the process's exit), names the Debian packages when
-- nginx or its Lua module is missing, the README's user spec
-- (examples/spec/provision_spec.lua) passes, and a rock installed into a fresh
-- tree ships the emulator: `purecloud-emulator` and the user spec run from
-- the tree alone, the checkout on no path. (Slow: the last builds the rock.)
local shell = require "support.shell"
local testing = require "purecloud.testing"
local sh, slurp = shell.run, shell.read

local function mktemp() local _, d = sh("mktemp -d"); return (d:gsub("%s+$", "")) end
local function answers(url)
  return (sh("curl -s -o /dev/null --max-time 2 " .. url .. "/__emulator/health")) == 0
end
local ROOT = (select(2, sh("pwd")):gsub("%s+$", ""))
local IN_CHECKOUT = ("LUA_PATH='%s/lua/?.lua;%s/lua/?/init.lua;;' LUA_CPATH='%s/build/lua5.4/?.so;;'"):format(ROOT, ROOT, ROOT)

describe("purecloud.testing.emulator", function()
  it("starts one on a free port with the test credentials; stop is idempotent", function()
    local emu = testing.emulator{ users = 7, seed = 3, rate = false }
    local ok, err = pcall(function()
      assert.matches("^http://127%.0%.0%.1:%d+$", emu.url)
      assert.are.same({ "emulator-client", "emulator-secret" }, { emu.client_id, emu.client_secret })
      assert.are.equal(7, emu:stats().users)
      local r = emu:api("GET", "/api/v2/users")
      assert.are.equal(200, r.status)
      assert.is_nil(r.headers["inin-ratelimit-allowed"]) -- rate = false: unlimited
      -- the library's client, pointed at it
      local page = assert(emu:client().users.get_users{ page_size = 3 })
      assert.are.equal(7, page.total)
      emu:fault{ method = "GET", path = "/api/v2/users/nobody", status = 418 }
      assert.are.equal(418, emu:api("GET", "/api/v2/users/nobody").status)
      assert.are.equal(1, emu:stats().faults_fired)
      assert.is_true(#emu:log() >= 2)
      emu:reset{ users = 2 }
      assert.are.same({ 2, 0 }, { emu:stats().users, emu:stats().faults_fired })
      emu:config{ latency_ms = 0 }
    end)
    emu:stop()
    assert(ok, err)
    assert.is_false(answers(emu.url))
    emu:stop() -- again: nothing to do, no error
  end)

  it("has today's budget by default, a number a minute, or a { allowed, window_s } kept across resets", function()
    local a = testing.emulator{ users = 1 }
    local b = testing.emulator{ users = 1, rate = { allowed = 2, window_s = 5 } }
    local ok, err = pcall(function()
      assert.are.equal("300", a:api("GET", "/api/v2/users").headers["inin-ratelimit-allowed"])
      b:reset{}
      assert.are.same({ 200, 200, 429 }, { b:api("GET", "/api/v2/users").status, b:api("GET", "/api/v2/users").status,
                                           b:api("GET", "/api/v2/users").status })
    end)
    a:stop(); b:stop()
    assert(ok, err)
    assert.has_error(function() testing.emulator{ rate = "fast" } end)
  end)

  it("is stopped when the process exits without stopping it, and by <close>", function()
    local state = mktemp()
    local code, out = sh(("cd /tmp && PURECLOUD_EMULATOR_STATE=%s %s lua5.4 -e '"
      .. "local t = require \"purecloud.testing\"; "
      .. "local url; do local c <close> = t.emulator{ users = 1 }; url = c.url end; "
      .. "local up = os.execute(\"curl -s -o /dev/null --max-time 2 \" .. url .. \"/__emulator/health\"); "
      .. "local e = t.emulator{ users = 1 }; io.write(url, \" \", tostring(up), \" \", e.url)'"):format(state, IN_CHECKOUT))
    assert.are.equal(0, code, out)
    local closed, up, left = out:match("^(http://%S+) (%S+) (http://%S+)$")
    assert.is_string(left, out)
    assert.are.equal("nil", up) -- stopped as its <close> variable went out of scope
    assert.is_false(answers(closed))
    assert.is_false(answers(left))
    local _, files = sh("ls -A " .. state)
    sh("rm -rf " .. state)
    assert.are.equal("", files) -- each instance's folder removed
  end)

  it("names the Debian packages when nginx or its Lua module is missing", function()
    local code, out = sh(("cd /tmp && PATH=/usr/bin:/bin %s /usr/bin/lua5.4 -e "
      .. "'require(\"purecloud.testing\").emulator{}'"):format(IN_CHECKOUT))
    assert.are_not.equal(0, code)
    assert.matches("nginx is not installed", out)
    assert.matches("apt%-get install nginx libnginx%-mod%-http%-lua", out)
    code, out = sh(("cd /tmp && PURECLOUD_NGINX_MODULES=/nonexistent %s lua5.4 -e "
      .. "'require(\"purecloud.testing\").emulator{}'"):format(IN_CHECKOUT))
    assert.are_not.equal(0, code)
    assert.matches("Lua module is missing", out)
    assert.matches("apt%-get install libnginx%-mod%-http%-lua", out)
  end)

  it("runs the README's user spec (examples/spec/provision_spec.lua)", function()
    local readme = slurp("README.md")
    local block = readme:match("## Testing your automation with busted.-```lua\n(.-)```")
    assert.is_string(block, "README has no Lua block under \"Testing your automation with busted\"")
    assert.are.equal(slurp("examples/spec/provision_spec.lua"), block)
    local code, out = sh(("cd /tmp && %s lua5.4 /usr/bin/busted -o plainTerminal %s/examples/spec/provision_spec.lua")
      :format(IN_CHECKOUT, ROOT))
    assert.are.equal(0, code, out)
    assert.matches("3 successes / 0 failures / 0 errors", out)
  end)
end)

describe("the rock installed into a fresh tree", function()
  local tree, work
  lazy_setup(function()
    tree, work = mktemp(), mktemp()
    local code, out = sh(("luarocks --lua-version=5.4 --tree=%s make purecloud-scm-1.rockspec"):format(tree))
    assert(code == 0, out)
  end)
  lazy_teardown(function() sh(("rm -rf %s %s"):format(tree, work)) end)

  -- A shell in `work` with only the tree's paths (as `luarocks path` gives them); the checkout on none.
  local function in_tree(cmd)
    return sh(("cd %s && unset LUA_PATH LUA_CPATH LUA_PATH_5_4 LUA_CPATH_5_4 PURECLOUD_EMULATOR_HOME && "
      .. "eval \"$(luarocks --lua-version=5.4 --tree=%s path)\" && "
      .. "case \"$LUA_PATH;$LUA_CPATH\" in *%s*) echo 'the checkout is on a path' >&2; exit 99;; esac && %s")
      :format(work, tree, ROOT, cmd))
  end

  it("ships the emulator: purecloud-emulator start, free-port, stop; state outside the tree", function()
    local state = work .. "/state"
    local code, out = in_tree(("PURECLOUD_EMULATOR_STATE=%s %s/bin/purecloud-emulator start --port 0 --users 3")
      :format(state, tree))
    assert.are.equal(0, code, out)
    local url = out:match("(http://[^\n]+)\n?$")
    assert.is_true(answers(url))
    local _, conf = sh(("cat %s/%s/nginx.conf"):format(state, url:match(":(%d+)$")))
    assert.matches(tree .. "/share/lua/5.4/purecloud/emulator/lua/", conf, 1, true)
    assert.matches(tree .. "/share/lua/5.4/purecloud/emulator/api/users-api.json", conf, 1, true)
    assert.is_nil(conf:find(ROOT .. "/", 1, true))
    code, out = in_tree(tree .. "/bin/purecloud-emulator free-port")
    assert.are.equal(0, code, out)
    assert.matches("^%d+%s*$", out)
    code, out = in_tree(("PURECLOUD_EMULATOR_STATE=%s %s/bin/purecloud-emulator stop --url %s"):format(state, tree, url))
    assert.are.equal(0, code, out)
    assert.is_false(answers(url))
    -- without PURECLOUD_EMULATOR_STATE, the state goes to $TMPDIR, never into the tree
    code, out = in_tree(("TMPDIR=%s %s/bin/purecloud-emulator start --port 0 --users 1"):format(work, tree))
    assert.are.equal(0, code, out)
    url = out:match("(http://[^\n]+)\n?$")
    local port = url:match(":(%d+)$")
    local _, where = sh(("ls -d %s/purecloud-emulator-*/%s"):format(work, port))
    in_tree(("TMPDIR=%s %s/bin/purecloud-emulator stop --url %s"):format(work, tree, url))
    assert.matches("^" .. work:gsub("%p", "%%%0") .. "/purecloud%-emulator%-%d+/" .. port, where)
    local _, in_rock = sh(("find %s -name nginx.pid -o -name error.log"):format(tree))
    assert.are.equal("", in_rock)
  end)

  it("runs the README's user spec with busted against the installed emulator", function()
    sh(("cp examples/spec/provision_spec.lua %s/"):format(work))
    local code, out = in_tree("lua5.4 -e 'io.write(package.searchpath(\"purecloud.testing\", package.path), \" \", "
      .. "require(\"purecloud.testing\").home())'")
    assert.are.equal(0, code, out)
    assert.are.equal(("%s/share/lua/5.4/purecloud/testing.lua %s/share/lua/5.4/purecloud/emulator"):format(tree, tree), out)
    code, out = in_tree("lua5.4 /usr/bin/busted -o plainTerminal provision_spec.lua")
    assert.are.equal(0, code, out)
    assert.matches("3 successes / 0 failures / 0 errors", out)
  end)
end)
