-- The emulator answers today's Users API (api/today.lua) over raw HTTP: query
-- parameters, deleted users, expand, search types, analytics, response shapes.
local emu = require "spec.support.emulator"

local function api(method, path, body, query)
  local r = emu.api(method, path, body, query)
  return r, r.json
end

local function search(body) return api("POST", "/api/v2/users/search", body) end

local function aggregates(body) return api("POST", "/api/v2/analytics/users/aggregates/query", body) end

local function by_user(u)
  return { type = "or", predicates = { { type = "dimension", dimension = "userId", operator = "matches", value = u.id } } }
end

describe("emulator today: users listing and GET", function()
  before_each(function() emu.reset{ users = 30 } end)

  it("jabberId selects users by jabber id, and none for an unknown one", function()
    local u = emu.users(3)[3]
    local r, page = api("GET", "/api/v2/users", nil, { jabberId = "nobody" })
    assert.are.equal(200, r.status)
    assert.are.same({ 0, 0 }, { page.total, #page.entities })
    r, page = api("GET", "/api/v2/users", nil, { jabberId = { u.chat.jabberId, "nobody" } })
    assert.are.equal(200, r.status)
    assert.are.equal(1, page.total)
    assert.are.equal(u.id, page.entities[1].id)
    assert.are.equal(400, api("GET", "/api/v2/users", nil, { jabberId = u.chat.jabberId, id = u.id }).status)
  end)

  it("a deleted user has state deleted and is found only with state=deleted or any", function()
    local u = emu.users(1)[1]
    assert.are.equal(200, api("DELETE", "/api/v2/users/" .. u.id).status)
    local _, active = api("GET", "/api/v2/users", nil, { pageSize = 100 })
    assert.are.equal(29, active.total)
    for _, x in ipairs(active.entities) do assert.are_not.equal(u.id, x.id) end
    local _, deleted = api("GET", "/api/v2/users", nil, { state = "deleted" })
    assert.are.equal(1, deleted.total)
    assert.are.same({ u.id, "deleted" }, { deleted.entities[1].id, deleted.entities[1].state })
    local _, any = api("GET", "/api/v2/users", nil, { state = "any", pageSize = 100 })
    assert.are.equal(30, any.total)
    local _, inactive = api("GET", "/api/v2/users", nil, { state = "inactive" })
    assert.are.equal(0, inactive.total)
    -- GET by id: state defaults to active (404); state=deleted finds it.
    assert.are.equal(404, api("GET", "/api/v2/users/" .. u.id).status)
    local r, got = api("GET", "/api/v2/users/" .. u.id, nil, { state = "deleted" })
    assert.are.equal(200, r.status)
    assert.are.equal("deleted", got.state)
    -- Search leaves it out unless the criteria ask for the state.
    local _, s = search{ query = { { type = "EXACT", fields = { "id" }, value = u.id } } }
    assert.are.equal(0, s.total)
    _, s = search{ query = { { type = "EXACT", fields = { "state" }, value = "deleted" } } }
    assert.are.same({ 1, u.id }, { s.total, s.results[1].id })
    -- A bad state is refused, naming the allowed values.
    r = api("GET", "/api/v2/users", nil, { state = "gone" })
    assert.are.equal(400, r.status)
    assert.matches("active, inactive, deleted, any", r.json.message, 1, true)
    assert.are.equal(400, api("GET", "/api/v2/users/" .. u.id, nil, { state = "any" }).status)
  end)

  it("expand=routingStatus&expand=presence agrees with the sub-resources", function()
    local u = emu.users(2)[2]
    api("PUT", "/api/v2/users/" .. u.id .. "/routingstatus", { status = "IDLE" })
    local r, got = api("GET", "/api/v2/users/" .. u.id, nil, { expand = { "routingStatus", "presence" } })
    assert.are.equal(200, r.status)
    local _, rs = api("GET", "/api/v2/users/" .. u.id .. "/routingstatus")
    assert.are.same(rs, got.routingStatus)
    assert.are.equal("IDLE", got.routingStatus.status)
    assert.are.equal("On Queue", got.presence.presenceDefinition.systemPresence)
    local _, page = api("GET", "/api/v2/users", nil, { id = u.id, expand = "routingStatus" })
    assert.are.same(rs, page.entities[1].routingStatus)
    assert.matches("expand=routingStatus", page.selfUri, 1, true)
    local _, plain = api("GET", "/api/v2/users/" .. u.id)
    assert.is_nil(plain.routingStatus)
    assert.is_nil(plain.presence)
    -- Values outside today's list are refused; known but unfilled ones pass.
    assert.are.equal(400, api("GET", "/api/v2/users/" .. u.id, nil, { expand = "nonsense" }).status)
    assert.are.equal(200, api("GET", "/api/v2/users/" .. u.id, nil, { expand = "dateLastLogin" }).status)
    assert.are.equal(200, api("GET", "/api/v2/users", nil, { integrationPresenceSource = "ZoomPhone" }).status)
    assert.are.equal(400, api("GET", "/api/v2/users", nil, { integrationPresenceSource = "Skype" }).status)
  end)
end)

describe("emulator today: search", function()
  before_each(function() emu.reset{ users = 30 } end)

  it("MATCH_ALL matches everyone; QUERY_STRING matches whole words, field:word and wildcards", function()
    local r, all = search{ query = { { type = "MATCH_ALL" } }, pageSize = 5 }
    assert.are.equal(200, r.status)
    assert.are.equal(30, all.total)
    local u = emu.users(1)[1]
    local first, last = u.name:match("^(%S+) (%S+)$")
    local _, s = search{ query = { { type = "QUERY_STRING", value = first .. " " .. last, fields = { "name" } } } }
    assert.is_true(s.total >= 1)
    for _, x in ipairs(s.results) do
      assert.matches(first, x.name, 1, true)
      assert.matches(last, x.name, 1, true)
    end
    _, s = search{ query = { { type = "QUERY_STRING", value = "email:" .. first:lower():sub(1, 2) .. "*" } } }
    assert.is_true(s.total >= 1)
    for _, x in ipairs(s.results) do assert.are.equal(first:lower():sub(1, 2), x.email:sub(1, 2)) end
    _, s = search{ query = { { type = "QUERY_STRING", value = "zzqqxx" } } }
    assert.are.equal(0, s.total)
  end)

  it("sort orders by several keys; enforcePermissions and dateFormat are accepted", function()
    local r, s = search{ query = { { type = "MATCH_ALL", dateFormat = "yyyy-MM-dd" } }, enforcePermissions = true,
                         sort = { { sortBy = "department", sortOrder = "DESC" }, { sortBy = "name", sortOrder = "ASC" } },
                         pageSize = 30 }
    assert.are.equal(200, r.status)
    for i = 2, #s.results do
      local a, b = s.results[i - 1], s.results[i]
      assert.is_true(a.department > b.department or a.department == b.department and a.name <= b.name)
    end
    assert.are_not.equal(s.results[1].department, s.results[#s.results].department)
    assert.are.equal(400, search{ query = { { type = "MATCH_ALL" } }, enforcePermissions = "yes" }.status)
  end)

  it("reports bad criteria by 0-based path, as the service does", function()
    local r = search{ query = { { type = "EXACT", value = "x" }, { type = "FUZZY", value = "x" } } }
    assert.are.equal(400, r.status)
    assert.are.equal("query[1].type", r.json.details[1].fieldName)
    r = search{ query = { { group = { { value = "x" } } } } }
    assert.are.equal("query[0].group[0].type", r.json.details[1].fieldName)
  end)

  it("GET search honours expand from the query", function()
    local _, first = search{ query = { { type = "MATCH_ALL" } }, pageSize = 2 }
    local r, page = api("GET", "/api/v2/users/search", nil, { q64 = first.currentPage, expand = "presence" })
    assert.are.equal(200, r.status)
    assert.is_table(page.results[1].presence.presenceDefinition)
  end)
end)

describe("emulator today: analytics", function()
  before_each(function() emu.reset{ users = 10 } end)

  it("answers the metrics asked, per granularity bucket", function()
    local u = emu.users(1)[1]
    local r, q = aggregates{ interval = "2026-01-01T00:00:00Z/2026-01-03T00:00:00Z", granularity = "P1D",
                             metrics = { "tSystemPresence", "tOrganizationPresence" }, groupBy = { "userId" },
                             filter = by_user(u) }
    assert.are.equal(200, r.status)
    local data = q.results[1].data
    assert.are.equal(2, #data)
    assert.are.equal("2026-01-01T00:00:00.000Z/2026-01-02T00:00:00.000Z", data[1].interval)
    assert.are.equal("2026-01-02T00:00:00.000Z/2026-01-03T00:00:00.000Z", data[2].interval)
    local seen = {}
    for _, m in ipairs(data[1].metrics) do seen[m.metric] = m end
    assert.is_nil(seen.tAgentRoutingStatus)
    assert.are.equal(86400000, seen.tSystemPresence.stats.sum)
    -- Consistent with expand=presence and the presence definitions' mapping.
    local _, got = api("GET", "/api/v2/users/" .. u.id, nil, { expand = "presence" })
    local def = got.presence.presenceDefinition
    assert.are.equal(def.id, seen.tOrganizationPresence.qualifier)
    assert.are.same({ def.id }, q.systemToOrganizationMappings[seen.tSystemPresence.qualifier])
  end)

  it("follows a routing-status change into tSystemPresence ON_QUEUE", function()
    local u = emu.users(1)[1]
    api("PUT", "/api/v2/users/" .. u.id .. "/routingstatus", { status = "IDLE" })
    local _, q = aggregates{ interval = "2020-01-01T00:00:00Z/2040-01-01T00:00:00Z", metrics = { "tSystemPresence" },
                             filter = by_user(u) }
    local quals = {}
    for _, m in ipairs(q.results[1].data[1].metrics) do quals[m.qualifier] = true end
    assert.is_true(quals.ON_QUEUE)
  end)

  it("groups per user with groupBy userId and into one group with groupBy []", function()
    local body = { interval = "2026-01-01T00:00:00Z/2026-01-02T00:00:00Z", metrics = { "tAgentRoutingStatus" } }
    body.groupBy = { "userId" }
    local _, per = aggregates(body)
    assert.are.equal(10, #per.results)
    body.groupBy = setmetatable({}, require("cjson").array_mt)
    local _, one = aggregates(body)
    assert.are.equal(1, #one.results)
    assert.is_nil(one.results[1].group.userId)
    local m = one.results[1].data[1].metrics[1]
    assert.are.same({ "OFF_QUEUE", 10, 10 * 86400000 }, { m.qualifier, m.stats.count, m.stats.sum })
    body.groupBy = { "queueId" }
    local r = aggregates(body)
    assert.are.equal(400, r.status)
    assert.are.equal("groupBy[0]", r.json.details[1].fieldName)
    body.groupBy, body.metrics = nil, { "tAgentRoutingStatus", "tTalk" }
    r = aggregates(body)
    assert.are.equal("metrics[1]", r.json.details[1].fieldName)
    body.metrics, body.granularity = { "tAgentRoutingStatus" }, "P1M"
    assert.are.equal(400, aggregates(body).status)
  end)

  it("observes oMemberQueues and oActiveQueues from the queue memberships", function()
    local u = emu.users(1)[1]
    local _, joined = api("GET", "/api/v2/users/" .. u.id .. "/queues", nil, { joined = "true", pageSize = 100 })
    local _, unjoined = api("GET", "/api/v2/users/" .. u.id .. "/queues", nil, { joined = "false", pageSize = 100 })
    local r, q = api("POST", "/api/v2/analytics/users/observations/query", {
      filter = by_user(u), metrics = { "oActiveQueues", "oMemberQueues" }, detailMetrics = { "oActiveQueues" } })
    assert.are.equal(200, r.status)
    assert.are.equal(u.id, q.results[1].group.userId)
    local got = {}
    for _, d in ipairs(q.results[1].data) do got[d.metric] = d end
    assert.are.equal(joined.total, got.oActiveQueues.stats.count)
    assert.are.equal(joined.total + unjoined.total, got.oMemberQueues.stats.count)
    assert.are.equal(joined.total, #got.oActiveQueues.observations)
    assert.is_true(got.oMemberQueues.stats.count > 0)
  end)
end)

describe("emulator today: response shapes", function()
  before_each(function() emu.reset{ users = 10 } end)

  it("PATCH /users/{id}/queues answers a UserQueueEntityListing", function()
    local u = emu.users(1)[1]
    local _, mine = api("GET", "/api/v2/users/" .. u.id .. "/queues", nil, { joined = "true" })
    local q = mine.entities[1]
    local r, page = api("PATCH", "/api/v2/users/" .. u.id .. "/queues", { { id = q.id, joined = false } })
    assert.are.equal(200, r.status)
    assert.are.same({ 1, 1, q.id, false }, { page.total, #page.entities, page.entities[1].id, page.entities[1].joined })
  end)

  it("DELETE /users/{id}/routingskills/{skillId} answers 204 without a body", function()
    local u
    for _, x in ipairs(emu.users(10)) do
      local _, s = api("GET", "/api/v2/users/" .. x.id .. "/routingskills")
      if s.total > 0 then u = { id = x.id, skill = s.entities[1].id } break end
    end
    local r = api("DELETE", "/api/v2/users/" .. u.id .. "/routingskills/" .. u.skill)
    assert.are.same({ 204, "" }, { r.status, r.body })
    assert.are.equal(404, api("DELETE", "/api/v2/users/" .. u.id .. "/routingskills/" .. u.skill).status)
  end)
end)
