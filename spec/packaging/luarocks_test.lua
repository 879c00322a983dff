-- `luarocks test` entry point (the rockspec's test.script, run by the Lua
-- interpreter LuaRocks is configured for): build for that Lua and run the
-- specs against a fresh emulator with `make specs`. Installs nothing: the
-- system packages come from ./tools/bootstrap, never from a rock's test step.
local i = -1
while arg[i - 1] do i = i - 1 end
local lua = arg[i] or "lua5.4"
local extra = {}
for k = 1, #arg do extra[#extra + 1] = "'" .. arg[k]:gsub("'", "'\\''") .. "'" end
local cmd = ("make --no-print-directory specs LUA='%s'%s"):format(lua:gsub("'", ""),
  #extra > 0 and (" SPECS=\"" .. table.concat(extra, " ") .. "\"") or "")
local ok, _, code = os.execute(cmd)
if ok == true or ok == 0 then os.exit(0) end
os.exit(type(code) == "number" and code ~= 0 and code or 1)
