-- The rock: one version everywhere, a license, `make rock` artifacts that
-- install offline into a fresh tree and load from outside the checkout, and
-- a rock build per Lua version that never installs another Lua's module.
-- (Slow: it builds the C core several times.)
local shell = require "support.shell"
local sh, slurp = shell.run, shell.read

local function mktemp() local _, d = sh("mktemp -d"); return (d:gsub("%s+$", "")) end

local VERSION = slurp("VERSION"):match("^%s*(%d+%.%d+%.%d+)%s*$")

-- Load purecloud from an installed tree, from /tmp (not the checkout).
local function load_from(tree, lua, short)
  return sh(("cd /tmp && LUA_PATH='%s/share/lua/%s/?.lua;%s/share/lua/%s/?/init.lua;;' LUA_CPATH='%s/lib/lua/%s/?.so;;' "
    .. "%s -e 'local p = require \"purecloud\"; local u = require \"purecloud.users\"; "
    .. "io.write(p._VERSION, \" \", require(\"purecloud.core\")._VERSION, \" \", "
    .. "package.searchpath(\"purecloud.core\", package.cpath), \" \", type(u.get_user_id), \" \", "
    .. "type(require(\"purecloud.transport.curl\").new))'")
    :format(tree, short, tree, short, tree, short, lua))
end

-- Install a rock offline into `tree` (a fresh folder), load it from /tmp and
-- run its command line from there (with the tree's paths, as `luarocks path`
-- gives them for a tree of one's own).
local function assert_installs(rock, tree)
  local code, out = sh(("luarocks --lua-version=5.4 --tree=%s install --deps-mode=none %s"):format(tree, rock))
  assert.are.equal(0, code, rock .. ": " .. out)
  local lcode, loaded = load_from(tree, "lua5.4", "5.4")
  assert.are.equal(0, lcode, loaded)
  assert.are.equal(("%s %s %s/lib/lua/5.4/purecloud/core.so function function"):format(VERSION, VERSION, tree), loaded)
  code, out = sh(("cd /tmp && eval \"$(luarocks --lua-version=5.4 --tree=%s path)\" && %s/bin/purecloud --version")
    :format(tree, tree))
  assert.are.equal(0, code, out)
  assert.are.equal("purecloud " .. VERSION .. "\n", out)
end

describe("the rock", function()
  it("has one version: VERSION, the core, the library and the command line agree", function()
    assert.is_string(VERSION, "VERSION must hold one x.y.z line")
    local code, out = sh("LUA_PATH='./lua/?.lua;./lua/?/init.lua;;' LUA_CPATH='./build/lua5.4/?.so;;' lua5.4 -e "
      .. "'io.write(require(\"purecloud\")._VERSION, \" \", require(\"purecloud.core\")._VERSION)'")
    assert.are.equal(0, code, out)
    assert.are.equal(VERSION .. " " .. VERSION, out)
    code, out = sh("LUA_PATH='./lua/?.lua;./lua/?/init.lua;;' LUA_CPATH='./build/lua5.4/?.so;;' lua5.4 bin/purecloud --version")
    assert.are.equal(0, code, out)
    assert.are.equal("purecloud " .. VERSION .. "\n", out)
  end)

  it("ships a LICENSE matching the rockspec's license, and declares the Lua range", function()
    local spec = slurp("purecloud-scm-1.rockspec")
    assert.matches('license = "MIT"', spec)
    assert.matches("^MIT License\n", slurp("LICENSE"))
    assert.matches('"lua >= 5%.1, < 5%.5"', spec)
    assert.matches('WERROR = ""', spec) -- a user's install never builds with -Werror
  end)

  it("make rock: a source and a binary rock that each install offline into a fresh tree and load", function()
    local code, out = sh("make --no-print-directory rock")
    assert.are.equal(0, code, out)
    local src = ("build/rock/purecloud-%s-1.src.rock"):format(VERSION)
    local bin = ("build/rock/purecloud-%s-1.linux-x86_64.rock"):format(VERSION)
    assert.matches('version = "' .. VERSION:gsub("%.", "%%.") .. '%-1"',
      slurp(("build/rock/purecloud-%s-1.rockspec"):format(VERSION)))
    for _, rock in ipairs({ src, bin }) do
      local tree = mktemp()
      assert_installs(rock, tree)
      sh("rm -rf " .. tree)
    end
  end)

  it("the release rockspec: rockspecs/purecloud-VERSION-1.rockspec, generated from the dev one, tag vVERSION", function()
    local path = ("rockspecs/purecloud-%s-1.rockspec"):format(VERSION)
    local code, out = sh("lua5.4 tools/release-rockspec.lua --check")
    assert.are.equal(0, code, out .. " (make rockspec writes it)")
    local _, list = sh("ls rockspecs")
    assert.are.equal(("purecloud-%s-1.rockspec\n"):format(VERSION), list) -- one release, this VERSION's
    local function fields(file)
      local env = {}
      assert(load(slurp(file), "=" .. file, "t", env))()
      return env
    end
    local dev, rel = fields("purecloud-scm-1.rockspec"), fields(path)
    assert.are.equal(VERSION .. "-1", rel.version)
    assert.are.equal("scm-1", dev.version)
    assert.are.equal("git+https://github.com/purecloud-lua/purecloud.git", dev.source.url)
    assert.are.same({ url = dev.source.url, tag = "v" .. VERSION }, rel.source)
    for _, k in ipairs({ "package", "rockspec_format", "description", "dependencies", "external_dependencies",
                         "build", "test" }) do
      assert.are.same(dev[k], rel[k], k)
    end
    code, out = sh("luarocks lint " .. path)
    assert.are.equal(0, code, out)
    code, out = sh("luarocks lint purecloud-scm-1.rockspec")
    assert.are.equal(0, code, out)
    -- The README names this version's rock, and no other.
    for name in slurp("README.md"):gmatch("purecloud%-(%d+%.%d+%.%d+)%-1") do assert.are.equal(VERSION, name) end
  end)

  -- The release's own path (luarocks pack clones source.url at source.tag),
  -- offline: the repository is a local bare copy of this checkout's HEAD
  -- tagged vVERSION, and the rockspec differs from the release one only in
  -- source.url, so a wrong tag, a file the build names but git does not
  -- track, or a build section that fails outside the checkout fails here.
  it("luarocks pack of the release rockspec clones the tag, and its source rock installs offline and loads", function()
    local dir = mktemp()
    finally(function() sh("rm -rf " .. dir) end)
    local code, out = sh(("git clone -q --bare . %s/repo.git && git -C %s/repo.git tag v%s HEAD")
      :format(dir, dir, VERSION))
    assert.are.equal(0, code, out)
    local rel = slurp(("rockspecs/purecloud-%s-1.rockspec"):format(VERSION))
    local local_url, n = rel:gsub('\n   url = "[^"\n]*",', ('\n   url = "git+file://%s/repo.git",'):format(dir), 1)
    assert.are.equal(1, n, "the release rockspec has no source.url line")
    local f = assert(io.open(("%s/purecloud-%s-1.rockspec"):format(dir, VERSION), "wb"))
    f:write(local_url)
    f:close()
    code, out = sh(("cd %s && luarocks --lua-version=5.4 pack purecloud-%s-1.rockspec"):format(dir, VERSION))
    assert.are.equal(0, code, out)
    assert_installs(("%s/purecloud-%s-1.src.rock"):format(dir, VERSION), dir .. "/tree")
  end)

  it("make rockspec refuses a VERSION that is not x.y.z, and --check sees a stale file", function()
    local dir = mktemp()
    sh(("mkdir -p %s/rockspecs && cp purecloud-scm-1.rockspec %s/ && cp %s %s/rockspecs/"):format(dir, dir,
      ("rockspecs/purecloud-%s-1.rockspec"):format(VERSION), dir))
    sh(("printf '9.9.9\n' > %s/VERSION"):format(dir))
    local tool = select(2, sh("pwd")):gsub("%s+$", "") .. "/tools/release-rockspec.lua"
    local code, out = sh(("cd %s && lua5.4 %s --check"):format(dir, tool))
    assert.are_not.equal(0, code)
    assert.matches("rockspecs/purecloud%-9%.9%.9%-1%.rockspec is missing or out of date: run make rockspec", out)
    code, out = sh(("cd %s && lua5.4 %s && ls rockspecs"):format(dir, tool))
    assert.are.equal(0, code, out)
    assert.matches("^rockspecs/purecloud%-9%.9%.9%-1%.rockspec\npurecloud%-9%.9%.9%-1%.rockspec\n$", out)
    assert.matches('tag = "v9%.9%.9"', slurp(dir .. "/rockspecs/purecloud-9.9.9-1.rockspec"))
    sh(("printf 'v1\n' > %s/VERSION"):format(dir))
    code, out = sh(("cd %s && lua5.4 %s"):format(dir, tool))
    sh("rm -rf " .. dir)
    assert.are_not.equal(0, code)
    assert.matches("VERSION must hold one x%.y%.z line", out)
  end)

  it("luarocks --lua-version=5.1 make builds the LuaJIT-compatible module: it loads in nginx's LuaJIT", function()
    local tree, prefix = mktemp(), mktemp()
    local code, out = sh(("luarocks --lua-version=5.1 make --tree=%s purecloud-scm-1.rockspec"):format(tree))
    assert.are.equal(0, code, out)
    local port = select(2, sh("emulator/ctl free-port")):gsub("%s+$", "")
    local f = assert(io.open(prefix .. "/nginx.conf", "wb"))
    f:write((([[
load_module /usr/lib/nginx/modules/ndk_http_module.so;
load_module /usr/lib/nginx/modules/ngx_http_lua_module.so;
%s
daemon on; worker_processes 1; pid P/nginx.pid; error_log P/error.log warn;
events { worker_connections 64; }
http {
  access_log off; client_body_temp_path P;
  lua_package_path "T/share/lua/5.1/?.lua;T/share/lua/5.1/?/init.lua;;";
  lua_package_cpath "T/lib/lua/5.1/?.so;;";
  server { listen 127.0.0.1:PORT; location / { content_by_lua_block {
    local core = require "purecloud.core"
    local purecloud = require "purecloud"
    local c = purecloud.new{ client_id = "x", client_secret = "y", base_url = "http://127.0.0.1:1" }
    ngx.say(jit.version, " ", purecloud._VERSION, " ", core._VERSION, " ", package.searchpath("purecloud.core", package.cpath),
      " ", type(c.users.get_users))
  } } }
}]]):format(select(2, sh("id -u")):match("^0%s") and "user root root;" or ""):gsub("PORT", port)
      :gsub("P/", prefix .. "/"):gsub("T/", tree .. "/")))
    f:close()
    code, out = sh(("env -u LUA_PATH -u LUA_CPATH nginx -p %s -c %s/nginx.conf -e %s/error.log"):format(prefix, prefix, prefix))
    local body
    if code == 0 then
      sh("sleep 0.3")
      code, body = sh(("curl -s --max-time 5 http://127.0.0.1:%s/"):format(port))
      sh(("kill $(cat %s/nginx.pid)"):format(prefix))
    end
    local _, log = sh("cat " .. prefix .. "/error.log")
    sh(("rm -rf %s %s"):format(tree, prefix))
    assert.are.equal(0, code, out .. log)
    assert.matches(("^LuaJIT 2%%.1%%S* %s %s %s/lib/lua/5%%.1/purecloud/core%%.so function\n$"):format(
      VERSION:gsub("%.", "%%."), VERSION:gsub("%.", "%%."), tree:gsub("%p", "%%%0")), body or "", 1)
  end)

  it("a build for one Lua refuses to load in another: the 5.4 module in 5.1, the LuaJIT one in 5.4", function()
    assert.are.equal(0, (sh("make --no-print-directory lua5.4 lua5.1 luajit")))
    local code, out = sh("cd /tmp && lua5.1 -e 'package.cpath = \"" .. select(2, sh("pwd")):gsub("%s+$", "")
      .. "/build/lua5.4/?.so\"; require \"purecloud.core\"'")
    assert.are_not.equal(0, code)
    assert.matches("undefined symbol", out)
    code, out = sh("cd /tmp && lua5.4 -e 'package.cpath = \"" .. select(2, sh("pwd")):gsub("%s+$", "")
      .. "/build/luajit/?.so\"; require \"purecloud.core\"'")
    assert.are_not.equal(0, code)
    assert.matches("undefined symbol", out)
  end)

  it("luarocks --lua-version=5.3 make builds for 5.3 even next to a 5.4 build", function()
    assert.are.equal(0, (sh("make --no-print-directory lua5.4")))
    local tree = mktemp()
    local code, out = sh(("luarocks --lua-version=5.3 make --tree=%s purecloud-scm-1.rockspec"):format(tree))
    assert.are.equal(0, code, out)
    local lcode, loaded = load_from(tree, "lua5.3", "5.3")
    sh("rm -rf " .. tree)
    assert.are.equal(0, lcode, loaded)
    assert.are.equal(("%s %s %s/lib/lua/5.3/purecloud/core.so function function"):format(VERSION, VERSION, tree), loaded)
  end)
end)
