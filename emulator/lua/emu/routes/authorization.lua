-- Authorization: roles (with their members), divisions, and subjects (a
-- user's grants of role × division). One store of grants per user
-- (emu.catalog: M.grants, M.grant, M.revoke over e.roles, the home
-- division's, and e.grants, the other divisions'), so these routes, GET/PUT
-- /api/v2/users/{id}/roles and expand=authorization agree.
local state = require "emu.state"
local errors = require "emu.errors"
local validate = require "emu.validate"
local paging = require "emu.paging"
local json = require "emu.json"
local catalog = require "emu.catalog"

local M = {}

local ROLES = "/api/v2/authorization/roles"
local DIVISIONS = "/api/v2/authorization/divisions"

local DESCRIPTIONS = { Home = "The home division: every object is here unless moved." }

local function division_view(d)
  return { id = d.id, name = d.name, description = DESCRIPTIONS[d.name] or (d.name .. " division"),
           homeDivision = d.homeDivision, selfUri = DIVISIONS .. "/" .. d.id }
end
M.division_view = division_view

-- Permission strings "domain:entity:action" grouped into policies, the way
-- the service describes a role's permissions.
local function policies(r, shape)
  local by, order = {}, {}
  for _, p in ipairs(r.permissions) do
    local domain, entity, action = p:match("^([^:]+):([^:]+):([^:]+)$")
    if domain then
      local k = domain .. ":" .. entity
      if not by[k] then by[k] = { domain = domain, entity = entity, actions = {} }; order[#order + 1] = k end
      local a = by[k].actions
      a[#a + 1] = action
    end
  end
  local out = json.array({})
  for _, k in ipairs(order) do
    local p = by[k]
    if shape == "grant" then -- AuthzGrantPolicy
      out[#out + 1] = { domain = p.domain, entityName = p.entity, actions = json.array(p.actions) }
    else -- DomainPermissionPolicy
      out[#out + 1] = { domain = p.domain, entityName = p.entity, actionSet = json.array(p.actions),
                        policyName = k, allowConditions = false }
    end
  end
  return out
end

local function user_count(role_id)
  local n = 0
  for _, u in ipairs(state.users_sorted()) do
    if catalog.holds_role(state, u, role_id) then n = n + 1 end
  end
  return n
end

-- A DomainOrganizationRole. The seeded roles are the org's default roles.
local function role_view(r, with_count)
  local perms = json.array({})
  for i, p in ipairs(r.permissions) do perms[i] = p end
  local v = { id = r.id, name = r.name, description = "The " .. r.name .. " role", defaultRoleId = r.name,
              default = true, base = false, permissions = perms, permissionPolicies = policies(r),
              selfUri = ROLES .. "/" .. r.id }
  if with_count then v.userCount = user_count(r.id) end
  return v
end

local function get_role_or_404(id)
  local r = state.catalog.roles[id]
  if not r then errors.not_found("The role does not exist: " .. id) end
  return r
end

local function lower_eq(a, b) return type(a) == "string" and a:lower() == b:lower() end

local function list_roles(req)
  local with_count = validate.query_bool(req, "userCount", true)
  local name = validate.query(req, "name")
  local ids, perms, defaults = catalog.query_list(req, "id"), catalog.query_list(req, "permission"),
    catalog.query_list(req, "defaultRoleId")
  local want_id, want_perm, want_default = {}, {}, {}
  for _, x in ipairs(ids) do want_id[x] = true end
  for _, x in ipairs(perms) do want_perm[x] = true end
  for _, x in ipairs(defaults) do want_default[x] = true end
  local items = {}
  for _, r in ipairs(state.catalog.role_list) do
    local ok = (name == nil or name == "" or lower_eq(r.name, name)) and (#ids == 0 or want_id[r.id])
      and (#defaults == 0 or want_default[r.name])
    if ok and #perms > 0 then
      ok = false
      for _, p in ipairs(r.permissions) do if want_perm[p] then ok = true break end end
    end
    if ok then items[#items + 1] = r end
  end
  table.sort(items, function(a, b) return a.name < b.name end)
  local extra = {}
  if name and name ~= "" then extra[#extra + 1] = "name=" .. ngx.escape_uri(name) end
  for _, x in ipairs(ids) do extra[#extra + 1] = "id=" .. ngx.escape_uri(x) end
  return 200, paging.page(items, req, ROLES, extra, function(r) return role_view(r, with_count) end)
end

local function get_role(req)
  local with_count = validate.query_bool(req, "userCount", true)
  return 200, role_view(get_role_or_404(req.params.roleId), with_count)
end

-- UserReferenceEntityListing: entities, pageSize, pageNumber, total, pageCount only.
local function role_users(req)
  local r = get_role_or_404(req.params.roleId)
  local members = {}
  for _, u in ipairs(state.users_sorted()) do
    if catalog.holds_role(state, u, r.id) then members[#members + 1] = u end
  end
  local page = paging.page(members, req, ROLES .. "/" .. r.id .. "/users", nil,
    function(u) return { id = u.id, selfUri = u.selfUri } end)
  return 200, { entities = page.entities, pageSize = page.pageSize, pageNumber = page.pageNumber,
                total = page.total, pageCount = page.pageCount }
end

-- Every id names a live user, or nothing changes (400 naming the first that does not).
local function users_of_ids(ids)
  local out = {}
  for i, id in ipairs(ids) do
    local u = state.user(id)
    if not u then
      errors.bad_request("invalid.value", "The user does not exist: " .. id,
        { details = { { errorCode = "invalid.value", fieldName = "[" .. (i - 1) .. "]", entityId = id } } })
    end
    out[i] = u
  end
  return out
end

-- PUT …/users/add grants the role in the home division; …/users/remove
-- takes it away in every division (the user no longer holds the role).
local function role_users_change(add)
  return function(req)
    local r = get_role_or_404(req.params.roleId)
    local ids = catalog.string_list(req.body)
    local users = users_of_ids(ids)
    local home = catalog.home_division(state).id
    for _, u in ipairs(users) do
      local e = catalog.ext(state, u)
      if add then
        catalog.grant(state, e, r.id, home)
      else
        for _, d in ipairs(state.catalog.division_list) do catalog.revoke(state, e, r.id, d.id) end
      end
    end
    local out = json.array({})
    for i, id in ipairs(ids) do out[i] = id end
    return 200, out
  end
end

local function list_divisions(req)
  local name = validate.query(req, "name")
  validate.query_bool(req, "objectCount", false)
  local ids = catalog.query_list(req, "id")
  local want = {}
  for _, x in ipairs(ids) do want[x] = true end
  local items = {}
  for _, d in ipairs(state.catalog.division_list) do
    if (name == nil or name == "" or lower_eq(d.name, name)) and (#ids == 0 or want[d.id]) then
      items[#items + 1] = d
    end
  end
  local extra = {}
  if name and name ~= "" then extra[#extra + 1] = "name=" .. ngx.escape_uri(name) end
  for _, x in ipairs(ids) do extra[#extra + 1] = "id=" .. ngx.escape_uri(x) end
  return 200, paging.page(items, req, DIVISIONS, extra, division_view)
end

local function get_division(req)
  validate.query_bool(req, "objectCount", false)
  local d = state.catalog.divisions[req.params.divisionId]
  if not d then errors.not_found("The division does not exist: " .. req.params.divisionId) end
  return 200, division_view(d)
end

-- Subjects --------------------------------------------------------------
-- Users are the subjects the emulator keeps grants for (subjectType
-- PC_USER, the default); any other subject type is refused.
local function subject(req)
  local t = validate.query(req, "subjectType")
  if t ~= nil and t ~= "" and t ~= "PC_USER" then
    errors.bad_request("invalid.value", "The emulator keeps grants for users only (subjectType PC_USER)",
      { details = { { errorCode = "invalid.value", fieldName = "subjectType" } } })
  end
  local u = state.user(req.params.subjectId)
  if not u then errors.not_found("The subject does not exist: " .. req.params.subjectId) end
  return u, catalog.ext(state, u)
end

local function subject_view(u, e)
  local grants = json.array({})
  for _, g in ipairs(catalog.grants(state, e)) do
    grants[#grants + 1] = {
      subjectId = u.id, grantMadeAt = g.grantMadeAt, division = division_view(g.division),
      role = { id = g.role.id, name = g.role.name, description = "The " .. g.role.name .. " role", default = true,
               policies = policies(g.role, "grant"), selfUri = ROLES .. "/" .. g.role.id },
    }
  end
  return { id = u.id, name = u.name, grants = grants, version = e.authz_version or 1,
           selfUri = "/api/v2/authorization/subjects/" .. u.id }
end

local function get_subject(req)
  validate.query_bool(req, "includeDuplicates", false)
  local u, e = subject(req)
  return 200, subject_view(u, e)
end

-- The body's grants, every role and division checked before any change.
local function pairs_of(body)
  local b = validate.body(catalog.schema(state, "RoleDivisionGrants"), body)
  local out = {}
  for i, p in ipairs(b.grants) do
    local at = "grants[" .. (i - 1) .. "]"
    if not state.catalog.roles[p.roleId] then
      errors.bad_request("invalid.value", "The role does not exist: " .. p.roleId,
        { details = { { errorCode = "invalid.value", fieldName = at .. ".roleId", entityId = p.roleId } } })
    end
    if not state.catalog.divisions[p.divisionId] then
      errors.bad_request("invalid.value", "The division does not exist: " .. p.divisionId,
        { details = { { errorCode = "invalid.value", fieldName = at .. ".divisionId", entityId = p.divisionId } } })
    end
    out[i] = p
  end
  return out
end

local function bump(e) e.authz_version = (e.authz_version or 1) + 1 end

local function bulk(kind)
  return function(req)
    local _, e = subject(req)
    local list = pairs_of(req.body)
    if kind == "replace" then
      for _, g in ipairs(catalog.grants(state, e)) do catalog.revoke(state, e, g.role.id, g.division.id) end
    end
    for _, p in ipairs(list) do
      if kind == "remove" then catalog.revoke(state, e, p.roleId, p.divisionId)
      else catalog.grant(state, e, p.roleId, p.divisionId) end
    end
    bump(e)
    return 204, nil
  end
end

local function one_grant(add)
  return function(req)
    local _, e = subject(req)
    get_role_or_404(req.params.roleId)
    if not state.catalog.divisions[req.params.divisionId] then
      errors.not_found("The division does not exist: " .. req.params.divisionId)
    end
    if add then catalog.grant(state, e, req.params.roleId, req.params.divisionId)
    else catalog.revoke(state, e, req.params.roleId, req.params.divisionId) end
    bump(e)
    return 204, nil
  end
end

function M.register(app)
  app.add("GET", ROLES, list_roles)
  app.add("GET", ROLES .. "/{roleId}", get_role)
  app.add("GET", ROLES .. "/{roleId}/users", role_users)
  app.add("PUT", ROLES .. "/{roleId}/users/add", role_users_change(true))
  app.add("PUT", ROLES .. "/{roleId}/users/remove", role_users_change(false))
  app.add("GET", DIVISIONS, list_divisions)
  app.add("GET", DIVISIONS .. "/home", function() return 200, division_view(catalog.home_division(state)) end)
  app.add("GET", DIVISIONS .. "/{divisionId}", get_division)
  local S = "/api/v2/authorization/subjects/{subjectId}"
  app.add("GET", S, get_subject)
  app.add("POST", S .. "/bulkadd", bulk("add"))
  app.add("POST", S .. "/bulkremove", bulk("remove"))
  app.add("POST", S .. "/bulkreplace", bulk("replace"))
  app.add("POST", S .. "/divisions/{divisionId}/roles/{roleId}", one_grant(true))
  app.add("DELETE", S .. "/divisions/{divisionId}/roles/{roleId}", one_grant(false))
  -- expand=authorization on a user: every role they hold (any division) and
  -- those roles' permissions (UserAuthorization).
  require("emu.routes.users").EXPANDERS.authorization = function(_, e) return catalog.user_authorization(state, e) end
end

return M
