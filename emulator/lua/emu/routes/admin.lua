-- /__emulator/: reset, config, revoke, faults, stats, log (no auth; loopback only).
local state = require "emu.state"
local errors = require "emu.errors"
local json = require "emu.json"

local M = {}

local function body()
  ngx.req.read_body()
  local raw = ngx.req.get_body_data()
  if not raw or raw == "" then return {} end
  local b = json.decode(raw)
  if type(b) ~= "table" then errors.bad_request("bad.request", "admin body must be a JSON object") end
  return b
end

local function reset(req)
  local b = body()
  state.reset{ users = b.users, seed = b.seed, revoke = b.revoke }
  return 200, { users = state.live, seed = state.seed }
end

local function number_ge(v, min, what)
  if type(v) ~= "number" or v ~= v or v < min or v == math.huge then
    errors.bad_request("invalid.value", what .. " must be a number >= " .. min)
  end
  return v
end

-- rate = { allowed = N, window_s = S } enforces N requests per S seconds per
-- access token; rate = false (or allowed = 0) turns enforcement off;
-- rate_per_min = N is the same as rate = { allowed = N, window_s = 60 }.
local function config(req)
  local b = body()
  local rate = b.rate
  if rate ~= nil and rate ~= false and rate ~= json.null and type(rate) ~= "table" then
    errors.bad_request("invalid.value", "rate must be { allowed = N, window_s = S } or false")
  end
  if type(rate) == "table" then
    number_ge(rate.allowed, 0, "rate.allowed")
    if rate.allowed % 1 ~= 0 then errors.bad_request("invalid.value", "rate.allowed must be an integer") end
    if rate.window_s ~= nil then number_ge(rate.window_s, 0.001, "rate.window_s") end
  end
  for _, k in ipairs({ "latency_ms", "token_ttl", "rate_per_min" }) do
    if b[k] ~= nil then number_ge(b[k], 0, k) end
  end
  -- Everything checked: apply.
  for _, k in ipairs({ "latency_ms", "token_ttl", "rate_per_min" }) do
    if b[k] ~= nil then state.config[k] = b[k] end
  end
  if b.rate_per_min ~= nil then state.config.rate_allowed, state.config.rate_window_s = nil, nil end
  if type(rate) == "table" then
    state.config.rate_allowed, state.config.rate_window_s = rate.allowed, rate.window_s or 60
    state.rate = {}
  elseif rate ~= nil then
    state.config.rate_allowed, state.config.rate_window_s, state.config.rate_per_min = nil, nil, 0
  end
  return 200, state.config
end

local function revoke()
  for _, t in pairs(state.tokens) do t.revoked = true end
  return 200, { revoked = true }
end

local next_fault = 0
local function add_fault(req)
  local b = body()
  if type(b.path) ~= "string" then errors.bad_request("bad.request", "fault needs a path (exact or Lua pattern)") end
  local ok = pcall(string.match, "", b.path)
  if not ok then errors.bad_request("bad.request", "fault path is not a valid Lua pattern") end
  local actions = { close = true, reset = true, truncate = true, malformed = true, large = true,
                    apply_then_close = true, error_after_apply = true, raw = true }
  if b.action ~= nil and not actions[b.action] then
    errors.bad_request("invalid.value", "unknown fault action " .. tostring(b.action))
  end
  if b.action == "raw" and (type(b.raw) ~= "string" or b.raw == "") then
    errors.bad_request("bad.request", "a raw fault needs 'raw': the bytes to write")
  end
  next_fault = next_fault + 1
  local f = { id = next_fault, method = b.method, path = b.path, query = b.query, skip = tonumber(b.skip) or 0,
              count = tonumber(b.count) or 1, status = tonumber(b.status), retry_after = b.retry_after,
              body = b.body, delay_ms = tonumber(b.delay_ms), action = b.action, size_mb = tonumber(b.size_mb),
              raw = b.raw, seen = 0, fired = 0 }
  state.faults[#state.faults + 1] = f
  return 200, { id = f.id }
end

local function clear_faults()
  state.faults = {}
  return 200, { cleared = true }
end

local function stats()
  local s = state.stats
  return 200, { requests = json.object(s.requests), tokens = json.object(s.tokens), users_created = s.users_created,
                applied = json.object(s.applied or {}),
                rate_limited = s.rate_limited, faults_fired = s.faults_fired, users = state.live,
                in_flight = s.in_flight or 0, max_in_flight = s.max_in_flight or 0 }
end

local function log() return 200, json.array(state.log) end
local function clear_log() state.log = {}; return 200, { cleared = true } end
local function health() return 200, { ok = true, users = state.live } end

function M.register(app)
  app.add("GET", "/__emulator/health", health)
  app.add("POST", "/__emulator/reset", reset)
  app.add("POST", "/__emulator/config", config)
  app.add("POST", "/__emulator/revoke", revoke)
  app.add("POST", "/__emulator/faults", add_fault)
  app.add("DELETE", "/__emulator/faults", clear_faults)
  app.add("GET", "/__emulator/stats", stats)
  app.add("GET", "/__emulator/log", log)
  app.add("DELETE", "/__emulator/log", clear_log)
end

return M
