-- A user's lifecycle as automation drives it (terraform-provider-genesyscloud
-- genesyscloud/user; MyPureCloud/user-provisioning-scripts-js): state
-- (active, inactive, deleted), every user by cursor, ACD auto-answer in bulk,
-- the activation email, passwords. Shapes: api/today/swagger.json.
local state = require "emu.state"
local errors = require "emu.errors"
local validate = require "emu.validate"
local json = require "emu.json"
local catalog = require "emu.catalog"
local users = require "emu.routes.users"

local M = {}

local function live_user(id)
  local u = state.user(id)
  if not u then errors.not_found("The user does not exist: " .. id) end
  return u
end

local function conflict_if_stale(u, version)
  if version ~= u.version then
    errors.raise(409, "conflict",
      "The version number of the modified resource must match the version number in the database.")
  end
end

-- State --------------------------------------------------------------------
-- UserState (api/today/swagger.json); the enums are the Python SDK 257.1.0's
-- (models/user_state.py). The swagger requires nothing; the emulator needs
-- the state to set and, as PATCH /users/{id} does, the current version.
local USER_STATE = { type = "object", required = { "state", "version" }, properties = {
  state = { type = "string", enum = { "active", "inactive", "deleted" } },
  version = { type = "integer" },
  stateChangeReason = { type = "string", enum = { "Voluntary", "Seasonal", "Leave", "Performance", "Conduct", "Unknown" } },
  stateChangeDate = { type = "string" } } }

-- Any user, deleted ones too: a deleted user's state is how it comes back.
local function any_user(req)
  local u = state.user(req.params.userId, "any")
  if not u then errors.not_found("The user does not exist: " .. req.params.userId) end
  return u
end

local function get_state(req) return 200, state.user_state(any_user(req)) end

local function put_state(req)
  local u = any_user(req)
  local b = validate.body(USER_STATE, req.body)
  conflict_if_stale(u, b.version)
  local ok, why = state.set_user_state(u, b.state, b.stateChangeReason)
  if not ok then
    errors.bad_request("general.conflict", why, { details = { { errorCode = "general.conflict", fieldName = "email" } } })
  end
  return 200, state.user_state(u)
end

-- Every user by cursor -------------------------------------------------------
-- getUsersQuery: state and integrationPresenceSource values from the Python
-- SDK 257.1.0 build/docs/UsersApi.md (get_users_query), which lists three
-- presence sources where getUsers has four; expand takes getUsers' values.
local QUERY_STATES = { "active", "inactive", "deleted", "any" }
local QUERY_PRESENCE = { "MicrosoftTeams", "ZoomPhone", "EightByEight" }

local function one_of(req, name, values, default)
  local v = validate.query(req, name)
  if v == nil or v == "" then return default end
  for _, x in ipairs(values) do if x == v then return v end end
  errors.bad_request("invalid.value", ("Value [%s] is not valid for field type [%s]. Allowable values are: %s")
    :format(v, name, table.concat(values, ", ")), { details = { { errorCode = "invalid.value", fieldName = name } } })
end

-- The cursor is opaque to clients: the listing key (name, id) of the page's
-- last user, so a page resumes after it even when users before it were
-- added or removed meanwhile. base64url of a small JSON object.
local function encode_cursor(u)
  return (ngx.encode_base64(json.encode({ n = u.name, i = u.id })):gsub("%+", "-"):gsub("/", "_"):gsub("=", ""))
end

local function decode_cursor(c)
  local b64 = c:gsub("-", "+"):gsub("_", "/")
  b64 = b64 .. string.rep("=", (4 - #b64 % 4) % 4)
  local text = c:match("^[%w_-]+$") and ngx.decode_base64(b64)
  local key = text and json.decode(text)
  if type(key) ~= "table" or type(key.n) ~= "string" or type(key.i) ~= "string" then
    errors.bad_request("invalid.value", "The cursor is not valid: use the cursor of the previous page as it was given",
      { details = { { errorCode = "invalid.value", fieldName = "cursor" } } })
  end
  return key
end

local function after(u, key, descending)
  if u.name ~= key.n then
    if descending then return u.name < key.n end
    return u.name > key.n
  end
  if descending then return u.id < key.i end
  return u.id > key.i
end

local function query(req)
  local size = validate.query_int(req, "pageSize", 1, 500, 25) -- the maximum is not documented: GET /users' 500
  local order = validate.sort_order(req)
  local want_state = one_of(req, "state", QUERY_STATES, "active")
  one_of(req, "integrationPresenceSource", QUERY_PRESENCE)
  local render = users.renderer(users.expansions(req, "getUsers"))
  local cursor = validate.query(req, "cursor")
  if cursor == "" then cursor = nil end
  local key = cursor and decode_cursor(cursor)
  local list = state.users_of_state(order, want_state)
  local first = 1
  if key then
    first = #list + 1
    for i, u in ipairs(list) do
      if after(u, key, order == "descending") then first = i break end
    end
  end
  local entities = json.array({})
  local last = math.min(#list, first + size - 1)
  for i = first, last do entities[#entities + 1] = render(list[i]) end
  local q = { "pageSize=" .. size }
  if order == "descending" then q[#q + 1] = "sortOrder=DESC" end
  if want_state ~= "active" then q[#q + 1] = "state=" .. want_state end
  for _, x in ipairs(req.query.expand or {}) do q[#q + 1] = "expand=" .. ngx.escape_uri(x) end
  local base = "/api/v2/users/query?" .. table.concat(q, "&")
  local page = { entities = entities, results = #entities,
                 selfUri = base .. (cursor and ("&cursor=" .. ngx.escape_uri(cursor)) or "") }
  if last < #list then
    -- more users follow: the last page has neither cursor nor nextUri
    page.cursor = encode_cursor(list[last])
    page.nextUri = base .. "&cursor=" .. page.cursor
  end
  return 200, page
end

-- ACD auto-answer in bulk ------------------------------------------------------
-- patchUsersBulk: "Update bulk acd autoanswer on users. Max 50 users can be
-- updated at a time." (JS SDK 262 UsersApi.js); items are PatchUser
-- { id, acdAutoAnswer }. Without an id an item updates nobody: required here.
local MAX_BULK_USERS = 50
local PATCH_USER = { type = "object", required = { "id" }, properties = {
  id = { type = "string" }, acdAutoAnswer = { type = "boolean" } } }

local function patch_bulk(req)
  local items = validate.body({ type = "array", items = PATCH_USER }, req.body)
  if next(items) == nil and getmetatable(items) ~= getmetatable(json.array()) then
    errors.bad_request("invalid.value", "Invalid request body: body: expected array, got object",
      { details = { { errorCode = "invalid.value", fieldName = "body" } } })
  end
  if #items > MAX_BULK_USERS then
    errors.bad_request("bad.request", ("Max %d users can be updated at a time (got %d)"):format(MAX_BULK_USERS, #items),
      { details = { { errorCode = "bad.request", fieldName = "body" } } })
  end
  local targets = {}
  for i, b in ipairs(items) do
    local u = state.user(b.id)
    if not u then
      errors.raise(404, "not.found", "The user does not exist: " .. b.id,
        { details = { { errorCode = "not.found", fieldName = "[" .. (i - 1) .. "].id", entityId = b.id } } })
    end
    targets[i] = u
  end
  -- Every item is known: now change them, each updated user once in the answer.
  local entities, seen = json.array({}), {}
  for i, b in ipairs(items) do
    local u = targets[i]
    if b.acdAutoAnswer ~= nil and u.acdAutoAnswer ~= b.acdAutoAnswer then
      u.acdAutoAnswer = b.acdAutoAnswer
      u.version = u.version + 1
      state.user_changed(u)
    end
    if not seen[u] then seen[u] = true; entities[#entities + 1] = u end
  end
  return 200, { entities = entities, pageSize = #entities, pageNumber = 1, total = #entities,
                pageCount = #entities > 0 and 1 or 0 }
end

-- Invitation -----------------------------------------------------------------
-- postUserInvite "Send an activation email to the user"; force: "Resend the
-- invitation even if one is already outstanding" (JS SDK 262). Without force
-- an outstanding invitation is not sent again; whether the service then
-- answers an error is not documented: the emulator answers 204 and keeps the
-- first date. The date is what expand=dateWelcomeSent (User.dateWelcomeSent) shows.
local function invite(req)
  local u = live_user(req.params.userId)
  local force = validate.query_bool(req, "force", false)
  local e = catalog.ext(state, u)
  if not e.invite or force then e.invite = { sent = state.iso() } end
  return 204, nil
end

users.EXPANDERS.dateWelcomeSent = function(_, e) return e.invite and e.invite.sent end

-- Passwords ------------------------------------------------------------------
-- The organization's default policy: "The default minimum length for a
-- password is 8 characters, including a default minimum of: 1 lowercase
-- letter, 1 uppercase letter, 1 number, 1 special character"; "The maximum
-- length for a password is 400 characters"; specials are
-- !"#$%&'()*+,-./:;<=>?@[\]^_`{|}~ (help.mypurecloud.com/articles/set-password-requirements).
-- "You cannot reuse any of your previous 10 passwords"
-- (Genesys Cloud help, "Change your password"). The service's error code for a
-- refused password is not published: the emulator answers 400 bad.request
-- naming every rule the password misses.
local HISTORY = 10
local RULES = {
  { function(p) return #p >= 8 end, "at least 8 characters" },
  { function(p) return #p <= 400 end, "at most 400 characters" },
  { function(p) return p:find("%l") ~= nil end, "a lowercase letter" },
  { function(p) return p:find("%u") ~= nil end, "an uppercase letter" },
  { function(p) return p:find("%d") ~= nil end, "a number" },
  { function(p) return p:find("[!\"#$%%&'()*+,%-./:;<=>?@%[\\%]^_`{|}~]") ~= nil end, "a special character" },
}

-- The emulator keeps digests of passwords, never the passwords.
local function digest(p) return ngx.encode_base64(ngx.sha1_bin(p)) end

local function refuse(message, field)
  errors.bad_request("bad.request", message, { details = { { errorCode = "bad.request", fieldName = field } } })
end

local function check_new(e, p)
  local missing = {}
  for _, r in ipairs(RULES) do
    if not r[1](p) then missing[#missing + 1] = r[2] end
  end
  if #missing > 0 then
    refuse("The new password does not meet the password policy: it needs " .. table.concat(missing, ", "), "newPassword")
  end
  local d = digest(p)
  for _, old in ipairs((e.password or {}).history or {}) do
    if old == d then refuse(("The new password must differ from the previous %d passwords"):format(HISTORY), "newPassword") end
  end
  return d
end

local function store(e, d)
  local history = (e.password or {}).history or {}
  table.insert(history, 1, d)
  while #history > HISTORY do table.remove(history) end
  e.password = { current = d, history = history, changed = state.iso() }
end

local CHANGE = { type = "object", required = { "newPassword" }, properties = { newPassword = { type = "string" } } }
local CHANGE_MINE = { type = "object", required = { "newPassword", "oldPassword" }, properties = {
  newPassword = { type = "string" }, oldPassword = { type = "string" } } }

local function change_password(req)
  local u = live_user(req.params.userId)
  local b = validate.body(CHANGE, req.body)
  local e = catalog.ext(state, u)
  store(e, check_new(e, b.newPassword))
  return 204, nil
end

-- The signed-in user's own change: the old password must be the current one.
-- The emulator does not know a password never set through the API (seeded
-- users sign in without one), so then any old password is taken.
local function change_my_password(req)
  if not req.auth.user_id then
    errors.bad_request("not.a.user",
      "This request requires a user context. Client credentials cannot be used for requests to this resource.")
  end
  local u = live_user(req.auth.user_id)
  local b = validate.body(CHANGE_MINE, req.body)
  local e = catalog.ext(state, u)
  if e.password and digest(b.oldPassword) ~= e.password.current then refuse("The old password is not correct", "oldPassword") end
  store(e, check_new(e, b.newPassword))
  return 204, nil
end

function M.register(app)
  app.add("GET", "/api/v2/users/{userId}/state", get_state)
  app.add("PUT", "/api/v2/users/{userId}/state", put_state)
  app.add("GET", "/api/v2/users/query", query)
  app.add("PATCH", "/api/v2/users/bulk", patch_bulk)
  app.add("POST", "/api/v2/users/{userId}/invite", invite)
  app.add("POST", "/api/v2/users/{userId}/password", change_password)
  app.add("POST", "/api/v2/users/me/password", change_my_password)
end

return M
