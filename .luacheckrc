-- luacheck configuration: Lua 5.4 library code, busted specs, nginx emulator.
std = "lua54"
max_line_length = 160
codes = true
exclude_files = { "tools/node_modules/**", "build/**", ".emulator/**", "luarocks-tree/**" }

files["spec/**"] = { std = "+busted" }
-- Route handlers share one signature (req); not all of them read it.
files["emulator/**"] = { std = "luajit+ngx_lua", unused_args = false }
files["lua/purecloud/transport/ngx.lua"] = { std = "luajit+ngx_lua" }
files["examples/nginx/**"] = { std = "luajit+ngx_lua" }
