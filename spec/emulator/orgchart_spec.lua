-- Org chart and external ids over HTTP: direct reports, superiors and
-- adjacents follow the managers PATCH /api/v2/users/{id} sets; external
-- identifiers are set, read, deleted and find their user; skill groups
-- follow the user's routing skills. Answers conform to today's contract.
local emu = require "spec.support.emulator"

local call = emu.checked -- 2xx answers checked against today's contract

-- Today's UpdateUser.manager is a user id; the 2016 body took a User (with
-- its version): whichever the emulator's PATCH takes.
local function set_manager(u, boss)
  local cur = emu.api("GET", "/api/v2/users/" .. u.id).json
  local r = emu.api("PATCH", "/api/v2/users/" .. u.id, { version = cur.version, manager = boss.id })
  if r.status == 400 then
    r = emu.api("PATCH", "/api/v2/users/" .. u.id, { version = cur.version, manager = { id = boss.id, version = boss.version } })
  end
  assert.are.equal(200, r.status, r.body)
end

local function ids(list)
  local out = {}
  for i, u in ipairs(list) do out[i] = u.id end
  table.sort(out)
  return out
end

local function sorted(...)
  local t = { ... }
  table.sort(t)
  return t
end

local U = "/api/v2/users/{userId}"

describe("emulator org chart", function()
  local users
  before_each(function()
    emu.reset{ users = 12 }
    users = emu.users(6)
  end)

  it("answers direct reports, superiors and adjacents from the users' managers", function()
    local ceo, vp, a, b = users[1], users[2], users[3], users[4]
    set_manager(vp, ceo)
    set_manager(a, vp)
    set_manager(b, vp)
    local r, reports = call("GET", U .. "/directreports", "/api/v2/users/" .. vp.id .. "/directreports")
    assert.are.equal(200, r.status, r.body)
    assert.are.same(sorted(a.id, b.id), ids(reports))
    assert.are.equal(vp.id, reports[1].manager.id)
    local _, sup = call("GET", U .. "/superiors", "/api/v2/users/" .. a.id .. "/superiors")
    assert.are.same({ vp.id, ceo.id }, { sup[1].id, sup[2].id }) -- nearest first
    assert.are.equal(2, #sup)
    local _, adj = call("GET", U .. "/adjacents", "/api/v2/users/" .. a.id .. "/adjacents")
    assert.are.same({ { vp.id }, { b.id }, {} }, { ids(adj.superiors), ids(adj.siblings), ids(adj.directReports) })
    local _, top = call("GET", U .. "/adjacents", "/api/v2/users/" .. ceo.id .. "/adjacents", nil, { expand = "presence" })
    assert.are.same({ {}, {}, { vp.id } }, { ids(top.superiors), ids(top.siblings), ids(top.directReports) })
    assert.is_table(top.directReports[1].presence)
    -- A new manager moves the report; a deleted report leaves the listing.
    set_manager(b, ceo)
    _, reports = call("GET", U .. "/directreports", "/api/v2/users/" .. vp.id .. "/directreports")
    assert.are.same({ a.id }, ids(reports))
    assert.are.equal(200, emu.api("DELETE", "/api/v2/users/" .. a.id).status)
    _, reports = call("GET", U .. "/directreports", "/api/v2/users/" .. vp.id .. "/directreports")
    assert.are.same({}, reports)
    assert.are.equal(404, emu.api("GET", "/api/v2/users/nobody/superiors").status)
    assert.are.equal(400, emu.api("GET", "/api/v2/users/" .. vp.id .. "/directreports", nil, { expand = "bogus" }).status)
  end)

  it("sets, reads, looks up and deletes external identifiers", function()
    local u, other = users[5], users[6]
    local E = U .. "/externalid"
    local path = "/api/v2/users/" .. u.id .. "/externalid"
    local r, list = call("POST", E, path, { authorityName = "hr", externalKey = "E-100" })
    assert.are.equal(200, r.status, r.body)
    assert.are.same({ { "hr", "E-100" } }, { { list[1].authorityName, list[1].externalKey } })
    call("POST", E, path, { authorityName = "crm", externalKey = "C 7" })
    local _, all = call("GET", E, path)
    assert.are.same({ "crm", "hr" }, { all[1].authorityName, all[2].authorityName })
    local _, one = call("GET", E .. "/{authorityName}", path .. "/hr")
    assert.are.equal("E-100", one.externalKey)
    local L = "/api/v2/users/externalid/{authorityName}/{externalKey}"
    local _, found = call("GET", L, "/api/v2/users/externalid/hr/E-100", nil, { expand = "groups" })
    assert.are.same({ u.id, {} }, { found.id, found.groups })
    assert.are.equal(u.id, call("GET", L, "/api/v2/users/externalid/crm/C%207").json.id)
    -- One key names one user per authority; a new key for the authority replaces the old.
    assert.are.equal(409, emu.api("POST", "/api/v2/users/" .. other.id .. "/externalid",
      { authorityName = "hr", externalKey = "E-100" }).status)
    call("POST", E, path, { authorityName = "hr", externalKey = "E-200" })
    assert.are.equal(404, emu.api("GET", "/api/v2/users/externalid/hr/E-100").status)
    assert.are.equal(u.id, call("GET", L, "/api/v2/users/externalid/hr/E-200").json.id)
    -- Delete
    r = call("DELETE", E .. "/{authorityName}/{externalKey}", path .. "/hr/E-200")
    assert.are.equal(204, r.status)
    assert.are.equal(404, emu.api("GET", "/api/v2/users/externalid/hr/E-200").status)
    assert.are.equal(404, emu.api("GET", path .. "/hr").status)
    assert.are.equal(404, emu.api("DELETE", path .. "/hr/E-200").status)
    -- Bad bodies change nothing.
    assert.are.equal(400, emu.api("POST", path, { authorityName = "hr" }).status)
    assert.are.equal(400, emu.api("POST", path, { authorityName = "hr", externalKey = 5 }).status)
    local _, left = call("GET", E, path)
    assert.are.same({ "crm" }, { left[1].authorityName })
    assert.are.equal(1, #left)
  end)

  it("lists a user's skill groups by cursor, following their routing skills", function()
    local u = emu.api("POST", "/api/v2/users", { name = "Skill Grouper", email = "sg@example.com", password = "x" }).json
    local SG = U .. "/skillgroups"
    local path = "/api/v2/users/" .. u.id .. "/skillgroups"
    local _, none = call("GET", SG, path)
    assert.are.same({}, none.entities)
    local skills = {}
    for _, s in ipairs(emu.api("GET", "/api/v2/routing/skills", nil, { pageSize = 100 }).json.entities or {}) do
      skills[s.name] = s.id
    end
    -- Skill ids from the catalog: found through a seeded user's skills when the routing listing is absent.
    if not skills.Spanish then
      for _, x in ipairs(emu.users(60)) do
        for _, s in ipairs(emu.api("GET", "/api/v2/users/" .. x.id .. "/routingskills").json.entities) do skills[s.name] = s.id end
      end
    end
    for _, name in ipairs({ "Spanish", "VIP", "Billing" }) do
      assert.is_string(skills[name], name)
      assert.are.equal(200, emu.api("POST", "/api/v2/users/" .. u.id .. "/routingskills",
        { id = skills[name], proficiency = 3 }).status)
    end
    local _, p1 = call("GET", SG, path, nil, { pageSize = 2 })
    assert.are.same({ "Billing Experts", "Spanish Speakers" }, { p1.entities[1].name, p1.entities[2].name })
    local after = p1.nextUri:match("after=([^&]+)")
    after = after:gsub("%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end)
    local _, p2 = call("GET", SG, path, nil, { pageSize = 2, after = after })
    assert.are.same({ "VIP Desk" }, { p2.entities[1].name })
    assert.is_nil(p2.nextUri)
    assert.is_string(p2.previousUri)
    assert.are.equal(204, emu.api("DELETE", "/api/v2/users/" .. u.id .. "/routingskills/" .. skills.VIP).status)
    local _, now = call("GET", SG, path)
    assert.are.equal(2, #now.entities)
    assert.are.equal(400, emu.api("GET", path, nil, { after = "bogus" }).status)
  end)
end)
