--- One column of `make bench` (not a test): N sequential calls of one kind,
-- after an untimed warm-up of N/10; prints "<calls per second>".
--   lua5.4 bench/client.lua naive|purecloud user|page BASE_URL TOKEN USER_ID N
-- naive:     require("purecloud.transport.curl").new():perform + cjson.decode
-- purecloud: client.users.get_user_id(id) / client.users.get_users{ page_size = 500 }
--            (its own token request first, as an application does)
package.path = "./lua/?.lua;./lua/?/init.lua;" .. package.path
package.cpath = "./build/lua5.4/?.so;" .. package.cpath

local kind, shape, base, token, id, n = arg[1], arg[2], arg[3], arg[4], arg[5], tonumber(arg[6])
assert(n and (kind == "naive" or kind == "purecloud") and (shape == "user" or shape == "page"),
  "usage: lua5.4 bench/client.lua naive|purecloud user|page BASE_URL TOKEN USER_ID N")
local core = require "purecloud.core"

local call
if kind == "naive" then
  local cjson = require "cjson"
  local h = require("purecloud.transport.curl").new{}
  local req = { method = "GET", headers = { Authorization = "Bearer " .. token, Accept = "application/json" },
                url = shape == "user" and base .. "/api/v2/users/" .. id or base .. "/api/v2/users?pageSize=500" }
  call = function()
    local res = assert(h:perform(req))
    assert(res.status == 200, res.status)
    return cjson.decode(res.body)
  end
else
  local client = require("purecloud").new{ base_url = base, client_id = "bench-client", client_secret = "bench-secret" }
  local users = client.users
  if shape == "user" then
    call = function() return assert(users.get_user_id(id)) end
  else
    local opts = { page_size = 500 }
    call = function() return assert(users.get_users(opts)) end
  end
end

local check = call()
assert(shape == "user" and check.id == id or shape == "page" and #check.entities == 500, "unexpected response")
for _ = 1, n // 10 do call() end
collectgarbage()
local t0 = core.now()
for _ = 1, n do call() end
print(("%.3f"):format(n / (core.now() - t0)))
