-- Today's contract (api/today/swagger.json) for specs, independent of the
-- emulator's own reading of it (emulator/lua/emu/contract.lua): a checker of
-- decoded JSON against a schema or a definition (JSON types, required fields,
-- enums, date-times, arrays and maps, $refs, and no field an object's
-- definition does not name), assertions that an answer is the one its
-- operation declares, minimal valid request bodies, and a JSON encoder that
-- writes a schema's empty arrays as [] (cjson writes {}).
-- cjson decodes [] and {} alike, so M.decode keeps them apart: an answer
-- with {} where the contract has an array is refused.
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

local ARRAY, OBJECT = { json = "array" }, { json = "object" }

-- JSON text → Lua, arrays and objects marked (ARRAY, OBJECT metatables);
-- null as cjson.null. nil and a reason for text that is not JSON.
function M.decode(text)
  local pos = 1
  local function ws() pos = text:find("[^ \t\r\n]", pos) or #text + 1 end
  local value
  local function str()
    local s, e = pos, pos + 1
    while true do
      local q = text:find('["\\]', e)
      if not q then error("unterminated string") end
      if text:sub(q, q) == '"' then e = q break end
      e = q + 2
    end
    pos = e + 1
    return assert(cjson.decode(text:sub(s, e)))
  end
  value = function()
    ws()
    local c = text:sub(pos, pos)
    if c == "{" then
      pos = pos + 1
      local out = setmetatable({}, OBJECT)
      ws()
      if text:sub(pos, pos) == "}" then pos = pos + 1 return out end
      while true do
        ws()
        if text:sub(pos, pos) ~= '"' then error("expected a key at " .. pos) end
        local k = str()
        ws()
        if text:sub(pos, pos) ~= ":" then error("expected : at " .. pos) end
        pos = pos + 1
        out[k] = value()
        ws()
        local d = text:sub(pos, pos)
        pos = pos + 1
        if d == "}" then return out end
        if d ~= "," then error("expected , or } at " .. (pos - 1)) end
      end
    elseif c == "[" then
      pos = pos + 1
      local out = setmetatable({}, ARRAY)
      ws()
      if text:sub(pos, pos) == "]" then pos = pos + 1 return out end
      while true do
        out[#out + 1] = value()
        ws()
        local d = text:sub(pos, pos)
        pos = pos + 1
        if d == "]" then return out end
        if d ~= "," then error("expected , or ] at " .. (pos - 1)) end
      end
    elseif c == '"' then
      return str()
    else
      local lit = text:match("^[%w%.%+%-]+", pos)
      if not lit then error("unexpected " .. c .. " at " .. pos) end
      pos = pos + #lit
      local v = cjson.decode(lit)
      if v == nil then error("bad literal " .. lit) end
      return v
    end
  end
  local ok, v = pcall(function()
    local x = value()
    ws()
    if pos <= #text then error("trailing text at " .. pos) end
    return x
  end)
  if not ok then return nil, v end
  return v
end

local function json_type(v)
  if v == cjson.null then return "null" end
  local t = type(v)
  if t == "table" then
    local mt = getmetatable(v)
    if mt == ARRAY or mt == OBJECT then return mt.json end
    if next(v) == nil then return "empty" end -- decoded by cjson: [] and {} alike
    return v[1] ~= nil and "array" or "object"
  end
  if t == "number" then return v % 1 == 0 and "integer" or "number" end
  return t
end
--- The JSON type of a decoded value: null, array, object, empty (cjson's
-- [] or {}), integer, number, string, boolean.
M.json_type = json_type

local function fits(want, got)
  if want == "integer" then return got == "integer" end
  if want == "number" then return got == "integer" or got == "number" end
  if want == "array" or want == "object" then return got == want or got == "empty" end
  return want == nil or want == got
end

local function join(path, k) return (path == "" and "" or path .. ".") .. tostring(k) end

local check
check = function(schema, v, path, out, depth, opts)
  if not schema or depth > 40 then return end
  local at = path == "" and "(body)" or path
  local s = M.deref(schema)
  if not s then
    out[#out + 1] = at .. ": unknown definition " .. tostring(schema["$ref"])
    return
  end
  local got = json_type(v)
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
  if s.format == "date-time" and got == "string" and not v:match("^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%d") then
    out[#out + 1] = at .. ": not a date-time: " .. v
  end
  if want == "array" then
    for i, x in ipairs(v) do check(s.items, x, path .. "[" .. (i - 1) .. "]", out, depth + 1, opts) end
  elseif want == "object" then
    for _, r in ipairs(s.required or {}) do
      if v[r] == nil then out[#out + 1] = join(path, r) .. ": required, missing" end
    end
    for k, x in pairs(v) do
      local ps = (s.properties or {})[k] or (type(s.additionalProperties) == "table" and s.additionalProperties)
      if ps then
        check(ps, x, join(path, k), out, depth + 1, opts)
      elseif s.properties and not opts.extra_fields then
        out[#out + 1] = join(path, k) .. ": not a field of the definition"
      end
    end
  end
end

local function schema_of(schema_or_name)
  if type(schema_or_name) == "string" then return { ["$ref"] = "#/definitions/" .. schema_or_name } end
  return schema_or_name
end

--- The problems of a decoded value against a schema or a definition's name
-- (an empty list: valid). opts.extra_fields: let an object have fields its
-- definition does not name (they are refused otherwise).
function M.problems(schema, value, opts)
  local out = {}
  check(schema_of(schema), value, "", out, 0, opts or {})
  table.sort(out)
  return out
end

--- nil when a decoded value conforms to a schema or a definition's name,
-- else a message naming every problem by path (opts as M.problems).
function M.check(schema, value, opts)
  local bad = M.problems(schema, value, opts)
  if #bad > 0 then return table.concat(bad, "; ") end
end

--- The schema today's contract declares for an operation's answer with a
-- status: a schema, false (no body), nil (not one of its answers).
function M.response(method, path, status)
  local item = assert(M.contract().paths[path], "no path " .. path)
  local op = assert(item[method:lower()], "no operation " .. method .. " " .. path)
  local r = op.responses[tostring(status)]
  return r and (r.schema or false)
end

--- Assert an answer ({ status, body, json }) is one its operation declares:
-- its status, and a body that conforms to that status's schema (none where
-- the schema is none).
function M.conforms(res, method, path)
  local schema = M.response(method, path, res.status)
  assert(schema ~= nil, method .. " " .. path .. ": status " .. res.status .. " is not today's answer: " .. res.body)
  if schema == false then
    assert(res.body == "", method .. " " .. path .. ": the answer has no body, got " .. res.body)
    return
  end
  local problem = M.check(schema, res.json)
  assert(problem == nil, method .. " " .. path .. ": " .. tostring(problem))
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
