-- The stable JSON of the generated data files, so they diff line by line:
-- keys sorted, one member or element a line, two spaces an indent.
--
--   local encode = require "sorted_json"   -- tools (package.path: tools/?.lua)
--   encode(value [, opts]) -> text (no final newline)
--
-- Without opts: api/today/facts.json's layout (tools/collect-facts.lua):
-- every array element on its own line, an empty table as {}, "/" plain.
-- opts.inline: api/today/swagger.json's (tools/derive-contract.lua): an
-- array of scalars (or an empty table) on one line, "[a, b]" or "[]", and
-- keys and those arrays as cjson writes them ("/" as "\/"); other strings
-- with "/" plain, as in the other layout.
local cjson = require "cjson"

local function scalar(v) return (cjson.encode(v):gsub("\\/", "/")) end

local function sorted_keys(t)
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = k end
  table.sort(keys)
  return keys
end

local encode
encode = function(v, indent, out, inline)
  if type(v) ~= "table" then
    out[#out + 1] = scalar(v)
    return
  end
  local pad = ("  "):rep(indent + 1)
  local empty = next(v) == nil
  if inline and (#v > 0 or empty) then
    local simple = true
    for _, x in ipairs(v) do if type(x) == "table" then simple = false end end
    if simple then
      local parts = {}
      for i, x in ipairs(v) do parts[i] = cjson.encode(x) end
      out[#out + 1] = "[" .. table.concat(parts, ", ") .. "]"
      return
    end
  end
  if #v > 0 then
    out[#out + 1] = "[\n"
    for i, x in ipairs(v) do
      out[#out + 1] = pad
      encode(x, indent + 1, out, inline)
      out[#out + 1] = i < #v and ",\n" or "\n"
    end
    out[#out + 1] = ("  "):rep(indent) .. "]"
  elseif empty then
    out[#out + 1] = "{}"
  else
    local keys = sorted_keys(v)
    out[#out + 1] = "{\n"
    for i, k in ipairs(keys) do
      out[#out + 1] = pad .. (inline and cjson.encode(k) or scalar(k)) .. ": "
      encode(v[k], indent + 1, out, inline)
      out[#out + 1] = i < #keys and ",\n" or "\n"
    end
    out[#out + 1] = ("  "):rep(indent) .. "}"
  end
end

return function(value, opts)
  local out = {}
  encode(value, 0, out, opts and opts.inline)
  return table.concat(out)
end
