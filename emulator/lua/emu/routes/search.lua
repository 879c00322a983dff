-- Users search: POST a UserSearchRequest, follow pages with the q64 values.
local state = require "emu.state"
local errors = require "emu.errors"
local validate = require "emu.validate"
local criteria = require "emu.criteria"
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

local function check_criteria(list, path) criteria.check(list, path, TYPES) end

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

local function run(body)
  local size, number = criteria.paging(body)
  local query = body.query or {}
  check_criteria(query, "query")
  local hits = {}
  -- Deleted users only match criteria that name the state field.
  local pool = mentions_state(query) and state.users_of_state("ascending", "any") or state.users_sorted()
  for _, u in ipairs(pool) do
    if criteria.matches(u, query, values_of, DEFAULT_FIELDS) then hits[#hits + 1] = u end
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
  local render = require("emu.routes.users").renderer(expand_set(body.expand))
  return 200, criteria.results(body, hits, size, number, "users", render)
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
