--- Pagination benchmark (not a test): sequential vs parallel prefetch, and
-- peak memory while iterating 10 000 vs 100 000 users.
--
--   lua5.4 bench/pagination.lua            (from the project root, after `make`)
--
-- Starts its own emulators (on free ports) and prints a small report;
-- targets from the pagination issue: concurrency 8 at least 5x faster than
-- sequential and within 1.5x of ceil(pages / 8) x latency; peak RSS for
-- 100 000 users within 1.2x of the peak for 10 000.
package.path = "./lua/?.lua;./lua/?/init.lua;" .. package.path
package.cpath = "./build/lua5.4/?.so;" .. package.cpath

local mode = arg[1]
if mode == "rss" then
  -- Child mode: iterate every user of the emulator at arg[2], print peak RSS (kB).
  local purecloud = require "purecloud"
  local client = purecloud.new{ base_url = arg[2], login_url = arg[2], client_id = "emulator-client",
                                client_secret = "emulator-secret" }
  local n = 0
  -- by cursor: offset paging stops at 10 000 results, as the service's does
  for _ in client.users.each_user_by_cursor{ page_size = 500 } do n = n + 1 end
  local status = io.open("/proc/self/status"):read("a")
  print(n, status:match("VmHWM:%s+(%d+)"))
  return
end

local testing = require "purecloud.testing"
local PAGE, USERS, LATENCY, CONC = 100, 10000, 20, 8

local emu = testing.emulator{ rate = false, users = USERS, latency_ms = LATENCY }
local client = emu:client{ login_url = emu.url }
assert(client:token())
local function walk(concurrency)
  local t0 = client.io.now()
  local n = 0
  for _ in client.users.each_user{ page_size = PAGE, concurrency = concurrency } do n = n + 1 end
  return client.io.now() - t0, n
end
walk(CONC) -- warm up connections
local seq, n1 = walk(1)
local par, n2 = walk(CONC)
client:close()
emu:stop()
local pages = math.ceil(USERS / PAGE)
local ideal = math.ceil(pages / CONC) * LATENCY / 1000
print(("listing %d users, page_size %d, %d ms latency (%d pages)"):format(USERS, PAGE, LATENCY, pages))
print(("  sequential      %6.3f s  (%d users)"):format(seq, n1))
print(("  concurrency %d   %6.3f s  (%d users)  speed-up %.1fx (target >= 5x)"):format(CONC, par, n2, seq / par))
print(("  ideal ceil(pages/%d) x latency = %.3f s; ratio %.2f (target <= 1.5)"):format(CONC, ideal, par / ideal))

local rss = {}
for _, users in ipairs({ 10000, 100000 }) do
  local big = testing.emulator{ rate = false, users = users }
  local p = assert(io.popen(("lua5.4 bench/pagination.lua rss %s"):format(big.url)))
  local out = p:read("a")
  p:close()
  big:stop()
  local n, kb = out:match("(%d+)%s+(%d+)")
  rss[users] = tonumber(kb)
  print(("  peak RSS iterating %6d users: %d kB (%s seen)"):format(users, kb, n))
end
print(("  ratio 100k/10k = %.2f (target <= 1.2)"):format(rss[100000] / rss[10000]))
