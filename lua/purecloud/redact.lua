--- What a trace log may show of a request or response body.
--
-- Redaction works on the decoded structure, not on text patterns: a JSON
-- body is decoded (so `"pass\u0077ord"` is seen as `password`), every value
-- whose key names a secret is replaced whatever its type, and the result is
-- encoded again. A form body is redacted by field the same way. Anything that
-- cannot be decoded is not shown at all, only its size.
--
-- The body keeps its shape: it is decoded by the library's own decoder with
-- its nulls kept (`core.json_decode(body, true)`: an object member's null
-- stays `null`, an empty array stays `[]` through `core.array_mt`) and
-- encoded by the library's encoder (`core.encode_json`), which honours both.
-- @module purecloud.redact
local core = require "purecloud.core"

local M = {}

-- A key is secret when, lower-cased, it contains one of these.
local SECRET_WORDS = { "password", "secret", "token", "assertion", "credential", "authorization", "code_verifier" }

local function secret_key(k)
  if type(k) ~= "string" then return false end
  local lower = k:lower()
  for _, w in ipairs(SECRET_WORDS) do
    if lower:find(w, 1, true) then return true end
  end
  return false
end
M.secret_key = secret_key

-- Tables deeper than this show as "[too deep]": a string at depth 64, the
-- deepest value core.encode_json writes.
local MAX_DEPTH = 63

local function walk(v, depth)
  if type(v) ~= "table" then return v end
  if depth > MAX_DEPTH then return "[too deep]" end
  local out = {}
  for k, x in pairs(v) do
    if secret_key(k) then out[k] = "[REDACTED]" else out[k] = walk(x, depth + 1) end
  end
  return setmetatable(out, getmetatable(v))
end

local function url_decode(s)
  return (s:gsub("+", " "):gsub("%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end))
end

--- The loggable form of `body` (a string or nil).
function M.body(body)
  if body == nil or body == "" then return "(none)" end
  if type(body) ~= "string" then return "(not text)" end
  local value = core.json_decode(body, true)
  if value ~= nil then
    if type(value) ~= "table" then return body end
    local text = core.encode_json(walk(value, 0))
    return text or ("(%d bytes, not shown)"):format(#body)
  end
  if body:find("^[%w%%%._~%-]+=[^&]*") then -- application/x-www-form-urlencoded
    local parts = {}
    for pair in body:gmatch("[^&]+") do
      local k, v = pair:match("^([^=]*)=?(.*)$")
      if secret_key(url_decode(k)) then v = "[REDACTED]" end
      parts[#parts + 1] = k .. "=" .. v
    end
    return table.concat(parts, "&")
  end
  return ("(%d bytes, not shown)"):format(#body)
end

return M
