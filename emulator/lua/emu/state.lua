-- The emulator's whole state, in this worker's Lua tables (one worker).
-- Deterministic: the same seed and user count give the same ids and data.
local json = require "emu.json"

local M = {}

local FIRST = { "Ada", "Ben", "Chloe", "Dev", "Elena", "Farid", "Grace", "Hugo", "Ines", "Jonas", "Kira", "Liam",
  "Maya", "Noah", "Olga", "Pavel", "Quinn", "Rosa", "Sami", "Tara", "Uma", "Victor", "Wen", "Xavi", "Yara", "Zane" }
local LAST = { "Abbott", "Barros", "Chen", "Dubois", "Eriksen", "Fischer", "Garcia", "Haddad", "Ivanova", "Jensen",
  "Kowalski", "Lopez", "Moreau", "Nakamura", "Okafor", "Petrov", "Quispe", "Rossi", "Silva", "Tanaka", "Usman",
  "Varga", "Weber", "Xu", "Yilmaz", "Zhang", "Murphy", "Kelly", "Novak", "Costa", "Hughes" }
local DEPARTMENTS = { "Sales", "Support", "Billing", "Engineering", "Operations", "Marketing", "Finance", "HR" }
local TITLES = { "Agent", "Senior Agent", "Team Lead", "Supervisor", "Manager", "Analyst", "Specialist" }

-- Park–Miller generator: exact in doubles, so LuaJIT and Lua agree.
local function rng(seed)
  local x = seed % 2147483647
  if x <= 0 then x = x + 2147483646 end
  return function()
    x = (x * 48271) % 2147483647
    return x
  end
end
M.rng = rng

function M.uuid(n, salt)
  local r = rng((M.seed or 1) * 7919 + (salt or 0) * 104729 + n * 31 + 17)
  local a, b, c, d, e = r(), r(), r(), r(), r()
  return string.format("%08x-%04x-4%03x-%04x-%04x%08x", a % 4294967296, b % 65536, c % 4096,
    32768 + d % 16384, e % 65536, (a * 31 + e) % 4294967296)
end

local ctx_counter = 0
function M.context_id()
  ctx_counter = ctx_counter + 1
  return M.uuid(ctx_counter, 999983 + math.floor(ngx.now()) % 100000)
end

function M.now()
  ngx.update_time()
  return ngx.now()
end

function M.iso(t)
  t = t or M.now()
  local s = math.floor(t)
  return os.date("!%Y-%m-%dT%H:%M:%S", s) .. string.format(".%03dZ", math.floor((t - s) * 1000))
end

local function make_user(i)
  local r = rng(M.seed * 1000003 + i)
  local first, last = FIRST[r() % #FIRST + 1], LAST[r() % #LAST + 1]
  local id = M.uuid(i, 1)
  local email = string.format("%s.%s.%d@example.com", first:lower(), last:lower(), i)
  local phone = string.format("+1317555%04d", i % 10000)
  return {
    id = id,
    name = first .. " " .. last,
    chat = { jabberId = id .. "@emulator.example.com" },
    department = DEPARTMENTS[r() % #DEPARTMENTS + 1],
    email = email,
    primaryContactInfo = { { address = email, mediaType = "EMAIL", type = "PRIMARY" } },
    addresses = { { address = phone, display = phone, mediaType = "PHONE", type = "WORK" } },
    state = "active",
    title = TITLES[r() % #TITLES + 1],
    username = email,
    images = { { resolution = "x96", imageUri = "https://images.example.com/users/" .. id .. "/x96.png" } },
    version = 1,
    selfUri = "/api/v2/users/" .. id,
    _index = i,
  }
end
M.make_user = make_user

-- A user record's own bookkeeping, in fields that start with "_" (the JSON
-- encoder leaves them out). Only this file names them; the rest of the
-- emulator asks the functions below.
--   _index    the user's number: seeds its sub-resources (emu.catalog)
--   _created  made by POST /api/v2/users, not seeded (starts with no skills,
--             queues or station)
--   _deleted  deleted (today's service keeps the record, state "deleted")
--   _json     its JSON, cached until the record changes
--   _state_reason, _state_date  why and when its state last changed
--             (UserState; set by set_user_state)

-- Add a user record; `index` and `created` for one made by POST (a seeded
-- record comes from make_user with its index).
function M.add_user(u, index, created)
  if index then u._index = index end
  if created then u._created = true end
  M.users[#M.users + 1] = u
  M.by_id[u.id] = u
  M.by_email[u.email:lower()] = u
  M.sorted = nil
  M.live = (M.live or 0) + 1
end

-- A user's JSON, cached until the record changes (listing pages reuse it:
-- the emulator must not be the bottleneck of a pagination benchmark).
function M.user_json(u)
  local j = u._json
  if not j then
    j = json.raw(json.encode(u))
    u._json = j
  end
  return j
end

-- The record's number (1 when it has none).
function M.user_index(u) return u._index or 1 end

-- True for a record made by POST, not seeded.
function M.user_created(u) return u._created == true end

-- True once the record was deleted.
function M.user_deleted(u) return u._deleted == true end

-- The record changed: its cached JSON is dropped.
function M.user_changed(u) u._json = nil end

-- A shallow copy of the record without its cached JSON (to render with
-- more fields).
function M.user_copy(u)
  local out = {}
  for k, v in pairs(u) do out[k] = v end
  out._json = nil
  return out
end

-- A user by id: live ones only, unless `want` is "deleted" (deleted ones
-- only) or "any" (api/today.lua: getUserId state).
function M.user(id, want)
  local u = M.by_id[id]
  if not u then return nil end
  if want == "any" or (want == "deleted") == (u._deleted == true) then return u end
  return nil
end

-- Today's service keeps a deleted user, with state "deleted" (api/today.lua:
-- deleteUserId); it leaves listings and search unless asked for.
function M.delete_user(u)
  u._deleted = true
  u.state = "deleted"
  u._json = nil
  M.by_email[u.email:lower()] = nil
  M.sorted = nil
  M.live = M.live - 1
end

-- A user's UserState (api/today/swagger.json; Python SDK user_state.py):
-- state, version, and the reason and date of its last change, which only
-- PUT /api/v2/users/{userId}/state (or a PATCH with state) records.
function M.user_state(u)
  return { state = u.state, version = u.version, stateChangeReason = u._state_reason,
           stateChangeDate = u._state_date }
end

-- Move a user to "active", "inactive" or "deleted" (a deleted one comes back
-- with its id: automation restores deleted users by setting their state,
-- terraform-provider-genesyscloud restoreDeletedUser; PUT …/state does it
-- here, PATCH /users/{id} still ignores state). A change bumps the
-- version and records when and why; the same state again changes nothing but
-- a given reason. Returns nil and a message when a restored user's email
-- now belongs to another live user (the caller answers the conflict).
function M.set_user_state(u, want, reason)
  if want == u.state then
    if reason then u._state_reason = reason end
    return true
  end
  if u._deleted then
    local other = M.by_email[u.email:lower()]
    if other and other ~= u then return nil, "A user with email " .. u.email .. " already exists" end
    u._deleted = nil
    M.by_email[u.email:lower()] = u
    M.live = M.live + 1
  end
  if want == "deleted" then
    M.delete_user(u)
  else
    u.state = want
  end
  u.version = u.version + 1
  u._state_reason = reason
  u._state_date = M.iso()
  u._json = nil
  M.sorted = nil
  return true
end

local function by_name(a, b)
  if a.name ~= b.name then return a.name < b.name end
  return a.id < b.id
end

-- Users of a state ("active", "inactive", "deleted", "any"; api/today.lua:
-- getUsers state) sorted by name then id. "active" (the listing's default)
-- leaves inactive users out; it is the live list filtered, cached with it.
function M.users_of_state(order, want)
  if want == nil or want == "active" then
    local live = M.users_sorted()
    if M.active_of ~= live then
      local list = {}
      for _, u in ipairs(live) do
        if u.state == "active" then list[#list + 1] = u end
      end
      M.active, M.active_of = #list == #live and live or list, live
    end
    if order ~= "descending" then return M.active end
    local list, n = {}, #M.active
    for i = 1, n do list[i] = M.active[n - i + 1] end
    return list
  end
  local list = {}
  for _, u in ipairs(M.users) do
    if want == "any" or u.state == want then list[#list + 1] = u end
  end
  table.sort(list, order == "descending" and function(a, b) return by_name(b, a) end or by_name)
  return list
end

-- Live (not deleted) users sorted by name then id; cached until a change.
function M.users_sorted(order)
  if not M.sorted then
    local list = {}
    for _, u in ipairs(M.users) do
      if not u._deleted then list[#list + 1] = u end
    end
    table.sort(list, by_name)
    M.sorted = list
  end
  if order == "descending" then
    local list, n = {}, #M.sorted
    for i = 1, n do list[i] = M.sorted[n - i + 1] end
    return list
  end
  return M.sorted
end

function M.ext(user_id)
  local e = M.exts[user_id]
  if not e then
    e = {}
    M.exts[user_id] = e
  end
  return e
end

-- (Re)build everything from the startup options plus overrides.
function M.reset(opts)
  local o = {}
  for k, v in pairs(M.startup) do o[k] = v end
  for k, v in pairs(opts or {}) do o[k] = v end
  M.seed = tonumber(o.seed) or 1
  M.config = { latency_ms = o.latency_ms or 0, token_ttl = o.token_ttl or 86400, rate_per_min = o.rate_per_min or 0 }
  M.users, M.by_id, M.by_email, M.exts, M.sorted = {}, {}, {}, {}, nil
  M.active, M.active_of = nil, nil
  -- The organization's max utilization settings (emu.routes.routing seeds
  -- them on first use).
  M.org_utilization = nil
  local n = tonumber(o.users) or 250
  M.live = 0
  for i = 1, n do M.add_user(make_user(i)) end
  M.next_index = n + 1
  M.faults = {}
  M.stats = { requests = {}, tokens = {}, users_created = 0, rate_limited = 0, faults_fired = 0 }
  M.log = {}
  M.rate = {}
  M.catalog = {}
  require("emu.catalog").seed(M)
  if o.revoke or not M.tokens then
    M.tokens, M.refresh_tokens, M.codes = {}, {}, {}
  end
end

-- Today's additions (api/today.lua) applied to the in-memory copy of the
-- 2016 contract the emulator validates with: grown enums, new properties, new
-- definitions. The file on disk is never changed.
local function apply_today(contract, today)
  local defs = contract.definitions
  for name, d in pairs(today.definitions or {}) do
    if d.new and not defs[name] then defs[name] = d.new end
    local def = defs[name]
    if def then
      def.properties = def.properties or {}
      for prop, values in pairs(d.enum or {}) do
        if def.properties[prop] then def.properties[prop].enum = values end
      end
      for prop, schema in pairs(d.add or {}) do
        if not def.properties[prop] then def.properties[prop] = schema end
      end
    end
  end
end

function M.init(opts)
  M.startup = opts
  M.contract = json.decode(assert(io.open(opts.contract)):read("*a"))
  M.today = dofile((opts.contract:gsub("[^/]*$", "")) .. "today.lua")
  apply_today(M.contract, M.today)
  M.reset()
end

return M
