-- A realistic automation workflow, end to end against the emulator.
local emu = require "support.emulator"
local support = require "support.client"

describe("a user's life cycle", function()
  it("creates, reads, patches twice, skills, queues, status, station, OOO, search, delete", function()
    emu.reset{ users = 80 }
    local c = support.new()
    local users = c.users
    local email = "workflow.person@example.com"

    local u = assert(users.post_users{ name = "Workflow Person", email = email, password = "Str0ng!pass",
      department = "Support", title = "Agent",
      addresses = { { address = "+13175551234", mediaType = "PHONE", type = "WORK" } } })
    local got = assert(users.get_user_id(u.id))
    assert.are.equal(email, got.email)

    -- GET → modify → PATCH, read-only fields and all, twice with the returned version.
    got.title = "Senior Agent"
    local p1 = assert(users.patch_user_id(u.id, got))
    assert.are.same({ "Senior Agent", 2 }, { p1.title, p1.version })
    local p2 = assert(users.patch_user_id(u.id, { department = "Escalations", version = p1.version }))
    assert.are.same({ "Escalations", "Senior Agent", 3 }, { p2.department, p2.title, p2.version })

    -- Skills from another user's catalogue entries.
    local skill
    for _, x in ipairs(emu.users(80)) do
      local s = emu.api("GET", "/api/v2/users/" .. x.id .. "/routingskills").json.entities[1]
      if s then skill = s break end
    end
    assert(users.post_user_id_routingskills(u.id, { id = skill.id, proficiency = 2 }))
    assert(users.put_user_id_routingskills_skill_id(u.id, skill.id, { proficiency = 4.5 }))
    local skills = {}
    for s in users.each_routingskill(u.id) do skills[#skills + 1] = s end
    assert.are.equal(1, #skills)
    assert.are.equal(4.5, skills[1].proficiency)

    -- A new user is in no queue: joining one it is not a member of is a 404.
    local q = emu.api("GET", "/api/v2/users/" .. emu.users(1)[1].id .. "/queues").json.entities[1]
    assert.are.equal(404, select(2, users.patch_user_id_queues_queue_id(q.id, u.id, { joined = true })).status)

    assert.are.equal("IDLE", assert(users.put_user_id_routingstatus(u.id, { status = "IDLE" })).status)
    local station
    for _, x in ipairs(emu.users(80)) do
      local s = emu.api("GET", "/api/v2/users/" .. x.id .. "/station").json.defaultStation
      if s then station = s.id break end
    end
    assert.is_true(users.put_user_id_station_associatedstation_station_id(u.id, station))
    assert.are.equal(station, assert(users.get_user_id_station(u.id)).effectiveStation.id)
    assert(users.put_user_id_outofoffice(u.id, { active = true, startDate = "2026-12-24T00:00:00.000Z",
                                                 endDate = "2026-12-31T00:00:00.000Z" }))

    -- Search by email, then page through a wider search with get_search(q64).
    local found = assert(users.post_search{ query = { { type = "EXACT", fields = { "email" }, value = email } } })
    assert.are.equal(u.id, found.results[1].id)
    local page = assert(users.post_search{ pageSize = 20, query = { { type = "CONTAINS", fields = { "email" },
                                                                      value = "example.com" } } })
    local seen = #page.results
    while page.nextPage do
      page = assert(users.get_search(page.nextPage))
      seen = seen + #page.results
    end
    assert.are.equal(81, seen)

    assert(users.delete_user_id(u.id))
    local v, err = users.get_user_id(u.id)
    assert.is_nil(v)
    assert.are.equal(404, err.status)
    assert.are.equal(0, assert(users.post_search{ query = { { type = "EXACT", fields = { "email" }, value = email } } }).total)
    c:close()
  end)
end)
