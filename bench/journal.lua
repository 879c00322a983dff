-- What the bulk journal costs per call: the same batch of creates at
-- concurrency 8 against the emulator with no journal, with the journal
-- (each line flushed to the kernel) and with journal_sync (fsync per line),
-- interleaved, ROUNDS rounds; microseconds per call, median [min–max], and
-- the journal's extra cost over the plain batch of the same round.
-- Not a test. Run after `make`:  lua5.4 bench/journal.lua [N] [ROUNDS]
package.path = "./lua/?.lua;./lua/?/init.lua;./spec/?.lua;" .. package.path
package.cpath = "./build/lua5.4/?.so;" .. package.cpath
local core = require "purecloud.core"

local N, ROUNDS = tonumber(arg[1]) or 400, tonumber(arg[2]) or 7

local emu = require("purecloud.testing").emulator{ rate = false, users = 0 }
emu:config{ rate_per_min = 100000000 }
local dir = os.tmpname()
assert(os.remove(dir) and os.execute("mkdir -m 0700 " .. dir))

local client = emu:client{ log = "none" }
local seq = 0
local function run(mode)
  seq = seq + 1
  local calls = {}
  for i = 1, N do
    calls[i] = { "post_users", { name = "B " .. i, email = ("b%d-%d@example.com"):format(seq, i),
                                 password = "Secret-Pass-1" } }
  end
  local opts = { concurrency = 8 }
  if mode ~= "none" then opts.journal = ("%s/%d.jsonl"):format(dir, seq) end
  if mode == "sync" then opts.journal_sync = true end
  local t0 = core.now()
  local _, failed = client:batch(calls, opts)
  local t = core.now() - t0
  assert(failed == 0, mode .. ": " .. failed .. " failed")
  return t / N * 1e6
end

run("none") -- warm: token, connections
local modes = { "none", "journal", "sync" }
local per = { none = {}, journal = {}, sync = {} }
local extra = { journal = {}, sync = {} }
for _ = 1, ROUNDS do
  local r = {}
  for _, m in ipairs(modes) do r[m] = run(m) per[m][#per[m] + 1] = r[m] end
  extra.journal[#extra.journal + 1] = r.journal - r.none
  extra.sync[#extra.sync + 1] = r.sync - r.none
end

local function stats(t)
  table.sort(t)
  return t[math.ceil(#t / 2)], t[1], t[#t]
end
print(("journal cost, %d creates at concurrency 8, %d rounds (µs per call: median [min–max])"):format(N, ROUNDS))
for _, m in ipairs(modes) do print(("  %-8s %7.1f [%.1f–%.1f]"):format(m, stats(per[m]))) end
print(("  extra, journal: %7.1f [%.1f–%.1f]"):format(stats(extra.journal)))
print(("  extra, sync:    %7.1f [%.1f–%.1f]"):format(stats(extra.sync)))
client:close()
emu:stop()
os.execute("rm -rf " .. dir)
