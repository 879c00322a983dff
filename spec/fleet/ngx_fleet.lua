-- The nginx of the fleet specs: 2 workers (LuaJIT build), each running its
-- share of a run through spec/fleet/ngx_worker.lua over cosockets, on a
-- free port picked at run time; the Redis port and password reach the
-- workers through the environment (never a URL or a log line).
--
--   local n = ngx_fleet.start{ redis = r }  -- r: support.redis
--   local wait = n.run{ url, mode, id, calls, conc, at, op } -- every worker starts at `at` (core.now())
--   local results = wait(timeout)           -- one per worker: ok, failed, retries, tokens, t0, t1, via, shared
--   n.log()                                 -- its error log so far
--   n.stop()
local emu = require "support.emulator"
local nginx = require "support.nginx"
local core = require "purecloud.core"

local M = {}

local CONF = [[
load_module /usr/lib/nginx/modules/ndk_http_module.so;
load_module /usr/lib/nginx/modules/ngx_http_lua_module.so;
worker_processes @WORKERS@;
daemon on;
pid @PREFIX@/nginx.pid;
error_log @PREFIX@/error.log warn;
env FLEET_REDIS_PORT;
env FLEET_REDIS_PW;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path @PREFIX@;
  lua_package_path "@ROOT@/lua/?.lua;@ROOT@/lua/?/init.lua;@ROOT@/spec/fleet/?.lua;;";
  lua_package_cpath "@ROOT@/build/luajit/?.so;;";
  lua_shared_dict fleet 1m;
  init_worker_by_lua_block { require("ngx_worker").init_worker() }
  server {
    listen 127.0.0.1:@PORT@;
    location = /start { content_by_lua_block { require("ngx_worker").start() } }
    location = /results { content_by_lua_block { require("ngx_worker").results() } }
  }
}
]]

local function sh_quote(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

local function stop_pid(prefix) nginx.stop(prefix .. "/nginx.pid") end

--- Start it (opts: redis = a support.redis server, workers = 2).
function M.start(opts)
  local workers = opts.workers or 2
  assert(os.execute("make -s luajit >/dev/null 2>&1"), "make luajit failed")
  local root = io.popen("pwd"):read("l")
  local prefix = io.popen("mktemp -d"):read("l")
  math.randomseed(os.time() + math.floor(core.now() * 1e6) % 1000003)
  local self = { prefix = prefix, workers = workers }
  function self.stop()
    stop_pid(prefix)
    os.execute("cp " .. prefix .. "/error.log build/ngx-fleet-error.log 2>/dev/null; rm -rf " .. prefix)
  end
  for _ = 1, 8 do
    local port = math.random(20000, 60000)
    local conf = CONF:gsub("@ROOT@", root):gsub("@PREFIX@", prefix):gsub("@PORT@", tostring(port))
      :gsub("@WORKERS@", tostring(workers))
    -- Started as root, nginx runs its workers as `nobody`, who cannot read a
    -- checkout under a 0700 home: keep them as root.
    if io.popen("id -u"):read("l") == "0" then conf = "user root root;\n" .. conf end
    local f = assert(io.open(prefix .. "/nginx.conf", "w"))
    f:write(conf)
    f:close()
    local cmd = ("FLEET_REDIS_PORT=%d FLEET_REDIS_PW=%s nginx -p %s -c %s/nginx.conf -e %s/error.log 2>>%s/start.log")
      :format(opts.redis.port, sh_quote(opts.redis.password), prefix, prefix, prefix, prefix)
    if os.execute(cmd) then
      self.port, self.url = port, "http://127.0.0.1:" .. port
      for _ = 1, 100 do
        if emu.request("GET", "/results", { base = self.url, query = { run = "-" }, max_time = 1 }).status == 200 then
          break
        end
        core.sleep(0.1)
      end
      break
    end
  end
  if not self.url then
    self.stop()
    error("nginx did not start; see build/ngx-fleet-error.log")
  end

  --- nginx's error log so far (the workers' store log lines are there).
  function self.log()
    local f = io.open(prefix .. "/error.log")
    local s = f and f:read("a") or ""
    if f then f:close() end
    return s
  end

  --- Start a run in every worker; returns wait(timeout) → the workers' results.
  function self.run(p)
    local run = core.random_hex(8)
    local q = { run = run, url = p.url, mode = p.mode, id = p.id, calls = p.calls, conc = p.conc,
                at = ("%.4f"):format(p.at), op = p.op or "get" }
    local res = emu.request("GET", "/start", { base = self.url, query = q, max_time = 5 })
    assert(res.status == 200, "nginx /start: " .. tostring(res.status) .. " " .. tostring(res.body))
    return function(timeout)
      local deadline = core.now() + (timeout or 60)
      local got
      repeat
        local r = emu.request("GET", "/results", { base = self.url, query = { run = run }, max_time = 5 })
        got = r.json and r.json.results or {}
        if #got >= workers then break end
        core.sleep(0.1)
      until core.now() > deadline
      assert(#got == workers, ("%d of %d nginx workers finished the run (see build/ngx-fleet-error.log)")
        :format(#got, workers))
      for _, w in ipairs(got) do
        assert(not w.error, "nginx worker " .. tostring(w.worker) .. " failed: " .. tostring(w.error))
      end
      return got
    end
  end
  return self
end

return M
