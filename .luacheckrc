-- luacheck configuration: Lua 5.4 library code, busted specs, nginx emulator.
std = "lua54"
max_line_length = 120
codes = true
exclude_files = { "tools/node_modules/**", "build/**", ".emulator/**", "luarocks-tree/**" }

files["spec/**"] = { std = "+busted" }
files["lua/purecloud/users.lua"] = { max_line_length = false }
files["emulator/**"] = { std = "luajit+ngx_lua" }
files["lua/purecloud/transport/ngx.lua"] = { std = "luajit+ngx_lua" }
files["examples/nginx/**"] = { std = "luajit+ngx_lua" }
