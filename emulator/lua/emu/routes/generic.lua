-- A route for every operation of today's contract (api/today/swagger.json)
-- that no module before this one answers: contract-valid answers over a
-- simple store keyed by the concrete resource path, so that a write and a
-- later read agree. Registered last (app.lua), it never shadows a hand route.
--
--   GET     the stored record (shaped as the response schema); for a listing
--           or an array, the items stored below the path; else a minimal
--           valid instance, kept so repeated reads agree
--   PUT     validates and stores the body; PATCH merges it into the record
--   POST    to a collection (a path with an item path below it, or a listing
--           at the same path) creates an item with a new id; other POSTs
--           (queries, actions) answer a minimal instance
--   DELETE  removes the record and everything below it; a deleted item is
--           404 until written again
-- A path parameter naming a user must name an existing one (404 otherwise),
-- a path of `me` needs a user's token (400 for client credentials);
-- required query parameters and bodies are checked before anything is stored.
local contract = require "emu.contract"
local errors = require "emu.errors"
local json = require "emu.json"
local state = require "emu.state"

local M = {}

local USER_PARAMS = { userId = true, subjectId = true }

-- The store, rebuilt whenever the emulator is reset (state.reset makes a new
-- state.users): records by key, the ordered item keys of each collection,
-- deleted items, and the instances GETs answered for unwritten paths.
local store
local function db()
  if not store or store.generation ~= state.users then
    store = { generation = state.users, records = {}, children = {}, gone = {}, defaults = {} }
  end
  return store
end

local function segments(pattern)
  local out = {}
  for seg in pattern:gmatch("[^/]+") do out[#out + 1] = seg end
  return out
end

local function param_name(seg) return seg:match("^{(.+)}$") end

-- The matcher tells routes apart by their literal segments only: {userId} and
-- {subjectId} at the same place are one route.
local function normalised(pattern) return (pattern:gsub("{[^}]+}", "{}")) end

-- The store key of a request: its path with the parameters' values, and `me`
-- as the token's user (what /users/me/verifiers writes,
-- /users/{userId}/verifiers reads).
local function concrete(pattern, params, me)
  local out = {}
  for i, seg in ipairs(segments(pattern)) do
    local name = param_name(seg)
    if name then out[i] = params[name] elseif seg == "me" and me then out[i] = me else out[i] = seg end
  end
  return "/" .. table.concat(out, "/")
end

local function copy(v)
  if type(v) ~= "table" then return v end
  local out = setmetatable({}, getmetatable(v))
  for k, x in pairs(v) do out[k] = copy(x) end
  return out
end

local function is_array(v)
  return type(v) == "table" and (v[1] ~= nil or getmetatable(v) == getmetatable(json.array()))
end

-- Registration -------------------------------------------------------------

-- Whether an earlier module registered this operation's route under any
-- spelling of its parameters: app.has compares patterns exactly, so ask it
-- for every spelling the contract uses at each place (plus {id} and the user
-- aliases). A route under a name none of these use would be missed: app.lua
-- offering a normalised has() would make this exact.
local function taken(app, method, pattern, names_at)
  local segs = segments(pattern)
  local choices = {}
  for i, seg in ipairs(segs) do
    local name = param_name(seg)
    if name then
      local set = { [name] = true, id = true }
      for n in pairs(names_at[i] or {}) do set[n] = true end
      if USER_PARAMS[name] then for n in pairs(USER_PARAMS) do set[n] = true end end
      local list = {}
      for n in pairs(set) do list[#list + 1] = "{" .. n .. "}" end
      choices[i] = list
    else
      choices[i] = { seg }
    end
  end
  local parts = {}
  local function try(i)
    if i > #segs then return app.has(method, "/" .. table.concat(parts, "/")) end
    for _, c in ipairs(choices[i]) do
      parts[i] = c
      if try(i + 1) then return true end
    end
    return false
  end
  return try(1)
end

-- Facts about each pattern the behaviours need, from the whole contract.
local function survey(ops)
  local names = {}      -- normalised pattern → position → set of param names
  local item_param = {} -- normalised collection pattern → param name of its item path
  local listing = {}    -- normalised pattern → true when its GET answers a listing or an array
  for _, o in ipairs(ops) do
    local n = normalised(o.path)
    local segs = segments(o.path)
    names[n] = names[n] or {}
    for i, seg in ipairs(segs) do
      local p = param_name(seg)
      if p then
        names[n][i] = names[n][i] or {}
        names[n][i][p] = true
      end
    end
    local last = param_name(segs[#segs] or "")
    if last then
      local parent = normalised(o.path:gsub("/[^/]+$", ""))
      if not item_param[parent] or o.method == "GET" then item_param[parent] = last end
    end
    if o.method == "GET" then
      local _, schema = contract.success(o.op)
      local s = contract.deref(schema)
      if s and (s.type == "array" or contract.is_listing(s)) then listing[n] = true end
    end
  end
  return names, item_param, listing
end

-- Answers ------------------------------------------------------------------

local function user_check(route, req)
  if route.me and not req.auth.user_id then
    errors.bad_request("not.a.user",
      "This request requires a user context. Client credentials cannot be used for requests to this resource.")
  end
  for _, name in ipairs(route.user_params) do
    local id = req.params[name]
    if not state.user(id, "any") then errors.not_found("The user does not exist: " .. tostring(id)) end
  end
end

local function page_numbers(req)
  local function int(name, default)
    local v = req.query[name]
    local n = v and tonumber(v[#v])
    if not n or n < 1 then return default end
    return math.floor(n)
  end
  return int("pageSize", 25), int("pageNumber", 1)
end

local function items_of(d, key)
  local out = {}
  for _, k in ipairs(d.children[key] or {}) do
    local r = d.records[k]
    if r ~= nil then out[#out + 1] = r end
  end
  return out
end

-- The items below `key` as the schema's array or entity listing.
local function collection_answer(d, key, schema, req)
  local s = contract.deref(schema)
  local items = items_of(d, key)
  if s.type == "array" then
    local out = json.array({})
    for i, r in ipairs(items) do out[i] = contract.shape(r, s.items) end
    return out
  end
  local props = s.properties
  local item_schema = props.entities.items
  local out = contract.instance(s)
  local entities = json.array({})
  if props.pageSize or props.pageNumber then
    local size, number = page_numbers(req)
    local first = (number - 1) * size + 1
    for i = first, math.min(#items, first + size - 1) do entities[#entities + 1] = contract.shape(items[i], item_schema) end
    if props.pageSize then out.pageSize = size end
    if props.pageNumber then out.pageNumber = number end
    if props.pageCount then out.pageCount = math.ceil(#items / size) end
    if props.selfUri then out.selfUri = key .. "?pageSize=" .. size .. "&pageNumber=" .. number end
  else
    for i, r in ipairs(items) do entities[i] = contract.shape(r, item_schema) end
    if props.selfUri then out.selfUri = key end
  end
  out.entities = entities
  if props.total then out.total = #items end
  return out
end

local function answer(route, value)
  if route.status ~= 200 or not route.schema then return route.status, nil end
  return 200, contract.shape(value, route.schema)
end

-- Fields a record takes from its path and its answers' schemas (props): its
-- id, parameters the answers have a property for (userId, …), its selfUri;
-- and a version, counted up on every write.
local function fill(rec, props, req, id, key, prev)
  if type(rec) ~= "table" or is_array(rec) then return rec end
  prev = type(prev) == "table" and not is_array(prev) and prev or {}
  if props.id and rec.id == nil then rec.id = id or prev.id or contract.uuid() end
  for name, v in pairs(req.params) do
    if props[name] and rec[name] == nil then rec[name] = v end
  end
  if props.selfUri and rec.selfUri == nil then rec.selfUri = key end
  if props.version and contract.deref(props.version).type ~= "string" then
    rec.version = (tonumber(prev.version) or 0) + 1
  end
  return rec
end

local function add_child(d, parent, key)
  local list = d.children[parent]
  if not list then
    list = {}
    d.children[parent] = list
  end
  for _, k in ipairs(list) do if k == key then return end end
  list[#list + 1] = key
end

local function remove_child(d, parent, key)
  local list = d.children[parent]
  if not list then return end
  for i, k in ipairs(list) do
    if k == key then table.remove(list, i) return end
  end
end

-- The key and id of the item a body names below a collection key (a new id
-- when creating), or nil.
local function item_key(child_param, key, body, create)
  if not child_param or type(body) ~= "table" or is_array(body) then return nil end
  local id = body[child_param]
  if id == nil then id = body.id end
  if (type(id) ~= "string" or id == "") and create then id = contract.uuid() end
  if type(id) ~= "string" or id == "" then return nil end
  return key .. "/" .. id, id
end

-- A write of one object at `key` (PUT replaces, PATCH merges) as `coll`
-- describes the path (route or, for a bulk write, its collection); a write to
-- a collection that names its item (or creates one) writes the item.
local function write_one(coll, req, key, body, merge, create)
  local d = db()
  local ikey, id = item_key(coll.child_param, key, body, create)
  local target = ikey or key
  local prev = d.records[target]
  local rec
  if merge and type(prev) == "table" and not is_array(prev) and not is_array(body) then
    rec = copy(prev)
    for k, v in pairs(body) do rec[k] = copy(v) end
  else
    rec = copy(body)
  end
  if rec == nil then rec = json.object({}) end
  if ikey then
    rec = fill(rec, coll.item_props, req, id, target, prev)
    local cp = coll.child_param
    if coll.item_props[cp] or coll.props[cp] then rec[cp] = id end
  else
    rec = fill(rec, coll.props, req, coll.item_id and req.params[coll.item_id], target, prev)
  end
  d.records[target] = rec
  d.gone[target] = nil
  d.defaults[target] = nil
  if ikey then
    add_child(d, key, ikey)
  elseif coll.parent_listed then
    add_child(d, key:match("^(.*)/[^/]+$"), key)
  end
  return rec
end

local handlers = {}

local function collection_schema(s)
  s = contract.deref(s)
  return s and (s.type == "array" or contract.is_listing(s))
end

function handlers.GET(route, req, key)
  local d = db()
  if d.gone[key] then errors.not_found("The requested resource was not found: " .. key) end
  local rec = d.records[key]
  if collection_schema(route.schema) and not is_array(rec) then
    return 200, collection_answer(d, key, route.schema, req)
  end
  if rec == nil then
    rec = d.defaults[key]
    if rec == nil then
      rec = fill(contract.instance(route.schema), route.props, req, route.item_id and req.params[route.item_id], key)
      d.defaults[key] = rec
    end
  end
  return answer(route, rec)
end

-- A bulk write (an array body) to `…/<collection>/bulk` or to a collection:
-- each element written as an item of the collection.
local function write_many(route, req, key, merge)
  local coll, ckey = route, key
  if route.bulk then coll, ckey = route.bulk, key:gsub("/[^/]+$", "") end
  local last
  for _, element in ipairs(req.body) do
    if type(element) == "table" and not is_array(element) then
      last = write_one(coll, req, ckey, element, merge, false)
    end
  end
  if collection_schema(route.schema) then return 200, collection_answer(db(), ckey, route.schema, req) end
  return answer(route, last or contract.instance(route.schema))
end

local function write(merge)
  return function(route, req, key)
    if is_array(req.body) and (route.bulk or route.child_param) then return write_many(route, req, key, merge) end
    return answer(route, write_one(route, req, key, req.body, merge, false))
  end
end
handlers.PUT = write(false)
handlers.PATCH = write(true)

function handlers.POST(route, req, key)
  if not route.creates then return answer(route, contract.instance(route.schema)) end
  local body = req.body
  if type(body) ~= "table" or is_array(body) then body = json.object({}) end
  local rec = write_one(route, req, key, body, false, true)
  if collection_schema(route.schema) then return route.status, collection_answer(db(), key, route.schema, req) end
  return answer(route, rec)
end

function handlers.DELETE(route, req, key)
  local d = db()
  local prefix = key .. "/"
  for _, t in ipairs({ d.records, d.defaults, d.children, d.gone }) do
    for k in pairs(t) do
      if k == key or k:sub(1, #prefix) == prefix then t[k] = nil end
    end
  end
  local parent = key:match("^(.*)/[^/]+$")
  if parent then remove_child(d, parent, key) end
  if route.item_id then d.gone[key] = true end
  return answer(route, contract.instance(route.schema))
end

-- One route per operation -----------------------------------------------------

local function props_of(...)
  local out = {}
  for i = 1, select("#", ...) do
    local s = contract.deref((select(i, ...)))
    if s and s.type == "array" then s = contract.deref(s.items) end
    if s and contract.is_listing(s) then s = contract.deref(s.properties.entities.items) end
    for k, v in pairs(s and s.properties or {}) do out[k] = v end
  end
  return out
end

-- How a path behaves: its collection, its item parameter, whether a POST
-- creates, whether it is a bulk write of a collection's items.
local function describe(pattern, facts)
  local n = normalised(pattern)
  local segs = segments(pattern)
  local parent = n:gsub("/[^/]+$", "")
  local d = { item_id = param_name(segs[#segs] or ""), child_param = facts.item_param[n] }
  d.parent_listed = d.item_id ~= nil and (facts.listing[parent] or facts.item_param[parent] ~= nil)
  d.props = props_of(facts.get_schema[n])
  d.item_props = props_of(facts.get_schema[n .. "/{}"], facts.get_schema[n])
  return d, n, parent
end

local function route_for(o, facts)
  local status, schema = contract.success(o.op)
  local route, n, parent = describe(o.path, facts)
  route.method, route.pattern, route.op, route.status, route.schema = o.method, o.path, o.op, status, schema
  route.props = props_of(schema, facts.get_schema[n])
  route.item_props = props_of(facts.get_schema[n .. "/{}"], schema)
  route.user_params = {}
  for _, seg in ipairs(segments(o.path)) do
    local p = param_name(seg)
    if seg == "me" then route.me = true end
    if p and USER_PARAMS[p] then route.user_params[#route.user_params + 1] = p end
  end
  route.creates = o.method == "POST" and (route.child_param ~= nil or facts.listing[n] == true)
  if o.path:match("/bulk$") and (facts.listing[parent] or facts.item_param[parent]) then
    route.bulk = describe((o.path:gsub("/bulk$", "")), facts)
    route.bulk.item_props = props_of(facts.get_schema[parent .. "/{}"], schema)
  end
  return route
end

function M.register(app)
  local ops = contract.operations()
  local names, item_param, listing = survey(ops)
  local get_schema = {}
  for _, o in ipairs(ops) do
    if o.method == "GET" then
      local _, schema = contract.success(o.op)
      get_schema[normalised(o.path)] = schema
    end
  end
  local facts = { names = names, item_param = item_param, listing = listing, get_schema = get_schema }
  local mine = {}
  for _, o in ipairs(ops) do
    local n = normalised(o.path)
    local id = o.method .. " " .. n
    if not mine[id] and not taken(app, o.method, o.path, names[n]) then
      mine[id] = true
      local route = route_for(o, facts)
      local handle = handlers[o.method]
      app.add(o.method, o.path, function(req)
        user_check(route, req)
        contract.check_query(route.op, req.query)
        contract.check_body(route.op, req.body)
        return handle(route, req, concrete(route.pattern, req.params, req.auth.user_id))
      end)
    end
  end
end

return M
