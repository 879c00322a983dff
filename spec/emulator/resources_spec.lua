-- The emulator's sub-resource and analytics routes over raw HTTP: shapes,
-- paging and sorting, empty bodies and empty arrays, determinism.
local emu = require "support.emulator"

local function user_with(path, pred)
  for _, u in ipairs(emu.users(60)) do
    local r = emu.api("GET", "/api/v2/users/" .. u.id .. path).json
    if pred(r) then return u, r end
  end
end

describe("emulator sub-resources", function()
  before_each(function() emu.reset{ users = 60 } end)

  it("pages and sorts routing skills, previous/next absent at the ends", function()
    local u, all = user_with("/routingskills", function(r) return r.total >= 2 end)
    assert.is_table(u)
    local names = {}
    for _, s in ipairs(all.entities) do names[#names + 1] = s.name end
    local first = emu.api("GET", "/api/v2/users/" .. u.id .. "/routingskills", nil, { pageSize = 1 }).json
    assert.are.same({ 1, all.total }, { #first.entities, first.pageCount })
    assert.is_nil(first.previousUri)
    assert.is_string(first.nextUri)
    local last = emu.api("GET", "/api/v2/users/" .. u.id .. "/routingskills", nil,
      { pageSize = 1, pageNumber = all.total }).json
    assert.is_nil(last.nextUri)
    local desc = emu.api("GET", "/api/v2/users/" .. u.id .. "/routingskills", nil, { sortOrder = "DESC" }).json
    assert.are.equal(names[#names], desc.entities[1].name)
    assert.are.equal("/api/v2/routing/skills/" .. first.entities[1].id, first.entities[1].skillUri)
  end)

  it("partitions queues by joined and moves one between them", function()
    local u, joined = user_with("/queues", function(r) return r.total >= 1 end)
    local unjoined = emu.api("GET", "/api/v2/users/" .. u.id .. "/queues", nil, { joined = "false" }).json
    local q = joined.entities[1]
    local r = emu.api("PATCH", "/api/v2/users/" .. u.id .. "/queues/" .. q.id, { joined = false })
    assert.are.equal(200, r.status)
    assert.is_false(r.json.joined)
    local after = emu.api("GET", "/api/v2/users/" .. u.id .. "/queues", nil, { joined = "false" }).json
    assert.are.equal(unjoined.total + 1, after.total)
    assert.are.equal(400, emu.api("GET", "/api/v2/users/" .. u.id .. "/queues", nil, { joined = "maybe" }).status)
  end)

  it("answers station changes with 202 and an empty body", function()
    local _, st = user_with("/station", function(r) return r.defaultStation ~= nil end)
    local u = emu.users(1)[1]
    local r = emu.api("PUT", "/api/v2/users/" .. u.id .. "/station/associatedstation/" .. st.defaultStation.id)
    assert.are.same({ 202, "" }, { r.status, r.body })
    r = emu.api("DELETE", "/api/v2/users/" .. u.id .. "/station/associatedstation")
    assert.are.same({ 202, "" }, { r.status, r.body })
    local now = emu.api("GET", "/api/v2/users/" .. u.id .. "/station").json
    assert.are.equal(st.defaultStation.id, now.lastAssociatedStation.id)
    assert.is_nil(now.associatedStation)
  end)

  it("encodes empty lists as [] and clears roles", function()
    local u = emu.users(1)[1]
    local r = emu.api("PUT", "/api/v2/users/" .. u.id .. "/profileskills", "[]")
    assert.are.equal("[]", r.body)
    r = emu.api("PUT", "/api/v2/users/" .. u.id .. "/roles", "[]")
    assert.matches('"roles":%[%]', r.body)
    assert.matches('"permissions":%[%]', r.body)
    r = emu.api("DELETE", "/api/v2/users/" .. u.id .. "/roles")
    assert.are.same({ 204, "" }, { r.status, r.body })
  end)

  it("validates bodies naming the field", function()
    local u = emu.users(1)[1]
    local r = emu.api("PUT", "/api/v2/users/" .. u.id .. "/routingstatus", { status = "NAPPING" })
    assert.are.same({ 400, "status" }, { r.status, r.json.details[1].fieldName })
    r = emu.api("PUT", "/api/v2/users/" .. u.id .. "/callforwarding", { enabled = "yes" })
    assert.are.same({ 400, "enabled" }, { r.status, r.json.details[1].fieldName })
    r = emu.api("PUT", "/api/v2/users/" .. u.id .. "/outofoffice", { startDate = "tomorrow" })
    assert.are.same({ 400, "invalid.date" }, { r.status, r.json.code })
    for _, path in ipairs({ "/roles", "/routingskills", "/queues", "/routingstatus", "/station", "/callforwarding",
                            "/outofoffice", "/geolocations/c1", "/profileskills" }) do
      assert.are.equal(404, emu.api("GET", "/api/v2/users/nobody" .. path).status, path)
    end
  end)
end)

describe("emulator analytics", function()
  before_each(function() emu.reset{ users = 20 } end)

  local function aggregates(u)
    return emu.api("POST", "/api/v2/analytics/users/aggregates/query", {
      interval = "2023-11-14T00:00:00Z/2023-11-16T00:00:00Z",
      filter = { type = "or", predicates = { { dimension = "userId", value = u.id } } } })
  end

  it("computes deterministic aggregates that follow routing-status changes", function()
    local u = emu.users(1)[1]
    local a, b = aggregates(u), aggregates(u)
    assert.are.equal(200, a.status)
    assert.are.equal(a.body, b.body)
    local metrics = a.json.results[1].data[1].metrics
    local total = 0
    for _, m in ipairs(metrics) do total = total + m.stats.sum end
    assert.are.equal(2 * 86400 * 1000, total) -- the whole interval is accounted for
    emu.api("PUT", "/api/v2/users/" .. u.id .. "/routingstatus", { status = "IDLE" })
    local q = emu.api("POST", "/api/v2/analytics/users/aggregates/query", {
      interval = "2020-01-01T00:00:00Z/2030-01-01T00:00:00Z",
      filter = { type = "or", predicates = { { dimension = "userId", value = u.id } } } }).json
    local statuses = {}
    for _, m in ipairs(q.results[1].data[1].metrics) do statuses[m.qualifier] = true end
    assert.is_true(statuses.IDLE)
  end)

  it("counts users on and off queue in observations", function()
    local function counts()
      local r = emu.api("POST", "/api/v2/analytics/users/observations/query", { filter = { type = "or" },
        metrics = { "oOnQueueUsers", "oOffQueueUsers" } }).json
      local c = {}
      for _, d in ipairs(r.results[1].data) do c[d.metric] = d.stats.count end
      return c
    end
    local before = counts()
    assert.are.equal(20, before.oOnQueueUsers + before.oOffQueueUsers)
    emu.api("PUT", "/api/v2/users/" .. emu.users(1)[1].id .. "/routingstatus", { status = "IDLE" })
    local after = counts()
    assert.are.equal(before.oOnQueueUsers + 1, after.oOnQueueUsers)
  end)

  it("rejects bad intervals and metrics", function()
    local function q(body) return emu.api("POST", "/api/v2/analytics/users/aggregates/query", body) end
    assert.are.equal("invalid.date", q{ interval = "yesterday" }.json.code)
    assert.are.equal("invalid.date", q{ interval = "2026-01-02T00:00:00Z/2026-01-01T00:00:00Z" }.json.code)
    assert.are.equal(400, q{ interval = "2026-01-01T00:00:00Z/2026-01-02T00:00:00Z", metrics = { "nope" } }.status)
    assert.are.equal(400, q{ interval = "2026-01-01T00:00:00Z/2026-01-02T00:00:00Z", granularity = "hourly" }.status)
    assert.are.equal(400, emu.api("POST", "/api/v2/analytics/users/observations/query", { metrics = {} }).status)
  end)
end)
