-- What "never a duplicate write" costs: POST bodies handed to libcurl through
-- a read callback that refuses to rewind (req.safe = false, what the client
-- does for POST and PATCH) against CURLOPT_POSTFIELDS (safe = true), on one
-- keep-alive connection, sequentially and 8 at a time over libcurl multi.
-- Not a test. Run after `make`:  lua5.4 bench/writes.lua [N] [ROUNDS]
package.path = "./lua/?.lua;./lua/?/init.lua;./spec/?.lua;" .. package.path
package.cpath = "./build/lua5.4/?.so;" .. package.cpath
local core = require "purecloud.core"

local N, ROUNDS = tonumber(arg[1]) or 1000, tonumber(arg[2]) or 5

local emu = require("purecloud.testing").emulator{ rate = false, users = 50 }
local url, token = emu.url, emu:token()
local headers = { Authorization = "Bearer " .. token, ["Content-Type"] = "application/json" }
local body = '{"query":[{"type":"EXACT","fields":["email"],"value":"nobody@example.com"}],"pageSize":1}'

local function sequential(once)
  local h = require("purecloud.transport.curl").new{}
  local t0 = core.now()
  for _ = 1, N do
    local res = assert(h:perform{ method = "POST", url = url .. "/api/v2/users/search", headers = headers,
                                  body = body, safe = not once })
    assert(res.status == 200, res.status)
  end
  local t = core.now() - t0
  h:close()
  return t
end

local function parallel(once)
  local h = require("purecloud.transport.curl").new{}
  local t0 = core.now()
  local sent, done = 0, 0
  while done < N do
    while sent < N and h:pending() < 8 do
      h:submit{ method = "POST", url = url .. "/api/v2/users/search", headers = headers, body = body, safe = not once }
      sent = sent + 1
    end
    for _, r in ipairs(h:poll(1)) do
      assert(r.res and r.res.status == 200)
      done = done + 1
    end
  end
  local t = core.now() - t0
  h:close()
  return t
end

local function stats(xs)
  table.sort(xs)
  return ("median %.3f s (min %.3f, max %.3f)"):format(xs[(#xs + 1) // 2], xs[1], xs[#xs])
end

for _, mode in ipairs({ { "sequential", sequential }, { "concurrency 8", parallel } }) do
  local with, without = {}, {}
  for _ = 1, ROUNDS do -- alternate, so drift hits both alike
    without[#without + 1] = mode[2](false)
    with[#with + 1] = mode[2](true)
  end
  table.sort(with); table.sort(without)
  print(("%d POSTs, %s: POSTFIELDS %s; once-only read callback %s; ratio %.2f"):format(N, mode[1],
    stats(without), stats(with), with[(#with + 1) // 2] / without[(#without + 1) // 2]))
end
emu:stop()
