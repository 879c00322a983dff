-- JSON for the emulator: cjson decodes; encoding is our own so an empty
-- array can be told from an empty object (Debian's lua-cjson 2.1 cannot).
local cjson = require "cjson.safe"

local M = {}

M.null = cjson.null
local ARRAY = { __jsontype = "array" }
local OBJECT = { __jsontype = "object" }

local RAW = { __jsontype = "raw" }

function M.array(t) return setmetatable(t or {}, ARRAY) end
-- Pre-encoded JSON text, inserted as is (cached entity encodings).
function M.raw(text) return setmetatable({ text }, RAW) end
function M.object(t) return setmetatable(t or {}, OBJECT) end

function M.decode(s) return cjson.decode(s) end

local escapes = { ['"'] = '\\"', ["\\"] = "\\\\", ["\b"] = "\\b", ["\f"] = "\\f",
                  ["\n"] = "\\n", ["\r"] = "\\r", ["\t"] = "\\t" }
local function esc(s)
  return '"' .. s:gsub('[%c"\\]', function(c)
    return escapes[c] or string.format("\\u%04x", c:byte())
  end) .. '"'
end

local function is_array(t)
  local mt = getmetatable(t)
  if mt == ARRAY then return true end
  if mt == OBJECT then return false end
  local n = #t
  if n == 0 then return next(t) == nil and false end
  for k in pairs(t) do
    if type(k) ~= "number" or k < 1 or k > n or k % 1 ~= 0 then return false end
  end
  return true
end

local encode
encode = function(v, out)
  local t = type(v)
  if t == "string" then
    out[#out + 1] = esc(v)
  elseif t == "number" then
    if v ~= v or v == math.huge or v == -math.huge then
      out[#out + 1] = "null"
    elseif v % 1 == 0 and v > -1e15 and v < 1e15 then
      out[#out + 1] = string.format("%d", v)
    else
      out[#out + 1] = string.format("%.14g", v)
    end
  elseif t == "boolean" then
    out[#out + 1] = v and "true" or "false"
  elseif t == "table" then
    if getmetatable(v) == RAW then
      out[#out + 1] = v[1]
    elseif is_array(v) then
      out[#out + 1] = "["
      for i = 1, #v do
        if i > 1 then out[#out + 1] = "," end
        encode(v[i], out)
      end
      out[#out + 1] = "]"
    else
      out[#out + 1] = "{"
      local keys = {}
      for k in pairs(v) do
        if type(k) == "string" and k:sub(1, 1) ~= "_" then keys[#keys + 1] = k end
      end
      table.sort(keys)
      for i, k in ipairs(keys) do
        if i > 1 then out[#out + 1] = "," end
        out[#out + 1] = esc(k)
        out[#out + 1] = ":"
        encode(v[k], out)
      end
      out[#out + 1] = "}"
    end
  else
    out[#out + 1] = "null"
  end
end

function M.encode(v)
  local out = {}
  encode(v, out)
  return table.concat(out)
end

return M
