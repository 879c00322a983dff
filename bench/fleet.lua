-- What the shared budget adds to a call (issue 22): a client's gate with a
-- rate_store on a local redis-server (started here, on its own port, with a
-- password) against the gate alone, per call = wait + sent + answered, the
-- path every request takes. One permit per take (one EVALSHA per call) and
-- batched permits (permits = 10: one EVALSHA per 10 calls). The HTTP request
-- itself is not in it: this is the added cost alone.
--   lua5.4 bench/fleet.lua [rounds] [calls]
-- Prints per variant: median µs per call [min–max over the rounds].
package.path = "./lua/?.lua;./lua/?/init.lua;./spec/?.lua;" .. package.path
package.cpath = "./build/lua5.4/?.so;" .. package.cpath
local core = require "purecloud.core"
local gate = require "purecloud.gate"
local redis = require "purecloud.store.redis"
local redis_server = require "support.redis"

local ROUNDS, CALLS = tonumber(arg[1]) or 7, tonumber(arg[2]) or 5000
local KEY = "purecloud:https://login.example:bench-client"
local r = redis_server.start()

local function round(store)
  if store then r.cli("FLUSHALL") end
  local g = gate.new{ store = store, key = KEY }
  local now = core.now
  -- The budget is known and far away: every call is let through.
  g:answered(now(), true, "1000000000", "0", "60")
  local t0 = now()
  for _ = 1, CALLS do
    local t = now()
    local w = g:wait(t)
    assert(w == 0, "the bench's budget ran out")
    g:sent(true)
    g:answered(t, true, "1000000000", "1", "60")
  end
  return (now() - t0) / CALLS * 1e6
end

local function median(xs)
  table.sort(xs)
  return xs[(#xs + 1) // 2], xs[1], xs[#xs]
end

local variants = {
  { "gate alone (no rate_store)", function() return nil end },
  { "rate_store, 1 permit per take", function() return redis.new{ port = r.port, password = r.password } end },
  { "rate_store, permits = 10", function() return redis.new{ port = r.port, password = r.password, permits = 10 } end },
}
local results = {}
for i, v in ipairs(variants) do
  local store = v[2]()
  if store then store.take(KEY, 1) store.report(KEY, 1000000000, 0, 60) end -- connect, load the scripts
  round(store) -- warm
  local xs = {}
  for k = 1, ROUNDS do xs[k] = round(store) end
  results[i] = { median(xs) }
end
r.stop()
local base = results[1][1]
print(("fleet bench: %d rounds of %d calls, local redis-server (loopback)"):format(ROUNDS, CALLS))
for i, v in ipairs(variants) do
  local m, lo, hi = table.unpack(results[i])
  print(("  %-32s %8.2f µs/call [%.2f–%.2f]%s"):format(v[1], m, lo, hi,
    i > 1 and ("  added: %.2f µs"):format(m - base) or ""))
end
