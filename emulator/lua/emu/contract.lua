-- Today's contract (api/today/swagger.json) for the emulator: its operations,
-- request checks against its definitions (validate.lua checks against the
-- 2016 contract's), and contract-valid answers built from its schemas.
--
-- One reading of the derived contract is deliberate: a bare {type: object}
-- (no properties, no additionalProperties) is how tools/derive-contract.lua
-- writes the JS SDK's `Object`, i.e. any JSON value (custom attribute values
-- are strings and numbers), so it accepts any value but null.
local errors = require "emu.errors"
local json = require "emu.json"
local state = require "emu.state"
local validate = require "emu.validate"

local M = {}

local METHODS = { "GET", "POST", "PUT", "PATCH", "DELETE" }

-- api/today/swagger.json beside the seed contract the emulator was started
-- with (emulator/ctl passes ROOT/api/users-api.json), else beside this file.
local function contract_path()
  local seed = state.startup and state.startup.contract
  if seed then return (seed:gsub("[^/]*$", "")) .. "today/swagger.json" end
  local here = debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or "."
  return here .. "/../../../api/today/swagger.json"
end

local doc
local function load()
  if not doc then
    local path = contract_path()
    local f = assert(io.open(path, "rb"), "emulator: today's contract not found at " .. path)
    doc = assert(json.decode(f:read("a")), "emulator: " .. path .. " is not JSON")
    f:close()
  end
  return doc
end
M.load = load

--- Every operation as { method, path, op }, in a stable order.
function M.operations()
  local out = {}
  for path, item in pairs(load().paths) do
    for _, m in ipairs(METHODS) do
      local op = item[m:lower()]
      if op then out[#out + 1] = { method = m, path = path, op = op } end
    end
  end
  table.sort(out, function(a, b)
    if a.path ~= b.path then return a.path < b.path end
    return a.method < b.method
  end)
  return out
end

--- A schema with its $ref followed (and the definition's name).
function M.deref(schema)
  local seen = 0
  while schema and schema["$ref"] do
    local name = schema["$ref"]:match("[^/]+$")
    schema = load().definitions[name]
    seen = seen + 1
    if seen > 10 then break end
    if schema and not schema["$ref"] then return schema, name end
  end
  return schema
end

local kind = validate.kind

local function free_form(s)
  return kind(s) == "object" and not s.properties and not s.additionalProperties
end

--- The success status of an operation and its response schema (nil for none).
function M.success(op)
  local best
  for code in pairs(op.responses or {}) do
    local n = tonumber(code)
    if n and n >= 200 and n < 300 and (not best or n < best) then best = n end
  end
  best = best or 200
  local r = (op.responses or {})[tostring(best)]
  return best, r and r.schema
end

--- The body parameter of an operation, if any.
function M.body_param(op)
  for _, p in ipairs(op.parameters or {}) do
    if p["in"] == "body" then return p end
  end
end

--- Whether a (dereferenced) schema is an entity listing.
function M.is_listing(schema)
  local s = M.deref(schema)
  local e = s and s.properties and s.properties.entities
  return e ~= nil and kind(e) == "array"
end

-- Instances -------------------------------------------------------------

-- Ids from a counter that starts again on every reset (state.reset builds a
-- new state.users), so the same requests give the same ids.
local counter, generation = 0, nil
local function fresh_uuid()
  if generation ~= state.users then generation, counter = state.users, 0 end
  counter = counter + 1
  return state.uuid(counter, 31)
end
M.uuid = fresh_uuid

local LISTING_COUNTS = { pageSize = 25, pageNumber = 1, total = 0, pageCount = 0 }

local function string_value(name, s)
  if s.enum and s.enum[1] ~= nil then return s.enum[1] end
  if s.format == "date-time" then return "2024-01-01T00:00:00.000Z" end
  if s.format == "date" then return "2024-01-01" end
  if name and (name == "id" or name:match("Id$")) then return fresh_uuid() end
  return name or ""
end

local instance
instance = function(schema, name, depth)
  local s = M.deref(schema)
  if not s then return json.object({}) end
  local t = kind(s)
  if t == "string" then return string_value(name, s) end
  if t == "integer" or t == "number" then return 0 end
  if t == "boolean" then return false end
  if t == "array" then return json.array({}) end
  local out = json.object({})
  if depth > 12 then return out end
  local props = s.properties or {}
  for _, r in ipairs(s.required or {}) do
    if props[r] then out[r] = instance(props[r], r, depth + 1) else out[r] = r end
  end
  -- Not required, but an answer without them is no answer: its id (the
  -- answer's own, not nested ones: those would change on every answer), and
  -- a listing's counts.
  if depth == 0 and props.id and kind(M.deref(props.id)) == "string" and out.id == nil then out.id = fresh_uuid() end
  if M.is_listing(s) then
    for k, v in pairs(LISTING_COUNTS) do
      if props[k] and out[k] == nil then out[k] = v end
    end
  end
  return out
end

--- A minimal valid instance of a schema: required fields with type-correct
-- values, ids as UUIDs, arrays empty, listings with their counts.
function M.instance(schema) return instance(schema, nil, 0) end

-- Checks ------------------------------------------------------------------

local json_type, fits, join = validate.json_type, validate.fits, validate.join

local check
check = function(schema, v, path, bad, depth)
  local field = path ~= "" and path or "body"
  if depth > 30 then
    bad[#bad + 1] = { fieldName = field, errorCode = "invalid.value", message = field .. ": nested too deeply" }
    return
  end
  local s = M.deref(schema)
  if not s then return end
  local problem, done = validate.value_problem(s, v, field, false, free_form(s))
  if problem then bad[#bad + 1] = problem end
  if done then return end
  local want = kind(s)
  if want == "array" then
    for i, item in ipairs(v) do check(s.items, item, path .. "[" .. (i - 1) .. "]", bad, depth + 1) end
  elseif want == "object" then
    local props = s.properties or {}
    for _, r in ipairs(s.required or {}) do
      if v[r] == nil then
        bad[#bad + 1] = { fieldName = join(path, r), errorCode = "required", message = join(path, r) .. ": required" }
      end
    end
    local keys = {}
    for k in pairs(v) do if type(k) == "string" then keys[#keys + 1] = k end end
    table.sort(keys) -- details in a stable order
    for _, k in ipairs(keys) do
      local ps = props[k] or (type(s.additionalProperties) == "table" and s.additionalProperties)
      if ps then check(ps, v[k], join(path, k), bad, depth + 1) end
    end
  end
end

--- The problems of a value against a schema: { { fieldName, errorCode, message } }.
function M.problems(schema, value)
  local bad = {}
  check(schema, value, "", bad, 0)
  return bad
end

--- Check an operation's request body; raises the service's 400 naming every
-- bad field, returns nil when it is fine (or the operation takes none).
function M.check_body(op, body)
  local p = M.body_param(op)
  if not p then return nil end
  if body == nil or body == json.null then
    if not p.required then return nil end
    validate.no_body(body)
  end
  validate.refuse(M.problems(p.schema, body))
end

local function query_problem(p, v)
  local s = p.type == "array" and (p.items or {}) or p
  if s.enum then
    local ok = false
    for _, e in ipairs(s.enum) do if e == v then ok = true break end end
    if not ok then return "Allowable values are: " .. table.concat(s.enum, ", ") end
  end
  if s.type == "integer" and not (tonumber(v) and tonumber(v) % 1 == 0) then return "expected an integer" end
  if s.type == "number" and not tonumber(v) then return "expected a number" end
  if s.type == "boolean" and v ~= "true" and v ~= "false" then return "Allowable values are: true, false" end
end

--- Check an operation's query parameters (req.query: name → list): a missing
-- required one or a value of the wrong type is the service's 400.
function M.check_query(op, query)
  for _, p in ipairs(op.parameters or {}) do
    if p["in"] == "query" then
      local vs = query[p.name]
      if p.required and (not vs or #vs == 0 or (#vs == 1 and vs[1] == "")) then
        errors.bad_request("bad.request", "Missing required query parameter [" .. p.name .. "]",
          { details = { { errorCode = "required", fieldName = p.name } } })
      end
      for _, v in ipairs(vs or {}) do
        local why = v ~= "" and query_problem(p, v)
        if why then
          errors.bad_request("invalid.value", ("Value [%s] is not valid for field type [%s]. %s"):format(v, p.name, why),
            { details = { { errorCode = "invalid.value", fieldName = p.name } } })
        end
      end
    end
  end
end

-- Shaping -------------------------------------------------------------------

local shape
shape = function(v, schema, name, depth)
  local s = M.deref(schema)
  if not s or depth > 30 then return v end
  if free_form(s) then
    if v == nil or v == json.null then return json.object({}) end
    return v
  end
  local want, got = kind(s), json_type(v)
  if want == "array" then
    local out = json.array({})
    if fits("array", got) then
      for i, item in ipairs(v) do out[i] = shape(item, s.items, nil, depth + 1) end
    end
    return out
  end
  if want == "object" then
    local out = instance(s, name, depth)
    if not fits("object", got) then return out end
    local props = s.properties or {}
    for k, x in pairs(v) do
      local ps = props[k] or (type(s.additionalProperties) == "table" and s.additionalProperties)
      if type(k) == "string" and ps and x ~= json.null then
        local kt = kind(M.deref(ps))
        if kt == "object" or kt == "array" or free_form(M.deref(ps)) or #M.problems(ps, x) == 0 then
          out[k] = shape(x, ps, k, depth + 1)
        end
      end
    end
    return out
  end
  if #M.problems(s, v) == 0 then return v end
  return instance(s, name, depth)
end

--- A value made contract-valid for a schema: its fields the schema knows and
-- that fit, required ones filled in, arrays and maps marked for the encoder.
function M.shape(value, schema) return shape(value, schema, nil, 0) end

return M
