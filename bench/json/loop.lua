-- Steady-state JSON decoding: each candidate decodes the same text in batches,
-- the batches of all candidates interleaved (so a busy neighbour on the shared
-- machine slows them all alike), the garbage of earlier decodes left to the
-- GC as in a long-running client. Prints ms per decode: median [min-max].
--   taskset -c 1 lua5.4 bench/json/loop.lua [file] [batch] [batches] [core.so ...]
-- Defaults: bench/fixtures/bench-page-500.json, 20 decodes a batch, 21
-- batches, ./build/lua5.4/purecloud/core.so; lua-cjson 2.1 always runs too.
-- Extra core.so paths (e.g. a copy of an older build) are compared alongside.
local file = arg[1] or "bench/fixtures/bench-page-500.json"
local batch = tonumber(arg[2]) or 20
local batches = tonumber(arg[3]) or 21
local libs = { table.unpack(arg, 4) }
if #libs == 0 then libs[1] = "./build/lua5.4/purecloud/core.so" end

local candidates, now = {}, nil
for _, path in ipairs(libs) do
  local core = assert(package.loadlib(path, "luaopen_purecloud_core"))()
  now = now or core.now
  candidates[#candidates + 1] = { name = path, decode = core.json_decode, times = {} }
end
candidates[#candidates + 1] = { name = "lua-cjson", decode = require("cjson").decode, times = {} }

local f = assert(io.open(file, "rb"))
local text = f:read("a")
f:close()

for _, c in ipairs(candidates) do
  assert(c.decode(text) ~= nil, c.name .. " refused " .. file)
  for _ = 1, batch do c.decode(text) end -- warm-up
end
for r = 1, batches do
  for k = 0, #candidates - 1 do
    local c = candidates[(r + k) % #candidates + 1] -- rotate the order
    local decode = c.decode
    local t0 = now()
    for _ = 1, batch do decode(text) end
    c.times[#c.times + 1] = (now() - t0) / batch * 1000
  end
end

print(("%s, %d bytes: ms per decode, %d batches of %d"):format(file, #text, batches, batch))
for _, c in ipairs(candidates) do
  local t = c.times
  table.sort(t)
  local n = #t
  local median = n % 2 == 1 and t[(n + 1) // 2] or (t[n // 2] + t[n // 2 + 1]) / 2
  print(("  %-40s %8.4f [%.4f-%.4f]"):format(c.name, median, t[1], t[n]))
end
