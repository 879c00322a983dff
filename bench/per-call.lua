--- Per-call latency (not a test): purecloud vs raw libcurl vs the official
-- JS SDK, N sequential GET /api/v2/users/{id} on keep-alive against the
-- emulator (port 18903). Run after `make`:  lua5.4 bench/per-call.lua [N]
-- The JS part runs when bench/node_modules has the SDK
-- ((cd bench && npm install --no-save purecloud-platform-client-v2)).
package.path = "./lua/?.lua;./lua/?/init.lua;./spec/?.lua;" .. package.path
package.cpath = "./build/lua54/?.so;" .. package.cpath

local N = tonumber(arg[1]) or 2000
local function sh(cmd)
  local p = assert(io.popen(cmd))
  local out = p:read("a")
  p:close()
  return out
end

local url = sh("emulator/ctl start --port 18903 --users 100"):match("([^\n]+)\n?$")
local ok, err = pcall(function()
  local purecloud = require "purecloud"
  local core = require "purecloud.core"
  local client = purecloud.new{ base_url = url, client_id = "emulator-client", client_secret = "emulator-secret" }
  local id = assert(client.users.get_users{ page_size = 1 }).entities[1].id
  local token = assert(client:token())

  for _ = 1, 50 do assert(client.users.get_user_id(id)) end
  local t0 = core.now()
  for _ = 1, N do assert(client.users.get_user_id(id)) end
  local ours = (core.now() - t0) / N * 1000

  local h = core.curl_new{}
  local req = { method = "GET", url = url .. "/api/v2/users/" .. id,
                headers = { Authorization = "Bearer " .. token, Accept = "application/json" } }
  for _ = 1, 50 do assert(h:perform(req)) end
  t0 = core.now()
  for _ = 1, N do assert(h:perform(req).status == 200) end
  local raw = (core.now() - t0) / N * 1000
  h:close()

  print(("%d sequential GET /api/v2/users/{id}, keep-alive, emulator on loopback"):format(N))
  print(("  raw libcurl (core.curl_new:perform, no decode)  %.3f ms per call"):format(raw))
  print(("  purecloud users.get_user_id (auth, validate, decode) %.3f ms per call (+%.3f ms over raw)")
    :format(ours, ours - raw))
  if io.open("bench/node_modules/purecloud-platform-client-v2/package.json") then
    io.write("  ", sh(("cd bench && node js-sdk.js %s %s %s %d"):format(url, token, id, N)))
  else
    print("  (official JS SDK not installed in bench/node_modules: skipped)")
  end
  client:close()
end)
sh("emulator/ctl stop --port 18903")
assert(ok, err)
