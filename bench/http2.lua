-- HTTP/1.1 against HTTP/2 on the libcurl transport: 200 GETs, 32 in flight
-- (libcurl multi, as client:batch and the pagers run them), against the
-- emulator's TLS listener (nginx, h2 by ALPN) answering each after a 50 ms
-- wait (--latency-ms 50). Ideal: 200 / 32 rounds of 50 ms = 7 × 50 ms = 0.35 s.
--   HTTP/1.1, 16 connections (the old default max_connections)
--   HTTP/1.1, 64 connections (today's default)
--   HTTP/2, one connection (the default: it multiplexes whatever max_connections is)
-- Each run opens its connections anew (a new handle). Median and spread of
-- ROUNDS runs. Not a test. Run after `make`:  lua5.4 bench/http2.lua [ROUNDS] [N] [CONCURRENCY]
package.path = "./lua/?.lua;./lua/?/init.lua;./spec/?.lua;" .. package.path
package.cpath = "./build/lua5.4/?.so;" .. package.cpath
local core = require "purecloud.core"
local curl = require "purecloud.transport.curl"

local ROUNDS, N, CONC = tonumber(arg[1]) or 7, tonumber(arg[2]) or 200, tonumber(arg[3]) or 32

local emu = require("purecloud.testing").emulator{ rate = false, users = 50, latency_ms = 50, tls = true }
local https, ca = emu.https_url, emu.ca_file
local ok, err = pcall(function()
  local token = emu:token()
  local req = { method = "GET", url = https .. "/api/v2/users?pageSize=1",
                headers = { Authorization = "Bearer " .. token } }

  local function run(opts)
    local h = curl.new(opts)
    local t0 = core.now()
    local sent, done, bad = 0, 0, 0
    while done < N do
      while sent < N and sent - done < CONC do
        h:submit(req)
        sent = sent + 1
      end
      for _, r in ipairs(h:poll(1)) do
        done = done + 1
        if not (r.res and r.res.status == 200) then bad = bad + 1 end
      end
    end
    local t = core.now() - t0
    h:close()
    assert(bad == 0, bad .. " calls failed")
    return t
  end

  local cases = {
    { "HTTP/1.1, max_connections 16", { ca_file = ca, http_version = "1.1", max_connections = 16 } },
    { "HTTP/1.1, max_connections 64 (default)", { ca_file = ca, http_version = "1.1" } },
    { "HTTP/2 (default), one connection", { ca_file = ca } },
  }
  run(cases[3][2]) -- warm-up
  print(("%d GETs, %d in flight, 50 ms server wait, %d runs each (ideal %.3f s)"):format(N, CONC, ROUNDS,
    math.ceil(N / CONC) * 0.05))
  for _, case in ipairs(cases) do
    local ts = {}
    for i = 1, ROUNDS do ts[i] = run(case[2]) end
    table.sort(ts)
    local median = ts[(#ts + 1) // 2]
    print(("%-40s median %.3f s  min %.3f  max %.3f"):format(case[1], median, ts[1], ts[#ts]))
  end
end)
emu:stop()
if not ok then error(err, 0) end
