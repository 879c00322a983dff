-- Org chart (direct reports, superiors, adjacents: from each user's
-- `manager`, which PATCH /api/v2/users/{id} sets), external identifiers
-- (set, read, delete, and a user looked up by authority and key), and the
-- skill groups a user belongs to (from their routing skills).
local state = require "emu.state"
local errors = require "emu.errors"
local validate = require "emu.validate"
local json = require "emu.json"
local catalog = require "emu.catalog"

local M = {}

local MAX_EXTERNAL_IDS = 100 -- "Create mapping between external identifier and user. Limit 100 per entity."

local function live_user(id)
  local u = state.user(id)
  if not u then errors.not_found("The user does not exist: " .. tostring(id)) end
  return u
end

-- A user as these routes answer it: expanded as asked, and its manager a
-- User reference (today's User.manager) whichever form PATCH stored.
local function render_user(render, u)
  local out = render(u)
  if type(out) ~= "table" or getmetatable(out) ~= nil then out = state.user_copy(u) end
  local m = catalog.manager_id(u)
  if m then -- a User carries its version (User.required)
    local mu = state.user(m, "any")
    out.manager = { id = m, name = mu and mu.name, version = mu and mu.version or 1, selfUri = "/api/v2/users/" .. m }
  end
  return out
end

local function render_list(req, list)
  local render = require("emu.routes.users").renderer(catalog.user_expand(state, req))
  local out = json.array({})
  for i, u in ipairs(list) do out[i] = render_user(render, u) end
  return out
end

-- Live users whose manager is `id`, by name then id (users_sorted's order).
local function reports_of(id)
  local out = {}
  for _, u in ipairs(state.users_sorted()) do
    if catalog.manager_id(u) == id then out[#out + 1] = u end
  end
  return out
end

-- The chain of managers above a user, nearest first; it stops at a user
-- without a (live) manager and at a cycle (the service would not let one
-- form; a PATCH can here).
local function superiors_of(u)
  local out, seen = {}, { [u.id] = true }
  local id = catalog.manager_id(u)
  while id and not seen[id] do
    local m = state.user(id)
    if not m then break end
    seen[id] = true
    out[#out + 1] = m
    id = catalog.manager_id(m)
  end
  return out
end

local function direct_reports(req)
  local u = live_user(req.params.userId)
  return 200, render_list(req, reports_of(u.id))
end

local function superiors(req)
  local u = live_user(req.params.userId)
  return 200, render_list(req, superiors_of(u))
end

-- Adjacents: the user's manager, their peers (same manager, not the user)
-- and their direct reports.
local function adjacents(req)
  local u = live_user(req.params.userId)
  local boss = superiors_of(u)[1]
  local siblings = {}
  if boss then
    for _, x in ipairs(reports_of(boss.id)) do if x.id ~= u.id then siblings[#siblings + 1] = x end end
  end
  return 200, { superiors = render_list(req, { boss }), siblings = render_list(req, siblings),
                directReports = render_list(req, reports_of(u.id)) }
end

-- External identifiers ----------------------------------------------------
-- e.externalids: authority → key (one key per authority and user, as GET
-- …/externalid/{authorityName} answers one); state.catalog.externalids
-- indexes "authority\0key" → user id, so a key names one user per authority.
local function index_key(authority, key) return authority .. "\0" .. key end

local function ext_view(u, authority, key)
  return { authorityName = authority, externalKey = key,
           selfUri = "/api/v2/users/" .. u.id .. "/externalid/" .. ngx.escape_uri(authority) .. "/" .. ngx.escape_uri(key) }
end

local function ext_list(u, e)
  local names = {}
  for a in pairs(e.externalids) do names[#names + 1] = a end
  table.sort(names)
  local out = json.array({})
  for i, a in ipairs(names) do out[i] = ext_view(u, a, e.externalids[a]) end
  return out
end

local function get_externalids(req)
  local u = live_user(req.params.userId)
  return 200, ext_list(u, catalog.ext(state, u))
end

local function post_externalid(req)
  local u = live_user(req.params.userId)
  local e = catalog.ext(state, u)
  local b = validate.body(catalog.schema(state, "UserExternalIdentifier"), req.body)
  for _, k in ipairs({ "authorityName", "externalKey" }) do
    if b[k] == "" then
      errors.bad_request("invalid.value", k .. " may not be empty", { details = { { errorCode = "invalid.value", fieldName = k } } })
    end
  end
  local idx = state.catalog.externalids
  local owner = idx[index_key(b.authorityName, b.externalKey)]
  if owner and owner ~= u.id and state.user(owner, "any") then
    errors.raise(409, "conflict", ("The external key %s of authority %s already belongs to another user")
      :format(b.externalKey, b.authorityName))
  end
  local n = 0
  for _ in pairs(e.externalids) do n = n + 1 end
  if e.externalids[b.authorityName] == nil and n >= MAX_EXTERNAL_IDS then
    errors.bad_request("invalid.value", "A user has at most " .. MAX_EXTERNAL_IDS .. " external identifiers")
  end
  local old = e.externalids[b.authorityName]
  if old then idx[index_key(b.authorityName, old)] = nil end
  e.externalids[b.authorityName] = b.externalKey
  idx[index_key(b.authorityName, b.externalKey)] = u.id
  return 200, ext_list(u, e)
end

local function get_externalid(req)
  local u = live_user(req.params.userId)
  local key = catalog.ext(state, u).externalids[req.params.authorityName]
  if not key then errors.not_found("The user has no external identifier of authority " .. req.params.authorityName) end
  return 200, ext_view(u, req.params.authorityName, key)
end

local function delete_externalid(req)
  local u = live_user(req.params.userId)
  local e = catalog.ext(state, u)
  local a, k = req.params.authorityName, req.params.externalKey
  if e.externalids[a] ~= k then errors.not_found("The user has no external identifier " .. a .. "/" .. k) end
  e.externalids[a] = nil
  state.catalog.externalids[index_key(a, k)] = nil
  return 204, nil
end

-- The (live) user an authority's key names.
local function lookup(req)
  local want = catalog.user_expand(state, req)
  local id = state.catalog.externalids[index_key(req.params.authorityName, req.params.externalKey)]
  local u = id and state.user(id)
  if not u then
    errors.not_found(("No user has the external key %s of authority %s")
      :format(req.params.externalKey, req.params.authorityName))
  end
  return 200, render_user(require("emu.routes.users").renderer(want), u)
end

-- Skill groups (cursor listing) --------------------------------------------
local function skill_group_view(g)
  local conds = json.array({})
  for i, name in ipairs(g.skill_names) do
    conds[i] = { routingSkill = name, comparator = "GreaterThanOrEqualTo", proficiency = 0,
                 childConditions = json.array({}) }
  end
  return { id = g.id, name = g.name, description = "Agents with any of: " .. table.concat(g.skill_names, ", "),
           status = "Complete", dateCreated = "2023-11-14T22:13:20.000Z", dateModified = "2023-11-14T22:13:20.000Z",
           division = { id = g.division.id, name = g.division.name, selfUri = "/api/v2/authorization/divisions/" .. g.division.id },
           skillConditions = json.array({ { routingSkillConditions = conds, languageSkillConditions = json.array({}),
                                            operation = "Or" } }),
           selfUri = "/api/v2/routing/skillgroups/" .. g.id }
end

local function cursor_of(i) return ngx.encode_base64("skillgroups:" .. i) end

local function index_of(cursor, name)
  local text = ngx.decode_base64(cursor)
  local i = text and tonumber(text:match("^skillgroups:(%d+)$"))
  if not i then
    errors.bad_request("invalid.value", "The " .. name .. " cursor is not one this listing gave",
      { details = { { errorCode = "invalid.value", fieldName = name } } })
  end
  return i
end

local function skill_groups(req)
  local u = live_user(req.params.userId)
  local size = validate.query_int(req, "pageSize", 1, 100, 25)
  local list = catalog.user_skill_groups(state, catalog.ext(state, u))
  local after, before = validate.query(req, "after"), validate.query(req, "before")
  local first = 1 -- index of the page's first entry
  if after and after ~= "" then first = index_of(after, "after") + 1
  elseif before and before ~= "" then first = math.max(1, index_of(before, "before") - size) end
  local entities = json.array({})
  for i = first, math.min(#list, first + size - 1) do entities[#entities + 1] = skill_group_view(list[i]) end
  local base = "/api/v2/users/" .. u.id .. "/skillgroups?pageSize=" .. size
  local out = { entities = entities, selfUri = base }
  local last = first + #entities - 1
  if last < #list then out.nextUri = base .. "&after=" .. ngx.escape_uri(cursor_of(last)) end
  if first > 1 then out.previousUri = base .. "&before=" .. ngx.escape_uri(cursor_of(first)) end
  return 200, out
end

function M.register(app)
  local U = "/api/v2/users/{userId}"
  app.add("GET", U .. "/directreports", direct_reports)
  app.add("GET", U .. "/superiors", superiors)
  app.add("GET", U .. "/adjacents", adjacents)
  app.add("GET", U .. "/externalid", get_externalids)
  app.add("POST", U .. "/externalid", post_externalid)
  app.add("GET", U .. "/externalid/{authorityName}", get_externalid)
  app.add("DELETE", U .. "/externalid/{authorityName}/{externalKey}", delete_externalid)
  app.add("GET", "/api/v2/users/externalid/{authorityName}/{externalKey}", lookup)
  app.add("GET", U .. "/skillgroups", skill_groups)
end

return M
