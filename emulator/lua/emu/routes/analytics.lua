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

-- The UserAggregateQueryResponse of a checked query (the synchronous query
-- and the aggregates jobs).
local function aggregate(q)
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
  return { systemToOrganizationMappings = json.object(mappings), results = results }
end

local function aggregates(req)
  local today = state.today.definitions.UserAggregationQuery.items_enum
  if type(req.body) == "table" then -- today's lists first: their paths are 0-based like the service's
    check_list(req.body.metrics, allowed(today.metrics), "metrics", "metric")
    check_list(req.body.groupBy, allowed(today.groupBy), "groupBy", "dimension")
  end
  return 200, aggregate(validate.body("AggregationQuery", req.body))
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

-- User details ---------------------------------------------------------------
-- Each user's presence and routing-status records in the interval, from the
-- same timelines the aggregates add up (catalog.timeline), clipped to the
-- interval; a record still going on has no endTime.
local function records(u, s, e)
  local ext = catalog.ext(state, u)
  local function clip(segs, render)
    local out = json.array({})
    for i, seg in ipairs(segs) do
      local to = segs[i + 1] and segs[i + 1][1] or math.huge
      local from = math.max(s, seg[1])
      if math.min(e, to) > from then
        local r = render(seg[2])
        r.startTime = iso(from)
        if to < e then r.endTime = iso(to) end
        out[#out + 1] = r
      end
    end
    return out
  end
  return {
    userId = u.id,
    primaryPresence = clip(catalog.timeline(state, ext, "presence", parse_time),
      function(d) return { systemPresence = d.system, organizationPresenceId = d.id } end),
    routingStatus = clip(catalog.timeline(state, ext, "routing", parse_time),
      function(v) return { routingStatus = v } end),
  }
end

-- The user ids of a list of detail filters' userId predicates (nil: no such predicate).
local function filter_user_ids(filters)
  local ids
  local function collect(preds)
    for _, p in ipairs(preds or {}) do
      if p.dimension == "userId" and p.value then
        ids = ids or {}
        ids[#ids + 1] = p.value
      end
    end
  end
  for _, f in ipairs(filters or {}) do
    collect(f.predicates)
    for _, c in ipairs(f.clauses or {}) do collect(c.predicates) end
  end
  return ids
end

-- Whether some record matches a filter list: every filter (AND) must hold;
-- a filter of type "or" wants one matching predicate, "and" all of them.
local function records_match(filters, list)
  local function pred_ok(p)
    for _, r in ipairs(list) do
      local v = r[p.dimension]
      if p.operator == "exists" then if v ~= nil then return true end
      elseif p.operator == "notExists" then if v == nil then return true end
      elseif v ~= nil and v == p.value then return true end
    end
    return false
  end
  for _, f in ipairs(filters or {}) do
    local preds = {}
    for _, p in ipairs(f.predicates or {}) do preds[#preds + 1] = p end
    for _, c in ipairs(f.clauses or {}) do for _, p in ipairs(c.predicates or {}) do preds[#preds + 1] = p end end
    local any, all = false, true
    for _, p in ipairs(preds) do
      if pred_ok(p) then any = true else all = false end
    end
    if #preds > 0 and not (f.type == "or" and any or f.type ~= "or" and all) then return false end
  end
  return true
end

-- Every matching user's details, ordered by user id (desc when asked).
local function details_of(q)
  local s, e = interval(q)
  local ids = filter_user_ids(q.userFilters)
  local users = users_of(ids and { predicates = (function()
    local preds = {}
    for i, id in ipairs(ids) do preds[i] = { dimension = "userId", value = id } end
    return preds
  end)() } or nil)
  table.sort(users, function(a, b) if q.order == "desc" then return a.id > b.id end return a.id < b.id end)
  local out = {}
  for _, u in ipairs(users) do
    local d = records(u, s, e)
    if records_match(q.presenceFilters, d.primaryPresence) and records_match(q.routingStatusFilters, d.routingStatus) then
      out[#out + 1] = d
    end
  end
  return out
end

-- termFrequency aggregations over the records of every matching user.
local function term_counts(aggs, details, field, path)
  if aggs == nil then return nil end
  local out = json.array({})
  for i, a in ipairs(aggs) do
    local at = path .. "[" .. (i - 1) .. "]"
    if a.type ~= nil and a.type ~= "termFrequency" then
      errors.bad_request("invalid.value", at .. ".type: the emulator answers termFrequency aggregations only",
        { details = { { errorCode = "invalid.value", fieldName = at .. ".type" } } })
    end
    local counts, total = {}, 0
    for _, d in ipairs(details) do
      for _, r in ipairs(d[field]) do
        local v = r[a.dimension]
        if v ~= nil then counts[v] = (counts[v] or 0) + 1; total = total + 1 end
      end
    end
    local entries = {}
    for v, n in pairs(counts) do entries[#entries + 1] = { value = v, count = n } end
    table.sort(entries, function(x, y) if x.count ~= y.count then return x.count > y.count end return x.value < y.value end)
    if a.size and a.size >= 0 then for k = #entries, a.size + 1, -1 do entries[k] = nil end end
    out[#out + 1] = { type = "termFrequency", dimension = a.dimension, metric = a.metric, count = total,
                      results = json.array(entries) }
  end
  return out
end

local function details_query(req)
  local q = validate.body(catalog.schema(state, "UserDetailsQuery"), req.body)
  local size, number = 25, 1
  if q.paging then size, number = q.paging.pageSize, q.paging.pageNumber end
  if size < 1 or size > 100 or size % 1 ~= 0 or number < 1 or number % 1 ~= 0 then
    errors.bad_request("invalid.value", "paging: pageSize must be an integer from 1 to 100 and pageNumber a positive integer",
      { details = { { errorCode = "invalid.value", fieldName = "paging" } } })
  end
  local all = details_of(q)
  local page = json.array({})
  for i = (number - 1) * size + 1, math.min(#all, number * size) do page[#page + 1] = all[i] end
  local aggs = json.array({})
  for _, list in ipairs({ term_counts(q.presenceAggregations, all, "primaryPresence", "presenceAggregations") or {},
                          term_counts(q.routingStatusAggregations, all, "routingStatus", "routingStatusAggregations") or {} }) do
    for _, a in ipairs(list) do aggs[#aggs + 1] = a end
  end
  local out = { userDetails = page, totalHits = #all }
  if #aggs > 0 then out.aggregations = aggs end
  return 200, out
end

-- Asynchronous jobs --------------------------------------------------------------
-- Submit → poll → results by cursor, as the service runs them. A job's
-- results are computed when it is submitted; its state, deterministic for
-- specs and clients, is PENDING at the first status poll and FULFILLED from
-- the second on (results are refused until a poll has seen it FULFILLED).
-- Jobs live in state.catalog.jobs (gone after POST /__emulator/reset).
local JOB_TTL = 86400 -- seconds a job's results are kept (expirationDate)
local RESULTS_PAGE = 100 -- results per page unless asked (details pageSize; aggregates the query's pageSize)

local function submit(kind, results, size)
  local c = state.catalog
  c.job_count = c.job_count + 1
  local id = state.uuid(c.job_count, 31)
  local now = state.now()
  c.jobs[id] = { id = id, kind = kind, results = results, size = size, polls = 0, submitted = now }
  return 200, { jobId = id }
end

local function job_of(req, kind)
  local j = state.catalog.jobs[req.params.jobId]
  if not j or j.kind ~= kind then errors.not_found("The job does not exist: " .. req.params.jobId) end
  return j
end

local function job_status(kind)
  return function(req)
    local j = job_of(req, kind)
    j.polls = j.polls + 1
    local out = { submissionDate = iso(j.submitted), expirationDate = iso(j.submitted + JOB_TTL) }
    if j.polls >= 2 then
      j.fulfilled = j.fulfilled or state.now()
      out.state, out.completionDate = "FULFILLED", iso(j.fulfilled)
    else
      out.state = "PENDING"
    end
    return 200, out
  end
end

local function cursor_of(j, offset) return ngx.encode_base64(j.id .. ":" .. offset) end

-- One page of a fulfilled job's results from a cursor: items, the next cursor or nil.
local function job_page(req, j, size)
  if not j.fulfilled then
    errors.bad_request("bad.request", "The job " .. j.id .. " is not FULFILLED yet: poll its status first")
  end
  local offset = 0
  local cursor = validate.query(req, "cursor")
  if cursor and cursor ~= "" then
    local text = ngx.decode_base64(cursor)
    local id, n = (text or ""):match("^(.+):(%d+)$")
    if id ~= j.id then
      errors.bad_request("invalid.value", "The cursor is not one this job's results gave",
        { details = { { errorCode = "invalid.value", fieldName = "cursor" } } })
    end
    offset = tonumber(n)
  end
  local items = json.array({})
  for i = offset + 1, math.min(#j.results, offset + size) do items[#items + 1] = j.results[i] end
  local next_cursor = offset + size < #j.results and cursor_of(j, offset + size) or nil
  return items, next_cursor
end

local function details_submit(req)
  local q = validate.body(catalog.schema(state, "AsyncUserDetailsQuery"), req.body)
  local all = details_of(q)
  if q.limit then
    if q.limit < 1 or q.limit % 1 ~= 0 then
      errors.bad_request("invalid.value", "limit must be a positive integer", { details = { { errorCode = "invalid.value", fieldName = "limit" } } })
    end
    for k = #all, q.limit + 1, -1 do all[k] = nil end
  end
  return submit("details", all)
end

local function details_results(req)
  local j = job_of(req, "details")
  local size = validate.query_int(req, "pageSize", 1, 10000, RESULTS_PAGE)
  local items, cursor = job_page(req, j, size)
  return 200, { userDetails = items, cursor = cursor, dataAvailabilityDate = iso(state.now()) }
end

local function aggregates_submit(req)
  local today = state.today.definitions.UserAggregationQuery.items_enum
  if type(req.body) == "table" then
    check_list(req.body.metrics, allowed(today.metrics), "metrics", "metric")
    check_list(req.body.groupBy, allowed(today.groupBy), "groupBy", "dimension")
  end
  local q = validate.body(catalog.schema(state, "UserAsyncAggregationQuery"), req.body)
  if q.pageSize ~= nil and (q.pageSize < 1 or q.pageSize % 1 ~= 0) then
    errors.bad_request("invalid.value", "pageSize must be a positive integer", { details = { { errorCode = "invalid.value", fieldName = "pageSize" } } })
  end
  local res = aggregate(q)
  local id = select(2, submit("aggregates", res.results, q.pageSize or RESULTS_PAGE)).jobId
  state.catalog.jobs[id].mappings = res.systemToOrganizationMappings
  return 200, { jobId = id }
end

local function aggregates_results(req)
  local j = job_of(req, "aggregates")
  local items, cursor = job_page(req, j, j.size)
  return 200, { results = items, cursor = cursor, systemToOrganizationMappings = j.mappings }
end

local function job_delete(kind)
  return function(req)
    local j = job_of(req, kind)
    state.catalog.jobs[j.id] = nil
    return 204, nil
  end
end

function M.register(app)
  app.add("POST", "/api/v2/analytics/users/aggregates/query", aggregates)
  app.add("POST", "/api/v2/analytics/users/observations/query", observations)
  app.add("POST", "/api/v2/analytics/users/details/query", details_query)
  local D = "/api/v2/analytics/users/details/jobs"
  app.add("POST", D, details_submit)
  app.add("GET", D .. "/availability", function() return 200, { dataAvailabilityDate = iso(state.now()) } end)
  app.add("GET", D .. "/{jobId}", job_status("details"))
  app.add("GET", D .. "/{jobId}/results", details_results)
  app.add("DELETE", D .. "/{jobId}", job_delete("details"))
  local A = "/api/v2/analytics/users/aggregates/jobs"
  app.add("POST", A, aggregates_submit)
  app.add("GET", A .. "/{jobId}", job_status("aggregates"))
  app.add("GET", A .. "/{jobId}/results", aggregates_results)
  app.add("DELETE", A .. "/{jobId}", job_delete("aggregates"))
end

return M
