-- Groups: listing, one group, search (the users search's shape: POST a
-- GroupSearchRequest, follow pages with q64), members (add, remove, list)
-- and expand=groups on a user. Membership is the catalog group's `members`
-- set (user id → true), the one store every route reads.
local state = require "emu.state"
local errors = require "emu.errors"
local validate = require "emu.validate"
local paging = require "emu.paging"
local json = require "emu.json"
local catalog = require "emu.catalog"
local criteria = require "emu.criteria"

local M = {}

local G = "/api/v2/groups"
local MAX_MEMBERS = 50 -- per request (GroupMembersUpdate.memberIds, deleteGroupMembers ids: "A maximum of 50")

local function group_view(g)
  return { id = g.id, name = g.name, description = g.description or (g.name .. " group"), type = g.type,
           visibility = g.visibility, rulesVisible = false, state = g.state, version = g.version,
           memberCount = #catalog.group_members(state, g), dateModified = g.dateModified or "2023-11-14T22:13:20.000Z",
           rolesEnabled = false, callsEnabled = false, includeOwners = false, selfUri = G .. "/" .. g.id }
end
M.group_view = group_view

local function get_group_or_404(id)
  local g = state.catalog.groups[id]
  if not g then errors.not_found("The group does not exist: " .. id) end
  return g
end

-- sortOrder: today's default "ASC", and DESC (ascending/descending accepted too).
local function sort_order(req)
  return validate.query_enum(req, "sortOrder", { ASC = { "ASC", "ascending" }, DESC = { "DESC", "descending" } }, "ASC")
end

local function by_name(desc)
  return function(a, b)
    if a.name ~= b.name then if desc then return a.name > b.name end return a.name < b.name end
    return a.id < b.id
  end
end

local function list_groups(req)
  local order = sort_order(req)
  local ids = catalog.query_list(req, "id")
  local want = {}
  for _, x in ipairs(ids) do want[x] = true end
  local items = {}
  -- Groups have no jabber ids in the emulator: a jabberId filter matches none.
  if #catalog.query_list(req, "jabberId") == 0 then
    for _, g in ipairs(state.catalog.group_list) do
      if #ids == 0 or want[g.id] then items[#items + 1] = g end
    end
  end
  table.sort(items, by_name(order == "DESC"))
  local extra = {}
  for _, x in ipairs(ids) do extra[#extra + 1] = "id=" .. ngx.escape_uri(x) end
  if order == "DESC" then extra[#extra + 1] = "sortOrder=DESC" end
  return 200, paging.page(items, req, G, extra, group_view)
end

-- Search ------------------------------------------------------------------
-- Today's GroupSearchCriteria types (the users search's but QUERY_STRING:
-- the group criteria's enum has none).
local TYPES = { EXACT = true, STARTS_WITH = true, CONTAINS = true, REGEX = true, TERM = true, TERMS = true,
                REQUIRED_FIELDS = true, MATCH_ALL = true }
local DEFAULT_FIELDS = { "name", "description" }

local function field_values(g, field)
  local v = group_view(g)[field]
  if v == nil or type(v) == "table" then return {} end
  return { tostring(v):lower() }
end

-- The body is checked against today's GroupSearchRequest first: the
-- criteria reach criteria.check as objects with a type.
local function run(body)
  validate.body(catalog.schema(state, "GroupSearchRequest"), body)
  criteria.check(body.query, "query", TYPES)
  local size, number = criteria.paging(body)
  local hits = {}
  for _, g in ipairs(state.catalog.group_list) do
    if criteria.matches(g, body.query or {}, field_values, DEFAULT_FIELDS) then hits[#hits + 1] = g end
  end
  local desc = false
  for _, k in ipairs(body.sort or {}) do if k.sortOrder == "DESC" then desc = true end end
  if body.sortOrder == "DESC" then desc = true end
  table.sort(hits, by_name(desc))
  return 200, criteria.results(body, hits, size, number, "groups", group_view)
end

local function search_post(req) return run(req.body) end

local function search_get(req)
  local q64 = validate.query(req, "q64")
  if not q64 or q64 == "" then
    errors.bad_request("bad.request", "q64 is required", { details = { { errorCode = "required", fieldName = "q64" } } })
  end
  local text = ngx.decode_base64(q64)
  local body = text and json.decode(text)
  if type(body) ~= "table" then errors.bad_request("bad.request", "q64 is not a valid search") end
  return run(body)
end

-- Members -----------------------------------------------------------------
local function members(req)
  local g = get_group_or_404(req.params.groupId)
  local order = sort_order(req)
  local want = catalog.user_expand(state, req)
  local list = catalog.group_members(state, g)
  if order == "DESC" then table.sort(list, by_name(true)) end
  local extra = order == "DESC" and { "sortOrder=DESC" } or {}
  for _, x in ipairs(req.query.expand or {}) do extra[#extra + 1] = "expand=" .. ngx.escape_uri(x) end
  return 200, paging.page(list, req, G .. "/" .. g.id .. "/members", extra,
    require("emu.routes.users").renderer(want))
end

-- The individuals (the emulator's groups have no owners or rules: the members), on one page.
local function individuals(req)
  local g = get_group_or_404(req.params.groupId)
  local list = catalog.group_members(state, g)
  local render = require("emu.routes.users").renderer({})
  local entities = json.array({})
  for i, u in ipairs(list) do entities[i] = render(u) end
  local uri = G .. "/" .. g.id .. "/individuals"
  return 200, { entities = entities, pageSize = #list, pageNumber = 1, total = #list, pageCount = #list > 0 and 1 or 0,
                selfUri = uri, firstUri = uri, lastUri = uri }
end

local function too_many(n, field)
  if n > MAX_MEMBERS then
    errors.bad_request("invalid.value", "A maximum of " .. MAX_MEMBERS .. " members are allowed per request",
      { details = { { errorCode = "invalid.value", fieldName = field } } })
  end
end

local function changed(g)
  g.version = g.version + 1
  g.dateModified = state.iso()
end

-- POST …/members adds users (every id a live user, the version current, or
-- nothing changes). The service accepts the change with 202 and an empty
-- object (see the report in spec/emulator/groups_spec.lua).
local function add_members(req)
  local g = get_group_or_404(req.params.groupId)
  local b = validate.body(catalog.schema(state, "GroupMembersUpdate"), req.body)
  too_many(#b.memberIds, "memberIds")
  for i, id in ipairs(b.memberIds) do
    if not state.user(id) then
      errors.bad_request("invalid.value", "The user does not exist: " .. id,
        { details = { { errorCode = "invalid.value", fieldName = "memberIds[" .. (i - 1) .. "]", entityId = id } } })
    end
  end
  if b.version ~= nil and b.version ~= g.version then
    errors.raise(409, "conflict", "The version number of the modified resource must match the version number in the database.")
  end
  for _, id in ipairs(b.memberIds) do g.members[id] = true end
  changed(g)
  return 202, json.object({})
end

local function remove_members(req)
  local g = get_group_or_404(req.params.groupId)
  local ids = catalog.query_list(req, "ids")
  if #ids == 0 then
    errors.bad_request("bad.request", "ids is required: a comma-separated list of user ids",
      { details = { { errorCode = "required", fieldName = "ids" } } })
  end
  too_many(#ids, "ids")
  for _, id in ipairs(ids) do g.members[id] = nil end
  changed(g)
  return 202, json.object({})
end

function M.register(app)
  app.add("GET", G, list_groups)
  app.add("POST", G .. "/search", search_post)
  app.add("GET", G .. "/search", search_get)
  app.add("GET", G .. "/{groupId}", function(req) return 200, group_view(get_group_or_404(req.params.groupId)) end)
  app.add("GET", G .. "/{groupId}/members", members)
  app.add("POST", G .. "/{groupId}/members", add_members)
  app.add("DELETE", G .. "/{groupId}/members", remove_members)
  app.add("GET", G .. "/{groupId}/individuals", individuals)
  -- expand=groups on a user: the groups they are a member of.
  require("emu.routes.users").EXPANDERS.groups = function(u)
    local out = json.array({})
    for i, g in ipairs(catalog.user_groups(state, u)) do out[i] = group_view(g) end
    return out
  end
end

return M
