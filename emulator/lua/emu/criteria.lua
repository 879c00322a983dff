-- Search criteria as users search (routes/search.lua: UserSearchCriteria)
-- and groups search (routes/groups.lua: GroupSearchCriteria) apply them:
-- the checks the contract's schema leaves to the service, the match of an
-- item, paging by pageSize/pageNumber and the results page with its q64
-- links. What an item's field holds is the caller's (values_of).
local errors = require "emu.errors"
local json = require "emu.json"

local M = {}

-- Words of a lower-cased value, as TERM, TERMS and QUERY_STRING split it.
local WORD = "[^%s%.@_%-]+"

-- QUERY_STRING: whitespace-separated terms, all required; a term is `word`
-- (any of the criterion's fields) or `field:word`; `*` and `?` are wildcards;
-- a word matches a whole word of the field's value, case-insensitively.
local function query_string_matches(item, fields, text, values_of)
  for term in tostring(text):lower():gmatch("%S+") do
    local field, word = term:match("^([%w%.]+):(.+)$")
    local in_fields = field and { field } or fields
    word = word or term
    local pat = "^" .. word:gsub("[%^%$%(%)%%%.%[%]%+%-]", "%%%0"):gsub("%*", ".*"):gsub("%?", ".") .. "$"
    local hit = false
    for _, f in ipairs(in_fields) do
      for _, have in ipairs(values_of(item, f)) do
        if have:match(pat) then hit = true break end
        for w in have:gmatch(WORD) do
          if w:match(pat) then hit = true break end
        end
        if hit then break end
      end
      if hit then break end
    end
    if not hit then return false end
  end
  return true
end

local function criterion_matches(item, c, values_of, default_fields)
  local fields = c.fields or default_fields
  local t = c.type
  if t == "MATCH_ALL" then return true end
  if t == "QUERY_STRING" then
    if c.value ~= nil and not query_string_matches(item, fields, c.value, values_of) then return false end
    for _, v in ipairs(c.values or {}) do
      if not query_string_matches(item, fields, v, values_of) then return false end
    end
    return true
  end
  if t == "REQUIRED_FIELDS" then
    for _, f in ipairs(fields) do if #values_of(item, f) == 0 then return false end end
    return true
  end
  local wanted = {}
  if c.value then wanted[1] = tostring(c.value):lower() end
  for _, v in ipairs(c.values or {}) do wanted[#wanted + 1] = tostring(v):lower() end
  for _, f in ipairs(fields) do
    for _, have in ipairs(values_of(item, f)) do
      for _, w in ipairs(wanted) do
        if t == "EXACT" and have == w then return true end
        if t == "STARTS_WITH" and have:sub(1, #w) == w then return true end
        if t == "CONTAINS" and have:find(w, 1, true) then return true end
        if t == "TERM" or t == "TERMS" then
          for word in have:gmatch(WORD) do if word == w then return true end end
        end
        if t == "REGEX" then
          local ok, m = pcall(ngx.re.find, have, w, "jo")
          if ok and m then return true end
        end
      end
    end
  end
  return false
end

--- Whether an item matches a list of criteria: they combine with AND unless
-- a criterion says OR; NOT negates; a `group` is a nested list.
-- values_of(item, field) → the field's values as lower-cased strings;
-- default_fields: the fields of a criterion that names none.
function M.matches(item, criteria, values_of, default_fields)
  local result, any_or, or_hit = true, false, false
  for _, c in ipairs(criteria) do
    local m
    if c.group then m = M.matches(item, c.group, values_of, default_fields)
    else m = criterion_matches(item, c, values_of, default_fields) end
    if c.operator == "NOT" then m = not m end
    if c.operator == "OR" then
      any_or = true
      if m then or_hit = true end
    elseif not m then
      result = false
    end
  end
  if any_or then return result and or_hit end
  return result
end

--- Check a list of criteria (types: the set of search types the route
-- knows); the service's 400 for the first bad one. Field paths are 0-based,
-- as the service reports them (query[0].type).
function M.check(list, path, types)
  if type(list) ~= "table" then return end
  for i, c in ipairs(list) do
    local p = path .. "[" .. (i - 1) .. "]"
    if type(c) ~= "table" then
      errors.bad_request("invalid.value", p .. " must be an object", { details = { { errorCode = "invalid.value", fieldName = p } } })
    end
    if c.group then M.check(c.group, p .. ".group", types) end
    if not c.type and not c.group then
      errors.bad_request("bad.request", p .. ".type is required", { details = { { errorCode = "required", fieldName = p .. ".type" } } })
    end
    if c.type and not types[c.type] then
      errors.bad_request("invalid.value", p .. ".type: unknown search type " .. tostring(c.type),
        { details = { { errorCode = "invalid.value", fieldName = p .. ".type" } } })
    end
    if c.type and c.type ~= "REQUIRED_FIELDS" and c.type ~= "MATCH_ALL" and c.value == nil and c.values == nil then
      errors.bad_request("bad.request", p .. ": value or values is required",
        { details = { { errorCode = "required", fieldName = p .. ".value" } } })
    end
  end
end

--- A search body's page size and number (25 and 1 by default); the service's
-- 400 for a size outside 1..100 or a number below 1.
function M.paging(body)
  local size = body.pageSize or 25
  local number = body.pageNumber or 1
  if type(size) ~= "number" or size < 1 or size > 100 or size % 1 ~= 0 then
    errors.bad_request("invalid.value", "pageSize must be an integer from 1 to 100",
      { details = { { errorCode = "invalid.value", fieldName = "pageSize" } } })
  end
  if type(number) ~= "number" or number < 1 or number % 1 ~= 0 then
    errors.bad_request("invalid.value", "pageNumber must be a positive integer",
      { details = { { errorCode = "invalid.value", fieldName = "pageNumber" } } })
  end
  return size, number
end

-- The q64 of the same search at another page.
local function q64_for(body, n)
  local copy = {}
  for k, v in pairs(body) do copy[k] = v end
  copy.pageNumber = n
  return ngx.encode_base64(json.encode(copy))
end

--- The results page of a search: hits (sorted) paged by size and number, each
-- rendered; kind names the results' type ("users", "groups"); currentPage,
-- previousPage and nextPage as the q64 of the same body at that page.
function M.results(body, hits, size, number, kind, render)
  local total = #hits
  local count = math.ceil(total / size)
  local results = json.array({})
  for i = (number - 1) * size + 1, math.min(total, number * size) do results[#results + 1] = render(hits[i]) end
  local out = { total = total, pageCount = count, pageSize = size, pageNumber = number, types = json.array({ kind }),
                results = results, currentPage = q64_for(body, number) }
  if number > 1 then out.previousPage = q64_for(body, math.min(number - 1, math.max(count, 1))) end
  if number < count then out.nextPage = q64_for(body, number + 1) end
  return out
end

return M
