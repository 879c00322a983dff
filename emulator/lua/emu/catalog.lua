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

function M.seed(state)
  local c = { skills = {}, skill_list = {}, queues = {}, queue_list = {}, roles = {}, role_list = {},
              stations = {}, station_list = {} }
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
  local r = state.rng(state.seed * 7777 + (u._index or 1))
  local seeded = not u._created
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
  e.routing = { status = "OFF_QUEUE", startTime = state.iso(1700000000 + (u._index or 1)) }
  e.station = {}
  if seeded and r() % 2 == 0 then e.station.default = c.station_list[r() % #c.station_list + 1].id end
  e.callforwarding = { enabled = false, phoneNumber = json.null, modifiedDate = state.iso(1700000000) }
  e.outofoffice = { active = false }
  e.geolocations = {}
  e.profileskills = {}
  return e
end

return M
