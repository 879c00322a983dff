-- Each of the 36 operations of purecloud.users against the emulator: one
-- success case that checks the data, one failure case.
local emu = require "support.emulator"
local support = require "support.client"

local c, users, u, other

local function fails(status, v, err)
  assert.is_nil(v)
  assert.is_table(err, "expected an error")
  assert.are.equal(status, err.status)
  return err
end

local function a_skill_id()
  for _, x in ipairs(emu.users(50)) do
    local r = emu.api("GET", "/api/v2/users/" .. x.id .. "/routingskills").json
    if r.entities[1] then return r.entities[1].id, r.entities[1].name end
  end
end

describe("purecloud.users: every operation", function()
  lazy_setup(function()
    emu.reset{ users = 60 }
    c = support.new()
    users = c.users
    local list = emu.users(2)
    u, other = list[1], list[2]
  end)
  lazy_teardown(function() c:close() end)

  it("exposes the 36 seed operations, today's under the official names, plus pagination helpers", function()
    local seed = assert(io.open("api/users-api.json")):read("a")
    local names = {}
    for name in seed:gmatch('"x%-seed%-ruby%-method": "([%w_]+)"') do names[#names + 1] = name end
    assert.are.equal(36, #names)
    for _, name in ipairs(names) do assert.is_function(users[name], name) end
    local ops = require("purecloud.operations").all()
    for name, op in pairs(ops) do
      assert.is_function(c[op.class][name], name)
      if op.class ~= "users" then assert.is_nil(users[name], name .. " lives on client." .. op.class) end
    end
    for _, h in ipairs({ "each_user", "user_pages", "each_routingskill", "each_queue", "each_search_result" }) do
      assert.is_function(users[h])
    end
  end)

  it("get_users / post_users / get_user_id / patch_user_id / delete_user_id", function()
    local page = assert(users.get_users{ page_size = 5, page_number = 2, sort_order = "ascending" })
    assert.are.same({ 60, 5, 2 }, { page.total, #page.entities, page.pageNumber })
    local two = assert(users.get_users{ id = { u.id, other.id } })
    assert.are.equal(2, two.total)
    local v, verr = users.get_users{ page_size = 0 } -- caught before anything is sent
    assert.is_nil(v)
    assert.are.same({ "validation", "page_size" }, { verr.kind, verr.details[1].fieldName })

    local created = assert(users.post_users{ name = "Op Test", email = "op.test@example.com", password = "Secr3t!" })
    assert.are.equal("Op Test", created.name)
    fails(400, users.post_users{ name = "Dup", email = "op.test@example.com", password = "x" })

    local got = assert(users.get_user_id(created.id, { expand = { "routingStatus" } }))
    assert.are.equal("op.test@example.com", got.email)
    fails(404, users.get_user_id("no-such-user"))

    local patched = assert(users.patch_user_id(created.id, { department = "QA", version = got.version }))
    assert.are.same({ "QA", got.version + 1 }, { patched.department, patched.version })
    local err = fails(409, users.patch_user_id(created.id, { department = "QA2", version = got.version }))
    assert.are.equal("api", err.kind)

    assert(users.delete_user_id(created.id))
    fails(404, users.delete_user_id(created.id))
  end)

  it("get_me needs a user token", function()
    local err = fails(400, users.get_me())
    assert.are.equal("not.a.user", err.code)
    local utok = emu.user_token(u.id)
    local uc = require("purecloud").new{ base_url = emu.api_url, access_token = utok, log = "none" }
    assert.are.equal(u.id, assert(uc.users.get_me()).id)
    uc:close()
  end)

  it("post_search / get_search", function()
    local r = assert(users.post_search{ pageSize = 10, query = { { type = "EXACT", fields = { "email" }, value = u.email } } })
    assert.are.equal(1, r.total)
    assert.are.equal(u.id, r.results[1].id)
    local all = assert(users.post_search{ pageSize = 10, query = { { type = "CONTAINS", fields = { "email" }, value = "@" } } })
    local p2 = assert(users.get_search(all.nextPage))
    assert.are.equal(2, p2.pageNumber)
    fails(400, users.get_search("not-base64!"))
    fails(400, users.post_search{ query = { { type = "EXACT" } } })
  end)

  it("roles: get / put / delete", function()
    local r = assert(users.get_user_id_roles(u.id))
    assert.is_true(#r.roles >= 1)
    local keep = { r.roles[1].id }
    local put = assert(users.put_user_id_roles(u.id, keep))
    assert.are.equal(1, #put.roles)
    assert.are.equal(keep[1], put.roles[1].id)
    local cleared = assert(users.put_user_id_roles(u.id, {})) -- sent as []
    assert.are.equal(0, #cleared.roles)
    assert(users.put_user_id_roles(u.id, keep))
    assert.is_true(users.delete_user_id_roles(u.id))
    assert.are.equal(0, #assert(users.get_user_id_roles(u.id)).roles)
    fails(400, users.put_user_id_roles(u.id, { "no-such-role" }))
    fails(404, users.delete_user_id_roles("nobody"))
  end)

  it("routing skills: post / get / put / delete", function()
    local skill_id, skill_name = a_skill_id()
    assert.is_string(skill_id)
    local added = assert(users.post_user_id_routingskills(other.id, { id = skill_id, proficiency = 3.5 }))
    assert.are.same({ skill_id, skill_name, 3.5 }, { added.id, added.name, added.proficiency })
    local list = assert(users.get_user_id_routingskills(other.id, { page_size = 100, sort_order = "DESC" }))
    local found
    for _, s in ipairs(list.entities) do if s.id == skill_id then found = s end end
    assert.is_table(found)
    local upd = assert(users.put_user_id_routingskills_skill_id(other.id, skill_id, { proficiency = 1, state = "inactive" }))
    assert.are.same({ 1, "inactive" }, { upd.proficiency, upd.state })
    assert(users.delete_user_id_routingskills_skill_id(other.id, skill_id))
    fails(404, users.delete_user_id_routingskills_skill_id(other.id, skill_id))
    fails(404, users.post_user_id_routingskills(other.id, { id = "no-such-skill", proficiency = 1 }))
    fails(404, users.get_user_id_routingskills("nobody"))
    fails(404, users.put_user_id_routingskills_skill_id(other.id, "no-such-skill", { proficiency = 1 }))
  end)

  it("queues: get / patch one / patch many", function()
    local joined = assert(users.get_user_id_queues(u.id))
    local unjoined = assert(users.get_user_id_queues(u.id, { joined = false, page_size = 25 }))
    assert.is_true(joined.total + unjoined.total >= 2)
    local q = (joined.entities[1] or unjoined.entities[1])
    local was = q.joined
    local r = assert(users.patch_user_id_queues_queue_id(q.id, u.id, { id = q.id, joined = not was }))
    assert.are.equal(not was, r.joined)
    -- Today's service answers a UserQueueEntityListing (api/today.lua), not one UserQueue.
    local back = assert(users.patch_user_id_queues(u.id, { { id = q.id, joined = was } }))
    assert.are.equal(q.id, back.entities[1].id)
    assert.are.equal(was, back.entities[1].joined)
    fails(404, users.patch_user_id_queues_queue_id("no-such-queue", u.id, { joined = true }))
    fails(404, users.patch_user_id_queues(u.id, { { id = "no-such-queue", joined = true } }))
    fails(404, users.get_user_id_queues("nobody"))
  end)

  it("routing status: get / put", function()
    local put = assert(users.put_user_id_routingstatus(u.id, { status = "IDLE" }))
    assert.are.same({ u.id, "IDLE" }, { put.userId, put.status })
    assert.are.equal("IDLE", assert(users.get_user_id_routingstatus(u.id)).status)
    local direct = support.direct() -- an enum value outside the contract: not for the contract check
    fails(400, direct.users.put_user_id_routingstatus(u.id, { status = "ASLEEP" }))
    direct:close()
    fails(404, users.get_user_id_routingstatus("nobody"))
  end)

  it("station: set and clear associated and default (202, no body), get", function()
    local stations = {}
    for _, x in ipairs(emu.users(60)) do
      local s = emu.api("GET", "/api/v2/users/" .. x.id .. "/station").json
      if s.defaultStation then stations[#stations + 1] = s.defaultStation.id end
    end
    assert.is_true(#stations >= 1)
    assert.is_true(users.put_user_id_station_associatedstation_station_id(u.id, stations[1]))
    assert.is_true(users.put_user_id_station_defaultstation_station_id(u.id, stations[#stations]))
    local st = assert(users.get_user_id_station(u.id))
    assert.are.equal(stations[1], st.associatedStation.id)
    assert.are.equal(stations[1], st.effectiveStation.id)
    assert.are.equal(stations[#stations], st.defaultStation.id)
    assert.is_true(users.delete_user_id_station_associatedstation(u.id))
    st = assert(users.get_user_id_station(u.id))
    assert.is_nil(st.associatedStation)
    assert.are.equal(stations[#stations], st.effectiveStation.id)
    assert.are.equal(stations[1], st.lastAssociatedStation.id)
    assert.is_true(users.delete_user_id_station_defaultstation(u.id))
    assert.is_nil(assert(users.get_user_id_station(u.id)).defaultStation)
    fails(404, users.put_user_id_station_defaultstation_station_id(u.id, "no-such-station"))
    fails(404, users.delete_user_id_station_associatedstation("nobody"))
    fails(404, users.put_user_id_station_associatedstation_station_id("nobody", stations[1]))
    fails(404, users.delete_user_id_station_defaultstation("nobody"))
  end)

  it("call forwarding: get / put / patch", function()
    local put = assert(users.put_user_id_callforwarding(u.id, { enabled = true, phoneNumber = "+13175550000" }))
    assert.are.same({ true, "+13175550000" }, { put.enabled, put.phoneNumber })
    local patched = assert(users.patch_user_id_callforwarding(u.id, { enabled = false }))
    assert.are.same({ false, "+13175550000" }, { patched.enabled, patched.phoneNumber })
    assert.are.equal(false, assert(users.get_user_id_callforwarding(u.id)).enabled)
    fails(404, users.get_user_id_callforwarding("nobody"))
    fails(404, users.put_user_id_callforwarding("nobody", { enabled = true }))
    fails(404, users.patch_user_id_callforwarding("nobody", { enabled = true }))
  end)

  it("out of office: get / put", function()
    local put = assert(users.put_user_id_outofoffice(u.id, { active = true, startDate = "2026-12-24T00:00:00.000Z",
                                                           endDate = "2027-01-02T00:00:00.000Z" }))
    assert.are.same({ true, "2027-01-02T00:00:00.000Z" }, { put.active, put.endDate })
    assert.is_true(assert(users.get_user_id_outofoffice(u.id)).active)
    local err = fails(400, users.put_user_id_outofoffice(u.id, { startDate = "2027-01-02T00:00:00Z",
                                                               endDate = "2026-01-01T00:00:00Z" }))
    assert.are.equal("invalid.date", err.code)
    fails(404, users.get_user_id_outofoffice("nobody"))
  end)

  it("geolocation: get / patch per client id", function()
    local g = assert(users.patch_user_id_geolocations_client_id(u.id, "client-a",
      { latitude = 39.77, longitude = -86.16, city = "Indianapolis", country = "US" }))
    assert.are.same({ "client-a", "Indianapolis", 39.77 }, { g.id, g.city, g.latitude })
    assert.are.equal("Indianapolis", assert(users.get_user_id_geolocations_client_id(u.id, "client-a")).city)
    assert.is_nil(assert(users.get_user_id_geolocations_client_id(u.id, "client-b")).city)
    fails(400, users.patch_user_id_geolocations_client_id(u.id, "client-a", { latitude = 123 }))
    fails(404, users.get_user_id_geolocations_client_id("nobody", "client-a"))
  end)

  it("profile skills: get / put", function()
    local put = assert(users.put_user_id_profileskills(u.id, { body = { "Lua", "C" } }))
    assert.are.same({ "Lua", "C" }, put)
    assert.are.same({ "Lua", "C" }, assert(users.get_user_id_profileskills(u.id)))
    assert.are.same({}, assert(users.put_user_id_profileskills(u.id, { body = {} })))
    fails(404, users.get_user_id_profileskills("nobody"))
    fails(404, users.put_user_id_profileskills("nobody", { body = { "x" } }))
  end)

  it("analytics: aggregates and observations", function()
    local agg = assert(users.post_users_aggregates_query{
      interval = "2026-11-01T00:00:00.000Z/2026-11-02T00:00:00.000Z",
      metrics = { "tAgentRoutingStatus" },
      filter = { type = "or", predicates = { { dimension = "userId", value = u.id } } },
    })
    assert.are.equal(1, #agg.results)
    assert.are.equal(u.id, agg.results[1].group.userId)
    assert.are.equal("tAgentRoutingStatus", agg.results[1].data[1].metrics[1].metric)
    local err = fails(400, users.post_users_aggregates_query{ interval = "2026-11-02T00:00:00Z/2026-11-01T00:00:00Z",
                                                              metrics = { "tAgentRoutingStatus" } })
    assert.are.equal("invalid.date", err.code)
    local obs = assert(users.post_users_observations_query{
      filter = { type = "or", predicates = { { dimension = "userId", value = u.id },
                                             { dimension = "userId", value = other.id } } },
      metrics = { "oActiveQueues", "oMemberQueues" }, -- (today's user observation metrics)
    })
    local counts = {}
    for _, r in ipairs(obs.results) do
      for _, d in ipairs(r.data) do counts[r.group.userId .. " " .. d.metric] = d.stats.count end
    end
    for _, who in ipairs({ u, other }) do
      local joined = #assert(users.get_user_queues(who.id, { page_size = 100 })).entities
      local unjoined = #assert(users.get_user_queues(who.id, { page_size = 100, joined = false })).entities
      assert.are.equal(joined, counts[who.id .. " oActiveQueues"], who.id)
      assert.are.equal(joined + unjoined, counts[who.id .. " oMemberQueues"], who.id)
    end
    local direct = support.direct() -- a metric outside the contract's enum: not for the contract check
    fails(400, direct.users.post_users_observations_query{ filter = { type = "or" }, metrics = { "oNoSuchMetric" } })
    direct:close()
  end)
end)
