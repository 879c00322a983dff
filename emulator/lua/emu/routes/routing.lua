-- Today's routing behaviours automation relies on (terraform-provider-
-- genesyscloud, genesyscloud/user: skills and languages in bulk, per-user
-- utilization): bulk routing skills, routing languages, max utilization per
-- user and for the organization. Shapes: api/today/swagger.json.
local state = require "emu.state"
local errors = require "emu.errors"
local validate = require "emu.validate"
local paging = require "emu.paging"
local json = require "emu.json"
local sub = require "emu.routes.subresources"
local users = require "emu.routes.users"

local M = {}

-- Bulk bodies carry at most 50 items: patchUserRoutinglanguagesBulk's summary
-- says "Max 50 routing languages in request body" (JS SDK 262 UsersApi.js);
-- for skills the Terraform provider chunks by 50 because the "Bulk API
-- restricts skills adds to 50 per call" (resource_genesyscloud_user_utils.go).
local MAX_BULK = 50

local function bulk_items(req, item_schema, what)
  local items = validate.body({ type = "array", items = item_schema }, req.body)
  if next(items) == nil and getmetatable(items) ~= getmetatable(json.array()) then
    -- {} decodes like [] : an empty object is not the array the route takes
    errors.bad_request("invalid.value", "Invalid request body: body: expected array, got object",
      { details = { { errorCode = "invalid.value", fieldName = "body" } } })
  end
  if #items > MAX_BULK then
    errors.bad_request("bad.request", ("At most %d %s can be sent at a time (got %d)"):format(MAX_BULK, what, #items),
      { details = { { errorCode = "bad.request", fieldName = "body" } } })
  end
  for i, b in ipairs(items) do sub.check_proficiency(b.proficiency, "[" .. (i - 1) .. "].proficiency") end
  return items
end

-- Every id of a bulk body must name an existing entity, else nothing changes
-- and the answer is the single route's 404 (POST …/routingskills answers an
-- unknown skill that way), naming the first unknown id.
local function known(items, catalog_map, what)
  for i, b in ipairs(items) do
    if not catalog_map[b.id] then
      errors.raise(404, "not.found", ("The %s does not exist: %s"):format(what, b.id),
        { details = { { errorCode = "not.found", fieldName = "[" .. (i - 1) .. "].id", entityId = b.id } } })
    end
  end
end

-- A bulk route's answer: every entity the user now has, on one page (the
-- routes take no paging parameters).
local function whole(list, base, render)
  local n = math.max(#list, 1)
  return paging.page(list, { query = { pageSize = { tostring(n) } } }, base, nil, render, n)
end

-- Routing skills in bulk ---------------------------------------------------
local SKILL_POST = { ["$ref"] = "#/definitions/UserRoutingSkillPost" }

local function skills_bulk(replace)
  return function(req)
    local u, e = sub.user_ext(req)
    local items = bulk_items(req, SKILL_POST, "routing skills")
    known(items, state.catalog.skills, "routing skill")
    if replace then e.skills = {} end
    for _, b in ipairs(items) do
      local s = state.catalog.skills[b.id]
      local have = e.skills[s.id]
      -- An existing assignment keeps its state; only the proficiency changes.
      e.skills[s.id] = { id = s.id, name = s.name, proficiency = b.proficiency, state = have and have.state or "active" }
    end
    return 200, whole(sub.by_name(e.skills), "/api/v2/users/" .. u.id .. "/routingskills",
      function(s) return sub.skill_view(u, s) end)
  end
end

-- Routing languages --------------------------------------------------------
-- UserRoutingLanguagePost and UserRoutingLanguage (api/today/swagger.json;
-- state values from the Python SDK 257.1.0 user_routing_language.py). They
-- are not in the 2016 contract the validator resolves names in: inline.
local LANGUAGE_POST = { type = "object", required = { "id", "proficiency" }, properties = {
  id = { type = "string" }, proficiency = { type = "number" }, languageUri = { type = "string" },
  selfUri = { type = "string" } } }
local LANGUAGE_PATCH = { type = "object", required = { "proficiency" }, properties = {
  id = { type = "string" }, name = { type = "string" }, proficiency = { type = "number" },
  state = { type = "string", enum = { "active", "inactive", "deleted" } }, languageUri = { type = "string" },
  selfUri = { type = "string" } } }

-- The user's languages: language id -> { id, name, proficiency, state }.
-- Every user starts with none.
local function languages(e)
  if not e.languages then e.languages = {} end
  return e.languages
end

local function language_view(u, l)
  return { id = l.id, name = l.name, proficiency = l.proficiency, state = l.state,
           languageUri = "/api/v2/routing/languages/" .. l.id,
           selfUri = "/api/v2/users/" .. u.id .. "/routinglanguages/" .. l.id }
end

local function languages_page(req, u, e)
  local order = validate.sort_order(req)
  local extra = order == "descending" and { "sortOrder=descending" } or nil
  return paging.page(sub.by_name(languages(e), order), req, "/api/v2/users/" .. u.id .. "/routinglanguages", extra,
    function(l) return language_view(u, l) end)
end

local function assign(e, b)
  local c = state.catalog.languages[b.id]
  local have = languages(e)[c.id]
  local l = { id = c.id, name = c.name, proficiency = b.proficiency, state = have and have.state or "active" }
  languages(e)[c.id] = l
  return l
end

local function get_languages(req)
  local u, e = sub.user_ext(req)
  return 200, languages_page(req, u, e)
end

local function post_language(req)
  local u, e = sub.user_ext(req)
  local b = validate.body(LANGUAGE_POST, req.body)
  sub.check_proficiency(b.proficiency)
  known({ b }, state.catalog.languages, "routing language")
  return 200, language_view(u, assign(e, b))
end

local function assigned(req, e)
  local l = languages(e)[req.params.languageId]
  if not l then errors.not_found("The user does not have the routing language " .. req.params.languageId) end
  return l
end

local function patch_language(req)
  local u, e = sub.user_ext(req)
  local l = assigned(req, e)
  local b = validate.body(LANGUAGE_PATCH, req.body)
  sub.check_proficiency(b.proficiency)
  l.proficiency = b.proficiency
  if b.state ~= nil then l.state = b.state end
  return 200, language_view(u, l)
end

local function delete_language(req)
  local _, e = sub.user_ext(req)
  assigned(req, e)
  languages(e)[req.params.languageId] = nil
  return 204, nil
end

local function languages_bulk(req)
  local u, e = sub.user_ext(req)
  local items = bulk_items(req, LANGUAGE_POST, "routing languages")
  known(items, state.catalog.languages, "routing language")
  for _, b in ipairs(items) do assign(e, b) end
  return 200, whole(sub.by_name(languages(e)), "/api/v2/users/" .. u.id .. "/routinglanguages",
    function(l) return language_view(u, l) end)
end

-- expand=skills and expand=languages on user GETs and listings: the same
-- entities as GET …/routingskills and …/routinglanguages (all of them).
users.EXPANDERS.skills = function(u, e)
  local out = json.array({})
  for i, s in ipairs(sub.by_name(e.skills)) do out[i] = sub.skill_view(u, s) end
  return out
end
users.EXPANDERS.languages = function(u, e)
  local out = json.array({})
  for i, l in ipairs(sub.by_name(languages(e))) do out[i] = language_view(u, l) end
  return out
end

-- Utilization --------------------------------------------------------------
-- The media types and the organization's defaults: "By default, an agent can
-- handle at one time: one call, up to four chats, one email, one message, one
-- callback", and "By default, Genesys Cloud allows interruptions to email"
-- (help.mypurecloud.com/articles/utilization); "The maximum capacity for each
-- interaction type is 25" (…/configure-agent-utilization).
local MEDIA = { "call", "callback", "chat", "email", "message" }
local IS_MEDIA = {}
for _, m in ipairs(MEDIA) do IS_MEDIA[m] = true end
local MAX_CAPACITY = 25
local ORG_DEFAULT = {
  call = { 1, {} }, callback = { 1, {} }, chat = { 4, {} }, email = { 1, { "call", "callback", "chat", "message" } },
  message = { 1, {} },
}

local function media_copy(m)
  local types = json.array({})
  for i, t in ipairs(m.interruptableMediaTypes) do types[i] = t end
  return { maximumCapacity = m.maximumCapacity, interruptableMediaTypes = types, includeNonAcd = m.includeNonAcd }
end

local function org_settings()
  if not state.org_utilization then
    local u = {}
    for _, m in ipairs(MEDIA) do
      u[m] = { maximumCapacity = ORG_DEFAULT[m][1], interruptableMediaTypes = ORG_DEFAULT[m][2], includeNonAcd = false }
    end
    state.org_utilization = { utilization = u }
  end
  return state.org_utilization
end

-- A UtilizationResponse (org) or, with a level, an AgentMaxUtilizationResponse.
local function utilization_view(settings, level)
  local u = json.object({})
  for _, m in ipairs(MEDIA) do u[m] = media_copy(settings.utilization[m]) end
  -- (no labels: the emulated organization defines none, see the PUT)
  return { utilization = u, labelUtilizations = json.object({}), level = level }
end

local MEDIA_UTILIZATION = { type = "object", properties = {
  maximumCapacity = { type = "integer" }, includeNonAcd = { type = "boolean" },
  interruptableMediaTypes = { type = "array", items = { type = "string", enum = MEDIA } } } }
local UTILIZATION_REQUEST = { type = "object", properties = {
  utilization = { type = "object", additionalProperties = MEDIA_UTILIZATION },
  labelUtilizations = { type = "object", additionalProperties = { type = "object", properties = {
    maximumCapacity = { type = "integer" }, interruptingLabelIds = { type = "array", items = { type = "string" } } } } },
  maxInboundCalls = { type = "integer" } } }

local function bad(field, message)
  errors.bad_request("invalid.value", message, { details = { { errorCode = "invalid.value", fieldName = field } } })
end

local function get_user_utilization(req)
  local _, e = sub.user_ext(req)
  if e.utilization then return 200, utilization_view(e.utilization, "Agent") end
  return 200, utilization_view(org_settings(), "Organization")
end

-- "Include only those media types requiring custom configuration. Any omitted
-- media types will be set to the organization's default values" (putRoutingUserUtilization).
local function put_user_utilization(req)
  local _, e = sub.user_ext(req)
  local b = validate.body(UTILIZATION_REQUEST, req.body)
  for m, s in pairs(b.utilization or {}) do
    if not IS_MEDIA[m] then bad("utilization." .. m, "Unknown media type " .. m .. " (one of " .. table.concat(MEDIA, ", ") .. ")") end
    local cap = s.maximumCapacity
    if cap ~= nil and (cap < 0 or cap > MAX_CAPACITY) then
      bad("utilization." .. m .. ".maximumCapacity", ("maximumCapacity must be from 0 to %d"):format(MAX_CAPACITY))
    end
  end
  -- The emulated organization defines no utilization labels, so any label id is unknown.
  for id in pairs(b.labelUtilizations or {}) do bad("labelUtilizations." .. id, "The utilization label does not exist: " .. id) end
  if b.maxInboundCalls ~= nil and (b.maxInboundCalls < 0 or b.maxInboundCalls > MAX_CAPACITY) then
    bad("maxInboundCalls", ("maxInboundCalls must be from 0 to %d"):format(MAX_CAPACITY))
  end
  local org = org_settings()
  local settings = { utilization = {} }
  for _, m in ipairs(MEDIA) do
    local given, default = (b.utilization or {})[m], org.utilization[m]
    if given then
      settings.utilization[m] = media_copy({
        maximumCapacity = given.maximumCapacity or default.maximumCapacity,
        interruptableMediaTypes = given.interruptableMediaTypes or {},
        includeNonAcd = given.includeNonAcd == true })
    else
      settings.utilization[m] = media_copy(default)
    end
  end
  e.utilization = settings
  return 200, utilization_view(settings, "Agent")
end

local function delete_user_utilization(req)
  local _, e = sub.user_ext(req)
  e.utilization = nil
  return 204, nil
end

local function get_org_utilization()
  return 200, utilization_view(org_settings())
end

-- The organization's skills and languages (RoutingApi getRoutingSkills,
-- getRoutingLanguages and their single GETs), from the catalog the user
-- routes assign from. name filters by prefix, ignoring case ("Filter for
-- results that start with this value", getRoutingSkills; getRoutingLanguages
-- says only "Name": the same here); id selects (multi).
local function org_listing(list, view, base, with_order)
  return function(req)
    local order = with_order and validate.sort_order(req) or "ascending"
    local name = validate.query(req, "name")
    local ids
    for _, id in ipairs(req.query.id or {}) do
      ids = ids or {}
      ids[id] = true
    end
    local items = {}
    for _, x in ipairs(list()) do
      if (not name or name == "" or x.name:lower():sub(1, #name) == name:lower()) and (not ids or ids[x.id]) then
        items[#items + 1] = x
      end
    end
    table.sort(items, function(a, b)
      if order == "descending" then return a.name > b.name end
      return a.name < b.name
    end)
    local extra = {}
    if name and name ~= "" then extra[#extra + 1] = "name=" .. ngx.escape_uri(name) end
    for _, id in ipairs(req.query.id or {}) do extra[#extra + 1] = "id=" .. ngx.escape_uri(id) end
    if order == "descending" then extra[#extra + 1] = "sortOrder=descending" end
    return 200, paging.page(items, req, base, extra, view)
  end
end

-- RoutingSkill and Language (version is a string in both).
local function skill_entity(s)
  return { id = s.id, name = s.name, state = "active", version = "1", selfUri = "/api/v2/routing/skills/" .. s.id }
end
local function language_entity(l)
  return { id = l.id, name = l.name, state = l.state or "active", version = tostring(l.version or 1),
           selfUri = "/api/v2/routing/languages/" .. l.id }
end

local function org_one(map, view, what, param)
  return function(req)
    local x = map()[req.params[param]]
    if not x then errors.not_found(("The %s does not exist: %s"):format(what, req.params[param])) end
    return 200, view(x)
  end
end

function M.register(app)
  app.add("GET", "/api/v2/routing/skills", org_listing(function() return state.catalog.skill_list end, skill_entity,
    "/api/v2/routing/skills", false))
  app.add("GET", "/api/v2/routing/skills/{skillId}", org_one(function() return state.catalog.skills end, skill_entity,
    "routing skill", "skillId"))
  app.add("GET", "/api/v2/routing/languages", org_listing(function() return state.catalog.language_list end,
    language_entity, "/api/v2/routing/languages", true))
  app.add("GET", "/api/v2/routing/languages/{languageId}", org_one(function() return state.catalog.languages end,
    language_entity, "routing language", "languageId"))
  local U = "/api/v2/users/{userId}"
  app.add("PATCH", U .. "/routingskills/bulk", skills_bulk(false))
  app.add("PUT", U .. "/routingskills/bulk", skills_bulk(true))
  app.add("GET", U .. "/routinglanguages", get_languages)
  app.add("POST", U .. "/routinglanguages", post_language)
  app.add("PATCH", U .. "/routinglanguages/bulk", languages_bulk)
  app.add("PATCH", U .. "/routinglanguages/{languageId}", patch_language)
  app.add("DELETE", U .. "/routinglanguages/{languageId}", delete_language)
  app.add("GET", "/api/v2/routing/users/{userId}/utilization", get_user_utilization)
  app.add("PUT", "/api/v2/routing/users/{userId}/utilization", put_user_utilization)
  app.add("DELETE", "/api/v2/routing/users/{userId}/utilization", delete_user_utilization)
  app.add("GET", "/api/v2/routing/utilization", get_org_utilization)
end

return M
