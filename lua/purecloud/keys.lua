--- The one rule for option tables: an unknown key is an argument error that
-- names the key and the nearest known one. A typo must never turn a safety
-- off without a word (`{ jurnal = "run.jsonl" }` running with no journal).
--
-- A base module: it requires only `purecloud.errors` (which raises).
-- @module purecloud.keys
local errors = require "purecloud.errors"

local M = {}

local byte, min, pairs, type, tostring = string.byte, math.min, pairs, type, tostring

-- Edit distance (insert, delete, substitute, swap of neighbours), cut off
-- past `limit`: only near names are worth suggesting.
local function distance(a, b, limit)
  local la, lb = #a, #b
  if la - lb > limit or lb - la > limit then return limit + 1 end
  local prev2, prev, cur = {}, {}, {}
  for j = 0, lb do prev[j] = j end
  for i = 1, la do
    cur[0] = i
    local ai = byte(a, i)
    for j = 1, lb do
      local bj = byte(b, j)
      local d = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ai == bj and 0 or 1))
      if i > 1 and j > 1 and ai == byte(b, j - 1) and byte(a, i - 1) == bj then
        d = min(d, prev2[j - 2] + 1)
      end
      cur[j] = d
    end
    prev2, prev, cur = prev, cur, prev2
  end
  return prev[lb]
end
M.distance = distance

--- The known name nearest to `name` (at most 2 edits, or a third of its
-- length for long names), or nil.
-- @param name the unknown key
-- @param ... tables whose keys are the known names (several sets may be given)
function M.nearest(name, ...)
  if type(name) ~= "string" then return nil end
  local limit = #name >= 9 and 3 or 2
  local best, best_d
  for s = 1, select("#", ...) do
    local set = select(s, ...)
    for k in pairs(set or {}) do
      if type(k) == "string" then
        local d = distance(name:lower(), k:lower(), limit)
        if d <= limit and (not best_d or d < best_d or (d == best_d and k < best)) then best, best_d = k, d end
      end
    end
  end
  return best
end

--- The message for an unknown key `k` of the option table of `where`.
function M.unknown(where, k, ...)
  local near = M.nearest(k, ...)
  return ("purecloud: %s: unknown option '%s'%s"):format(where, tostring(k),
    near and (" (did you mean '" .. near .. "'?)") or "")
end

--- The first problem of the option table `opts` against `types` (name →
-- "string", "table|boolean", …): an unknown key, naming the nearest known
-- one, or a value of another type; nil when there is none. The caller
-- raises it with its own name, where its caller called.
function M.typed_problem(opts, types)
  for k, v in pairs(opts) do
    local spec = types[k]
    if not spec then
      local near = M.nearest(k, types)
      return ("unknown option '%s'%s"):format(tostring(k), near and (" (did you mean '" .. near .. "'?)") or "")
    end
    local ok = false
    for t in spec:gmatch("[^|]+") do ok = ok or type(v) == t end
    if not ok then return ("option '%s' must be a %s, got %s"):format(k, (spec:gsub("|", " or ")), type(v)) end
  end
end

--- Raise (at the caller's line: `errors.usage`) for the first key of
-- `opts` that is not a key of `known`.
function M.check(opts, known, where)
  for k in pairs(opts) do
    if known[k] == nil then errors.usage(M.unknown(where, k, known)) end
  end
  return opts
end

return M
