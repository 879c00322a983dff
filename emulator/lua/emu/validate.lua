-- Request validation against the contract's definitions: JSON types, enums,
-- required fields. Unknown fields pass (the service ignores them). Every bad
-- field is reported at once, by path, in the 400's details.
local errors = require "emu.errors"
local json = require "emu.json"
local state = require "emu.state"

local M = {}

local function deref(schema)
  local ref = schema["$ref"]
  if ref then return state.contract.definitions[ref:match("[^/]+$")], ref:match("[^/]+$") end
  return schema
end

local function json_type(v)
  if v == json.null then return "null" end
  local t = type(v)
  if t == "table" then
    if v == json.null then return "null" end
    if next(v) == nil then return "empty" end
    if v[1] ~= nil then return "array" end
    return "object"
  end
  if t == "number" then return (v % 1 == 0) and "integer" or "number" end
  return t
end

local check
check = function(schema, v, path, bad, opts, depth)
  if depth > 30 then return end
  local s, name = deref(schema)
  if not s then return end
  local want = s.type or (s.properties and "object") or nil
  local got = json_type(v)
  if got == "null" then return end
  if want == "integer" and got ~= "integer" or want == "number" and got ~= "integer" and got ~= "number"
     or want == "string" and got ~= "string" or want == "boolean" and got ~= "boolean"
     or want == "array" and got ~= "array" and got ~= "empty"
     or want == "object" and got ~= "object" and got ~= "empty" then
    bad[#bad + 1] = { fieldName = path, errorCode = "invalid.value",
                      message = path .. ": expected " .. want .. ", got " .. (got == "empty" and "empty table" or got) }
    return
  end
  if s.enum and got == "string" then
    local ok = false
    for _, e in ipairs(s.enum) do if e == v then ok = true break end end
    if not ok then
      bad[#bad + 1] = { fieldName = path, errorCode = "invalid.value",
                        message = path .. ": value [" .. v .. "] is not one of " .. table.concat(s.enum, ", ") }
    end
  end
  if want == "array" and s.items then
    for i, item in ipairs(v) do check(s.items, item, path .. "[" .. i .. "]", bad, opts, depth + 1) end
  elseif want == "object" and type(v) == "table" then
    local required = s.required
    local override = opts.request_required and name and opts.request_required[name]
    if override then required = override end
    if depth == 0 and opts.ignore_required then required = nil end
    for _, r in ipairs(required or {}) do
      if v[r] == nil or v[r] == json.null then
        bad[#bad + 1] = { fieldName = (path ~= "" and path .. "." or "") .. r, errorCode = "required",
                          message = (path ~= "" and path .. "." or "") .. r .. ": required" }
      end
    end
    for k, p in pairs(s.properties or {}) do
      if v[k] ~= nil then check(p, v[k], (path ~= "" and path .. "." or "") .. k, bad, opts, depth + 1) end
    end
    if s.additionalProperties and type(s.additionalProperties) == "table" then
      for k, item in pairs(v) do
        if not (s.properties or {})[k] then
          check(s.additionalProperties, item, (path ~= "" and path .. "." or "") .. k, bad, opts, depth + 1)
        end
      end
    end
  end
end

-- Validate a decoded body; raise a 400 naming every bad field.
-- schema: a definition name or a schema table.
function M.body(schema, value, opts)
  opts = opts or {}
  if type(schema) == "string" then schema = { ["$ref"] = "#/definitions/" .. schema } end
  if value == nil then errors.bad_request("bad.request", "A request body is required") end
  local bad = {}
  check(schema, value, "", bad, opts, 0)
  if #bad > 0 then
    local msgs, details = {}, {}
    for i, b in ipairs(bad) do
      msgs[i] = b.message
      details[i] = { errorCode = b.errorCode, fieldName = b.fieldName }
    end
    local code = bad[1].errorCode == "required" and "bad.request" or "invalid.value"
    errors.bad_request(code, "Invalid request body: " .. table.concat(msgs, "; "), { details = details })
  end
  return value
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
