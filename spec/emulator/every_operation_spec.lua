-- Every operation of today's contract (api/today/swagger.json) is answered by
-- the emulator with the contract's success status and a body its response
-- schema accepts, whichever module answers it (a hand route or the generic
-- layer, emulator/lua/emu/routes/generic.lua); the generic layer keeps what is
-- written, checks bodies, query parameters and users as the service does.
local emu = require "spec.support.emulator"
local schema = require "spec.support.schema"
local cjson = require "cjson.safe"

local USER_PARAMS = { userId = true, subjectId = true }
-- Answers here may carry fields their definition does not name (the
-- emulator keeps a few of the 2016 contract's, e.g. UserQueue.state); the
-- route specs (spec/emulator/*_spec.lua) refuse them where they check.
local EXTRA_FIELDS = { extra_fields = true }

local function b64(s)
  local chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
  return ((s:gsub(".", function(x)
    local r, b = "", x:byte()
    for i = 8, 1, -1 do r = r .. (b % 2 ^ i - b % 2 ^ (i - 1) > 0 and "1" or "0") end
    return r
  end) .. "0000"):gsub("%d%d%d?%d?%d?%d?", function(x)
    if #x < 6 then return "" end
    local c = 0
    for i = 1, 6 do c = c + (x:sub(i, i) == "1" and 2 ^ (6 - i) or 0) end
    return chars:sub(c + 1, c + 1)
  end) .. ({ "", "==", "=" })[#s % 3 + 1])
end

-- A call with the agent's own token on a `me` path (the service refuses
-- client credentials there), else with client credentials.
local user_token
local function call(method, path, body, query, body_schema)
  local text = body
  if type(body) == "table" then text = schema.encode(body, body_schema) end
  local bearer = (path .. "/"):find("/me/", 1, true) and user_token or emu.token()
  -- (through emu.api_url: under `make contract`, Prism's validating proxy
  -- checks every request and answer of every operation against the contract)
  return emu.request(method, path, { base = emu.api_url, bearer = bearer, body = text, query = query })
end

-- An ErrorBody as the service sends it.
local function assert_error_body(r, status)
  assert.are.equal(status, r.status, r.body)
  assert.is_table(r.json, r.body)
  assert.are.equal(status, r.json.status)
  assert.is_string(r.json.code)
  assert.is_string(r.json.message)
end

-- Ids of seeded things, read from the emulator (deterministic for a seed and
-- user count, so they hold after every reset below).
local USERS = 20
local seeded = {}

local function first_id(path, field)
  local r = emu.api("GET", path)
  if r.status ~= 200 or type(r.json) ~= "table" then return nil end
  local list = r.json.entities or r.json
  if field then list = r.json[field] end
  local item = type(list) == "table" and list[1]
  return type(item) == "table" and item.id or nil
end

local function collect_seeded()
  emu.reset{ users = USERS }
  local users = emu.users(USERS)
  -- The agent: a seeded user holding a skill, a queue and a default station,
  -- so the per-user routes that need one have it.
  for _, u in ipairs(users) do
    local base = "/api/v2/users/" .. u.id
    local skill = first_id(base .. "/routingskills")
    local queue = first_id(base .. "/queues")
    local st = emu.api("GET", base .. "/station").json
    local station = type(st) == "table" and type(st.defaultStation) == "table" and st.defaultStation.id
    if skill and queue and station then
      seeded.agent, seeded.skillId, seeded.queueId, seeded.stationId = u, skill, queue, station
      break
    end
  end
  assert(seeded.agent, "no seeded user with a skill, a queue and a default station")
  seeded.other = users[#users]
  user_token = emu.user_token(seeded.agent.id)
  seeded.roleId = first_id("/api/v2/users/" .. seeded.agent.id .. "/roles", "roles")
  seeded.divisionId = first_id("/api/v2/authorization/divisions")
  seeded.languageId = first_id("/api/v2/routing/languages")
  seeded.groupId = first_id("/api/v2/groups")
  seeded.definitionId = first_id("/api/v2/presence/definitions")
end

-- Query parameters an operation requires, with a value it accepts.
local function search_q64(kind)
  local body = { query = { { type = "EXACT", fields = { kind == "groups" and "name" or "state" },
                             value = kind == "groups" and "All Agents" or "active" } }, pageSize = 25, pageNumber = 1 }
  return b64(assert(cjson.encode(body)))
end

local QUERY_VALUES = {
  permission = function() return "directory:user:view" end,
  q64 = function(o) return search_q64(o.path:match("/groups/") and "groups" or "users") end,
  ids = function() return seeded.agent.id end,
  schemaIds = function() return schema.uuid() end,
}

local function query_for(o)
  local q = {}
  for _, p in ipairs(o.op.parameters or {}) do
    if p["in"] == "query" and p.required then
      local f = QUERY_VALUES[p.name]
      local items = p.type == "array" and p.items or p
      q[p.name] = f and f(o) or (items.enum and items.enum[1]) or "x"
    end
  end
  return q
end

-- Bodies the contract's minimal instance would not do for (a hand route checks
-- more than the schema: an existing skill, a unique email, …). `id(ctx, name)`
-- is a seeded id, or a random one that makes a 404 acceptable.
local function id(ctx, name)
  if seeded[name] then return seeded[name] end
  ctx.random = true
  return schema.uuid()
end
local INTERVAL = "2024-01-01T00:00:00.000Z/2024-01-02T00:00:00.000Z"
local function grants(ctx) return { grants = { { roleId = id(ctx, "roleId"), divisionId = id(ctx, "divisionId") } } } end
local function skill(ctx) return { id = id(ctx, "skillId"), proficiency = 3 } end
local function language(ctx) return { id = id(ctx, "languageId"), proficiency = 3 } end
local BODIES = {
  postUsers = function(ctx) return { name = "New Person", email = "new.person@example.com", password = "Str0ng!Passw0rd",
                                     divisionId = id(ctx, "divisionId") } end,
  patchUser = function() return { version = seeded.agent.version, department = "Sales" } end,
  postUserPassword = function() return { newPassword = "Str0ng!Passw0rd" } end,
  postUsersMePassword = function() return { oldPassword = "Old!Passw0rd", newPassword = "Str0ng!Passw0rd" } end,
  putUserState = function() return { state = "active", version = seeded.agent.version } end,
  postUserRoutingskills = skill,
  putUserRoutingskill = skill,
  patchUserRoutingskillsBulk = function(ctx) return { skill(ctx) } end,
  putUserRoutingskillsBulk = function(ctx) return { skill(ctx) } end,
  postUserRoutinglanguages = language,
  patchUserRoutinglanguage = language,
  patchUserRoutinglanguagesBulk = function(ctx) return { language(ctx) } end,
  patchUserQueue = function(ctx) return { id = id(ctx, "queueId"), joined = true } end,
  patchUserQueues = function(ctx) return { { id = id(ctx, "queueId"), joined = true } } end,
  putUserRoutingstatus = function() return { status = "IDLE" } end,
  putUserRoles = function(ctx) return { id(ctx, "roleId") } end,
  putAuthorizationRoleUsersAdd = function() return { seeded.other.id } end,
  putAuthorizationRoleUsersRemove = function() return { seeded.other.id } end,
  postGroupMembers = function() return { memberIds = { seeded.other.id } } end,
  putUserOutofoffice = function() return { active = true, startDate = "2024-01-01T00:00:00.000Z",
                                           endDate = "2099-01-01T00:00:00.000Z" } end,
  patchUserGeolocation = function() return { latitude = 40.0, longitude = -86.0 } end,
  putUserProfileskills = function() return { "Lua" } end,
  postAuthorizationSubjectBulkadd = grants,
  postAuthorizationSubjectBulkremove = grants,
  postAuthorizationSubjectBulkreplace = grants,
  putPresenceUserPrimarysource = function() return { sourceId = "PURECLOUD" } end,
  patchUserPresencesPurecloud = function(ctx) return { presenceDefinition = { id = id(ctx, "definitionId") } } end,
  patchUserPresence = function(ctx) return { presenceDefinition = { id = id(ctx, "definitionId") } } end,
  putUserCallforwarding = function() return { enabled = false } end,
  patchUserCallforwarding = function() return { enabled = false } end,
  postAnalyticsUsersAggregatesQuery = function() return { interval = INTERVAL, metrics = { "tAgentRoutingStatus" } } end,
  postAnalyticsUsersAggregatesJobs = function() return { interval = INTERVAL, metrics = { "tAgentRoutingStatus" } } end,
  postAnalyticsUsersDetailsQuery = function() return { interval = INTERVAL } end,
  postAnalyticsUsersDetailsJobs = function() return { interval = INTERVAL } end,
  postAnalyticsUsersObservationsQuery = function()
    return { filter = { type = "or", predicates = { { dimension = "userId", value = seeded.agent.id } } },
             metrics = { "oMemberQueues" } } end, -- (today's user observation metrics)
}

-- Operations whose success status the emulator may answer with a documented
-- other status instead, and why.
local GROUP_MEMBERS_202 = "the service accepts a membership change with 202 and an empty object; the derived "
  .. "contract says 200 (routes/groups.lua, spec/emulator/groups_spec.lua)"
local OTHER_STATUS = {
  postGroupMembers = { [202] = GROUP_MEMBERS_202 },
  deleteGroupMembers = { [202] = GROUP_MEMBERS_202 },
}

-- Path parameters: the agent for a user; a seeded id; an item created by
-- POSTing to the collection above it; else a random id, for which a 404 is
-- the service's answer for a thing that does not exist.
local function create_below(prefix_pattern, params, name)
  local ops = schema.contract().paths[prefix_pattern]
  local post = ops and ops.post
  if not post then return nil end
  local bp = schema.body_param(post)
  local body = bp and schema.example(bp.schema) or nil
  local path = prefix_pattern:gsub("{([^}]+)}", params)
  local r = call("POST", path, body, nil, bp and bp.schema)
  if r.status ~= 200 or type(r.json) ~= "table" then return nil end
  local got = r.json[1] or r.json
  local v = got[name] or got.id or (body and body[name])
  if type(v) ~= "string" then return nil end
  -- A created item named by several parameters (externalid/{authorityName}/{externalKey}).
  for k, x in pairs(body or {}) do if params[k] == nil and type(x) == "string" then params[k] = x end end
  return v
end

local function fill_params(o)
  local params, random = {}, false
  local prefix = ""
  for seg in o.path:gmatch("[^/]+") do
    local name = seg:match("^{(.+)}$")
    if name then
      if params[name] == nil then
        if USER_PARAMS[name] then
          params[name] = seeded.agent.id
        elseif seeded[name] then
          params[name] = seeded[name]
        else
          params[name] = create_below(prefix, params, name)
          if params[name] == nil then
            params[name] = name == "sourceId" and "PURECLOUD" or schema.uuid()
            random = true
          end
        end
      end
      prefix = prefix .. "/{" .. name .. "}"
    else
      prefix = prefix .. "/" .. seg
    end
  end
  return params, random
end

-- What an operation needs to exist first: the item it reads, changes or
-- deletes, made through the hand route that owns it.
local function hold_language(params)
  local r = emu.api("POST", "/api/v2/users/" .. params.userId .. "/routinglanguages",
    { id = params.languageId, proficiency = 3 })
  assert(r.status == 200 or seeded.languageId == nil, r.body)
end
local PREPARE = {
  deleteUserRoutinglanguage = hold_language,
  patchUserRoutinglanguage = hold_language,
}

local function run(o)
  local params, random = fill_params(o)
  if PREPARE[o.op.operationId] then PREPARE[o.op.operationId](params) end
  local ctx = {}
  local path = o.path:gsub("{([^}]+)}", function(n) return emu.urlencode(params[n]) end)
  local bp = schema.body_param(o.op)
  local body
  if bp then
    local f = BODIES[o.op.operationId]
    body = f and f(ctx) or schema.example(bp.schema)
  end
  local r = call(o.method, path, body, query_for(o), bp and bp.schema)
  return r, random or ctx.random, path
end

describe("emulator: every operation of today's contract", function()
  lazy_setup(collect_seeded)
  before_each(function() emu.reset{ users = USERS } end)
  lazy_teardown(function() emu.reset() end)

  local ops = schema.operations()
  for _, o in ipairs(ops) do
    local status, rschema = schema.success(o.op)
    it(o.method .. " " .. o.path .. " (" .. o.op.operationId .. ") answers " .. status, function()
      local r, random, path = run(o)
      local other = OTHER_STATUS[o.op.operationId] or {}
      if r.status ~= status and random and r.status == 404 then return assert_error_body(r, 404) end
      if other[r.status] then
        if r.status >= 400 then return assert_error_body(r, r.status) end
        if rschema and r.body ~= "" then assert.are.same({}, schema.problems(rschema, (schema.decode(r.body)), EXTRA_FIELDS), r.body) end
        return
      end
      assert.are.equal(status, r.status, o.method .. " " .. path .. ": " .. r.body)
      if rschema then
        local value, why = schema.decode(r.body)
        assert.is_not_nil(value, o.method .. " " .. path .. ": not JSON (" .. tostring(why) .. "): " .. r.body)
        local bad = schema.problems(rschema, value, EXTRA_FIELDS)
        -- The contract requires no field of a listing, but a listing without
        -- its entities lists nothing.
        local s = schema.deref(rschema)
        if s.properties and s.properties.entities and type(value) == "table" and value.entities == nil then
          bad[#bad + 1] = "entities: missing from a listing"
        end
        assert.are.same({}, bad, o.method .. " " .. path .. " answers a body its schema refuses ("
          .. table.concat(bad, "; ") .. "): " .. r.body:sub(1, 400))
      else
        assert.are.equal("", r.body, o.method .. " " .. path .. ": the contract has no body for " .. status)
      end
    end)
  end
end)

describe("emulator generic routes", function()
  local u
  lazy_setup(function()
    emu.reset{ users = USERS }
    u = emu.users(1)[1]
  end)
  before_each(function() emu.reset{ users = USERS } end)
  lazy_teardown(function() emu.reset() end)

  local function api(method, path, body, query) local r = emu.api(method, path, body, query); return r, r.json end

  it("a verifier written is listed, read back and gone once deleted", function()
    local base = "/api/v2/users/" .. u.id .. "/verifiers"
    local r, page = api("GET", base)
    assert.are.equal(200, r.status)
    assert.are.same({ 0, 0 }, { page.total, #page.entities })
    local v
    r, v = api("PUT", base .. "/v-1", { name = "Phone", enabled = true })
    assert.are.equal(200, r.status, r.body)
    assert.are.same({ "v-1", "Phone", true }, { v.id, v.name, v.enabled })
    r, page = api("GET", base)
    assert.are.equal(200, r.status)
    assert.are.equal(1, page.total)
    assert.are.same(v, page.entities[1])
    assert.are.same({}, schema.problems({ ["$ref"] = "#/definitions/VerifierEntityListing" }, schema.decode(r.body)))
    -- Written for one user, not for another.
    local _, other = api("GET", "/api/v2/users/" .. emu.users(2)[2].id .. "/verifiers")
    assert.are.equal(0, other.total)
    r = api("DELETE", base .. "/v-1")
    assert.are.equal(204, r.status)
    _, page = api("GET", base)
    assert.are.equal(0, page.total)
  end)

  it("a custom attributes schema created is read back, listed, updated with a new version and deleted", function()
    local base = "/api/v2/users/customattributes/schemas"
    local r, created = api("POST", base, { name = "Badge", version = 1, enabled = true,
                                           jsonSchema = { title = "Badge", description = "badge number" } })
    assert.are.equal(200, r.status, r.body)
    assert.matches("^%x+%-%x+%-%x+%-%x+%-%x+$", created.id)
    assert.are.same({ "Badge", 1, "Badge" }, { created.name, created.version, created.jsonSchema.title })
    local got
    r, got = api("GET", base .. "/" .. created.id)
    assert.are.equal(200, r.status)
    assert.are.same(created, got)
    local _, page = api("GET", base)
    assert.are.equal(1, page.total)
    assert.are.equal(created.id, page.entities[1].id)
    local updated
    r, updated = api("PUT", base .. "/" .. created.id, { name = "Badge id", version = 1, jsonSchema = { title = "Badge" } })
    assert.are.equal(200, r.status, r.body)
    assert.are.same({ created.id, "Badge id", 2 }, { updated.id, updated.name, updated.version })
    _, got = api("GET", base .. "/" .. created.id)
    assert.are.same(updated, got)
    assert.are.equal(204, api("DELETE", base .. "/" .. created.id).status)
    assert_error_body(api("GET", base .. "/" .. created.id), 404)
    _, page = api("GET", base)
    assert.are.equal(0, page.total)
  end)

  it("direct routing backup settings written are read back, per user and for me, and reset by DELETE", function()
    local base = "/api/v2/routing/users/" .. u.id .. "/directroutingbackup/settings"
    local r, put = api("PUT", base, { waitForAgent = true, agentWaitSeconds = 30, backedUpUsers = { u.id } })
    assert.are.equal(200, r.status, r.body)
    local got
    r, got = api("GET", base)
    assert.are.equal(200, r.status)
    assert.are.same(put, got)
    assert.are.same({ true, 30, { u.id } }, { got.waitForAgent, got.agentWaitSeconds, got.backedUpUsers })
    local _, me = api("GET", "/api/v2/routing/directroutingbackup/settings/me")
    assert.is_nil(me.waitForAgent)
    assert.are.equal(204, api("DELETE", base).status)
    _, got = api("GET", base)
    assert.is_nil(got.waitForAgent)
  end)

  it("me is the token's user: what /users/me/verifiers writes, /users/{userId}/verifiers reads", function()
    local token = emu.user_token(u.id)
    local r = emu.request("PUT", "/api/v2/users/me/verifiers/v-9", { bearer = token, body = { name = "Mine" } })
    assert.are.equal(200, r.status, r.body)
    local _, page = api("GET", "/api/v2/users/" .. u.id .. "/verifiers")
    assert.are.same({ 1, "Mine" }, { page.total, page.entities[1].name })
    r = emu.request("GET", "/api/v2/users/me/verifiers", { bearer = token })
    assert.are.same({ 1, "v-9" }, { r.json.total, r.json.entities[1].id })
    -- client credentials have no user: the service refuses them on a me path
    assert_error_body(api("GET", "/api/v2/users/me/verifiers"), 400)
    assert.are.equal("not.a.user", api("GET", "/api/v2/routing/directroutingbackup/settings/me").json.code)
  end)

  it("what was written is gone after a reset", function()
    local base = "/api/v2/users/" .. u.id .. "/verifiers"
    assert.are.equal(200, api("PUT", base .. "/v-2", { name = "Key" }).status)
    emu.reset{ users = USERS }
    local _, page = api("GET", base)
    assert.are.equal(0, page.total)
  end)

  it("an invalid body is refused with a 400 naming the field, and nothing is stored", function()
    local base = "/api/v2/users/" .. u.id .. "/verifiers"
    local r = api("PUT", base .. "/v-3", { name = 5 })
    assert_error_body(r, 400)
    assert.are.same({ { errorCode = "invalid.value", fieldName = "name" } }, r.json.details)
    r = api("PUT", base .. "/v-3", { enabled = true })
    assert_error_body(r, 400)
    assert.are.same({ { errorCode = "required", fieldName = "name" } }, r.json.details)
    r = api("PUT", "/api/v2/routing/users/" .. u.id .. "/directroutingbackup/settings", { waitForAgent = "yes" })
    assert_error_body(r, 400)
    assert.are.equal("waitForAgent", r.json.details[1].fieldName)
    local _, page = api("GET", base)
    assert.are.equal(0, page.total)
  end)

  it("a missing required query parameter is a 400", function()
    local r = api("GET", "/api/v2/fieldconfig")
    assert_error_body(r, 400)
    assert.are.equal("type", r.json.details[1].fieldName)
    assert_error_body(api("GET", "/api/v2/fieldconfig", nil, { type = "nonsense" }), 400)
    assert.are.equal(200, api("GET", "/api/v2/fieldconfig", nil, { type = "person" }).status)
  end)

  it("an unknown user is a 404, for userId and subjectId paths alike", function()
    local nobody = schema.uuid()
    assert_error_body(api("GET", "/api/v2/users/" .. nobody .. "/verifiers"), 404)
    assert_error_body(api("PUT", "/api/v2/users/" .. nobody .. "/verifiers/v-1", { name = "x" }), 404)
    assert_error_body(api("GET", "/api/v2/authorization/divisionspermitted/paged/" .. nobody, nil,
      { permission = "directory:user:view" }), 404)
  end)

  it("a hand route keeps its operation whatever its parameter is called ({userId} for {subjectId})", function()
    -- GET /api/v2/users/{subjectId}/roles is subresources.lua's (registered as
    -- {userId}): the user's seeded roles, not a generic empty answer.
    local r, auth = api("GET", "/api/v2/users/" .. u.id .. "/roles")
    assert.are.equal(200, r.status)
    assert.is_true(#auth.roles > 0)
  end)
end)
