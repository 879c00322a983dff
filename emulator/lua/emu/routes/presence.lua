-- Presence: the organization's presence definitions, the system presences,
-- a user's Genesys Cloud (PURECLOUD) presence one by one and in bulk, and
-- their primary presence source. A user's presence has one store (the
-- user's e.presence with e.routing: catalog.set_presence, current_presence),
-- so these routes, expand=presence and the analytics answers agree.
local state = require "emu.state"
local errors = require "emu.errors"
local validate = require "emu.validate"
local json = require "emu.json"
local catalog = require "emu.catalog"

local M = {}

local DEFS = "/api/v2/presence/definitions"
local BULK_MAX = 50 -- "A comma separated list of user IDs … Limit 50." (getUsersPresencesPurecloudBulk)

-- An OrganizationPresenceDefinition: the seeded ones are the org's primary
-- (System) definitions, one per system presence, in no division. Its
-- systemPresence is spelled as today's enum has it ("OnQueue", where a
-- UserPresence's definition says "On Queue").
local function definition_view(d, locale)
  local labels = json.object({})
  if locale == nil or locale == "" or locale == "ALL" or locale == "en_US" then labels.en_US = d.label end
  return { id = d.id, name = d.label, languageLabels = labels, systemPresence = (d.label:gsub(" ", "")),
           deactivated = false,
           type = "System", selfUri = DEFS .. "/" .. d.id }
end

local function list_definitions(req)
  local deactivated = validate.query_bool(req, "deactivated", false)
  for i, id in ipairs(catalog.query_list(req, "divisionId")) do
    if not state.catalog.divisions[id] and id ~= "*" then
      errors.bad_request("invalid.value", "The division does not exist: " .. id,
        { details = { { errorCode = "invalid.value", fieldName = "divisionId[" .. (i - 1) .. "]" } } })
    end
  end
  local locale = validate.query(req, "localeCode")
  local entities = json.array({})
  if not deactivated then -- no seeded definition is deactivated
    for _, d in ipairs(state.catalog.presence_list) do entities[#entities + 1] = definition_view(d, locale) end
  end
  return 200, { entities = entities, total = #entities, selfUri = DEFS }
end

local function get_definition(req)
  local d = state.catalog.presences[req.params.definitionId]
  if not d then errors.not_found("The presence definition does not exist: " .. req.params.definitionId) end
  return 200, definition_view(d, validate.query(req, "localeCode"))
end

local function system_presences()
  local out = json.array({})
  for _, d in ipairs(state.catalog.presence_list) do
    out[#out + 1] = { id = d.system, name = d.label, selfUri = "/api/v2/systempresences/" .. d.system }
  end
  return 200, out
end

-- Users' presences ----------------------------------------------------------
-- Only Genesys Cloud's own source carries presences in the emulator.
local function check_source(id)
  if type(id) ~= "string" or id:upper() ~= "PURECLOUD" then
    errors.not_found("The emulator keeps presences of the PURECLOUD source only, not " .. tostring(id))
  end
end

local function user_ext(id)
  local u = state.user(id)
  if not u then errors.not_found("The user does not exist: " .. tostring(id)) end
  return u, catalog.ext(state, u)
end

local function user_presence(u, e)
  local p = catalog.presence_view(state, e)
  p.id = u.id
  p.name = u.name
  p.sourceId = "PURECLOUD"
  p.selfUri = "/api/v2/users/" .. u.id .. "/presences/PURECLOUD"
  return p
end

-- The definition a presence body names (by id), or nil for a message-only change.
local function definition_of(b, field)
  local pd = b.presenceDefinition
  if pd == nil then
    if b.message == nil then
      errors.bad_request("bad.request", field .. "presenceDefinition.id is required",
        { details = { { errorCode = "required", fieldName = field .. "presenceDefinition.id" } } })
    end
    return nil
  end
  local d = type(pd.id) == "string" and state.catalog.presences[pd.id]
  if not d then
    errors.bad_request("invalid.value", "The presence definition does not exist: " .. tostring(pd.id),
      { details = { { errorCode = "invalid.value", fieldName = field .. "presenceDefinition.id" } } })
  end
  return d
end

local function apply(e, d, message)
  if d then catalog.set_presence(state, e, d, message)
  elseif message ~= nil then e.presence.message = message end
end

local function get_presence(source)
  return function(req)
    check_source(source or req.params.sourceId)
    local u, e = user_ext(req.params.userId)
    return 200, user_presence(u, e)
  end
end

local function patch_presence(source)
  return function(req)
    check_source(source or req.params.sourceId)
    local u, e = user_ext(req.params.userId)
    local b = validate.body(catalog.schema(state, "UserPresence"), req.body)
    if b.source ~= nil and b.source:upper() ~= "PURECLOUD" then check_source(b.source) end
    apply(e, definition_of(b, ""), b.message)
    return 200, user_presence(u, e)
  end
end

local function bulk_get(source)
  return function(req)
    check_source(source or req.params.sourceId)
    local ids = catalog.query_list(req, "id")
    if #ids > BULK_MAX then
      errors.bad_request("invalid.value", "At most " .. BULK_MAX .. " user ids can be requested at a time",
        { details = { { errorCode = "invalid.value", fieldName = "id" } } })
    end
    local out, seen = json.array({}), {}
    for _, id in ipairs(ids) do
      local u = state.user(id)
      if u and not seen[id] then -- unknown ids are left out, as a bulk read does
        seen[id] = true
        local p = user_presence(u, catalog.ext(state, u))
        out[#out + 1] = { userId = u.id, source = p.source, sourceId = p.sourceId, message = p.message,
                          modifiedDate = p.modifiedDate, presenceDefinition = p.presenceDefinition }
      end
    end
    return 200, out
  end
end

-- PUT /api/v2/users/presences/bulk: each item names its user by id; every
-- item is checked before any presence changes.
local function bulk_put(req)
  local schema = { type = "array", items = catalog.schema(state, "MutableUserPresence") }
  local list = validate.body(schema, req.body)
  local todo = {}
  for i, item in ipairs(list) do
    local at = "[" .. (i - 1) .. "]."
    local u = type(item.id) == "string" and state.user(item.id)
    if not u then
      errors.bad_request("invalid.value", "The user does not exist: " .. tostring(item.id),
        { details = { { errorCode = "invalid.value", fieldName = at .. "id" } } })
    end
    for _, k in ipairs({ "source", "sourceId" }) do
      if item[k] ~= nil and item[k]:upper() ~= "PURECLOUD" then
        errors.bad_request("invalid.value", "The emulator keeps presences of the PURECLOUD source only",
          { details = { { errorCode = "invalid.value", fieldName = at .. k } } })
      end
    end
    todo[i] = { u = u, d = definition_of(item, at), message = item.message }
  end
  local out = json.array({})
  for i, t in ipairs(todo) do
    local e = catalog.ext(state, t.u)
    apply(e, t.d, t.message)
    out[i] = user_presence(t.u, e)
  end
  return 200, out
end

-- Primary source ------------------------------------------------------------
local function source_view(u, e)
  return { id = u.id, sourceId = e.primary_source or "PURECLOUD", registered = true,
           selfUri = "/api/v2/presence/users/" .. u.id .. "/primarysource" }
end

local function put_primary(req)
  local u, e = user_ext(req.params.userId)
  local b = validate.body(catalog.schema(state, "UserPrimarySource"), req.body)
  local want
  for _, s in ipairs(catalog.PRESENCE_SOURCES) do
    if type(b.sourceId) == "string" and s:upper() == b.sourceId:upper() then want = s end
  end
  if not want then
    errors.bad_request("invalid.value", ("Unknown presence source %s; known: %s")
      :format(tostring(b.sourceId), table.concat(catalog.PRESENCE_SOURCES, ", ")),
      { details = { { errorCode = "invalid.value", fieldName = "sourceId" } } })
  end
  e.primary_source = want
  return 200, source_view(u, e)
end

function M.register(app)
  app.add("GET", DEFS, list_definitions)
  app.add("GET", DEFS .. "/{definitionId}", get_definition)
  app.add("GET", "/api/v2/systempresences", system_presences)
  local U = "/api/v2/users/{userId}/presences"
  app.add("GET", U .. "/purecloud", get_presence("PURECLOUD"))
  app.add("PATCH", U .. "/purecloud", patch_presence("PURECLOUD"))
  app.add("GET", U .. "/{sourceId}", get_presence())
  app.add("PATCH", U .. "/{sourceId}", patch_presence())
  app.add("GET", "/api/v2/users/presences/purecloud/bulk", bulk_get("PURECLOUD"))
  app.add("GET", "/api/v2/users/presences/{sourceId}/bulk", bulk_get())
  app.add("PUT", "/api/v2/users/presences/bulk", bulk_put)
  local P = "/api/v2/presence/users/{userId}/primarysource"
  app.add("GET", P, function(req) local u, e = user_ext(req.params.userId); return 200, source_view(u, e) end)
  app.add("PUT", P, put_primary)
end

return M
