-- Per-user sub-resources: roles, routing skills, queues, routing status,
-- station, call forwarding, out of office, geolocation, profile skills.
local state = require "emu.state"
local errors = require "emu.errors"
local validate = require "emu.validate"
local paging = require "emu.paging"
local json = require "emu.json"
local catalog = require "emu.catalog"

local M = {}

local function user_ext(req)
  local u = state.user(req.params.userId)
  if not u then errors.not_found("The user does not exist: " .. req.params.userId) end
  return u, catalog.ext(state, u)
end

-- A User reference; the contract requires `version` on every User object.
local function ref(u) return { id = u.id, name = u.name, version = u.version, selfUri = u.selfUri } end

-- Roles ------------------------------------------------------------------
local function authorization(e)
  local roles, perms, seen = json.array({}), json.array({}), {}
  for _, id in ipairs(e.roles) do
    local r = state.catalog.roles[id]
    if r then
      roles[#roles + 1] = { id = r.id, name = r.name }
      for _, p in ipairs(r.permissions) do
        if not seen[p] then seen[p] = true; perms[#perms + 1] = p end
      end
    end
  end
  table.sort(perms)
  return { roles = roles, permissions = perms, permissionPolicies = json.array({}) }
end

local function get_roles(req) local _, e = user_ext(req); return 200, authorization(e) end

local function put_roles(req)
  local _, e = user_ext(req)
  local ids = validate.body({ type = "array", items = { type = "string" } }, req.body or json.null)
  if type(ids) ~= "table" then errors.bad_request("bad.request", "body must be an array of role ids") end
  for i, id in ipairs(ids) do
    if not state.catalog.roles[id] then
      errors.bad_request("invalid.value", "Unknown role id " .. id, { details = { { errorCode = "invalid.value", fieldName = "[" .. i .. "]" } } })
    end
  end
  local list = {}
  for i, id in ipairs(ids) do list[i] = id end
  e.roles = list
  return 200, authorization(e)
end

local function delete_roles(req) local _, e = user_ext(req); e.roles = {}; return 204, nil end

-- Routing skills ---------------------------------------------------------
local function skill_view(u, s)
  return { id = s.id, name = s.name, proficiency = s.proficiency, state = s.state,
           skillUri = "/api/v2/routing/skills/" .. s.id, selfUri = "/api/v2/users/" .. u.id .. "/routingskills/" .. s.id }
end

-- A user's skills (or languages: any id -> { name, … } map) by name then id.
local function by_name(map, order)
  local list = {}
  for _, s in pairs(map) do list[#list + 1] = s end
  table.sort(list, function(a, b)
    if a.name ~= b.name then
      if order == "descending" then return a.name > b.name end
      return a.name < b.name
    end
    return a.id < b.id
  end)
  return list
end

-- The user's skills as a UserSkillEntityListing page (GET …/routingskills
-- and the bulk routes' answers, emu.routes.routing).
local function skills_page(req, u, e)
  local order = validate.sort_order(req)
  local extra = order == "descending" and { "sortOrder=descending" } or nil
  return paging.page(by_name(e.skills, order), req, "/api/v2/users/" .. u.id .. "/routingskills", extra,
    function(s) return skill_view(u, s) end)
end

local function get_skills(req)
  local u, e = user_ext(req)
  return 200, skills_page(req, u, e)
end

local function check_proficiency(p, field)
  field = field or "proficiency"
  if p ~= nil and (p < 0 or p > 5) then
    errors.bad_request("invalid.value", field .. " must be from 0.0 to 5.0", { details = { { errorCode = "invalid.value", fieldName = field } } })
  end
end

-- Shared with emu.routes.routing (bulk skills, languages) and expand=skills.
M.user_ext = user_ext
M.skill_view = skill_view
M.by_name = by_name
M.check_proficiency = check_proficiency

local function post_skill(req)
  local u, e = user_ext(req)
  local b = validate.body("UserRoutingSkillPost", req.body)
  check_proficiency(b.proficiency)
  local s = state.catalog.skills[b.id]
  if not s then errors.not_found("The routing skill does not exist: " .. b.id) end
  e.skills[s.id] = { id = s.id, name = s.name, proficiency = b.proficiency, state = "active" }
  return 200, skill_view(u, e.skills[s.id])
end

local function put_skill(req)
  local u, e = user_ext(req)
  local s = e.skills[req.params.skillId]
  if not s then errors.not_found("The user does not have the routing skill " .. req.params.skillId) end
  local b = validate.body("UserRoutingSkill", req.body)
  check_proficiency(b.proficiency)
  if b.proficiency ~= nil then s.proficiency = b.proficiency end
  if b.state ~= nil then s.state = b.state end
  return 200, skill_view(u, s)
end

local function delete_skill(req)
  local _, e = user_ext(req)
  if not e.skills[req.params.skillId] then
    errors.not_found("The user does not have the routing skill " .. req.params.skillId)
  end
  e.skills[req.params.skillId] = nil
  -- Today's SDKs declare no return type (api/today.lua): no body.
  return 204, nil
end

-- Queues -----------------------------------------------------------------
local function queue_view(u, q, m)
  return { id = q.id, name = q.name, joined = m.joined, state = "active", skillEvaluationMethod = "BEST",
           mediaSettings = json.object({ call = { alertingTimeoutSeconds = 8, serviceLevel = { percentage = 0.8, durationMs = 20000 } } }),
           acwSettings = { wrapupPrompt = "OPTIONAL", timeoutMs = 30000 },
           selfUri = "/api/v2/routing/queues/" .. q.id, _user = u.id }
end

local function get_queues(req)
  local u, e = user_ext(req)
  local joined = validate.query_bool(req, "joined", true)
  local list = {}
  for _, q in ipairs(state.catalog.queue_list) do
    local m = e.queues[q.id]
    if m and m.joined == joined then list[#list + 1] = q end
  end
  return 200, paging.page(list, req, "/api/v2/users/" .. u.id .. "/queues", { "joined=" .. tostring(joined) },
    function(q) return queue_view(u, q, e.queues[q.id]) end)
end

-- Requests join a queue with { id, joined }: the contract's required list on
-- UserQueue is response-side (api/deviations.lua: user-queue-request).
local QUEUE_REQ = { request_required = { UserQueue = {} } }

local function set_queue(u, e, id, joined)
  local q = state.catalog.queues[id]
  if not q then errors.not_found("The queue does not exist: " .. tostring(id)) end
  local m = e.queues[id]
  if not m then errors.not_found("The user is not a member of queue " .. id) end
  if joined ~= nil then m.joined = joined end
  return queue_view(u, q, m)
end

local function patch_queue(req)
  local u, e = user_ext(req)
  local b = validate.body("UserQueue", req.body, QUEUE_REQ)
  return 200, set_queue(u, e, req.params.queueId, b.joined)
end

local function patch_queues(req)
  local u, e = user_ext(req)
  local list = validate.body({ type = "array", items = { ["$ref"] = "#/definitions/UserQueue" } }, req.body,
    { request_required = { UserQueue = { "id" } } })
  -- Every queue is checked before any membership changes: all or nothing.
  for _, item in ipairs(list) do
    if not state.catalog.queues[item.id] then errors.not_found("The queue does not exist: " .. tostring(item.id)) end
    if not e.queues[item.id] then errors.not_found("The user is not a member of queue " .. item.id) end
  end
  local changed = {}
  for _, item in ipairs(list) do changed[#changed + 1] = set_queue(u, e, item.id, item.joined) end
  -- Today's service answers a UserQueueEntityListing of the queues changed
  -- (api/today.lua: patchUserIdQueues; the 2016 contract: one UserQueue).
  local uri = "/api/v2/users/" .. u.id .. "/queues?pageSize=" .. #changed .. "&pageNumber=1"
  return 200, { entities = json.array(changed), pageSize = #changed, pageNumber = 1, total = #changed,
                pageCount = 1, selfUri = uri, firstUri = uri, lastUri = uri }
end

-- Routing status ----------------------------------------------------------
local function get_routing(req)
  local u, e = user_ext(req)
  return 200, catalog.routing_view(u, e)
end

local function put_routing(req)
  local u, e = user_ext(req)
  local b = validate.body("RoutingStatus", req.body)
  if b.status == nil then errors.bad_request("bad.request", "status is required", { details = { { errorCode = "required", fieldName = "status" } } }) end
  if b.status ~= e.routing.status then e.routing = { status = b.status, startTime = state.iso() } end
  return 200, { userId = u.id, status = e.routing.status, startTime = e.routing.startTime }
end

-- Station -----------------------------------------------------------------
local function station_view(u, id, kind)
  local s = id and state.catalog.stations[id]
  if not s then return nil end
  local v = { id = s.id, name = s.name, type = s.type }
  if kind == "associated" then v.associatedUser = ref(u); v.associatedDate = state.iso(1700000000) end
  if kind == "default" then v.defaultUser = ref(u) end
  return v
end

local function get_station(req)
  local u, e = user_ext(req)
  local st = e.station
  return 200, {
    associatedStation = station_view(u, st.associated, "associated"),
    defaultStation = station_view(u, st.default, "default"),
    effectiveStation = station_view(u, st.associated or st.default, st.associated and "associated" or "default"),
    lastAssociatedStation = station_view(u, st.last, "associated"),
  }
end

local function station_setter(slot)
  return function(req)
    local _, e = user_ext(req)
    local id = req.params.stationId
    if not state.catalog.stations[id] then errors.not_found("The station does not exist: " .. id) end
    e.station[slot] = id
    if slot == "associated" then e.station.last = id end
    return 202, nil
  end
end

local function station_clearer(slot)
  return function(req)
    local _, e = user_ext(req)
    e.station[slot] = nil
    return 202, nil
  end
end

-- Call forwarding ---------------------------------------------------------
local function cf_view(u, e)
  local cf = e.callforwarding
  return { id = u.id, name = u.name, user = ref(u), enabled = cf.enabled,
           phoneNumber = cf.phoneNumber ~= json.null and cf.phoneNumber or nil,
           modifiedDate = cf.modifiedDate, selfUri = "/api/v2/users/" .. u.id .. "/callforwarding" }
end

local function get_cf(req) local u, e = user_ext(req); return 200, cf_view(u, e) end

local function write_cf(replace)
  return function(req)
    local u, e = user_ext(req)
    local b = validate.body("CallForwarding", req.body, { nullable = { phoneNumber = true } })
    local cf = replace and { enabled = false } or e.callforwarding
    if b.enabled ~= nil then cf.enabled = b.enabled end
    if b.phoneNumber ~= nil then cf.phoneNumber = b.phoneNumber end
    cf.modifiedDate = state.iso()
    e.callforwarding = cf
    return 200, cf_view(u, e)
  end
end

-- Out of office -----------------------------------------------------------
local function ooo_view(u, e)
  local o = e.outofoffice
  return { id = u.id, name = u.name, user = ref(u), startDate = o.startDate, endDate = o.endDate,
           active = o.active, selfUri = "/api/v2/users/" .. u.id .. "/outofoffice" }
end

local ISO = "^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%d"

local function put_ooo(req)
  local u, e = user_ext(req)
  local b = validate.body("OutOfOffice", req.body)
  for _, k in ipairs({ "startDate", "endDate" }) do
    if b[k] ~= nil and not tostring(b[k]):match(ISO) then
      errors.bad_request("invalid.date", "Dates must be specified as ISO-8601 strings. For example: yyyy-MM-ddTHH:mm:ss.SSSZ",
        { details = { { errorCode = "invalid.date", fieldName = k } } })
    end
  end
  if b.startDate and b.endDate and b.endDate < b.startDate then
    errors.bad_request("invalid.date", "endDate must not precede startDate", { details = { { errorCode = "invalid.date", fieldName = "endDate" } } })
  end
  e.outofoffice = { startDate = b.startDate, endDate = b.endDate, active = b.active == true }
  return 200, ooo_view(u, e)
end

-- Geolocation (per client id; a never-set client id reads as an empty one) --
local function geo_view(u, e, client_id)
  local g = e.geolocations[client_id] or {}
  local v = { id = client_id, name = u.name, type = g.type or "USER", primary = g.primary or false,
              selfUri = "/api/v2/users/" .. u.id .. "/geolocations/" .. client_id }
  for _, k in ipairs({ "latitude", "longitude", "country", "region", "city" }) do v[k] = g[k] end
  return v
end

local function get_geo(req) local u, e = user_ext(req); return 200, geo_view(u, e, req.params.clientId) end

local function patch_geo(req)
  local u, e = user_ext(req)
  local b = validate.body("Geolocation", req.body)
  if b.latitude and (b.latitude < -90 or b.latitude > 90) or b.longitude and (b.longitude < -180 or b.longitude > 180) then
    errors.bad_request("invalid.value", "latitude/longitude out of range")
  end
  local g = e.geolocations[req.params.clientId] or {}
  for _, k in ipairs({ "type", "primary", "latitude", "longitude", "country", "region", "city" }) do
    if b[k] ~= nil then g[k] = b[k] end
  end
  e.geolocations[req.params.clientId] = g
  return 200, geo_view(u, e, req.params.clientId)
end

-- Profile skills ----------------------------------------------------------
local function get_ps(req)
  local _, e = user_ext(req)
  local out = json.array({})
  for i, s in ipairs(e.profileskills) do out[i] = s end
  return 200, out
end

local function put_ps(req)
  local _, e = user_ext(req)
  local list = req.body or {}
  validate.body({ type = "array", items = { type = "string" } }, list)
  local copy = {}
  for i, s in ipairs(list) do copy[i] = s end
  e.profileskills = copy
  return get_ps(req)
end

function M.register(app)
  local U = "/api/v2/users/{userId}"
  app.add("GET", U .. "/roles", get_roles)
  app.add("PUT", U .. "/roles", put_roles)
  app.add("DELETE", U .. "/roles", delete_roles)
  app.add("GET", U .. "/routingskills", get_skills)
  app.add("POST", U .. "/routingskills", post_skill)
  app.add("PUT", U .. "/routingskills/{skillId}", put_skill)
  app.add("DELETE", U .. "/routingskills/{skillId}", delete_skill)
  app.add("GET", U .. "/queues", get_queues)
  app.add("PATCH", U .. "/queues", patch_queues)
  app.add("PATCH", U .. "/queues/{queueId}", patch_queue)
  app.add("GET", U .. "/routingstatus", get_routing)
  app.add("PUT", U .. "/routingstatus", put_routing)
  app.add("GET", U .. "/station", get_station)
  app.add("PUT", U .. "/station/associatedstation/{stationId}", station_setter("associated"))
  app.add("DELETE", U .. "/station/associatedstation", station_clearer("associated"))
  app.add("PUT", U .. "/station/defaultstation/{stationId}", station_setter("default"))
  app.add("DELETE", U .. "/station/defaultstation", station_clearer("default"))
  app.add("GET", U .. "/callforwarding", get_cf)
  app.add("PUT", U .. "/callforwarding", write_cf(true))
  app.add("PATCH", U .. "/callforwarding", write_cf(false))
  app.add("GET", U .. "/outofoffice", function(req) local u, e = user_ext(req); return 200, ooo_view(u, e) end)
  app.add("PUT", U .. "/outofoffice", put_ooo)
  app.add("GET", U .. "/geolocations/{clientId}", get_geo)
  app.add("PATCH", U .. "/geolocations/{clientId}", patch_geo)
  app.add("GET", U .. "/profileskills", get_ps)
  app.add("PUT", U .. "/profileskills", put_ps)
end

return M
