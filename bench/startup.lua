--- The start-up workload of `make bench`: require "purecloud" and create a
-- client (no request). Timed from outside, process start included:
--   bench/out/rawcurl spawn N lua5.4 bench/startup.lua
package.path = "./lua/?.lua;./lua/?/init.lua;" .. package.path
package.cpath = "./build/lua5.4/?.so;" .. package.cpath
local client = require("purecloud").new{ base_url = "http://127.0.0.1:9", client_id = "bench-client",
                                         client_secret = "bench-secret" }
assert(client.users)
