-- Request validation against the contract's definitions: JSON types, enums,
-- required fields, nulls (refused unless the route lists the field in
-- opts.nullable), finite numbers. Unknown fields pass (the service ignores
-- them). Every bad field is reported at once, by path, in the 400's details.
-- Routes validate everything before they touch state.
local errors = require "emu.errors"
local json = require "emu.json"
local state = require "emu.state"

local M = {}

local function deref(schema)
  local ref = schema["$ref"]
  if ref then return state.contract.definitions[ref:match("[^/]+$")], ref:match("[^/]+$") end
  return schema
end

-- The JSON type of a decoded value: null, array, object, empty (cjson
-- decodes [] and {} alike; an empty table marked json.array or json.object
-- is that), integer, number, non-finite number, string, boolean.
local function json_type(v)
  if v == json.null then return "null" end
  local t = type(v)
  if t == "table" then
    if next(v) == nil then
      local mt = getmetatable(v)
      if mt == getmetatable(json.array()) then return "array" end
      if mt == getmetatable(json.object()) then return "object" end
      return "empty"
    end
    if v[1] ~= nil then return "array" end
    return "object"
  end
  if t == "number" then
    if v ~= v or v == math.huge or v == -math.huge then return "non-finite number" end
    return (v % 1 == 0) and "integer" or "number"
  end
  return t
end
M.json_type = json_type

-- The JSON type a schema wants (nil: any).
local function kind(s)
  if not s then return nil end
  return s.type or (s.properties and "object") or nil
end
M.kind = kind

-- Whether a value of JSON type got fits the type a schema wants.
local function fits(want, got)
  if want == nil then return true end
  if want == "integer" then return got == "integer" end
  if want == "number" then return got == "integer" or got == "number" end
  if want == "array" then return got == "array" or got == "empty" end
  if want == "object" then return got == "object" or got == "empty" end
  return want == got
end
M.fits = fits

local function join(path, k) return (path ~= "" and path .. "." or "") .. k end
M.join = join

local function invalid(field, message)
  return { fieldName = field, errorCode = "invalid.value", message = field .. ": " .. message }
end

--- The problem of a value itself (not of its items or fields) against a
-- dereferenced schema: null (unless null_ok), a number that is not finite,
-- a JSON type the schema does not want, a string not in its enum. Returns
-- the problem ({ fieldName, errorCode, message }) or nil, and whether the
-- value's items and fields are not to be checked (a problem, a null).
-- any_value: a schema taking any value but null (contract.lua's bare object).
function M.value_problem(s, v, field, null_ok, any_value)
  local got = json_type(v)
  if got == "null" then
    if null_ok then return nil, true end
    return invalid(field, "may not be null"), true
  end
  if got == "non-finite number" then return invalid(field, "must be a finite number"), true end
  if any_value then return nil, true end
  local want = kind(s)
  if not fits(want, got) then
    return invalid(field, "expected " .. want .. ", got " .. (got == "empty" and "empty table" or got)), true
  end
  if s.enum and got == "string" then
    for _, e in ipairs(s.enum) do if e == v then return nil, false end end
    return invalid(field, "value [" .. v .. "] is not one of " .. table.concat(s.enum, ", ")), true
  end
  return nil, false
end

--- Raise the service's 400 for a body's problems (as M.value_problem gives
-- them), naming every bad field in its details; nothing for none.
function M.refuse(bad)
  if #bad == 0 then return end
  local msgs, details = {}, {}
  for i, b in ipairs(bad) do
    msgs[i] = b.message
    details[i] = { errorCode = b.errorCode, fieldName = b.fieldName }
  end
  local code = bad[1].errorCode == "required" and "bad.request" or "invalid.value"
  errors.bad_request(code, "Invalid request body: " .. table.concat(msgs, "; "), { details = details })
end

--- Raise the service's 400 for a request without the body it requires.
function M.no_body(value)
  errors.bad_request("bad.request", "A request body is required (got " .. (value == nil and "none" or "null") .. ")",
    { details = { { errorCode = "required", fieldName = "body" } } })
end

local check
check = function(schema, v, path, bad, opts, depth)
  if depth > 30 then
    bad[#bad + 1] = { fieldName = path, errorCode = "invalid.value", message = path .. ": nested too deeply" }
    return
  end
  local s, name = deref(schema)
  if not s then return end
  local problem, done = M.value_problem(s, v, path ~= "" and path or "body", opts.nullable and opts.nullable[path])
  if problem then bad[#bad + 1] = problem end
  if done then return end
  local want = kind(s)
  if want == "array" and s.items then
    -- 0-based like the service's paths (query[0].type)
    for i, item in ipairs(v) do check(s.items, item, path .. "[" .. (i - 1) .. "]", bad, opts, depth + 1) end
  elseif want == "object" and type(v) == "table" then
    local required = s.required
    local override = opts.request_required and name and opts.request_required[name]
    if override then required = override end
    if depth == 0 and opts.ignore_required then required = nil end
    local missing = {}
    for _, r in ipairs(required or {}) do
      if v[r] == nil or v[r] == json.null then
        missing[r] = true
        bad[#bad + 1] = { fieldName = join(path, r), errorCode = "required", message = join(path, r) .. ": required" }
      end
    end
    local keys = {}
    for k in pairs(s.properties or {}) do keys[#keys + 1] = k end
    table.sort(keys) -- details in a stable order
    for _, k in ipairs(keys) do
      if v[k] ~= nil and not missing[k] then check(s.properties[k], v[k], join(path, k), bad, opts, depth + 1) end
    end
    if s.additionalProperties and type(s.additionalProperties) == "table" then
      for k, item in pairs(v) do
        if not (s.properties or {})[k] then
          check(s.additionalProperties, item, join(path, k), bad, opts, depth + 1)
        end
      end
    end
  end
end

-- Validate a decoded body; raise a 400 naming every bad field.
-- schema: a definition name or a schema table. opts: nullable = { [path] = true }
-- (fields a JSON null may clear), request_required, ignore_required.
function M.body(schema, value, opts)
  opts = opts or {}
  if type(schema) == "string" then schema = { ["$ref"] = "#/definitions/" .. schema } end
  if value == nil or value == json.null then M.no_body(value) end
  local bad = {}
  check(schema, value, "", bad, opts, 0)
  M.refuse(bad)
  return value
end

-- Strict UTF-8 (no overlongs, surrogates or code points above U+10FFFF).
local function utf8_ok(s)
  if not s:find("[\128-\255]") then return true end
  local i, n = 1, #s
  while i <= n do
    local c = s:byte(i)
    if c < 0x80 then
      i = i + 1
    else
      local len, lo, hi
      if c >= 0xC2 and c <= 0xDF then len = 2
      elseif c >= 0xE0 and c <= 0xEF then len = 3
      elseif c >= 0xF0 and c <= 0xF4 then len = 4
      else return false end
      lo, hi = 0x80, 0xBF
      if c == 0xE0 then lo = 0xA0 elseif c == 0xED then hi = 0x9F
      elseif c == 0xF0 then lo = 0x90 elseif c == 0xF4 then hi = 0x8F end
      local c2 = s:byte(i + 1)
      if not c2 or c2 < lo or c2 > hi then return false end
      for k = 2, len - 1 do
        local cx = s:byte(i + k)
        if not cx or cx < 0x80 or cx > 0xBF then return false end
      end
      i = i + len
    end
  end
  return true
end
M.utf8_ok = utf8_ok

-- Every decoded body, whatever its route: strings (keys too) must be UTF-8
-- and numbers finite. Raises a 400 naming the first bad field.
function M.scan(value)
  local function walk(v, path, depth)
    local t = type(v)
    if t == "string" then
      if not utf8_ok(v) then return path, "is not valid UTF-8" end
    elseif t == "number" then
      if v ~= v or v == math.huge or v == -math.huge then return path, "must be a finite number" end
    elseif t == "table" and depth < 200 then
      for k, x in pairs(v) do
        local p
        if type(k) == "number" then p = path .. "[" .. (k - 1) .. "]" else -- 0-based, as the service
          if not utf8_ok(k) then return path, "has a field name that is not valid UTF-8" end
          p = join(path, k)
        end
        local bp, why = walk(x, p, depth + 1)
        if bp then return bp, why end
      end
    end
  end
  local path, why = walk(value, "", 0)
  if path then
    local field = path ~= "" and path or "body"
    errors.bad_request("invalid.value", "Invalid request body: " .. field .. " " .. why,
      { details = { { errorCode = "invalid.value", fieldName = field } } })
  end
end

local function one(req, name)
  local v = req.query[name]
  if v == nil then return nil end
  return v[#v]
end
M.query = one

function M.query_int(req, name, min, max, default)
  local v = one(req, name)
  if v == nil or v == "" then return default end
  local n = tonumber(v)
  if not n or n % 1 ~= 0 or n < min or n > max then
    errors.bad_request("invalid.value", ("Value [%s] is not valid for field type [%s]. Allowable values are: %d-%d")
      :format(v, name, min, max), { details = { { errorCode = "invalid.value", fieldName = name } } })
  end
  return n
end

function M.query_enum(req, name, values, default)
  local v = one(req, name)
  if v == nil or v == "" then return default end
  local low = v:lower()
  for canonical, aliases in pairs(values) do
    for _, a in ipairs(aliases) do if a:lower() == low then return canonical end end
  end
  errors.bad_request("invalid.value", ("Value [%s] is not valid for field type [%s]"):format(v, name),
    { details = { { errorCode = "invalid.value", fieldName = name } } })
end

function M.query_bool(req, name, default)
  local v = one(req, name)
  if v == nil or v == "" then return default end
  if v == "true" then return true elseif v == "false" then return false end
  errors.bad_request("invalid.value", ("Value [%s] is not valid for field type [%s]. Allowable values are: true, false")
    :format(v, name), { details = { { errorCode = "invalid.value", fieldName = name } } })
end

-- sortOrder: the contract's ascending/descending and the seed's ASC/DESC.
function M.sort_order(req)
  return M.query_enum(req, "sortOrder", { ascending = { "ascending", "asc" }, descending = { "descending", "desc" } },
    "ascending")
end

return M
