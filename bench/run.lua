--- `make bench` (not a test): purecloud side by side with raw libcurl in C,
-- a naive Lua loop (libcurl + cjson.decode) and the official JS SDK, in one
-- run, against a canned-response nginx (fixed token, a ~2 KB user, a ~1 MB
-- 500-user page from bench/fixtures/, keep-alive, no logging), the server
-- and every client pinned to the same CPU. Prints every figure as median
-- [min–max] over RUNS runs (columns interleaved run by run) and the ratios
-- of issue 12; writes the table to bench/out/latest.md too.
--
--   lua5.4 bench/run.lua [RUNS]       (from the project root, after `make`)
--   lua5.4 bench/run.lua serve        only the fixture server: prints its URL, stops at end of stdin
--                                     (for profiling: see "Call path" in docs/PERFORMANCE.md)
--   env: BENCH_CPU (default: the last CPU), BENCH_SCALE (multiplies N; 1)
package.path = "./lua/?.lua;./lua/?/init.lua;" .. package.path
package.cpath = "./build/lua5.4/?.so;" .. package.cpath

local SERVE = arg[1] == "serve"
local RUNS = SERVE and 0 or tonumber(arg[1]) or 5
assert(SERVE or RUNS >= 1, "usage: lua5.4 bench/run.lua [RUNS] | lua5.4 bench/run.lua serve")
local SCALE = tonumber(os.getenv("BENCH_SCALE") or "1")
local OUT = "bench/out"

local function sh(cmd, quiet)
  local p = assert(io.popen(cmd .. (quiet and " 2>&1" or "")))
  local out = p:read("a")
  local ok, _, code = p:close()
  return out, ok, code
end
local function must(cmd, what)
  local out, ok = sh(cmd, true)
  if not ok then error(("bench: %s failed (%s):\n%s"):format(what, cmd, out), 0) end
  return out
end
local function read(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("a")
  f:close()
  return s
end
local function write(path, s)
  local f = assert(io.open(path, "wb"))
  f:write(s)
  f:close()
end
local function exists(path)
  local f = io.open(path)
  if f then f:close() end
  return f ~= nil
end

-- Placement: one CPU for the server and every client.
local ncpu = tonumber(must("nproc", "nproc"):match("%d+"))
local CPU = tonumber(os.getenv("BENCH_CPU") or "") or ncpu - 1
local PIN = "taskset -c " .. CPU .. " "

must("mkdir -p " .. OUT, "mkdir")
must("cc -O2 -Wall -Wextra -Werror -std=c99 -o " .. OUT .. "/rawcurl bench/rawcurl.c -lcurl", "building bench/rawcurl.c")
local RAW = OUT .. "/rawcurl"

-- The JS SDK, pinned by bench/js/package-lock.json; `npm ci` when missing or stale.
local js_stamp = "bench/js/node_modules/.package-lock.json"
if not exists(js_stamp) or read(js_stamp):match('"version": "262%.0%.0"') == nil then
  io.write("installing the JS SDK: (cd bench/js && npm ci)\n")
  must("cd bench/js && npm ci --no-audit --no-fund", "npm ci in bench/js (is the npm registry reachable?)")
end
local js_version = read("bench/js/node_modules/purecloud-platform-client-v2/package.json")
  :match('"version"%s*:%s*"([^"]+)"')

-- The canned-response server.
local port = assert(tonumber(must("emulator/ctl free-port", "emulator/ctl free-port"):match("%d+")))
local root = sh("pwd"):gsub("%s+$", "")
local prefix = ("%s/%s/nginx-%d"):format(root, OUT, port)
must(("mkdir -p %s/logs"):format(prefix), "mkdir")
local token_json = read("bench/fixtures/bench-token.json")
assert(not token_json:find("'", 1, true))
write(prefix .. "/nginx.conf", ([[
daemon on;
worker_processes 1;
pid %s/logs/nginx.pid;
error_log %s/logs/error.log warn;
events { worker_connections 64; }
http {
  access_log off;
  keepalive_requests 10000000;
  keepalive_timeout 300s;
  client_body_temp_path %s/logs; proxy_temp_path %s/logs; fastcgi_temp_path %s/logs;
  uwsgi_temp_path %s/logs; scgi_temp_path %s/logs;
  server {
    listen 127.0.0.1:%d;
    root %s/bench/fixtures;
    default_type application/json;
    location = /oauth/token { return 200 '%s'; }
    location = /api/v2/users { rewrite ^ /bench-page-500.json break; }
    location /api/v2/users/ { rewrite ^ /bench-user.json break; }
    location / { return 404 '{"status":404,"code":"not.found","message":"not canned"}'; }
  }
}
]]):format(prefix, prefix, prefix, prefix, prefix, prefix, prefix, port, root, token_json))
must(("%snginx -p %s -c %s/nginx.conf"):format(PIN, prefix, prefix), "starting nginx")
local function stop_nginx()
  local pid = exists(prefix .. "/logs/nginx.pid") and read(prefix .. "/logs/nginx.pid"):match("%d+")
  if not pid then return end
  sh("kill " .. pid, true)
  for _ = 1, 40 do -- nginx removes its pid file on exit
    if not exists(prefix .. "/logs/nginx.pid") then break end
    sh("sleep 0.05")
  end
  sh("rm -rf " .. prefix, true)
end

local base = ("http://127.0.0.1:%d"):format(port)
local user_json = read("bench/fixtures/bench-user.json")
local page_bytes = #read("bench/fixtures/bench-page-500.json")
local cjson = require "cjson"
local id = assert(cjson.decode(user_json).id)
local token = assert(cjson.decode(token_json).access_token)

-- One measurement: rate from the client's stdout, peak RSS (kB) from /usr/bin/time.
local function measure(cmd)
  local rss_file = OUT .. "/rss.txt"
  local out = must(("%s/usr/bin/time -f %%M -o %s %s"):format(PIN, rss_file, cmd), cmd)
  return assert(tonumber(out:match("^%s*([%d.]+)")), "no figure in: " .. out), tonumber(read(rss_file):match("%d+"))
end

local function n_of(x) return math.max(1, math.floor(x * SCALE)) end
local columns = {
  { key = "c", name = "raw libcurl C", cmd = function(shape, n)
      return ("%s get %s %s %d"):format(RAW, shape == "user" and base .. "/api/v2/users/" .. id
        or base .. "/api/v2/users?pageSize=500", token, n) end, n = { user = 8000, page = 600 } },
  { key = "naive", name = "naive Lua (curl + cjson)", cmd = function(shape, n)
      return ("lua5.4 bench/client.lua naive %s %s %s %s %d"):format(shape, base, token, id, n) end,
    n = { user = 5000, page = 40 } },
  { key = "pc", name = "purecloud", cmd = function(shape, n)
      return ("lua5.4 bench/client.lua purecloud %s %s %s %s %d"):format(shape, base, token, id, n) end,
    n = { user = 5000, page = 40 } },
  { key = "js", name = "JS SDK " .. js_version, cmd = function(shape, n)
      return ("node bench/js/sdk.js %s %s %s %s %d"):format(shape, base, token, id, n) end,
    n = { user = 1500, page = 40 } },
}

local load_before = read("/proc/loadavg"):match("^(%S+ %S+ %S+)")
local results = {} -- results[key][workload] = { samples }
local function add(key, what, v)
  results[key] = results[key] or {}
  results[key][what] = results[key][what] or {}
  table.insert(results[key][what], v)
end

if SERVE then
  print(("%s (token %s, user id %s); end of stdin stops it"):format(base, token, id))
  io.read("a")
  stop_nginx()
  return
end

local ok, err = pcall(function()
  for run = 1, RUNS do
    io.write(("run %d/%d "):format(run, RUNS))
    for _, shape in ipairs({ "user", "page" }) do
      for _, col in ipairs(columns) do
        local rate, rss = measure(col.cmd(shape, n_of(col.n[shape])))
        add(col.key, shape, rate)
        add(col.key, shape .. "_rss", rss)
        io.write(".")
        io.flush()
      end
    end
    -- Start-up: alternated in small groups (the machine's load drifts), each
    -- group's median; the run's figure is the median of its groups.
    local pc, js = {}, {}
    for g = 1, 3 do
      pc[g] = tonumber(must(("%s%s spawn 4 lua5.4 bench/startup.lua"):format(PIN, RAW), "start-up (purecloud)"))
      js[g] = tonumber(must(("cd bench/js && %s../../%s spawn 2 node -e 'require(\"purecloud-platform-client-v2\")'")
        :format(PIN, RAW), "start-up (JS SDK)"))
    end
    table.sort(pc)
    table.sort(js)
    add("pc", "start", pc[2])
    add("js", "start", js[2])
    -- Start to first answer: the same plus one GET of the user (purecloud
    -- loads libcurl there), both given the token.
    pc, js = {}, {}
    for g = 1, 3 do
      pc[g] = tonumber(must(("%s%s spawn 4 lua5.4 bench/startup.lua %s %s %s"):format(PIN, RAW, base, token, id),
        "first answer (purecloud)"))
      js[g] = tonumber(must(("%s%s spawn 2 node bench/js/first.js %s %s %s"):format(PIN, RAW, base, token, id),
        "first answer (JS SDK)"))
    end
    table.sort(pc)
    table.sort(js)
    add("pc", "first", pc[2])
    add("js", "first", js[2])
    io.write(".\n")
  end
end)
stop_nginx()
if not ok then error(err, 0) end

local function stats(t)
  local s = {}
  for i, v in ipairs(t) do s[i] = v end
  table.sort(s)
  local m = #s % 2 == 1 and s[(#s + 1) // 2] or (s[#s // 2] + s[#s // 2 + 1]) / 2
  return { med = m, min = s[1], max = s[#s] }
end
local function fmt(t, digits, scale)
  if not t then return "—" end
  local s, f = stats(t), "%." .. digits .. "f"
  scale = scale or 1
  return (f .. " [" .. f .. "–" .. f .. "]"):format(s.med * scale, s.min * scale, s.max * scale)
end
local lines = {}
local function out(s) lines[#lines + 1] = s print(s) end
local cpu_model = (read("/proc/cpuinfo"):match("model name%s*:%s*([^\n]+)") or "unknown CPU")
out(("`make bench`, %s, %s, %d CPUs; nginx %s and every client pinned to CPU %d (`taskset -c %d`);")
  :format(os.date("!%Y-%m-%d %H:%M UTC"), cpu_model, ncpu, sh("nginx -v", true):match("nginx/(%S+)") or "?", CPU, CPU))
out(("canned responses on loopback: user %d B, 500-user page %d B; median [min–max] of %d runs, columns interleaved;")
  :format(#user_json, page_bytes, RUNS))
out(("load average %s before, %s after (other jobs on the machine widen the spread)."):format(load_before,
  read("/proc/loadavg"):match("^(%S+ %S+ %S+)")))
out("")
out("| workload | raw libcurl C | naive Lua (libcurl + cjson) | purecloud | JS SDK " .. js_version .. " |")
out("|---|---|---|---|---|")
out(("| GET one user, calls/s | %s | %s | %s | %s |"):format(fmt(results.c.user, 0), fmt(results.naive.user, 0),
  fmt(results.pc.user, 0), fmt(results.js.user, 0)))
out(("| GET 500-user page, pages/s | %s | %s | %s | %s |"):format(fmt(results.c.page, 1), fmt(results.naive.page, 1),
  fmt(results.pc.page, 1), fmt(results.js.page, 1)))
out(("| start-up, ms (process + require + client; JS: require) | — | — | %s | %s |")
  :format(fmt(results.pc.start, 1), fmt(results.js.start, 1)))
out(("| start to first answer, ms (process + require + client + one GET user) | — | — | %s | %s |")
  :format(fmt(results.pc.first, 1), fmt(results.js.first, 1)))
out(("| peak RSS, MiB (user loop / page loop) | %s / %s | %s / %s | %s / %s | %s / %s |"):format(
  fmt(results.c.user_rss, 1, 1 / 1024), fmt(results.c.page_rss, 1, 1 / 1024),
  fmt(results.naive.user_rss, 1, 1 / 1024), fmt(results.naive.page_rss, 1, 1 / 1024),
  fmt(results.pc.user_rss, 1, 1 / 1024), fmt(results.pc.page_rss, 1, 1 / 1024),
  fmt(results.js.user_rss, 1, 1 / 1024), fmt(results.js.page_rss, 1, 1 / 1024)))
out("")
-- A ratio per run (the two figures of a run were taken moments apart, so the
-- machine's drifting load mostly cancels), then median [min–max] over runs;
-- the target is judged on the median.
local function ratio(label, a_key, b_key, what, target, higher)
  local r = {}
  for i = 1, RUNS do r[i] = results[a_key][what][i] / results[b_key][what][i] end
  local st = stats(r)
  local met = target and (higher and st.med >= target or not higher and st.med <= target)
  out(("- %s: %.2f× [%.2f–%.2f]%s"):format(label, st.med, st.min, st.max, not target and "" or
    (" (target %s %.2f×) %s"):format(higher and "≥" or "≤", target, met and "met" or "**missed**")))
end
out("Ratios, per run then median [min–max] (issue 12 targets):")
ratio("page, purecloud / JS SDK", "pc", "js", "page", 1.5, true)
ratio("page, purecloud / naive Lua", "pc", "naive", "page", 1.3, true)
ratio("one user, purecloud / raw C", "pc", "c", "user", 0.75, true)
ratio("one user, purecloud / naive Lua", "pc", "naive", "user")
ratio("one user, purecloud / JS SDK", "pc", "js", "user")
ratio("start-up, JS SDK require / purecloud", "js", "pc", "start", 20, true)
ratio("start to first answer, JS SDK / purecloud", "js", "pc", "first")
ratio("peak RSS, purecloud / JS SDK (page loop)", "pc", "js", "page_rss", 0.2, false)
ratio("peak RSS, purecloud / JS SDK (user loop)", "pc", "js", "user_rss", 0.2, false)
write(OUT .. "/latest.md", table.concat(lines, "\n") .. "\n")
print("(also in " .. OUT .. "/latest.md)")
