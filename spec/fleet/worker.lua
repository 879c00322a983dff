-- One process of the fleet specs (not a spec: spec/fleet/fleet_spec.lua
-- starts 8 of these). Arguments: emulator URL, redis port, redis password
-- (or "-" for none), mode (shared: token and budget in Redis; token: only
-- the token), user id, calls, concurrency, start instant (core.now(), the
-- monotonic clock every process of the host shares), op (get | create), its number.
-- Prints one line: ok failed retries token_requests started_at ended_at shared (1: the store
-- used Redis at its last use, 0: fallen back).
package.path = "./lua/?.lua;./lua/?/init.lua;./spec/?.lua;" .. package.path
package.cpath = "./build/lua5.4/?.so;" .. package.cpath
local core = require "purecloud.core"
local purecloud = require "purecloud"
local redis = require "purecloud.store.redis"

local url, port, password, mode, id, calls, concurrency, start_at, op, n = table.unpack(arg)
calls, concurrency, start_at = tonumber(calls), tonumber(concurrency), tonumber(start_at)
-- A store timeout well above a loaded machine's scheduling delays: these
-- runs prove the sharing, and a Redis call cut off at 0.25 s on a busy CI
-- host falls back to a process's own token (a second token request), as
-- designed. The timeout and its fallback are store_spec.lua's (SIGSTOP).
local store = redis.new{ port = tonumber(port), password = password ~= "-" and password or nil, timeout = 2,
                         log = { level = "info", sink = function(level, msg)
                           io.stderr:write(("[fleet process %s] %s %s\n"):format(n, level, msg)) end } }
local client = purecloud.new{
  base_url = url, login_url = url, client_id = "emulator-client", client_secret = "emulator-secret",
  timeout = 20, log = "none", token_store = store, rate_store = mode == "shared" and store or nil,
}
local list = {}
for i = 1, calls do
  if op == "create" then
    list[i] = { "post_users", { name = "Fleet " .. i, email = ("fleet-%s-%d@example.com"):format(core.random_hex(6), i),
                                password = "Secret-" .. core.random_hex(6) } }
  else
    list[i] = { "get_user_id", id }
  end
end
local wait = start_at - core.now()
if wait > 0 then core.sleep(wait) end
local t0 = core.now()
local results, failed = client:batch(list, { concurrency = concurrency })
local t1 = core.now()
local ok = 0
for i = 1, calls do if results[i] and results[i].value then ok = ok + 1 end end
print(("%d %d %d %d %.4f %.4f %d"):format(ok, failed, client.stats.retries, client.stats.token_requests, t0, t1,
  store.shared() and 1 or 0))
client:close()
