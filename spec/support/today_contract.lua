-- Responses checked against today's contract (api/today/swagger.json): JSON
-- types, required fields, enums and no field the definition does not name.
-- check(schema_or_definition_name, value) → nil when it conforms, else a
-- message naming every violation by path.
local cjson = require "cjson.safe"

local M = {}

local doc
local function definitions()
  if not doc then
    local f = assert(io.open("api/today/swagger.json", "rb"))
    doc = assert(cjson.decode(f:read("a")))
    f:close()
  end
  return doc.definitions
end

local function is_array(v)
  if type(v) ~= "table" then return false end
  local n = 0
  for k in pairs(v) do
    if type(k) ~= "number" then return false end
    n = n + 1
  end
  return n == #v
end

local function walk(schema, v, path, bad, depth)
  if depth > 40 then return end
  local ref = schema["$ref"]
  if ref then
    local name = ref:match("[^/]+$")
    local s = definitions()[name]
    if not s then bad[#bad + 1] = path .. ": unknown definition " .. name return end
    return walk(s, v, path, bad, depth + 1)
  end
  if v == cjson.null then bad[#bad + 1] = path .. ": null (the service leaves absent fields out)" return end
  local t = schema.type or (schema.properties and "object")
  if t == "string" then
    if type(v) ~= "string" then bad[#bad + 1] = path .. ": expected string, got " .. type(v) return end
    if schema.enum then
      local ok = false
      for _, e in ipairs(schema.enum) do if e == v then ok = true end end
      if not ok then bad[#bad + 1] = path .. ": " .. v .. " is not one of the enum" end
    end
    if schema.format == "date-time" and not v:match("^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%d") then
      bad[#bad + 1] = path .. ": not a date-time: " .. v
    end
  elseif t == "number" or t == "integer" then
    if type(v) ~= "number" then bad[#bad + 1] = path .. ": expected number, got " .. type(v) return end
    if t == "integer" and v % 1 ~= 0 then bad[#bad + 1] = path .. ": expected an integer" end
  elseif t == "boolean" then
    if type(v) ~= "boolean" then bad[#bad + 1] = path .. ": expected boolean, got " .. type(v) end
  elseif t == "array" then
    -- cjson decodes [] as an empty table: an empty table passes as an array.
    if not is_array(v) then bad[#bad + 1] = path .. ": expected array" return end
    for i, x in ipairs(v) do walk(schema.items or {}, x, path .. "[" .. (i - 1) .. "]", bad, depth + 1) end
  elseif t == "object" then
    if type(v) ~= "table" or (#v > 0) then bad[#bad + 1] = path .. ": expected object" return end
    for _, r in ipairs(schema.required or {}) do
      if v[r] == nil then bad[#bad + 1] = path .. "." .. r .. ": required" end
    end
    local props = schema.properties
    for k, x in pairs(v) do
      local p = props and props[k]
      if p then
        walk(p, x, path .. "." .. k, bad, depth + 1)
      elseif type(schema.additionalProperties) == "table" then
        walk(schema.additionalProperties, x, path .. "." .. k, bad, depth + 1)
      elseif props then
        bad[#bad + 1] = path .. "." .. tostring(k) .. ": not a field of the definition"
      end
    end
  end
end

function M.check(schema, value)
  if type(schema) == "string" then schema = { ["$ref"] = "#/definitions/" .. schema } end
  local bad = {}
  walk(schema, value, "body", bad, 0)
  if #bad > 0 then return table.concat(bad, "; ") end
end

-- The 2xx response schema today's contract declares for an operation.
function M.response(method, path, status)
  definitions()
  local op = assert(doc.paths[path], "no path " .. path)[method:lower()]
  assert(op, "no operation " .. method .. " " .. path)
  local r = op.responses[tostring(status)]
  return r and (r.schema or false)
end

-- Assert a response conforms to its operation's declared answer (status and schema).
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

return M
