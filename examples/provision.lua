--- User provisioning from a CSV, the flow of the vendor's
-- user-provisioning scripts: each row's user is created (or found by email),
-- given its roles (by name), routing skills (by name, with a proficiency)
-- and groups (by name). Rerunnable: it changes only what differs, so a
-- second run changes nothing and says so.
--
--     lua5.4 examples/provision.lua [users.csv]      (default examples/provision.csv)
--
-- Environment: PURECLOUD_CLIENT_ID, PURECLOUD_SECRET, and either
-- PURECLOUD_ENVIRONMENT (e.g. mypurecloud.ie) or PURECLOUD_BASE_URL.
-- CSV columns: name,email,department,title,roles,skills,groups — lists
-- separated by ";", a skill as Name:proficiency (0–5).
local purecloud = require "purecloud"

local function env(name)
  local v = os.getenv(name)
  if v ~= "" then return v end
end
local client = purecloud.new{
  client_id = assert(env("PURECLOUD_CLIENT_ID"), "set PURECLOUD_CLIENT_ID"),
  client_secret = assert(env("PURECLOUD_SECRET"), "set PURECLOUD_SECRET"),
  environment = env("PURECLOUD_ENVIRONMENT"),
  base_url = env("PURECLOUD_BASE_URL"),
}
local users, authorization, routing, groups = client.users, client.authorization, client.routing, client.groups

-- CSV: one record a line, fields separated by commas, "quoted" fields may
-- hold commas and doubled quotes.
local function split_csv(line)
  local fields, pos = {}, 1
  while pos <= #line + 1 do
    if line:sub(pos, pos) == '"' then
      local value, i = {}, pos + 1
      while true do
        local q = assert(line:find('"', i, true), "unterminated quote in: " .. line)
        value[#value + 1] = line:sub(i, q - 1)
        if line:sub(q + 1, q + 1) == '"' then
          value[#value + 1] = '"'
          i = q + 2
        else
          pos = q + 2
          break
        end
      end
      fields[#fields + 1] = table.concat(value)
    else
      local comma = line:find(",", pos, true) or #line + 1
      fields[#fields + 1] = line:sub(pos, comma - 1)
      pos = comma + 1
    end
  end
  return fields
end

local function list(s)
  local out = {}
  for item in (s or ""):gmatch("[^;]+") do out[#out + 1] = item:match("^%s*(.-)%s*$") end
  return out
end

local function read_rows(path)
  local f = assert(io.open(path, "r"))
  local header, rows = nil, {}
  for line in f:lines() do
    line = line:gsub("\r$", "")
    if line ~= "" then
      local fields = split_csv(line)
      if not header then
        header = fields
      else
        local row = {}
        for i, k in ipairs(header) do row[k] = fields[i] end
        rows[#rows + 1] = row
      end
    end
  end
  f:close()
  return rows
end

-- Names to ids, each looked up once: the org's roles, skills and groups.
local function cached(find)
  local seen = {}
  return function(name)
    if seen[name] == nil then seen[name] = find(name) or false end
    return seen[name] or nil
  end
end
local role_named = cached(function(name)
  local page = assert(authorization.get_authorization_roles{ name = name })
  for _, r in ipairs(page.entities) do if r.name == name then return r end end
end)
local skill_named = cached(function(name)
  local page = assert(routing.get_routing_skills{ name = name })
  for _, s in ipairs(page.entities) do if s.name == name then return s end end
end)
local group_named = cached(function(name)
  local found = assert(groups.post_groups_search{
    query = { { type = "EXACT", fields = { "name" }, value = name } } })
  return (found.results or {})[1]
end)

local function find_user(email)
  local found = assert(users.post_users_search{
    query = { { type = "EXACT", fields = { "email" }, value = email } } })
  return (found.results or {})[1]
end

-- One row: returns the list of changes made (empty: up to date), or raises.
local function provision(row)
  local changes = {}
  local user = find_user(row.email)
  if not user then
    -- (no password: an invited user sets their own; today's CreateUser allows it)
    user = assert(users.post_users{ name = row.name, email = row.email, department = row.department,
                                    title = row.title })
    changes[#changes + 1] = "created"
  end

  local have = {}
  for _, r in ipairs(assert(users.get_user_roles(user.id)).roles or {}) do have[r.id] = true end
  for _, name in ipairs(list(row.roles)) do
    local role = role_named(name) or error("no role named " .. name)
    if not have[role.id] then
      assert(authorization.put_authorization_role_users_add(role.id, { user.id }))
      changes[#changes + 1] = "role +" .. name
    end
  end

  local skills = {}
  for s in users.each_routingskill(user.id, { page_size = 100 }) do skills[s.id] = s.proficiency end
  local patch = {}
  for _, item in ipairs(list(row.skills)) do
    local name, level = item:match("^(.-):(%d)$")
    assert(name, "a skill is Name:proficiency, got " .. item)
    local skill = skill_named(name) or error("no routing skill named " .. name)
    level = tonumber(level)
    if skills[skill.id] ~= level then
      patch[#patch + 1] = { id = skill.id, proficiency = level }
      changes[#changes + 1] = ("skill %s%s:%d"):format(skills[skill.id] and "~" or "+", name, level)
    end
  end
  if #patch > 0 then assert(users.patch_user_routingskills_bulk(user.id, patch)) end

  for _, name in ipairs(list(row.groups)) do
    local group = group_named(name) or error("no group named " .. name)
    local member = false
    for m in groups.each_member(group.id, { page_size = 100 }) do
      if m.id == user.id then member = true break end
    end
    if not member then
      -- (the group's current version: each change of its members raises it)
      local current = assert(groups.get_group(group.id))
      assert(groups.post_group_members(group.id, { memberIds = { user.id }, version = current.version }))
      changes[#changes + 1] = "group +" .. name
    end
  end
  return changes
end

local path = arg[1] or "examples/provision.csv"
local rows = read_rows(path)
local created, changed, current, failed = 0, 0, 0, 0
for _, row in ipairs(rows) do
  local ok, changes = pcall(provision, row)
  if not ok then
    failed = failed + 1
    print(("%s: FAILED: %s"):format(row.email, tostring(changes)))
  elseif #changes == 0 then
    current = current + 1
    print(("%s: up to date"):format(row.email))
  else
    if changes[1] == "created" then created = created + 1 else changed = changed + 1 end
    print(("%s: %s"):format(row.email, table.concat(changes, ", ")))
  end
end
print(("%d users: %d created, %d changed, %d up to date, %d failed%s"):format(#rows, created, changed, current,
  failed, (created + changed + failed == 0) and " — nothing to do" or ""))
client:close()
os.exit(failed == 0 and 0 or 1)
