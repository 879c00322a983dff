-- Analytics user details over HTTP: the synchronous query (records from the
-- same state as the routing status and presence routes, filters, paging,
-- aggregations) and the asynchronous jobs, details and aggregates: submit →
-- poll (PENDING, then FULFILLED from the second poll) → results by cursor →
-- delete. Answers conform to today's contract.
local emu = require "spec.support.emulator"

local call = emu.checked -- 2xx answers checked against today's contract

local Q = "/api/v2/analytics/users/details/query"
local J = "/api/v2/analytics/users/details/jobs"
local AJ = "/api/v2/analytics/users/aggregates/jobs"

local function iso(t) return os.date("!%Y-%m-%dT%H:%M:%S.000Z", t) end
-- An interval from an hour ago to an hour ahead: it holds what the specs set now.
local function around_now() local t = os.time() return iso(t - 3600) .. "/" .. iso(t + 3600) end

local function user_filter(ids)
  local preds = {}
  for i, id in ipairs(ids) do preds[i] = { type = "dimension", dimension = "userId", operator = "matches", value = id } end
  return { { type = "or", predicates = preds } }
end

local function definition(system)
  for _, d in ipairs(emu.api("GET", "/api/v2/presence/definitions").json.entities) do
    if d.systemPresence == system then return d end
  end
end

describe("emulator analytics user details", function()
  local users
  before_each(function()
    emu.reset{ users = 12 }
    users = emu.users(6)
  end)

  it("answers each user's presence and routing records from the emulator's state", function()
    local u = users[1]
    local meal = definition("Meal")
    assert.are.equal(200, emu.api("PATCH", "/api/v2/users/" .. u.id .. "/presences/purecloud",
      { presenceDefinition = { id = meal.id } }).status)
    assert.are.equal(200, emu.api("PUT", "/api/v2/users/" .. u.id .. "/routingstatus", { status = "IDLE" }).status)
    local r, res = call("POST", Q, Q, { interval = around_now(), userFilters = user_filter({ u.id }) })
    assert.are.equal(200, r.status, r.body)
    assert.are.same({ 1, u.id }, { res.totalHits, res.userDetails[1].userId })
    local d = res.userDetails[1]
    local last_p, last_r = d.primaryPresence[#d.primaryPresence], d.routingStatus[#d.routingStatus]
    assert.are.same({ "ON_QUEUE", "IDLE" }, { last_p.systemPresence, last_r.routingStatus })
    assert.is_nil(last_p.endTime) -- still going on
    local before = d.primaryPresence[#d.primaryPresence - 1]
    assert.are.same({ "MEAL", meal.id }, { before.systemPresence, before.organizationPresenceId })
    assert.is_string(before.endTime)
    -- Filters by presence and routing status; paging; aggregations.
    local _, on = call("POST", Q, Q, { interval = around_now(), routingStatusFilters = { { type = "or",
      predicates = { { type = "dimension", dimension = "routingStatus", value = "IDLE" } } } } })
    assert.are.same({ 1, u.id }, { on.totalHits, on.userDetails[1].userId })
    local _, page = call("POST", Q, Q, { interval = around_now(), paging = { pageSize = 5, pageNumber = 3 },
      presenceAggregations = { { type = "termFrequency", dimension = "systemPresence" } } })
    assert.are.same({ 12, 2 }, { page.totalHits, #page.userDetails })
    assert.are.equal("systemPresence", page.aggregations[1].dimension)
    local counted = 0
    for _, x in ipairs(page.aggregations[1].results) do counted = counted + x.count end
    assert.are.equal(page.aggregations[1].count, counted)
    assert.are.equal(400, emu.api("POST", Q, { userFilters = user_filter({ u.id }) }).status)
    assert.are.equal(400, emu.api("POST", Q, { interval = around_now(), order = "sideways" }).status)
  end)

  it("runs a details job: submit, poll to FULFILLED, results by cursor, delete", function()
    local ids = { users[1].id, users[2].id, users[3].id }
    local r, sub = call("POST", J, J, { interval = around_now(), userFilters = user_filter(ids) })
    assert.are.equal(200, r.status, r.body)
    local S = J .. "/{jobId}"
    local path = J .. "/" .. sub.jobId
    assert.are.equal(400, emu.api("GET", path .. "/results").status) -- not FULFILLED yet
    local _, st = call("GET", S, path)
    assert.are.equal("PENDING", st.state)
    _, st = call("GET", S, path)
    assert.are.equal("FULFILLED", st.state)
    assert.is_string(st.completionDate)
    local R = S .. "/results"
    local _, p1 = call("GET", R, path .. "/results", nil, { pageSize = 2 })
    assert.are.equal(2, #p1.userDetails)
    assert.is_string(p1.cursor)
    local _, p2 = call("GET", R, path .. "/results", nil, { pageSize = 2, cursor = p1.cursor })
    assert.are.equal(1, #p2.userDetails)
    assert.is_nil(p2.cursor)
    local got = { p1.userDetails[1].userId, p1.userDetails[2].userId, p2.userDetails[1].userId }
    table.sort(got); table.sort(ids)
    assert.are.same(ids, got)
    assert.are.equal(400, emu.api("GET", path .. "/results", nil, { cursor = "bogus" }).status)
    local _, avail = call("GET", J .. "/availability", J .. "/availability")
    assert.is_string(avail.dataAvailabilityDate)
    r = call("DELETE", S, path)
    assert.are.equal(204, r.status)
    assert.are.equal(404, emu.api("GET", path).status)
    assert.are.equal(404, emu.api("GET", path .. "/results").status)
    assert.are.equal(400, emu.api("POST", J, { limit = 5 }).status)
    -- A job of one kind is not found as the other.
    _, sub = call("POST", J, J, { interval = around_now() })
    assert.are.equal(404, emu.api("GET", AJ .. "/" .. sub.jobId).status)
  end)

  it("runs an aggregates job with the synchronous query's answer", function()
    local ids = { users[4].id, users[5].id }
    local body = { interval = around_now(), metrics = { "tSystemPresence" }, groupBy = { "userId" },
                   filter = { type = "or", predicates = user_filter(ids)[1].predicates }, pageSize = 1 }
    local r, sub = call("POST", AJ, AJ, body)
    assert.are.equal(200, r.status, r.body)
    local path = AJ .. "/" .. sub.jobId
    call("GET", AJ .. "/{jobId}", path)
    local _, st = call("GET", AJ .. "/{jobId}", path)
    assert.are.equal("FULFILLED", st.state)
    local R = AJ .. "/{jobId}/results"
    local _, p1 = call("GET", R, path .. "/results")
    assert.are.equal(1, #p1.results)
    local _, p2 = call("GET", R, path .. "/results", nil, { cursor = p1.cursor })
    assert.are.equal(1, #p2.results)
    assert.is_nil(p2.cursor)
    body.pageSize = nil
    local sync = emu.api("POST", "/api/v2/analytics/users/aggregates/query", body).json
    assert.are.same(sync.results, { p1.results[1], p2.results[1] })
    assert.are.same(sync.systemToOrganizationMappings, p1.systemToOrganizationMappings)
    assert.are.equal(204, call("DELETE", AJ .. "/{jobId}", path).status)
    assert.are.equal(404, emu.api("GET", path).status)
    assert.are.equal(400, emu.api("POST", AJ, { interval = around_now(), metrics = { "tTalk" } }).status)
  end)
end)
