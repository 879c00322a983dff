-- Org-wide catalog (skills, queues, roles, stations) and each user's default
-- sub-resource state, derived lazily and deterministically from the seed.
local json = require "emu.json"
local contract = require "emu.contract"

local M = {}

local SKILLS = { "Billing", "Chinese", "Claims", "English", "French", "German", "Hardware", "Italian", "Japanese",
  "Networking", "Onboarding", "Portuguese", "Renewals", "Retention", "Returns", "Security", "Software", "Spanish",
  "Upgrades", "VIP" }
local QUEUES = { "Billing Queue", "Claims Queue", "EMEA Support", "General Inquiries", "Hardware Support",
  "Priority", "Renewals Queue", "Retention Desk", "Returns Desk", "Sales Inbound", "Sales Outbound",
  "Software Support", "Spanish Line", "Upgrades Line", "VIP Line" }
local ROLES = {
  { "employee", { "directory:user:view", "routing:skill:view" } },
  { "agent", { "routing:queue:join", "conversation:call:accept", "routing:skill:view" } },
  { "supervisor", { "analytics:userAggregate:view", "routing:queue:view", "directory:user:edit" } },
  { "admin", { "directory:user:add", "directory:user:delete", "directory:user:edit", "authorization:role:edit" } },
  { "reporting", { "analytics:userAggregate:view", "analytics:userObservation:view" } },
  { "telephony", { "telephony:phone:assign", "telephony:extension:assign" } },
}

-- Routing languages, divisions and groups: found by name as the service's
-- listings find them (`name=`).
local LANGUAGES = { "Chinese", "Dutch", "English", "French", "German", "Italian", "Japanese", "Portuguese",
  "Spanish", "Swedish" }
local DIVISIONS = { "Home", "EMEA", "Americas", "APAC" } -- the first is the home division
local GROUPS = { "All Agents", "Billing Team", "Escalations", "Night Shift", "Supervisors", "Trainers" }

-- Organization presence definitions: { label, system presence (as analytics
-- qualifies tSystemPresence) }. A user on queue (routing status other than
-- OFF_QUEUE) is in "On Queue"; off queue, in one of the others.
local PRESENCES = { { "Available", "AVAILABLE" }, { "Away", "AWAY" }, { "Busy", "BUSY" }, { "Break", "BREAK" },
  { "Meal", "MEAL" }, { "Meeting", "MEETING" }, { "Training", "TRAINING" }, { "Idle", "IDLE" },
  { "Offline", "OFFLINE" }, { "On Queue", "ON_QUEUE" } }

-- Skill groups: { name, routing skill names (any of them) }. A user belongs
-- to a skill group while they hold one of its skills (GET …/skillgroups
-- follows POST/DELETE …/routingskills).
local SKILL_GROUPS = { { "Billing Experts", { "Billing", "Renewals" } }, { "Spanish Speakers", { "Spanish" } },
  { "Technical", { "Hardware", "Networking", "Software" } }, { "VIP Desk", { "VIP" } } }

-- Presence sources a user's presence may come from (today's
-- integrationPresenceSource values plus Genesys Cloud's own, PURECLOUD).
M.PRESENCE_SOURCES = { "PURECLOUD", "MicrosoftTeams", "ZoomPhone", "RingCentral" }

function M.seed(state)
  -- Everything here is re-made by POST /__emulator/reset (state.reset calls
  -- seed), so the stores of today's routes (group members, external ids,
  -- analytics jobs) live in this table too.
  local c = { skills = {}, skill_list = {}, queues = {}, queue_list = {}, roles = {}, role_list = {},
              stations = {}, station_list = {}, presences = {}, presence_list = {}, presence_by_system = {},
              languages = {}, language_list = {}, divisions = {}, division_list = {}, groups = {}, group_list = {},
              skill_groups = {}, externalids = {}, jobs = {}, job_count = 0 }
  for i, name in ipairs(LANGUAGES) do
    local l = { id = state.uuid(i, 26), name = name, state = "active", version = 1 }
    c.languages[l.id] = l
    c.language_list[i] = l
  end
  for i, name in ipairs(DIVISIONS) do
    local d = { id = state.uuid(i, 27), name = name, homeDivision = i == 1 }
    c.divisions[d.id] = d
    c.division_list[i] = d
  end
  for i, name in ipairs(GROUPS) do
    local g = { id = state.uuid(i, 28), name = name, type = "official", visibility = "public", state = "active",
                version = 1, members = {} } -- members: user id -> true
    c.groups[g.id] = g
    c.group_list[i] = g
  end
  for i, p in ipairs(PRESENCES) do
    local d = { id = state.uuid(i, 25), label = p[1], system = p[2] }
    c.presences[d.id] = d
    c.presence_list[i] = d
    c.presence_by_system[p[2]] = d
  end
  for i, name in ipairs(SKILLS) do
    local s = { id = state.uuid(i, 21), name = name }
    c.skills[s.id] = s
    c.skill_list[i] = s
  end
  for i, name in ipairs(QUEUES) do
    local q = { id = state.uuid(i, 22), name = name }
    c.queues[q.id] = q
    c.queue_list[i] = q
  end
  for i, r in ipairs(ROLES) do
    local role = { id = state.uuid(i, 23), name = r[1], permissions = r[2] }
    c.roles[role.id] = role
    c.role_list[i] = role
  end
  for i, g in ipairs(SKILL_GROUPS) do
    local skills = {}
    for _, name in ipairs(g[2]) do skills[name] = true end
    c.skill_groups[i] = { id = state.uuid(i, 29), name = g[1], skills = skills, skill_names = g[2],
                          division = c.division_list[1] }
  end
  for i = 1, 30 do
    local s = { id = state.uuid(i, 24), name = string.format("Station %02d", i), type = "inin_webrtc_softphone" }
    c.stations[s.id] = s
    c.station_list[i] = s
  end
  state.catalog = c
end

-- The user's sub-resource state, created on first use.
function M.ext(state, u)
  local e = state.ext(u.id)
  if e.ready then return e end
  e.ready = true
  local c = state.catalog
  local index = state.user_index(u)
  local r = state.rng(state.seed * 7777 + index)
  local seeded = not state.user_created(u)
  e.skills = {}
  for _ = 1, seeded and r() % 4 or 0 do
    local s = c.skill_list[r() % #c.skill_list + 1]
    e.skills[s.id] = { id = s.id, name = s.name, proficiency = r() % 6, state = "active" }
  end
  e.queues = {}
  for k = 1, seeded and (2 + r() % 3) or 0 do
    local q = c.queue_list[r() % #c.queue_list + 1]
    e.queues[q.id] = { joined = (k % 2 == 1) }
  end
  e.roles = { c.role_list[1].id, c.role_list[2].id }
  e.routing = { status = "OFF_QUEUE", startTime = state.iso(1700000000 + index) }
  -- Off-queue presence since an hour before the routing status (seeded users
  -- spread over the first eight presences; created users start Available).
  e.presence = { id = c.presence_list[seeded and (r() % 8 + 1) or 1].id,
                 startTime = state.iso(1700000000 - 3600 + index) }
  e.station = {}
  if seeded and r() % 2 == 0 then e.station.default = c.station_list[r() % #c.station_list + 1].id end
  e.callforwarding = { enabled = false, phoneNumber = json.null, modifiedDate = state.iso(1700000000) }
  e.outofoffice = { active = false }
  e.geolocations = {}
  e.profileskills = {}
  -- Role grants outside the home division ("roleId divisionId" → when granted);
  -- the home division's are e.roles (see M.grants).
  e.grants = {}
  e.granted_at = {}
  e.externalids = {} -- authority name → external key
  e.primary_source = "PURECLOUD"
  return e
end

-- The role ids a user holds in the home division, without making their
-- sub-resource state (a user never touched holds M.ext's defaults): listings
-- over every user (role members, userCount) stay cheap on a large org.
function M.home_role_ids(state, u)
  local e = state.exts[u.id]
  if e and e.ready then return e.roles end
  local c = state.catalog
  return { c.role_list[1].id, c.role_list[2].id }
end

-- The home division (the first seeded one).
function M.home_division(state) return state.catalog.division_list[1] end

-- One store of authorization grants per user: e.roles (what GET/PUT
-- /api/v2/users/{id}/roles read and write) are the roles granted in the home
-- division; e.grants holds the other divisions'. Every route that grants or
-- revokes goes through M.grant / M.revoke, so the roles routes, the subject
-- routes and the user's roles agree.
local function grant_key(role_id, division_id) return role_id .. " " .. division_id end

local GRANTED_SEED = "2023-11-14T22:13:20.000Z" -- when a seeded grant was made (state.iso(1700000000))

-- The user's grants, { role, division, grantMadeAt }, by role name then division name.
function M.grants(state, e)
  local c = state.catalog
  local home = M.home_division(state)
  local out = {}
  for _, id in ipairs(e.roles) do
    local r = c.roles[id]
    if r then out[#out + 1] = { role = r, division = home, grantMadeAt = e.granted_at[id] or GRANTED_SEED } end
  end
  for k, at in pairs(e.grants) do
    local rid, did = k:match("^(%S+) (%S+)$")
    if c.roles[rid] and c.divisions[did] then
      out[#out + 1] = { role = c.roles[rid], division = c.divisions[did], grantMadeAt = at }
    end
  end
  table.sort(out, function(a, b)
    if a.role.name ~= b.role.name then return a.role.name < b.role.name end
    if a.division.homeDivision ~= b.division.homeDivision then return a.division.homeDivision end
    return a.division.name < b.division.name
  end)
  return out
end

function M.has_grant(state, e, role_id, division_id)
  if division_id == M.home_division(state).id then
    for _, id in ipairs(e.roles) do if id == role_id then return true end end
    return false
  end
  return e.grants[grant_key(role_id, division_id)] ~= nil
end

-- Grant a role in a division (ids already checked); a grant held already stays as it was.
function M.grant(state, e, role_id, division_id)
  if M.has_grant(state, e, role_id, division_id) then return false end
  if division_id == M.home_division(state).id then
    e.roles[#e.roles + 1] = role_id
    e.granted_at[role_id] = state.iso()
  else
    e.grants[grant_key(role_id, division_id)] = state.iso()
  end
  return true
end

function M.revoke(state, e, role_id, division_id)
  if division_id == M.home_division(state).id then
    for i, id in ipairs(e.roles) do
      if id == role_id then
        table.remove(e.roles, i)
        e.granted_at[role_id] = nil
        return true
      end
    end
    return false
  end
  local k = grant_key(role_id, division_id)
  local had = e.grants[k] ~= nil
  e.grants[k] = nil
  return had
end

-- Whether the user holds the role in any division (what role membership,
-- GET /api/v2/authorization/roles/{id}/users and userCount count).
function M.holds_role(state, u, role_id)
  for _, id in ipairs(M.home_role_ids(state, u)) do if id == role_id then return true end end
  local e = state.exts[u.id]
  if e and e.ready then
    for k in pairs(e.grants) do if k:match("^(%S+) ") == role_id then return true end end
  end
  return false
end

-- A UserAuthorization: the roles the user holds in any division (each once)
-- and their permissions, sorted. expand=authorization answers it; GET
-- /api/v2/users/{id}/roles answers the same for a user whose grants are all
-- in the home division.
function M.user_authorization(state, e)
  local roles, perms, seen_role, seen_perm = json.array({}), json.array({}), {}, {}
  for _, g in ipairs(M.grants(state, e)) do
    local r = g.role
    if not seen_role[r.id] then
      seen_role[r.id] = true
      roles[#roles + 1] = { id = r.id, name = r.name }
      for _, p in ipairs(r.permissions) do
        if not seen_perm[p] then seen_perm[p] = true; perms[#perms + 1] = p end
      end
    end
  end
  table.sort(perms)
  return { roles = roles, unusedRoles = json.array({}), permissions = perms, permissionPolicies = json.array({}) }
end

-- The id of a user's manager: the record keeps what PATCH /api/v2/users/{id}
-- stored, a User reference (the 2016 body) or a user id (today's UpdateUser).
function M.manager_id(u)
  local m = u.manager
  if type(m) == "string" and m ~= "" then return m end
  if type(m) == "table" and type(m.id) == "string" then return m.id end
  return nil
end

-- The live groups a user is a member of, in catalog order.
function M.user_groups(state, u)
  local out = {}
  for _, g in ipairs(state.catalog.group_list) do
    if g.members[u.id] then out[#out + 1] = g end
  end
  return out
end

-- A group's live members (deleted users leave every group listing), by name then id.
function M.group_members(state, g)
  local out = {}
  for id in pairs(g.members) do
    local u = state.user(id)
    if u then out[#out + 1] = u end
  end
  table.sort(out, function(a, b) if a.name ~= b.name then return a.name < b.name end return a.id < b.id end)
  return out
end

-- The skill groups a user belongs to (holds one of their skills), in catalog order.
function M.user_skill_groups(state, e)
  local held = {}
  for _, s in pairs(e.skills) do held[s.name] = true end
  local out = {}
  for _, g in ipairs(state.catalog.skill_groups) do
    for name in pairs(g.skills) do
      if held[name] then out[#out + 1] = g break end
    end
  end
  return out
end

-- A definition of today's contract with its $refs written out (to the depth a
-- request body needs; deeper, anything goes), for emu.validate.body, which
-- resolves $refs against the 2016 contract only.
local function inline(defs, schema, depth)
  if type(schema) ~= "table" then return schema end
  local ref = schema["$ref"]
  if ref then
    if depth > 8 then return {} end
    return inline(defs, defs[ref:match("[^/]+$")] or {}, depth + 1)
  end
  local out = {}
  for k, v in pairs(schema) do
    if k == "properties" then
      out.properties = {}
      for name, p in pairs(v) do out.properties[name] = inline(defs, p, depth) end
    elseif k == "items" or k == "additionalProperties" then
      out[k] = inline(defs, v, depth)
    elseif k ~= "readOnly" and k ~= "description" then
      out[k] = v
    end
  end
  return out
end

-- Request bodies of today's operations are checked against the definitions
-- of today's contract (api/today/swagger.json), as emu.contract reads it.
local schema_cache = {}
function M.schema(_, name)
  local s = schema_cache[name]
  if not s then
    local defs = contract.load().definitions
    assert(defs[name], "no definition " .. name .. " in today's contract")
    s = inline(defs, defs[name], 0)
    schema_cache[name] = s
  end
  return s
end

-- Routing status as the sub-resource, expand=routingStatus and analytics see it.
function M.routing_view(u, e)
  return { userId = u.id, status = e.routing.status, startTime = e.routing.startTime }
end

-- The user's current presence definition and since when: "On Queue" while the
-- routing status is not OFF_QUEUE, else the stored off-queue presence.
function M.current_presence(state, e)
  local c = state.catalog
  if e.routing.status ~= "OFF_QUEUE" then return c.presence_by_system.ON_QUEUE, e.routing.startTime end
  return c.presences[e.presence.id], e.presence.startTime
end

-- A presence definition as a UserPresence embeds it (today's PresenceDefinition:
-- id, systemPresence, selfUri).
function M.presence_definition(d)
  return { id = d.id, systemPresence = d.label, selfUri = "/api/v2/presence/definitions/" .. d.id }
end

-- expand=presence and GET /api/v2/users/{id}/presences/purecloud: a UserPresence.
function M.presence_view(state, e)
  local d, since = M.current_presence(state, e)
  return { source = "PURECLOUD", primary = e.primary_source == nil or e.primary_source == "PURECLOUD",
           presenceDefinition = M.presence_definition(d), message = e.presence.message or "",
           modifiedDate = since }
end

-- Set the user's Genesys Cloud presence to a definition: the one store is
-- e.presence (off-queue presence) plus e.routing. "On Queue" puts an
-- off-queue user on queue (IDLE); any other presence takes an on-queue user
-- off queue, as the service does, so analytics and the routing status agree.
function M.set_presence(state, e, d, message)
  local now = state.iso()
  if d.system == "ON_QUEUE" then
    if e.routing.status == "OFF_QUEUE" then e.routing = { status = "IDLE", startTime = now } end
  else
    if e.presence.id ~= d.id or e.routing.status ~= "OFF_QUEUE" then
      e.presence = { id = d.id, startTime = now, message = e.presence.message }
    end
    if e.routing.status ~= "OFF_QUEUE" then e.routing = { status = "OFF_QUEUE", startTime = now } end
  end
  if message ~= nil then e.presence.message = message end
end

-- Segments { from (epoch seconds, -math.huge for "always"), value } of the
-- user's routing status or presence definition, oldest first. parse: ISO → epoch.
function M.timeline(state, e, what, parse)
  local c = state.catalog
  if what == "routing" then
    return { { -math.huge, "OFF_QUEUE" }, { parse(e.routing.startTime), e.routing.status } }
  end
  local segs = { { -math.huge, c.presence_by_system.OFFLINE }, { parse(e.presence.startTime), c.presences[e.presence.id] } }
  if e.routing.status ~= "OFF_QUEUE" then
    local t = parse(e.routing.startTime)
    if t >= segs[2][1] then segs[3] = { t, c.presence_by_system.ON_QUEUE }
    else segs[2] = { t, c.presence_by_system.ON_QUEUE } end
  end
  return segs
end

-- Values of a query parameter that may repeat (collectionFormat multi) or
-- carry a comma-separated list (the documented form of ids=, id=): one flat list.
function M.query_list(req, name)
  local out = {}
  for _, v in ipairs(req.query[name] or {}) do
    for one in v:gmatch("[^,]+") do
      one = one:match("^%s*(.-)%s*$")
      if one ~= "" then out[#out + 1] = one end
    end
  end
  return out
end

-- The expand= values of a route answering users (group members, org chart,
-- external id lookup), each checked against today's list for GET
-- /api/v2/users (api/today.lua), as users.lua checks its own; → a set for
-- emu.routes.users.renderer.
function M.user_expand(state, req)
  local allowed = {}
  for _, p in ipairs(state.today.operations.getUsers.query or {}) do
    if p.name == "expand" then for _, e in ipairs(p.items.enum) do allowed[e] = true end end
  end
  local want = {}
  for _, one in ipairs(M.query_list(req, "expand")) do
    if not allowed[one] then
      require("emu.errors").bad_request("invalid.value", ("Value [%s] is not valid for field type [expand]"):format(one),
        { details = { { errorCode = "invalid.value", fieldName = "expand" } } })
    end
    want[one] = true
  end
  return want
end

-- A list of strings in a request body (a JSON array of ids), checked whole.
function M.string_list(body)
  return require("emu.validate").body({ type = "array", items = { type = "string" } }, body)
end

return M
