-- Today's contract (api/today/swagger.json) for specs, independent of the
-- emulator's own reading of it (emulator/lua/emu/contract.lua): a checker of
-- decoded JSON against a schema, minimal valid request bodies, and a JSON
-- encoder that writes a schema's empty arrays as [] (cjson writes {}).
--
-- A bare {type: object} (no properties, no additionalProperties) is how
-- tools/derive-contract.lua writes the JS SDK's `Object`: any JSON value.
local cjson = require "cjson.safe"

local M = {}

local doc
function M.contract()
  if not doc then
    local f = assert(io.open("api/today/swagger.json", "rb"), "run specs from the repository root")
    doc = assert(cjson.decode(f:read("a")))
    f:close()
  end
  return doc
end

local METHODS = { "GET", "POST", "PUT", "PATCH", "DELETE" }

--- Every operation as { method, path, op }, in a stable order.
function M.operations()
  local out = {}
  for path, item in pairs(M.contract().paths) do
    for _, m in ipairs(METHODS) do
      if item[m:lower()] then out[#out + 1] = { method = m, path = path, op = item[m:lower()] } end
    end
  end
  table.sort(out, function(a, b) return a.path .. " " .. a.method < b.path .. " " .. b.method end)
  return out
end

--- The success status of an operation and its response schema (or nil).
function M.success(op)
  local best
  for code in pairs(op.responses) do
    local n = tonumber(code)
    if n and n >= 200 and n < 300 and (not best or n < best) then best = n end
  end
  local r = op.responses[tostring(best)]
  return best, r and r.schema
end

function M.body_param(op)
  for _, p in ipairs(op.parameters or {}) do
    if p["in"] == "body" then return p end
  end
end

function M.deref(s)
  for _ = 1, 10 do
    if not (s and s["$ref"]) then return s end
    s = M.contract().definitions[s["$ref"]:match("[^/]+$")]
  end
  return s
end

local function kind(s) return s.type or (s.properties and "object") or nil end
local function free_form(s) return kind(s) == "object" and not s.properties and not s.additionalProperties end

local function json_type(v)
  if v == cjson.null then return "null" end
  local t = type(v)
  if t == "table" then
    if next(v) == nil then return "empty" end -- cjson decodes [] and {} alike
    return v[1] ~= nil and "array" or "object"
  end
  if t == "number" then return v % 1 == 0 and "integer" or "number" end
  return t
end

local function fits(want, got)
  if want == "integer" then return got == "integer" end
  if want == "number" then return got == "integer" or got == "number" end
  if want == "array" or want == "object" then return got == want or got == "empty" end
  return want == nil or want == got
end

local check
check = function(schema, v, path, out, depth)
  local s = M.deref(schema)
  if not s or depth > 40 then return end
  local got = json_type(v)
  local at = path == "" and "(body)" or path
  if got == "null" then
    out[#out + 1] = at .. ": null (the service leaves a field out instead)"
    return
  end
  if free_form(s) then return end
  local want = kind(s)
  if not fits(want, got) then
    out[#out + 1] = at .. ": expected " .. tostring(want) .. ", got " .. got
    return
  end
  if s.enum and got == "string" then
    local ok = false
    for _, e in ipairs(s.enum) do ok = ok or e == v end
    if not ok then out[#out + 1] = at .. ": " .. v .. " is not one of " .. table.concat(s.enum, ", ") end
  end
  if want == "array" then
    for i, x in ipairs(v) do check(s.items, x, path .. "[" .. (i - 1) .. "]", out, depth + 1) end
  elseif want == "object" then
    for _, r in ipairs(s.required or {}) do
      if v[r] == nil then out[#out + 1] = (path == "" and "" or path .. ".") .. r .. ": required, missing" end
    end
    for k, x in pairs(v) do
      local ps = (s.properties or {})[k] or (type(s.additionalProperties) == "table" and s.additionalProperties)
      if ps then check(ps, x, (path == "" and "" or path .. ".") .. tostring(k), out, depth + 1) end
    end
  end
end

--- The problems of a decoded value against a schema (an empty list: valid).
function M.problems(schema, value)
  local out = {}
  check(schema, value, "", out, 0)
  table.sort(out)
  return out
end

local uuid_n = 0
--- A fresh random-looking UUID (version 4 layout).
function M.uuid()
  uuid_n = uuid_n + 1
  local r = function(n) return math.random(0, 16 ^ n - 1) end
  return string.format("%08x-%04x-4%03x-%04x-%012x", r(8), r(4), r(3), 0x8000 + r(3), r(10) * 256 + uuid_n % 256)
end

local function example(schema, name, depth)
  local s = M.deref(schema) or {}
  local t = kind(s)
  if t == "string" then
    if s.enum then return s.enum[1] end
    if s.format == "date-time" then return "2024-01-01T00:00:00.000Z" end
    if name and (name == "id" or name:match("Id$")) then return M.uuid() end
    return "x"
  end
  if t == "integer" or t == "number" then return 1 end
  if t == "boolean" then return true end
  if t == "array" then return setmetatable({}, { array = true }) end
  local out = {}
  if depth < 12 then
    for _, r in ipairs(s.required or {}) do out[r] = example((s.properties or {})[r] or {}, r, depth + 1) end
  end
  return out
end

--- A minimal valid instance of a schema: its required fields only.
function M.example(schema) return example(schema, nil, 0) end

local encode
encode = function(v, schema)
  local s = M.deref(schema) or {}
  if type(v) ~= "table" or v == cjson.null then return assert(cjson.encode(v)) end
  local mt = getmetatable(v)
  if kind(s) == "array" or (mt and mt.array) or v[1] ~= nil then
    local parts = {}
    for i, x in ipairs(v) do parts[i] = encode(x, s.items) end
    return "[" .. table.concat(parts, ",") .. "]"
  end
  local keys, parts = {}, {}
  for k in pairs(v) do keys[#keys + 1] = k end
  table.sort(keys)
  for _, k in ipairs(keys) do
    local ps = (s.properties or {})[k] or (type(s.additionalProperties) == "table" and s.additionalProperties) or {}
    parts[#parts + 1] = cjson.encode(k) .. ":" .. encode(v[k], ps)
  end
  return "{" .. table.concat(parts, ",") .. "}"
end

--- JSON text for a value, arrays where the schema has them.
function M.encode(value, schema) return encode(value, schema) end

--- An empty array that M.encode writes as [].
function M.array(t) return setmetatable(t or {}, { array = true }) end

return M
