-- Org-wide catalog (skills, queues, roles, stations) and each user's default
-- sub-resource state, derived lazily and deterministically from the seed.
local json = require "emu.json"

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

function M.seed(state)
  local c = { skills = {}, skill_list = {}, queues = {}, queue_list = {}, roles = {}, role_list = {},
              stations = {}, station_list = {}, presences = {}, presence_list = {}, presence_by_system = {},
              languages = {}, language_list = {}, divisions = {}, division_list = {}, groups = {}, group_list = {} }
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
  return e
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

-- A presence definition as the service embeds it (OrganizationPresence).
function M.presence_definition(d)
  return { id = d.id, systemPresence = d.label, languageLabels = { en_US = d.label }, primary = true,
           deactivated = false, selfUri = "/api/v2/presencedefinitions/" .. d.id }
end

-- expand=presence: a UserPresence.
function M.presence_view(state, e)
  local d, since = M.current_presence(state, e)
  return { source = "PURECLOUD", primary = true, presenceDefinition = M.presence_definition(d), message = "",
           modifiedDate = since }
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

return M
