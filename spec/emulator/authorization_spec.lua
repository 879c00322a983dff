-- Authorization over HTTP: roles (paged, by name, members), divisions, and a
-- subject's grants of role × division, one store with GET/PUT
-- /api/v2/users/{id}/roles and expand=authorization. Every answer conforms to
-- today's contract (api/today/swagger.json).
local emu = require "spec.support.emulator"
local schema = require "spec.support.schema"

local call = emu.checked -- 2xx answers checked against today's contract

local R = "/api/v2/authorization/roles"
local D = "/api/v2/authorization/divisions"
local S = "/api/v2/authorization/subjects/{subjectId}"

local function role_named(name)
  local _, page = call("GET", R, R, nil, { name = name })
  assert.are.equal(1, page.total, name)
  return page.entities[1]
end

local function subject(id)
  local r, s = call("GET", S, "/api/v2/authorization/subjects/" .. id)
  assert.are.equal(200, r.status, r.body)
  local set = {}
  for _, g in ipairs(s.grants) do set[#set + 1] = g.role.name .. "@" .. g.division.name end
  table.sort(set)
  return set, s
end

describe("emulator authorization", function()
  local users, home, emea
  before_each(function()
    emu.reset{ users = 12 }
    users = emu.users(6)
    local _, h = call("GET", D .. "/home", D .. "/home")
    home = h
    local _, page = call("GET", D, D, nil, { name = "emea" })
    emea = page.entities[1]
  end)

  it("lists roles paged and finds one by name, with its permissions and user count", function()
    local r, page = call("GET", R, R, nil, { pageSize = 4 })
    assert.are.equal(200, r.status)
    assert.are.same({ 6, 4, 2 }, { page.total, #page.entities, page.pageCount })
    assert.matches("pageNumber=2", page.nextUri, 1, true)
    local _, p2 = call("GET", R, R, nil, { pageSize = 4, pageNumber = 2 })
    assert.are.equal(2, #p2.entities)
    local admin = role_named("Admin") -- names match whatever their case
    assert.are.equal("admin", admin.name)
    assert.are.equal(0, admin.userCount)
    assert.is_true(#admin.permissions > 0 and #admin.permissionPolicies > 0)
    local _, one = call("GET", R .. "/{roleId}", R .. "/" .. admin.id)
    assert.are.same(admin, one)
    assert.are.equal(12, role_named("employee").userCount) -- every user starts an employee and an agent
    local _, none = call("GET", R, R, nil, { name = "nobody" })
    assert.are.same({ 0 }, { none.total })
    local _, by_perm = call("GET", R, R, nil, { permission = "telephony:phone:assign" })
    assert.are.same({ 1, "telephony" }, { by_perm.total, by_perm.entities[1].name })
    assert.are.equal(404, emu.api("GET", R .. "/no-such-role").status)
  end)

  it("adds and removes role members; the user's roles and subject agree", function()
    local admin = role_named("admin")
    local ids = { users[1].id, users[2].id }
    local r, added = call("PUT", R .. "/{roleId}/users/add", R .. "/" .. admin.id .. "/users/add", ids)
    assert.are.equal(200, r.status, r.body)
    assert.are.same(ids, added)
    local _, members = call("GET", R .. "/{roleId}/users", R .. "/" .. admin.id .. "/users")
    assert.are.equal(2, members.total)
    local got = { members.entities[1].id, members.entities[2].id }
    table.sort(got); table.sort(ids)
    assert.are.same(ids, got)
    assert.are.equal(2, role_named("admin").userCount)
    -- The user's roles sub-resource sees the grant, and the subject shows it in the home division.
    local names = {}
    for _, x in ipairs(emu.api("GET", "/api/v2/users/" .. users[1].id .. "/roles").json.roles) do names[x.name] = true end
    assert.is_true(names.admin)
    assert.are.same({ "admin@Home", "agent@Home", "employee@Home" }, (subject(users[1].id)))
    -- Removing takes the role away; an unknown user refuses the whole request.
    r = call("PUT", R .. "/{roleId}/users/remove", R .. "/" .. admin.id .. "/users/remove", { users[1].id })
    assert.are.equal(200, r.status)
    assert.are.same({ "agent@Home", "employee@Home" }, (subject(users[1].id)))
    r = emu.api("PUT", R .. "/" .. admin.id .. "/users/add", { users[3].id, "nobody" })
    assert.are.equal(400, r.status)
    assert.are.equal("[1]", r.json.details[1].fieldName)
    assert.are.same({ "agent@Home", "employee@Home" }, (subject(users[3].id)))
    assert.are.equal(400, emu.api("PUT", R .. "/" .. admin.id .. "/users/add", { a = 1 }).status)
  end)

  it("lists divisions, by name and id, with the home one", function()
    local r, page = call("GET", D, D)
    assert.are.equal(200, r.status)
    assert.are.equal(4, page.total)
    local homes = 0
    for _, d in ipairs(page.entities) do if d.homeDivision then homes = homes + 1 end end
    assert.are.equal(1, homes)
    assert.is_true(home.homeDivision)
    assert.are.equal("EMEA", emea.name)
    local _, one = call("GET", D .. "/{divisionId}", D .. "/" .. emea.id)
    assert.are.same(emea, one)
    local _, by_id = call("GET", D, D, nil, { id = { emea.id, home.id } })
    assert.are.equal(2, by_id.total)
    assert.are.equal(404, emu.api("GET", D .. "/nope").status)
  end)

  it("grants and revokes roles per division on a subject", function()
    local u = users[4]
    local admin, reporting = role_named("admin"), role_named("reporting")
    local P = S .. "/divisions/{divisionId}/roles/{roleId}"
    local base = "/api/v2/authorization/subjects/" .. u.id
    local r = call("POST", P, base .. "/divisions/" .. emea.id .. "/roles/" .. admin.id)
    assert.are.equal(204, r.status, r.body)
    local set, s = subject(u.id)
    assert.are.same({ "admin@EMEA", "agent@Home", "employee@Home" }, set)
    assert.are.equal(u.id, s.grants[1].subjectId)
    -- A role held in another division is one of the user's roles (expand=authorization), not a home grant.
    local user = emu.api("GET", "/api/v2/users/" .. u.id, nil, { expand = "authorization" }).json
    assert.is_nil(schema.check("User", user))
    local names = {}
    for _, x in ipairs(user.authorization.roles) do names[#names + 1] = x.name end
    table.sort(names)
    assert.are.same({ "admin", "agent", "employee" }, names)
    assert.are.equal(1, role_named("admin").userCount)
    r = call("DELETE", P, base .. "/divisions/" .. emea.id .. "/roles/" .. admin.id)
    assert.are.equal(204, r.status)
    assert.are.same({ "agent@Home", "employee@Home" }, (subject(u.id)))
    -- bulkadd, bulkremove, bulkreplace
    local grants = { grants = { { roleId = reporting.id, divisionId = emea.id }, { roleId = admin.id, divisionId = home.id } } }
    assert.are.equal(204, call("POST", S .. "/bulkadd", base .. "/bulkadd", grants).status)
    assert.are.same({ "admin@Home", "agent@Home", "employee@Home", "reporting@EMEA" }, (subject(u.id)))
    assert.are.equal(204, call("POST", S .. "/bulkremove", base .. "/bulkremove",
      { grants = { { roleId = admin.id, divisionId = home.id } } }).status)
    assert.are.same({ "agent@Home", "employee@Home", "reporting@EMEA" }, (subject(u.id)))
    assert.are.equal(204, call("POST", S .. "/bulkreplace", base .. "/bulkreplace",
      { grants = { { roleId = admin.id, divisionId = emea.id } } }).status)
    assert.are.same({ "admin@EMEA" }, (subject(u.id)))
    -- The user's roles (home division) are then none; PUT …/roles sets the home grants back.
    assert.are.same({}, emu.api("GET", "/api/v2/users/" .. u.id .. "/roles").json.roles)
    assert.are.equal(200, emu.api("PUT", "/api/v2/users/" .. u.id .. "/roles", { reporting.id }).status)
    assert.are.same({ "admin@EMEA", "reporting@Home" }, (subject(u.id)))
  end)

  it("checks a grants body whole before changing anything", function()
    local u = users[5]
    local base = "/api/v2/authorization/subjects/" .. u.id
    local admin = role_named("admin")
    local r = emu.api("POST", base .. "/bulkadd", { grants = { { roleId = admin.id, divisionId = emea.id },
      { roleId = "nope", divisionId = emea.id } } })
    assert.are.equal(400, r.status)
    assert.are.equal("grants[1].roleId", r.json.details[1].fieldName)
    r = emu.api("POST", base .. "/bulkreplace", { grants = { { roleId = admin.id } } })
    assert.are.equal(400, r.status)
    assert.are.equal("grants[0].divisionId", r.json.details[1].fieldName)
    assert.are.equal(400, emu.api("POST", base .. "/bulkadd", {}).status)
    assert.are.same({ "agent@Home", "employee@Home" }, (subject(u.id)))
    assert.are.equal(404, emu.api("GET", "/api/v2/authorization/subjects/nobody").status)
    assert.are.equal(404, emu.api("POST", base .. "/divisions/nope/roles/" .. admin.id).status)
    assert.are.equal(400, emu.api("POST", base .. "/bulkadd", { grants = {} }, { subjectType = "PC_GROUP" }).status)
  end)
end)
