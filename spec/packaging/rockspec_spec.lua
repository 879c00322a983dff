-- The rock builds and installs offline with LuaRocks 3.8 for Lua 5.4, and
-- what it installs loads and works on its own.
describe("the rockspec", function()
  it("installs offline into a fresh tree and the installed copy loads", function()
    local tree = os.tmpname()
    os.remove(tree)
    local ok = os.execute(("luarocks --lua-version=5.4 make --tree %s purecloud-scm-1.rockspec >%s.log 2>&1")
      :format(tree, tree))
    assert.is_true(ok == true or ok == 0, "luarocks make failed; see " .. tree .. ".log")
    local cmd = ("cd /tmp && LUA_PATH='%s/share/lua/5.4/?.lua;%s/share/lua/5.4/?/init.lua' LUA_CPATH='%s/lib/lua/5.4/?.so;;' "
      .. "lua5.4 -e 'local p = require \"purecloud\"; local u = require \"purecloud.users\"; "
      .. "io.write(p._VERSION, \" \", package.searchpath(\"purecloud.core\", package.cpath), \" \", "
      .. "type(u.get_user_id))' 2>&1"):format(tree, tree, tree)
    local p = io.popen(cmd)
    local out = p:read("a")
    p:close()
    os.execute("rm -rf " .. tree .. " " .. tree .. ".log")
    assert.matches("^%d+%.%d+%.%d+ " .. tree:gsub("%p", "%%%0") .. "/lib/lua/5%.4/purecloud/core%.so function$", out)
  end)
end)
