--- The start-up workloads of `make bench`, timed from outside, process start
-- included (bench/out/rawcurl spawn N lua5.4 bench/startup.lua [...]):
--   lua5.4 bench/startup.lua                      require "purecloud" and create a client (no request)
--   lua5.4 bench/startup.lua BASE_URL TOKEN ID    the same, then one get_user_id: start to first answer
--                                                 (libcurl is loaded at that first request)
package.path = "./lua/?.lua;./lua/?/init.lua;" .. package.path
package.cpath = "./build/lua5.4/?.so;" .. package.cpath
local base, token, id = arg[1], arg[2], arg[3]
if not base then
  local client = require("purecloud").new{ base_url = "http://127.0.0.1:9", client_id = "bench-client",
                                           client_secret = "bench-secret" }
  assert(client.users)
  return
end
local client = require("purecloud").new{ base_url = base, access_token = token }
assert(assert(client.users.get_user_id(id)).id == id)
