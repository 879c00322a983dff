-- The two user analytics queries, answered deterministically from state, in
-- today's terms (api/today.lua): aggregates split each user's time in the
-- interval (per granularity bucket) by routing status, organization presence
-- or system presence (catalog.timeline: before its startTime a user was
-- OFF_QUEUE / Offline); observations answer the queues each user is a member
-- of / joined (oMemberQueues / oActiveQueues) and the 2016 on/off-queue counts.
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

-- Today's metric lists (api/today.lua: UserAggregationQuery,
-- UserObservationQuery). Observations also answer the 2016 user counts.
local LEGACY_OBSERVATION = { "oOnQueueUsers", "oOffQueueUsers", "oActiveUsers" }

local function allowed(list)
  local set = {}
  for _, m in ipairs(list) do set[m] = true end
  return set
end

local function check_list(list, ok, field, what)
  if type(list) ~= "table" then return end
  for i, m in ipairs(list) do
    if not ok[m] then
      local names = {}
      for k in pairs(ok) do names[#names + 1] = k end
      table.sort(names)
      errors.bad_request("invalid.value", ("Unknown %s %s; allowed: %s"):format(what, tostring(m), table.concat(names, ", ")),
        { details = { { errorCode = "invalid.value", fieldName = field .. "[" .. (i - 1) .. "]" } } })
    end
  end
end

-- ISO-8601 duration → seconds (weeks, days, hours, minutes, seconds; years
-- and months have no fixed length and are refused).
local function duration(g)
  local date, time = g:match("^P([^T]*)T?(.*)$")
  if not date or (date == "" and time == "") then return nil end
  if date:find("[YM]") then return nil, "years and months" end
  local secs = 0
  local rest = date:gsub("(%d+)([WD])", function(n, u) secs = secs + tonumber(n) * (u == "W" and 604800 or 86400); return "" end)
  if rest ~= "" then return nil end
  rest = time:gsub("(%d+%.?%d*)([HMS])", function(n, u)
    secs = secs + tonumber(n) * (u == "H" and 3600 or u == "M" and 60 or 1)
    return ""
  end)
  if rest ~= "" or secs <= 0 then return nil end
  return secs
end

-- The buckets of [s, e) for a granularity (one bucket without one).
local function buckets(s, e, g)
  if g == nil then return { { s, e } } end
  local step, why = duration(g)
  if not step then
    errors.bad_request("invalid.value", "granularity must be an ISO-8601 duration such as PT1H or P1D"
      .. (why and (" (the emulator does not split by " .. why .. ")") or ""),
      { details = { { errorCode = "invalid.value", fieldName = "granularity" } } })
  end
  if (e - s) / step > 10000 then
    errors.bad_request("invalid.value", "granularity splits the interval into more than 10000 parts; use a coarser one",
      { details = { { errorCode = "invalid.value", fieldName = "granularity" } } })
  end
  local out, a = {}, s
  while a < e do
    out[#out + 1] = { a, math.min(e, a + step) }
    a = a + step
  end
  return out
end

local function iso(t)
  local whole = math.floor(t)
  return os.date("!%Y-%m-%dT%H:%M:%S", whole) .. string.format(".%03dZ", math.floor((t - whole) * 1000 + 0.5))
end

-- Seconds per qualifier of a timeline (catalog.timeline) inside [a, b).
local function overlap(segs, a, b, qualify, acc)
  for i, seg in ipairs(segs) do
    local from = math.max(a, seg[1])
    local to = math.min(b, segs[i + 1] and segs[i + 1][1] or math.huge)
    if to > from then
      local q = qualify(seg[2])
      acc[q] = (acc[q] or 0) + (to - from)
    end
  end
end

local QUALIFY = {
  tAgentRoutingStatus = { "routing", function(v) return v end },
  tOrganizationPresence = { "presence", function(d) return d.id end },
  tSystemPresence = { "presence", function(d) return d.system end },
}

local function aggregates(req)
  local today = state.today.definitions.UserAggregationQuery.items_enum
  if type(req.body) == "table" then -- today's lists first: their paths are 0-based like the service's
    check_list(req.body.metrics, allowed(today.metrics), "metrics", "metric")
    check_list(req.body.groupBy, allowed(today.groupBy), "groupBy", "dimension")
  end
  local q = validate.body("AggregationQuery", req.body)
  local s, e = interval(q)
  local parts = buckets(s, e, q.granularity)
  local metrics = q.metrics
  if metrics == nil or #metrics == 0 then metrics = { "tAgentRoutingStatus" } end
  -- Groups: one per user when grouped by userId (also the default, as the
  -- 2016 emulator answered); groupBy = [] adds everything up into one group.
  local per_user = q.groupBy == nil or #q.groupBy > 0
  local groups = {}
  for _, u in ipairs(users_of(q.filter)) do
    if per_user or #groups == 0 then
      groups[#groups + 1] = { key = per_user and json.object({ userId = u.id }) or json.object({}), users = {} }
    end
    local g = groups[#groups]
    g.users[#g.users + 1] = u
  end
  local results = json.array({})
  for _, g in ipairs(groups) do
    local data = json.array({})
    for _, part in ipairs(parts) do
      local out = json.array({})
      for _, metric in ipairs(metrics) do
        local how = QUALIFY[metric]
        local acc = {}
        local per_user_ms = {}
        for _, u in ipairs(g.users) do
          local one = {}
          overlap(catalog.timeline(state, catalog.ext(state, u), how[1], parse_time), part[1], part[2], how[2], one)
          for k, v in pairs(one) do
            acc[k] = (acc[k] or 0) + v
            per_user_ms[k] = per_user_ms[k] or {}
            per_user_ms[k][#per_user_ms[k] + 1] = math.floor(v * 1000)
          end
        end
        local names = {}
        for k in pairs(acc) do names[#names + 1] = k end
        table.sort(names)
        for _, k in ipairs(names) do
          local list = per_user_ms[k]
          local mx, mn = list[1], list[1]
          for _, v in ipairs(list) do mx = math.max(mx, v); mn = math.min(mn, v) end
          out[#out + 1] = { metric = metric, qualifier = k,
                            stats = { sum = math.floor(acc[k] * 1000), count = #list, max = mx, min = mn } }
        end
      end
      data[#data + 1] = { interval = iso(part[1]) .. "/" .. iso(part[2]), metrics = out }
    end
    results[#results + 1] = { group = g.key, data = data }
  end
  -- A mapping from system presence to organization presence ids, as today's service sends.
  local mappings = {}
  for _, d in ipairs(state.catalog.presence_list) do
    mappings[d.system] = mappings[d.system] or json.array({})
    local list = mappings[d.system]
    list[#list + 1] = d.id
  end
  return 200, { systemToOrganizationMappings = json.object(mappings), results = results }
end

local function observations(req)
  local today = state.today.definitions.UserObservationQuery.items_enum
  local ok = allowed(today.metrics)
  for _, m in ipairs(LEGACY_OBSERVATION) do ok[m] = true end
  if type(req.body) == "table" then
    check_list(req.body.metrics, ok, "metrics", "metric")
    check_list(req.body.detailMetrics, allowed(today.detailMetrics), "detailMetrics", "metric")
  end
  local q = validate.body("ObservationQuery", req.body)
  local users = users_of(q.filter)
  local want = {}
  for _, m in ipairs(q.metrics or { "oOnQueueUsers", "oOffQueueUsers" }) do want[m] = true end
  local results = json.array({})
  -- 2016 counts of users on and off queue: one group over every user asked.
  if want.oOnQueueUsers or want.oOffQueueUsers or want.oActiveUsers then
    local on, off = 0, 0
    for _, u in ipairs(users) do
      if catalog.ext(state, u).routing.status == "OFF_QUEUE" then off = off + 1 else on = on + 1 end
    end
    local data = json.array({})
    if want.oOnQueueUsers then data[#data + 1] = { metric = "oOnQueueUsers", stats = { count = on } } end
    if want.oOffQueueUsers then data[#data + 1] = { metric = "oOffQueueUsers", stats = { count = off } } end
    if want.oActiveUsers then data[#data + 1] = { metric = "oActiveUsers", stats = { count = on + off } } end
    results[#results + 1] = { group = json.object({}), data = data }
  end
  -- Today's metrics, one group per user from its queue memberships:
  -- oMemberQueues = queues the user is a member of, oActiveQueues = those joined.
  if want.oActiveQueues or want.oMemberQueues then
    local detail = allowed(q.detailMetrics or {})
    for _, u in ipairs(users) do
      local e = catalog.ext(state, u)
      local member, active = {}, {}
      for _, queue in ipairs(state.catalog.queue_list) do
        local m = e.queues[queue.id]
        if m then
          member[#member + 1] = queue.id
          if m.joined then active[#active + 1] = queue.id end
        end
      end
      local data = json.array({})
      for _, metric in ipairs({ "oActiveQueues", "oMemberQueues" }) do
        if want[metric] then
          local ids = metric == "oActiveQueues" and active or member
          local d = { metric = metric, stats = { count = #ids } }
          if detail[metric] then
            d.observations = json.array({})
            for i, id in ipairs(ids) do d.observations[i] = { queueId = id } end
          end
          data[#data + 1] = d
        end
      end
      results[#results + 1] = { group = json.object({ userId = u.id }), data = data }
    end
  end
  return 200, { results = results }
end

function M.register(app)
  app.add("POST", "/api/v2/analytics/users/aggregates/query", aggregates)
  app.add("POST", "/api/v2/analytics/users/observations/query", observations)
end

return M
