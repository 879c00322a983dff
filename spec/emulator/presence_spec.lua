-- Presence over HTTP: definitions and system presences, a user's PURECLOUD
-- presence set by definition id (one store with expand=presence, the
-- routing status and analytics), bulk reads and writes, the primary source.
-- Every answer conforms to today's contract.
local emu = require "spec.support.emulator"

local call = emu.checked -- 2xx answers checked against today's contract

local DEFS = "/api/v2/presence/definitions"
local UP = "/api/v2/users/{userId}/presences/purecloud"

local function definitions()
  local _, page = call("GET", DEFS, DEFS)
  local by = {}
  for _, d in ipairs(page.entities) do by[d.systemPresence] = d end
  return by, page
end

local function presence_of(id) return (select(2, call("GET", UP, "/api/v2/users/" .. id .. "/presences/purecloud"))) end

describe("emulator presence", function()
  local users, defs
  before_each(function()
    emu.reset{ users = 12 }
    users = emu.users(6)
    defs = definitions()
  end)

  it("lists the presence definitions with their system presences, and the system presences", function()
    local _, page = definitions()
    assert.are.equal(10, page.total)
    assert.are.equal("Available", defs.Available.languageLabels.en_US)
    local _, one = call("GET", DEFS .. "/{definitionId}", DEFS .. "/" .. defs.Away.id)
    assert.are.same(defs.Away, one)
    assert.are.equal(404, emu.api("GET", DEFS .. "/nope").status)
    local _, none = call("GET", DEFS, DEFS, nil, { deactivated = "true" })
    assert.are.equal(0, none.total)
    local _, sys = call("GET", "/api/v2/systempresences", "/api/v2/systempresences")
    local ids = {}
    for _, s in ipairs(sys) do ids[s.id] = s.name end
    assert.are.same({ "Available", "On Queue" }, { ids.AVAILABLE, ids.ON_QUEUE })
  end)

  it("sets a user's presence by definition id; GET, expand=presence and the routing status agree", function()
    local u = users[1]
    local r, p = call("PATCH", UP, "/api/v2/users/" .. u.id .. "/presences/purecloud",
      { presenceDefinition = { id = defs.Meal.id }, message = "lunch" })
    assert.are.equal(200, r.status, r.body)
    assert.are.same({ defs.Meal.id, "Meal", "lunch" }, { p.presenceDefinition.id, p.presenceDefinition.systemPresence, p.message })
    assert.are.same(p, presence_of(u.id))
    local _, byid = call("GET", "/api/v2/users/{userId}/presences/{sourceId}", "/api/v2/users/" .. u.id .. "/presences/PURECLOUD")
    assert.are.same(p, byid)
    local _, got = call("GET", "/api/v2/users/{userId}", "/api/v2/users/" .. u.id, nil, { expand = "presence" })
    assert.are.same({ defs.Meal.id, "lunch" }, { got.presence.presenceDefinition.id, got.presence.message })
    -- On Queue puts the user on queue; another presence takes them off again.
    call("PATCH", UP, "/api/v2/users/" .. u.id .. "/presences/purecloud", { presenceDefinition = { id = defs.OnQueue.id } })
    assert.are.equal("IDLE", emu.api("GET", "/api/v2/users/" .. u.id .. "/routingstatus").json.status)
    assert.are.equal("On Queue", presence_of(u.id).presenceDefinition.systemPresence)
    call("PATCH", "/api/v2/users/{userId}/presences/{sourceId}", "/api/v2/users/" .. u.id .. "/presences/purecloud",
      { presenceDefinition = { id = defs.Busy.id } })
    assert.are.equal("OFF_QUEUE", emu.api("GET", "/api/v2/users/" .. u.id .. "/routingstatus").json.status)
    assert.are.equal("Busy", presence_of(u.id).presenceDefinition.systemPresence)
    -- Refused whole: an unknown definition, no definition nor message, another source.
    assert.are.equal(400, emu.api("PATCH", "/api/v2/users/" .. u.id .. "/presences/purecloud",
      { presenceDefinition = { id = "nope" } }).status)
    assert.are.equal(400, emu.api("PATCH", "/api/v2/users/" .. u.id .. "/presences/purecloud", {}).status)
    assert.are.equal(404, emu.api("GET", "/api/v2/users/" .. u.id .. "/presences/ZoomPhone").status)
    assert.are.equal(404, emu.api("GET", "/api/v2/users/nobody/presences/purecloud").status)
    assert.are.equal("Busy", presence_of(u.id).presenceDefinition.systemPresence)
  end)

  it("reads presences in bulk and writes them in bulk, all or nothing", function()
    local a, b = users[2], users[3]
    local r, list = call("PUT", "/api/v2/users/presences/bulk", "/api/v2/users/presences/bulk",
      { { id = a.id, presenceDefinition = { id = defs.Training.id } }, { id = b.id, presenceDefinition = { id = defs.Away.id } } })
    assert.are.equal(200, r.status, r.body)
    assert.are.same({ "Training", "Away" }, { list[1].presenceDefinition.systemPresence, list[2].presenceDefinition.systemPresence })
    local B = "/api/v2/users/presences/purecloud/bulk"
    local _, got = call("GET", B, B, nil, { id = a.id .. "," .. b.id .. ",nobody" })
    assert.are.equal(2, #got)
    assert.are.same({ a.id, "Training" }, { got[1].userId, got[1].presenceDefinition.systemPresence })
    local _, same = call("GET", "/api/v2/users/presences/{sourceId}/bulk", "/api/v2/users/presences/PURECLOUD/bulk",
      nil, { id = { a.id, b.id } })
    assert.are.same(got, same)
    r = emu.api("PUT", "/api/v2/users/presences/bulk",
      { { id = a.id, presenceDefinition = { id = defs.Busy.id } }, { id = "nobody", presenceDefinition = { id = defs.Busy.id } } })
    assert.are.equal(400, r.status)
    assert.are.equal("[1].id", r.json.details[1].fieldName)
    assert.are.equal("Training", presence_of(a.id).presenceDefinition.systemPresence)
    local many = {}
    for i = 1, 51 do many[i] = a.id end
    assert.are.equal(400, emu.api("GET", B, nil, { id = table.concat(many, ",") }).status)
  end)

  it("keeps a user's primary presence source", function()
    local u = users[4]
    local P = "/api/v2/presence/users/{userId}/primarysource"
    local path = "/api/v2/presence/users/" .. u.id .. "/primarysource"
    local _, src = call("GET", P, path)
    assert.are.equal("PURECLOUD", src.sourceId)
    assert.is_true(presence_of(u.id).primary)
    local r, put = call("PUT", P, path, { sourceId = "MicrosoftTeams" })
    assert.are.equal(200, r.status, r.body)
    assert.are.equal("MicrosoftTeams", put.sourceId)
    assert.are.same(put, (select(2, call("GET", P, path))))
    assert.is_false(presence_of(u.id).primary) -- Genesys Cloud's presence is no longer the primary one
    assert.are.equal(400, emu.api("PUT", path, { sourceId = "Pager" }).status)
    assert.are.equal("MicrosoftTeams", (select(2, call("GET", P, path))).sourceId)
  end)
end)
