-- Users search: POST a UserSearchRequest, follow pages with the q64 values.
local state = require "emu.state"
local errors = require "emu.errors"
local validate = require "emu.validate"
local json = require "emu.json"

local M = {}

local TYPES = { EXACT = true, STARTS_WITH = true, CONTAINS = true, REGEX = true, TERM = true, TERMS = true,
                REQUIRED_FIELDS = true, MATCH_ALL = true, QUERY_STRING = true }
local DEFAULT_FIELDS = { "name", "email", "username", "department", "title" }

-- Values of a dotted field ("addresses.address") as a flat list of strings.
local function values_of(u, field)
  local cur = { u }
  for part in field:gmatch("[^%.]+") do
    local nxt = {}
    for _, v in ipairs(cur) do
      local x = type(v) == "table" and v[part]
      if type(x) == "table" and x[1] ~= nil then
        for _, y in ipairs(x) do nxt[#nxt + 1] = y end
      elseif x ~= nil and x ~= false then
        nxt[#nxt + 1] = x
      end
    end
    cur = nxt
  end
  local out = {}
  for _, v in ipairs(cur) do if type(v) ~= "table" then out[#out + 1] = tostring(v):lower() end end
  return out
end

local function plain_find(s, sub) return s:find(sub, 1, true) ~= nil end

-- QUERY_STRING: whitespace-separated terms, all required; a term is `word`
-- (any of the criterion's fields) or `field:word`; `*` and `?` are wildcards;
-- a word matches a whole word of the field's value, case-insensitively.
local function query_string_matches(u, fields, text)
  for term in tostring(text):lower():gmatch("%S+") do
    local field, word = term:match("^([%w%.]+):(.+)$")
    local in_fields = field and { field } or fields
    word = word or term
    local pat = "^" .. word:gsub("[%^%$%(%)%%%.%[%]%+%-]", "%%%0"):gsub("%*", ".*"):gsub("%?", ".") .. "$"
    local hit = false
    for _, f in ipairs(in_fields) do
      for _, have in ipairs(values_of(u, f)) do
        if have:match(pat) then hit = true break end
        for w in have:gmatch("[^%s%.@_%-]+") do
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

local function criterion_matches(u, c)
  local fields = c.fields or DEFAULT_FIELDS
  local t = c.type
  if t == "MATCH_ALL" then return true end
  if t == "QUERY_STRING" then
    if c.value ~= nil and not query_string_matches(u, fields, c.value) then return false end
    for _, v in ipairs(c.values or {}) do if not query_string_matches(u, fields, v) then return false end end
    return true
  end
  if t == "REQUIRED_FIELDS" then
    for _, f in ipairs(fields) do if #values_of(u, f) == 0 then return false end end
    return true
  end
  local wanted = {}
  if c.value then wanted[1] = tostring(c.value):lower() end
  for _, v in ipairs(c.values or {}) do wanted[#wanted + 1] = tostring(v):lower() end
  for _, f in ipairs(fields) do
    for _, have in ipairs(values_of(u, f)) do
      for _, w in ipairs(wanted) do
        if t == "EXACT" and have == w then return true end
        if t == "STARTS_WITH" and have:sub(1, #w) == w then return true end
        if t == "CONTAINS" and plain_find(have, w) then return true end
        if (t == "TERM" or t == "TERMS") then
          for word in have:gmatch("[^%s%.@_%-]+") do if word == w then return true end end
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

local function group_matches(u, criteria)
  -- Criteria combine with AND unless a criterion says OR; NOT negates.
  local result, any_or, or_hit = true, false, false
  for _, c in ipairs(criteria) do
    local m
    if c.group then m = group_matches(u, c.group) else m = criterion_matches(u, c) end
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

-- Field paths are 0-based, as the service reports them (query[0].type).
local function check_criteria(list, path)
  if type(list) ~= "table" then return end
  for i, c in ipairs(list) do
    local p = path .. "[" .. (i - 1) .. "]"
    if type(c) ~= "table" then
      errors.bad_request("invalid.value", p .. " must be an object", { details = { { errorCode = "invalid.value", fieldName = p } } })
    end
    if c.group then check_criteria(c.group, p .. ".group") end
    if not c.type and not c.group then
      errors.bad_request("bad.request", p .. ".type is required", { details = { { errorCode = "required", fieldName = p .. ".type" } } })
    end
    if c.type and not TYPES[c.type] then
      errors.bad_request("invalid.value", p .. ".type: unknown search type " .. tostring(c.type),
        { details = { { errorCode = "invalid.value", fieldName = p .. ".type" } } })
    end
    if c.type and c.type ~= "REQUIRED_FIELDS" and c.type ~= "MATCH_ALL" and c.value == nil and c.values == nil then
      errors.bad_request("bad.request", p .. ": value or values is required",
        { details = { { errorCode = "required", fieldName = p .. ".value" } } })
    end
  end
end

local function mentions_state(list)
  for _, c in ipairs(list) do
    if c.group and mentions_state(c.group) then return true end
    for _, f in ipairs(c.fields or {}) do if f == "state" then return true end end
    if c.type == "QUERY_STRING" and tostring(c.value or ""):find("state:", 1, true) then return true end
  end
  return false
end

local function expand_set(list)
  local want = {}
  for _, v in ipairs(type(list) == "table" and list or {}) do want[v] = true end
  return want
end

local function q64_for(body, n)
  local copy = {}
  for k, v in pairs(body) do copy[k] = v end
  copy.pageNumber = n
  return ngx.encode_base64(json.encode(copy))
end

local function run(body)
  local size = body.pageSize or 25
  local number = body.pageNumber or 1
  if type(size) ~= "number" or size < 1 or size > 100 or size % 1 ~= 0 then
    errors.bad_request("invalid.value", "pageSize must be an integer from 1 to 100", { details = { { errorCode = "invalid.value", fieldName = "pageSize" } } })
  end
  if type(number) ~= "number" or number < 1 or number % 1 ~= 0 then
    errors.bad_request("invalid.value", "pageNumber must be a positive integer", { details = { { errorCode = "invalid.value", fieldName = "pageNumber" } } })
  end
  local criteria = body.query or {}
  check_criteria(criteria, "query")
  local hits = {}
  -- Deleted users only match criteria that name the state field.
  local pool = mentions_state(criteria) and state.users_of_state("ascending", "any") or state.users_sorted()
  for _, u in ipairs(pool) do
    if group_matches(u, criteria) then hits[#hits + 1] = u end
  end
  -- sort (today: a list of { sortBy, sortOrder }) or the older sortBy/sortOrder pair.
  local keys = {}
  for _, k in ipairs(type(body.sort) == "table" and body.sort or {}) do
    keys[#keys + 1] = { by = k.sortBy or "name", desc = k.sortOrder == "DESC" }
  end
  if #keys == 0 and (body.sortBy or body.sortOrder) then
    keys[1] = { by = body.sortBy or "name", desc = body.sortOrder == "DESC" }
  end
  if #keys > 0 then
    table.sort(hits, function(a, b)
      for _, k in ipairs(keys) do
        local x, y = (values_of(a, k.by)[1] or ""), (values_of(b, k.by)[1] or "")
        if x ~= y then if k.desc then return x > y end return x < y end
      end
      return a.id < b.id
    end)
  end
  local total = #hits
  local count = math.ceil(total / size)
  local results = json.array({})
  local render = require("emu.routes.users").renderer(expand_set(body.expand))
  for i = (number - 1) * size + 1, math.min(total, number * size) do results[#results + 1] = render(hits[i]) end
  local out = { total = total, pageCount = count, pageSize = size, pageNumber = number, types = json.array({ "users" }),
                results = results, currentPage = q64_for(body, number) }
  if number > 1 then out.previousPage = q64_for(body, math.min(number - 1, math.max(count, 1))) end
  if number < count then out.nextPage = q64_for(body, number + 1) end
  return 200, out
end

local function post(req)
  if type(req.body) == "table" then check_criteria(req.body.query, "query") end
  local body = validate.body("UserSearchRequest", req.body)
  return run(body)
end

local function get(req)
  local q64 = validate.query(req, "q64")
  if not q64 or q64 == "" then errors.bad_request("bad.request", "q64 is required") end
  local text = ngx.decode_base64(q64)
  local body = text and json.decode(text)
  if type(body) ~= "table" then errors.bad_request("bad.request", "q64 is not a valid search") end
  -- expand and integrationPresenceSource come as query parameters here (api/today.lua: getSearch).
  if req.query.expand then body.expand = req.query.expand end
  local src = validate.query(req, "integrationPresenceSource")
  if src then body.integrationPresenceSource = src end
  check_criteria(body.query, "query")
  validate.body("UserSearchRequest", body)
  return run(body)
end

function M.register(app)
  app.add("POST", "/api/v2/users/search", post)
  app.add("GET", "/api/v2/users/search", get)
end

return M
