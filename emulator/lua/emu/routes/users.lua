-- Users: list, create, get, patch (version checked), delete, me.
local state = require "emu.state"
local errors = require "emu.errors"
local validate = require "emu.validate"
local paging = require "emu.paging"
local json = require "emu.json"

local M = {}

local WRITABLE = { "name", "chat", "department", "email", "addresses", "title", "username", "images", "manager" }
-- Decoded JSON loses [] vs {} for empty tables: these stay arrays.
local ARRAYS = { addresses = true, images = true }

local function get_user(id)
  local u = state.user(id)
  if not u then errors.not_found("The user does not exist: " .. id) end
  return u
end
M.get_user = get_user

local function list(req)
  local order = validate.sort_order(req)
  local ids = req.query.id
  local items
  if ids and #ids > 0 then
    if #ids > 100 then errors.bad_request("max.user.ids", "Only 100 users can be requested at a time") end
    items = {}
    local seen = {}
    for _, id in ipairs(ids) do
      local u = state.user(id)
      if u and not seen[id] then seen[id] = true; items[#items + 1] = u end
    end
    table.sort(items, function(a, b) if a.name ~= b.name then return a.name < b.name end return a.id < b.id end)
    if order == "descending" then
      local r = {}
      for i = #items, 1, -1 do r[#r + 1] = items[i] end
      items = r
    end
  else
    items = state.users_sorted(order)
  end
  local extra = {}
  if order == "descending" then extra[#extra + 1] = "sortOrder=descending" end
  return 200, paging.page(items, req, "/api/v2/users", extra, state.user_json)
end

local function create(req)
  local b = validate.body("CreateUser", req.body)
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
    chat = { jabberId = id .. "@emulator.example.com" }, images = json.array({}), _index = i,
    _created = true, -- starts with no skills, queues or station (see emu.catalog)
  }
  state.add_user(u)
  state.stats.users_created = state.stats.users_created + 1
  return 200, u
end

local function get(req)
  return 200, get_user(req.params.userId)
end

local function patch(req)
  local u = get_user(req.params.userId)
  local b = validate.body("User", req.body)
  if b.version ~= u.version then
    errors.raise(409, "conflict",
      "The version number of the modified resource must match the version number in the database.")
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
  u._json = nil
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
  local u = get_user(req.auth.user_id)
  local out = {}
  for k, v in pairs(u) do out[k] = v end
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
