--- A Lua-driven fuzzer for the HTTP/1.1 reader (lua/purecloud/http1.lua):
-- the reader is Lua, so libFuzzer cannot drive it; this does what it would,
-- from the framing corpus (spec/support/framing_corpus.lua) as seeds, with
-- byte flips, inserts of the grammar's special bytes, deletions, duplicated
-- and spliced ranges. Every input is read whole and again in random pieces;
-- the oracles:
--
--   1. the reader never raises, and answers in at most one event per fed piece
--      plus a bounded number of steps;
--   2. how the bytes arrive never changes the answer (event, status, body,
--      headers, error reason, reusable);
--   3. an accepted body is at most max_body, and a Content-Length body is
--      exactly that long;
--   4. an error message is one line of at most 300 bytes.
--
--   lua5.4 fuzz/http1.lua [SECONDS=30] [SEED=time]     (`make fuzz` runs it)
-- `M.run{ iterations = n, seed = s }` is what the hermetic spec calls.
local SCRIPT = arg and arg[0] and arg[0]:find("fuzz/http1%.lua$")
if SCRIPT then
  package.path = "./lua/?.lua;./lua/?/init.lua;./spec/?.lua;" .. package.path
  package.cpath = "./build/lua5.4/?.so;" .. package.cpath
end
local http1 = require "purecloud.http1"
local corpus = require "support.framing_corpus"

local M = {}

local SPECIAL = { "\r", "\n", "\r\n", " ", "\t", ":", ";", ",", "=", '"', "\\", "\0", "0", "f",
                  "chunked", "Content-Length: ", "Transfer-Encoding: ", "HTTP/1.1 ", "\r\n\r\n" }

local function mutate(rand, s, seeds)
  for _ = 1, rand(1, 4) do
    local op, n = rand(1, 6), #s
    local i = rand(1, n + 1)
    if op == 1 and n > 0 then -- flip a byte
      s = s:sub(1, i - 1) .. string.char(rand(0, 255)) .. s:sub(i + 1)
    elseif op == 2 then -- insert a special
      s = s:sub(1, i - 1) .. SPECIAL[rand(1, #SPECIAL)] .. s:sub(i)
    elseif op == 3 and n > 0 then -- delete a range
      s = s:sub(1, i - 1) .. s:sub(i + rand(1, 8))
    elseif op == 4 and n > 0 then -- duplicate a range
      local j = math.min(n, i + rand(0, 16))
      s = s:sub(1, j) .. s:sub(i, j) .. s:sub(j + 1)
    elseif op == 5 then -- splice another seed's tail
      local o = seeds[rand(1, #seeds)]
      s = s:sub(1, i - 1) .. o:sub(rand(1, #o + 1))
    else -- a digit run (sizes, lengths)
      s = s:sub(1, i - 1) .. tostring(rand(0, 99999)) .. s:sub(i)
    end
  end
  return s
end

-- Read `wire` in pieces given by `cut` (nil: whole); the answer as a string.
local function answer(wire, method, cap, cut)
  local r = http1.reader{ method = method, max_body = cap }
  local i, steps = 1, 0
  while true do
    steps = steps + 1
    if steps > #wire + 10 then error("the reader needs more steps than bytes fed") end
    local ev, v = r:next()
    if ev == "response" then
      local names = {}
      for k in pairs(v.headers) do names[#names + 1] = k end
      table.sort(names)
      local h = {}
      for _, k in ipairs(names) do h[#h + 1] = k .. "=" .. v.headers[k] end
      return ("response %d %s %q {%s}"):format(v.status, v.version, v.body, table.concat(h, ";")), v, r
    elseif ev == "error" then
      return "error " .. v.reason, v, r
    end
    assert(ev == "need_data", ev)
    if i > #wire then
      r:feed_eof()
    else
      local n = cut and cut() or #wire
      r:feed(wire:sub(i, i + n - 1))
      i = i + n
    end
  end
end

local function check(wire, method, cap, rand)
  local whole, v = answer(wire, method, cap)
  local pieces = answer(wire, method, cap, function() return rand(1, 7) end)
  if whole ~= pieces then
    return ("the answer depends on how the bytes arrive:\n  whole:  %s\n  pieces: %s"):format(whole, pieces)
  end
  if whole:find("^response") then
    if #v.body > cap then return "a body over max_body was accepted" end
    local cl = v.headers["content-length"]
    if cl and not v.headers["transfer-encoding"] and v.status ~= 204 and v.status ~= 304 and method ~= "HEAD"
       and #v.body ~= tonumber(cl:match("%d+")) then
      return "a Content-Length body of another length was accepted"
    end
  elseif #v.message > 300 or v.message:find("[%c]") then
    return "an error message is not one short line: " .. v.message
  end
end

--- Run the fuzzer; returns the number of inputs and a list of findings
-- ({ input = bytes, problem = text }).
function M.run(opts)
  local seed = opts.seed or os.time()
  math.randomseed(seed)
  local rng = math.random
  local seeds = {}
  for _, c in ipairs(corpus.cases) do seeds[#seeds + 1] = c.wire end
  for _, w in pairs(corpus.back_to_back) do seeds[#seeds + 1] = w .. corpus.SMUGGLED end
  local findings, n = {}, 0
  local deadline = opts.seconds and (os.clock() + opts.seconds)
  while (opts.iterations and n < opts.iterations) or (deadline and os.clock() < deadline) do
    n = n + 1
    local wire = mutate(rng, seeds[rng(1, #seeds)], seeds)
    local method = rng(1, 10) == 1 and "HEAD" or "GET"
    local cap = rng(1, 4) == 1 and rng(0, 64) or 1024 * 1024
    local ok, problem = pcall(check, wire, method, cap, rng)
    if not ok or problem then
      findings[#findings + 1] = { input = wire, problem = ok and problem or ("raised: " .. tostring(problem)) }
      if #findings >= 10 then break end
    end
  end
  return n, findings, seed
end

if SCRIPT then
  local seconds, seed = tonumber(arg[1]) or 30, tonumber(arg[2])
  local t0 = os.clock()
  local n, findings, used = M.run{ seconds = seconds, seed = seed }
  print(("fuzz/http1.lua: %d inputs in %.1f s (seed %d), %d finding(s)"):format(n, os.clock() - t0, used, #findings))
  for _, f in ipairs(findings) do print(("  %s\n    input: %q"):format(f.problem, f.input)) end
  os.exit(#findings == 0 and 0 or 1)
end

return M
