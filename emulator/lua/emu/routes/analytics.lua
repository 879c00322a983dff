-- The two user analytics queries, answered deterministically from state:
-- aggregates split each user's interval time by routing status (the status
-- before its startTime counts as OFF_QUEUE); observations count users on and
-- off queue now.
local state = require "emu.state"
local errors = require "emu.errors"
local validate = require "emu.validate"
local json = require "emu.json"
local catalog = require "emu.catalog"

local M = {}

local function parse_time(s)
  local y, mo, d, h, mi, sec, frac, zone = s:match(
    "^(%d%d%d%d)%-(%d%d)%-(%d%d)T(%d%d):(%d%d):?(%d?%d?)(%.?%d*)(.*)$")
  if not y then return nil end
  if not (zone == "" or zone == "Z" or zone:match("^[+-]%d%d:?%d%d$")) then return nil end
  local t = os.time{ year = tonumber(y), month = tonumber(mo), day = tonumber(d), hour = tonumber(h),
                     min = tonumber(mi), sec = tonumber(sec) or 0, isdst = false }
  -- os.time reads local time; the emulator runs in UTC (nginx keeps TZ as started).
  local utc_off = os.time(os.date("*t", 0)) - os.time(os.date("!*t", 0))
  t = t + utc_off
  local sign, zh, zm = zone:match("^([+-])(%d%d):?(%d%d)$")
  if sign then t = t - (sign == "+" and 1 or -1) * (tonumber(zh) * 3600 + tonumber(zm) * 60) end
  return t + (tonumber(frac ~= "" and frac or "0") or 0)
end

local function interval(q)
  local iv = q.interval
  if type(iv) ~= "string" then
    errors.bad_request("bad.request", "interval is required", { details = { { errorCode = "required", fieldName = "interval" } } })
  end
  local a, b = iv:match("^([^/]+)/([^/]+)$")
  local s, e = a and parse_time(a), b and parse_time(b)
  if not s or not e then
    errors.bad_request("invalid.date", "Dates must be specified as ISO-8601 strings. For example: yyyy-MM-ddTHH:mm:ss.SSSZ",
      { details = { { errorCode = "invalid.date", fieldName = "interval" } } })
  end
  if e <= s then
    errors.bad_request("invalid.date", "The interval end must be after its start",
      { details = { { errorCode = "invalid.date", fieldName = "interval" } } })
  end
  return s, e
end

local function check_granularity(g)
  if g == nil then return end
  if type(g) ~= "string" or not g:match("^P[%dYMWDTHS%.]+$") or g:match("T$") then
    errors.bad_request("invalid.value", "granularity must be an ISO-8601 duration such as PT1H or P1D",
      { details = { { errorCode = "invalid.value", fieldName = "granularity" } } })
  end
end

-- Users selected by the filter's userId predicates (all live users if none).
local function users_of(filter)
  local ids = {}
  local function collect(preds)
    for _, p in ipairs(preds or {}) do
      if p.dimension == "userId" and p.value then ids[#ids + 1] = p.value end
    end
  end
  if filter then
    collect(filter.predicates)
    for _, c in ipairs(filter.clauses or {}) do collect(c.predicates) end
  end
  local out = {}
  if #ids == 0 then
    for _, u in ipairs(state.users_sorted()) do out[#out + 1] = u end
  else
    for _, id in ipairs(ids) do
      local u = state.user(id)
      if u then out[#out + 1] = u end
    end
  end
  return out
end

local METRIC_ENUM
local function check_metrics(list)
  if not METRIC_ENUM then
    METRIC_ENUM = {}
    for _, m in ipairs(state.contract.definitions.AggregateMetricData.properties.metric.enum) do METRIC_ENUM[m] = true end
  end
  for i, m in ipairs(list or {}) do
    if not METRIC_ENUM[m] then
      errors.bad_request("invalid.value", "Unknown metric " .. tostring(m),
        { details = { { errorCode = "invalid.value", fieldName = "metrics[" .. i .. "]" } } })
    end
  end
end

local function aggregates(req)
  local q = validate.body("AggregationQuery", req.body)
  local s, e = interval(q)
  check_granularity(q.granularity)
  check_metrics(q.metrics)
  local results = json.array({})
  for _, u in ipairs(users_of(q.filter)) do
    local x = catalog.ext(state, u)
    local start = parse_time(x.routing.startTime) or s
    local split = math.max(s, math.min(e, start))
    local per = {}
    if split > s then per.OFF_QUEUE = (per.OFF_QUEUE or 0) + (split - s) end
    if e > split then per[x.routing.status] = (per[x.routing.status] or 0) + (e - split) end
    local metrics = json.array({})
    local names = {}
    for k in pairs(per) do names[#names + 1] = k end
    table.sort(names)
    for _, status in ipairs(names) do
      local ms = math.floor(per[status] * 1000)
      metrics[#metrics + 1] = { metric = "tAgentRoutingStatus", qualifier = status,
                                stats = { sum = ms, count = 1, max = ms, min = ms } }
    end
    results[#results + 1] = { group = json.object({ userId = u.id }),
                              data = json.array({ { interval = q.interval, metrics = metrics } }) }
  end
  return 200, { systemToOrganizationMappings = json.object({}), results = results }
end

local function observations(req)
  local q = validate.body("ObservationQuery", req.body)
  check_metrics(q.metrics)
  local on, off = 0, 0
  for _, u in ipairs(users_of(q.filter)) do
    if catalog.ext(state, u).routing.status == "OFF_QUEUE" then off = off + 1 else on = on + 1 end
  end
  local want = {}
  for _, m in ipairs(q.metrics or { "oOnQueueUsers", "oOffQueueUsers" }) do want[m] = true end
  local data = json.array({})
  if want.oOnQueueUsers then data[#data + 1] = { metric = "oOnQueueUsers", stats = { count = on } } end
  if want.oOffQueueUsers then data[#data + 1] = { metric = "oOffQueueUsers", stats = { count = off } } end
  if want.oActiveUsers then data[#data + 1] = { metric = "oActiveUsers", stats = { count = on + off } } end
  return 200, { results = json.array({ { group = json.object({}), data = data } }) }
end

function M.register(app)
  app.add("POST", "/api/v2/analytics/users/aggregates/query", aggregates)
  app.add("POST", "/api/v2/analytics/users/observations/query", observations)
end

return M
