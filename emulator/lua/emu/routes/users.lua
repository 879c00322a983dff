-- Users: list, create, get, patch (version checked), delete, me.
local state = require "emu.state"
local errors = require "emu.errors"
local validate = require "emu.validate"
local paging = require "emu.paging"
local json = require "emu.json"
local catalog = require "emu.catalog"

local M = {}

local WRITABLE = { "name", "chat", "department", "email", "addresses", "title", "username", "images", "manager",
                   "acdAutoAnswer" }
-- Decoded JSON loses [] vs {} for empty tables: these stay arrays.
local ARRAYS = { addresses = true, images = true }

local function get_user(id)
  local u = state.user(id)
  if not u then errors.not_found("The user does not exist: " .. id) end
  return u
end
M.get_user = get_user

-- Today's query parameters (api/today.lua): the declared parameter of an operation.
local function today_param(op, name)
  for _, p in ipairs(state.today.operations[op].query or {}) do
    if p.name == name then return p end
  end
end

-- One string parameter checked against today's enum (exact spelling), or its default.
local function today_enum(req, op, name)
  local p = today_param(op, name)
  local v = validate.query(req, name)
  if v == nil or v == "" then return p.default end
  for _, e in ipairs(p.enum) do if e == v then return v end end
  errors.bad_request("invalid.value", ("Value [%s] is not valid for field type [%s]. Allowable values are: %s")
    :format(v, name, table.concat(p.enum, ", ")), { details = { { errorCode = "invalid.value", fieldName = name } } })
end

-- expand values, each checked against today's list for the operation.
local function expansions(req, op)
  local allowed = {}
  for _, e in ipairs(today_param(op, "expand").items.enum) do allowed[e] = true end
  local want = {}
  for _, v in ipairs(req.query.expand or {}) do
    for one in v:gmatch("[^,]+") do
      if not allowed[one] then
        errors.bad_request("invalid.value", ("Value [%s] is not valid for field type [expand]"):format(one),
          { details = { { errorCode = "invalid.value", fieldName = "expand" } } })
      end
      want[one] = true
    end
  end
  return want
end

-- The expansions the emulator fills in (the others are accepted and, as the
-- service says of expand, resolved "best effort": absent).
local EXPANDERS = {
  routingStatus = function(u, e) return catalog.routing_view(u, e) end,
  presence = function(_, e) return catalog.presence_view(state, e) end,
  outOfOffice = function(u, e)
    local o = e.outofoffice
    return { id = u.id, name = u.name, active = o.active, startDate = o.startDate, endDate = o.endDate,
             selfUri = "/api/v2/users/" .. u.id .. "/outofoffice" }
  end,
  profileSkills = function(_, e)
    local out = json.array({})
    for i, s in ipairs(e.profileskills) do out[i] = s end
    return out
  end,
}

-- A renderer for listing pages and single users: the cached JSON when nothing
-- is expanded, else the user plus the expanded sub-objects.
local function renderer(want)
  local any = false
  for k in pairs(want) do if EXPANDERS[k] then any = true end end
  if not any then return state.user_json end
  return function(u)
    local out = state.user_copy(u)
    local e = catalog.ext(state, u)
    for k in pairs(want) do
      if EXPANDERS[k] then out[k] = EXPANDERS[k](u, e) end
    end
    return out
  end
end

M.renderer = renderer
--- The expanders by expand value: route modules of today's surface add theirs
-- (`require("emu.routes.users").EXPANDERS.groups = function(user, ext) … end`)
-- so `expand=` shows what their routes store.
M.EXPANDERS = EXPANDERS

M.today_enum = today_enum
M.expansions = expansions

local function by_name(a, b) if a.name ~= b.name then return a.name < b.name end return a.id < b.id end

-- Offset paging reaches the first 10 000 results only: the service answers a
-- page past them with a 400 (terraform-provider-genesyscloud
-- genesyscloud_user_proxy.go, DEVTOOLING-862: "inactive GetUsers requests
-- return 400 beyond 10,000 users"; ../shared/notes/today-api.md). The
-- service's error code and wording are not published: "bad.request" and a
-- message pointing to the cursor listing are the emulator's own.
local MAX_OFFSET_RESULTS = 10000

local function check_offset_window(req)
  local size = validate.query_int(req, "pageSize", 1, 500, 25)
  local number = validate.query_int(req, "pageNumber", 1, 1e9, 1)
  if number * size > MAX_OFFSET_RESULTS then
    errors.bad_request("bad.request", ("Offset paging is limited to the first %d results (pageNumber %d x pageSize %d"
      .. " = %d); page through more users by cursor with GET /api/v2/users/query")
      :format(MAX_OFFSET_RESULTS, number, size, number * size),
      { details = { { errorCode = "bad.request", fieldName = "pageNumber" } } })
  end
end

local function list(req)
  local order = validate.sort_order(req)
  local ids = req.query.id
  local jids = req.query.jabberId
  local want_state = today_enum(req, "getUsers", "state")
  today_enum(req, "getUsers", "integrationPresenceSource")
  local render = renderer(expansions(req, "getUsers"))
  check_offset_window(req)
  local extra = {}
  local items
  if ids and #ids > 0 and jids and #jids > 0 then
    errors.bad_request("bad.request", "jabberId cannot be used with the id parameter",
      { details = { { errorCode = "bad.request", fieldName = "jabberId" } } })
  end
  if jids and #jids > 0 then
    if #jids > 100 then errors.bad_request("max.user.ids", "Only 100 users can be requested at a time") end
    local wanted = {}
    for _, j in ipairs(jids) do wanted[j:lower()] = true; extra[#extra + 1] = "jabberId=" .. ngx.escape_uri(j) end
    items = {}
    for _, u in ipairs(state.users_of_state(order, want_state)) do
      local j = type(u.chat) == "table" and u.chat.jabberId
      if type(j) == "string" and wanted[j:lower()] then items[#items + 1] = u end
    end
  elseif ids and #ids > 0 then
    if #ids > 100 then errors.bad_request("max.user.ids", "Only 100 users can be requested at a time") end
    items = {}
    local seen = {}
    for _, id in ipairs(ids) do
      local u = state.user(id, "any")
      if u and not seen[id] and (want_state == "any" or u.state == want_state) then
        seen[id] = true
        items[#items + 1] = u
      end
    end
    table.sort(items, by_name)
    if order == "descending" then
      local r = {}
      for i = #items, 1, -1 do r[#r + 1] = items[i] end
      items = r
    end
  else
    items = state.users_of_state(order, want_state)
  end
  if order == "descending" then extra[#extra + 1] = "sortOrder=descending" end
  if want_state ~= "active" then extra[#extra + 1] = "state=" .. want_state end
  for _, x in ipairs(req.query.expand or {}) do extra[#extra + 1] = "expand=" .. ngx.escape_uri(x) end
  return 200, paging.page(items, req, "/api/v2/users", extra, render)
end

-- Today's CreateUser without its divisionId requirement: the service puts a
-- user created without one in the home division (the official Terraform
-- provider's genesyscloud_user: "If not set, the home division will be
-- used"), and no password is needed (invite-only and SSO users).
local create_schema
local function create(req)
  if not create_schema then
    create_schema = {}
    for k, v in pairs(catalog.schema(state, "CreateUser")) do create_schema[k] = v end
    create_schema.required = { "name", "email" }
  end
  local b = validate.body(create_schema, req.body)
  if state.by_email[b.email:lower()] then
    errors.bad_request("general.conflict", "A user with email " .. b.email .. " already exists",
      { details = { { errorCode = "general.conflict", fieldName = "email" } } })
  end
  local i = state.next_index
  state.next_index = i + 1
  local id = state.uuid(i, 1)
  local u = {
    id = id, name = b.name, email = b.email, username = b.email, department = b.department, title = b.title,
    addresses = json.array(b.addresses or {}), state = "active", version = 1, selfUri = "/api/v2/users/" .. id,
    primaryContactInfo = { { address = b.email, mediaType = "EMAIL", type = "PRIMARY" } },
    chat = { jabberId = id .. "@emulator.example.com" }, images = json.array({}),
  }
  state.add_user(u, i, true) -- created: starts with no skills, queues or station (see emu.catalog)
  state.stats.users_created = state.stats.users_created + 1
  return 200, u
end

-- GET by id: state defaults to active, so a deleted user is 404 unless
-- state=deleted (api/today.lua: getUserId).
local function get(req)
  local want_state = today_enum(req, "getUserId", "state")
  today_enum(req, "getUserId", "integrationPresenceSource")
  local render = renderer(expansions(req, "getUserId"))
  local u = state.user(req.params.userId, want_state == "deleted" and "deleted" or nil)
  if not u then errors.not_found("The user does not exist: " .. req.params.userId) end
  local out = render(u)
  if out == state.user_json(u) then return 200, u end
  return 200, out
end

-- Fields a PATCH may clear with an explicit JSON null; any other null is a 400
-- (a user without a name or email would break every listing and search).
local PATCH_NULLABLE = { department = true, title = true, manager = true, chat = true, addresses = true,
                         images = true }

local function patch(req)
  local u = get_user(req.params.userId)
  local b = validate.body("User", req.body, { nullable = PATCH_NULLABLE })
  if b.version ~= u.version then
    errors.raise(409, "conflict",
      "The version number of the modified resource must match the version number in the database.")
  end
  -- UpdateUser.acdAutoAnswer (today; the 2016 User the body is checked against lacks it)
  if b.acdAutoAnswer ~= nil and type(b.acdAutoAnswer) ~= "boolean" then
    errors.bad_request("invalid.value", "Invalid request body: acdAutoAnswer: expected boolean",
      { details = { { errorCode = "invalid.value", fieldName = "acdAutoAnswer" } } })
  end
  if b.email and b.email:lower() ~= u.email:lower() then
    if state.by_email[b.email:lower()] then
      errors.bad_request("general.conflict", "A user with email " .. b.email .. " already exists")
    end
    state.by_email[u.email:lower()] = nil
    state.by_email[b.email:lower()] = u
  end
  for _, k in ipairs(WRITABLE) do
    local v = b[k]
    if v == json.null then u[k] = nil elseif v ~= nil then u[k] = ARRAYS[k] and json.array(v) or v end
  end
  if b.name then state.sorted = nil end
  u.version = u.version + 1
  state.user_changed(u)
  return 200, u
end

local function delete(req)
  local u = get_user(req.params.userId)
  state.delete_user(u)
  return 200, {}
end

local function me(req)
  if not req.auth.user_id then
    errors.bad_request("not.a.user",
      "This request requires a user context. Client credentials cannot be used for requests to this resource.")
  end
  today_enum(req, "getMe", "integrationPresenceSource")
  local render = renderer(expansions(req, "getMe"))
  local u = get_user(req.auth.user_id)
  local out = {}
  for k, v in pairs(u) do out[k] = v end
  local x = render(u)
  if type(x) == "table" and getmetatable(x) == nil then out = x end
  return 200, out
end

function M.register(app)
  app.add("GET", "/api/v2/users", list)
  app.add("POST", "/api/v2/users", create)
  app.add("GET", "/api/v2/users/me", me)
  app.add("GET", "/api/v2/users/{userId}", get)
  app.add("PATCH", "/api/v2/users/{userId}", patch)
  app.add("DELETE", "/api/v2/users/{userId}", delete)
end

return M
