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
      code, out = sh(("luarocks --lua-version=5.4 --tree=%s install --deps-mode=none %s"):format(tree, rock))
      assert.are.equal(0, code, rock .. ": " .. out)
      local lcode, loaded = load_from(tree, "lua5.4", "5.4")
      assert.are.equal(0, lcode, loaded)
      assert.are.equal(("%s %s %s/lib/lua/5.4/purecloud/core.so function function"):format(VERSION, VERSION, tree), loaded)
      -- The installed command line runs from anywhere too (with the tree's
      -- paths, as `luarocks path` gives them for a tree of one's own).
      code, out = sh(("cd /tmp && eval \"$(luarocks --lua-version=5.4 --tree=%s path)\" && %s/bin/purecloud --version")
        :format(tree, tree))
      assert.are.equal(0, code, out)
      assert.are.equal("purecloud " .. VERSION .. "\n", out)
      sh("rm -rf " .. tree)
    end
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
