-- The nginx members of the fleet specs (not a spec: runs inside the nginx
-- that spec/fleet/ngx_fleet.lua starts, LuaJIT build, cosockets).
--
-- Every worker runs its share of a run, so that a run is exactly "2 nginx
-- workers" whichever worker the spec's HTTP requests land on: GET /start
-- (any worker) writes the run's parameters into the shared dict `fleet`;
-- each worker's timer (every 50 ms, from init_worker) sees the new run and
-- runs it in a timer of its own: one client of its own
-- (`purecloud.new{ token_store = redis, rate_store = redis }` over the
-- cosocket transport and the store's cosocket path), sleeps until the run's
-- start instant, then `client:batch` of its calls, and stores one result
-- per worker; GET /results?run=ID answers them all.
-- luacheck: globals ngx
local cjson = require "cjson.safe"
local core = require "purecloud.core"

local M = {}
local seen -- the last run this worker started

local function result(run, r)
  ngx.shared.fleet:set(("result:%s:%d"):format(run, ngx.worker.id()), cjson.encode(r))
end

local function run_it(premature, p)
  if premature then return end
  local wid = ngx.worker.id()
  local ok, err = pcall(function()
    local purecloud = require "purecloud"
    local redis = require "purecloud.store.redis"
    local io = require("purecloud.transport.ngx").new()
    local store = redis.new{ port = tonumber(os.getenv("FLEET_REDIS_PORT")), password = os.getenv("FLEET_REDIS_PW"),
      timeout = tonumber(p.store_timeout) or 2,
      log = { level = "info", sink = function(level, msg)
        ngx.log(ngx.WARN, "[fleet nginx worker ", wid, "] ", level, " ", msg) end } }
    local client = purecloud.new{
      base_url = p.url, login_url = p.url, client_id = "emulator-client", client_secret = "emulator-secret",
      timeout = 20, log = "none", transport = io.transport, sleep = io.sleep, now = io.now,
      token_store = store, rate_store = p.mode == "shared" and store or nil,
    }
    local calls = tonumber(p.calls)
    local list = {}
    for i = 1, calls do
      if p.op == "create" then
        list[i] = { "post_users", { name = "Fleet ngx " .. i,
          email = ("fleet-ngx%d-%s-%d@example.com"):format(wid, core.random_hex(6), i),
          password = "Secret-" .. core.random_hex(6) } }
      else
        list[i] = { "get_user_id", p.id }
      end
    end
    local wait = tonumber(p.at) - core.now()
    if wait > 0 then ngx.sleep(wait) end
    local t0 = core.now()
    local results, failed = client:batch(list, { concurrency = tonumber(p.conc) })
    local t1 = core.now()
    local n_ok = 0
    for i = 1, calls do if results[i] and results[i].value then n_ok = n_ok + 1 end end
    result(p.run, { worker = wid, ok = n_ok, failed = failed, retries = client.stats.retries,
                    tokens = client.stats.token_requests, t0 = t0, t1 = t1, via = store.via,
                    shared = store.shared() })
    client:close()
  end)
  if not ok then result(p.run, { worker = wid, error = tostring(err) }) end
end

local function poll(premature)
  if premature then return end
  local s = ngx.shared.fleet:get("run")
  if not s then return end
  local p = cjson.decode(s)
  if not p or p.run == seen then return end
  seen = p.run
  local ok, err = ngx.timer.at(0, run_it, p)
  if not ok then result(p.run, { worker = ngx.worker.id(), error = "timer: " .. tostring(err) }) end
end

--- init_worker_by_lua*: watch for runs.
function M.init_worker()
  seen = ngx.shared.fleet:get("run") and cjson.decode(ngx.shared.fleet:get("run")).run
  assert(ngx.timer.every(0.05, poll))
end

--- GET /start?run=…&url=…&mode=shared|token&id=…&calls=…&conc=…&at=…&op=get|create
function M.start()
  local a = ngx.req.get_uri_args()
  ngx.shared.fleet:set("run", cjson.encode(a))
  ngx.say(cjson.encode{ run = a.run })
end

--- GET /results?run=… → { results = [ per worker ] } (those done so far)
function M.results()
  local run = ngx.var.arg_run
  local out = {}
  for i = 0, ngx.worker.count() - 1 do
    local s = ngx.shared.fleet:get(("result:%s:%d"):format(run, i))
    if s then out[#out + 1] = cjson.decode(s) end
  end
  ngx.say(cjson.encode{ workers = ngx.worker.count(), results = out })
end

return M
