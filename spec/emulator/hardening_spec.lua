-- The emulator never corrupts its state: every write validates types, nulls
-- and UTF-8 before it touches anything (400 ErrorBody naming the field); a
-- route that fails anyway is rolled back and answered as a 500 ErrorBody;
-- nginx's own refusals are ErrorBody JSON too; and the apply_then_close fault
-- applies a write, then drops the connection without a byte.
local emu = require "support.emulator"

local function healthy(id)
  local list = emu.api("GET", "/api/v2/users", nil, { pageSize = 500 })
  assert.are.equal(200, list.status, list.body)
  for _, u in ipairs(list.json.entities) do
    assert.is_string(u.name, "a listed user lost its name")
    assert.is_string(u.email, "a listed user lost its email")
  end
  local s = emu.api("POST", "/api/v2/users/search", { query = { { type = "CONTAINS", fields = { "name" }, value = "a" } } })
  assert.are.equal(200, s.status, s.body)
  assert.are.equal(200, emu.api("GET", "/api/v2/users/search", nil, { q64 = s.json.currentPage }).status)
  if id then assert.are.equal(200, emu.api("GET", "/api/v2/users/" .. id).status) end
  return list.json
end

-- A 400 ErrorBody whose details name `field`.
local function refused(r, field)
  assert.are.equal(400, r.status, r.body)
  assert.are.equal("application/json", r.headers["content-type"])
  assert.is_table(r.json, r.body)
  assert.are.same({ 400, true, true }, { r.json.status, type(r.json.code) == "string", type(r.json.contextId) == "string" })
  local names = {}
  for _, d in ipairs(r.json.details or {}) do names[#names + 1] = d.fieldName end
  assert.is_truthy(table.concat(names, " "):find(field, 1, true), ("details %s do not name %s"):format(
    table.concat(names, ","), field))
end

describe("emulator write validation", function()
  local u
  before_each(function()
    emu.reset{ users = 20 }
    u = emu.users(1)[1]
  end)

  it("refuses a PATCH with name or email null, leaving the user and every listing intact", function()
    refused(emu.api("PATCH", "/api/v2/users/" .. u.id, '{"name":null,"version":1}'), "name")
    refused(emu.api("PATCH", "/api/v2/users/" .. u.id, '{"email":null,"version":1}'), "email")
    refused(emu.api("PATCH", "/api/v2/users/" .. u.id, '{"version":null}'), "version")
    local now = emu.api("GET", "/api/v2/users/" .. u.id).json
    assert.are.same({ u.name, u.email, 1 }, { now.name, now.email, now.version })
    healthy(u.id)
    -- A field a PATCH may clear still clears.
    local r = emu.api("PATCH", "/api/v2/users/" .. u.id, '{"title":null,"version":1}')
    assert.are.equal(200, r.status, r.body)
    assert.is_nil(r.json.title)
  end)

  it("refuses null and non-object bodies where an object is required", function()
    for _, body in ipairs({ "null", "[]", "[1]", '"x"', "42", "true" }) do
      refused(emu.api("PATCH", "/api/v2/users/" .. u.id, body), "body")
      refused(emu.api("POST", "/api/v2/users", body), "body")
      refused(emu.api("PUT", "/api/v2/users/" .. u.id .. "/routingstatus", body), "body")
      refused(emu.api("POST", "/api/v2/users/search", body), "body")
    end
    refused(emu.api("PUT", "/api/v2/users/" .. u.id .. "/profileskills", "null"), "body")
    refused(emu.api("PUT", "/api/v2/users/" .. u.id .. "/roles", '{"a":1}'), "body")
    healthy(u.id)
  end)

  it("refuses strings that are not UTF-8, naming the field, and stores nothing", function()
    local before = emu.stats().users
    refused(emu.api("POST", "/api/v2/users", '{"name":"Bad \255 name","email":"bad@example.com","password":"p"}'), "body")
    refused(emu.api("PATCH", "/api/v2/users/" .. u.id, '{"title":"\237\160\128","version":1}'), "body") -- a surrogate
    refused(emu.api("PUT", "/api/v2/users/" .. u.id .. "/profileskills", '["ok","\192\128"]'), "body") -- overlong
    assert.are.equal(before, emu.stats().users)
    assert.are.equal(u.title, emu.api("GET", "/api/v2/users/" .. u.id).json.title)
    -- Valid multi-byte UTF-8 passes.
    local r = emu.api("PATCH", "/api/v2/users/" .. u.id, '{"title":"Chef d\195\169quipe \226\130\172 \240\159\152\128","version":1}')
    assert.are.equal(200, r.status, r.body)
    healthy(u.id)
  end)

  it("names the bad field on every write route", function()
    local skilled
    for _, x in ipairs(emu.users(20)) do
      local list = emu.api("GET", "/api/v2/users/" .. x.id .. "/routingskills").json
      if list.total > 0 then skilled = { x.id, list.entities[1].id } break end
    end
    assert.is_table(skilled)
    local U = "/api/v2/users/" .. u.id
    local cases = {
      { "POST", "/api/v2/users", { name = "N", email = 5, password = "p" }, "email" },
      { "POST", "/api/v2/users", { name = "N", email = "n@example.com", password = "p", addresses = { 1 } }, "addresses[0]" },
      { "PATCH", U, { version = 1, manager = "someone" }, "manager" },
      { "POST", U .. "/routingskills", { id = "x", proficiency = "high" }, "proficiency" },
      { "PUT", "/api/v2/users/" .. skilled[1] .. "/routingskills/" .. skilled[2], { proficiency = "high" }, "proficiency" },
      { "PATCH", U .. "/queues", { { id = "q", joined = "yes" } }, "[0].joined" },
      { "PATCH", U .. "/queues/q", { joined = "yes" }, "joined" },
      { "PUT", U .. "/routingstatus", { status = 7 }, "status" },
      { "PUT", U .. "/routingstatus", '{"status":null}', "status" },
      { "PUT", U .. "/callforwarding", { enabled = "yes" }, "enabled" },
      { "PATCH", U .. "/callforwarding", '{"enabled":null}', "enabled" },
      { "PUT", U .. "/outofoffice", { active = "yes" }, "active" },
      { "PATCH", U .. "/geolocations/c1", { latitude = "north" }, "latitude" },
      { "PUT", U .. "/profileskills", { "a", 2 }, "[1]" },
      { "PUT", U .. "/roles", { 1 }, "[0]" },
      { "POST", "/api/v2/users/search", { query = { { type = "EXACT", value = { 1 } } } }, "query[0].value" },
      { "POST", "/api/v2/users/search", { query = { { type = "EXACT", value = "a", group = "x" } } }, "query[0].group" },
      { "POST", "/api/v2/users/search", '{"pageSize":null}', "pageSize" },
      { "POST", "/api/v2/analytics/users/aggregates/query", { interval = 5 }, "interval" },
      { "POST", "/api/v2/analytics/users/observations/query", { filter = { type = "and", predicates = "x" } },
        "filter.predicates" },
    }
    for _, c in ipairs(cases) do
      local r = emu.api(c[1], c[2], c[3])
      assert(r.status == 400, c[1] .. " " .. c[2] .. " answered " .. r.status .. " " .. r.body)
      refused(r, c[4])
    end
    healthy(u.id)
  end)

  it("changes nothing when PATCH /queues names one unknown queue among known ones", function()
    local q = emu.api("GET", "/api/v2/users/" .. u.id .. "/queues").json.entities[1]
    local function joined() return emu.api("GET", "/api/v2/users/" .. u.id .. "/queues").json.total end
    local n = joined()
    local r = emu.api("PATCH", "/api/v2/users/" .. u.id .. "/queues", { { id = q.id, joined = false }, { id = "nope", joined = false } })
    assert.are.equal(404, r.status)
    assert.are.equal(n, joined())
  end)
end)

describe("emulator failure containment", function()
  local u
  before_each(function()
    emu.reset{ users = 20 }
    u = emu.users(1)[1]
  end)
  after_each(function() emu.clear_faults() end)

  it("answers a route that fails after writing with a 500 ErrorBody and rolls the write back", function()
    emu.fault{ method = "PATCH", path = "/api/v2/users/[^/]+", action = "error_after_apply" }
    local r = emu.api("PATCH", "/api/v2/users/" .. u.id, { name = "Changed", email = "changed@example.com", version = 1 })
    assert.are.equal(500, r.status)
    assert.are.same({ 500, "internal.server.error" }, { r.json.status, r.json.code })
    assert.are.equal(r.headers["inin-correlation-id"], r.json.contextId)
    local now = emu.api("GET", "/api/v2/users/" .. u.id).json
    assert.are.same({ u.name, u.email, 1 }, { now.name, now.email, now.version })
    -- The email it had claimed is free again; the old one still belongs to the user.
    emu.fault{ method = "POST", path = "/api/v2/users", action = "error_after_apply" }
    local before = emu.stats().users
    assert.are.equal(500, emu.api("POST", "/api/v2/users", { name = "X", email = "changed@example.com", password = "p" }).status)
    assert.are.equal(before, emu.stats().users)
    assert.are.equal(200, emu.api("POST", "/api/v2/users", { name = "X", email = "changed@example.com", password = "p" }).status)
    local dup = emu.api("POST", "/api/v2/users", { name = "Y", email = u.email, password = "p" })
    assert.are.equal(400, dup.status)
    -- A DELETE and a sub-resource write roll back too.
    emu.fault{ method = "DELETE", path = "/api/v2/users/[^/]+", action = "error_after_apply" }
    assert.are.equal(500, emu.api("DELETE", "/api/v2/users/" .. u.id).status)
    emu.fault{ method = "PUT", path = "/api/v2/users/[^/]+/routingstatus", action = "error_after_apply" }
    assert.are.equal(500, emu.api("PUT", "/api/v2/users/" .. u.id .. "/routingstatus", { status = "IDLE" }).status)
    assert.are.equal("OFF_QUEUE", emu.api("GET", "/api/v2/users/" .. u.id .. "/routingstatus").json.status)
    assert.are.equal(before + 1, emu.stats().users)
    healthy(u.id)
  end)

  it("answers nginx's own refusals as ErrorBody JSON", function()
    local function check(r, status)
      assert.are.equal(status, r.status)
      assert.are.equal("application/json", r.headers["content-type"])
      assert.is_table(r.json, r.body)
      assert.are.equal(status, r.json.status)
      assert.is_string(r.json.code)
      assert.are.equal(r.headers["inin-correlation-id"], r.json.contextId)
    end
    local big = os.tmpname()
    local f = assert(io.open(big, "wb"))
    f:write(string.rep(" ", 17 * 1024 * 1024))
    f:close()
    local p = assert(io.popen(("curl -s -D - -X POST -H 'Content-Type: application/json' --data-binary @%s %s/api/v2/users")
      :format(big, emu.url)))
    local out = p:read("a")
    p:close()
    os.remove(big)
    assert.matches("^HTTP/1.1 413", out)
    assert.matches("\r\nContent%-Type: application/json\r\n", out)
    assert.matches('"code":"request.entity.too.large"', out, 1, true)
    check(emu.request("TRACE", "/api/v2/users"), 405)
    check(emu.request("GET", "/api/v2/users", { headers = { Host = "bad/host" } }), 400) -- malformed HTTP
    check(emu.request("GET", "/" .. string.rep("a", 9000)), 414)
    check(emu.api("GET", "/api/v2/nowhere"), 404)
  end)

  it("survives random JSON bodies on every write route", function()
    local U = "/api/v2/users/" .. u.id
    local skill = emu.api("GET", U .. "/routingskills").json.entities[1]
    local queue = emu.api("GET", U .. "/queues").json.entities[1]
    local routes = {
      { "POST", "/api/v2/users" }, { "PATCH", U }, { "POST", U .. "/routingskills" },
      { "PUT", U .. "/routingskills/" .. (skill and skill.id or "s") }, { "PATCH", U .. "/queues" },
      { "PATCH", U .. "/queues/" .. (queue and queue.id or "q") }, { "PUT", U .. "/routingstatus" },
      { "PUT", U .. "/callforwarding" }, { "PATCH", U .. "/callforwarding" }, { "PUT", U .. "/outofoffice" },
      { "PATCH", U .. "/geolocations/c1" }, { "PUT", U .. "/profileskills" }, { "PUT", U .. "/roles" },
      { "POST", "/api/v2/users/search" }, { "POST", "/api/v2/analytics/users/aggregates/query" },
      { "POST", "/api/v2/analytics/users/observations/query" },
    }
    local KEYS = { "name", "email", "password", "version", "title", "department", "addresses", "manager", "chat",
      "images", "id", "proficiency", "state", "joined", "status", "enabled", "phoneNumber", "startDate", "endDate",
      "active", "latitude", "longitude", "primary", "query", "type", "value", "values", "fields", "group",
      "operator", "pageSize", "pageNumber", "sortBy", "sortOrder", "interval", "granularity", "filter",
      "predicates", "clauses", "dimension", "metrics", "address", "mediaType", "jabberId" }
    local STRINGS = { "", "a", "IDLE", "EXACT", "and", "2024-01-01T00:00:00Z/2024-01-02T00:00:00Z", "PT1H",
      "x@example.com", "\255\254", "\237\160\128", "caf\195\169", "%s(", "[", "OFF_QUEUE", "userId" }
    math.randomseed(8211)
    local function str(s) return '"' .. s:gsub('[%c"\\]', function(c) return ("\\u%04x"):format(c:byte()) end) .. '"' end
    local gen
    gen = function(depth)
      local k = math.random(depth > 3 and 6 or 9)
      if k == 1 then return "null"
      elseif k == 2 then return tostring(({ 0, 1, -1, 2.5, 1e308, -1e308, 5, 2 ^ 53, 1e-9 })[math.random(9)])
      elseif k == 3 then return math.random(2) == 1 and "true" or "false"
      elseif k <= 6 then return str(STRINGS[math.random(#STRINGS)])
      elseif k == 7 then
        local items = {}
        for i = 1, math.random(0, 3) do items[i] = gen(depth + 1) end
        return "[" .. table.concat(items, ",") .. "]"
      else
        local items = {}
        for i = 1, math.random(0, 5) do items[i] = str(KEYS[math.random(#KEYS)]) .. ":" .. gen(depth + 1) end
        return "{" .. table.concat(items, ",") .. "}"
      end
    end
    local statuses = {}
    for _, route in ipairs(routes) do
      for _ = 1, 12 do
        local body = math.random(4) == 1 and gen(0) or gen(4) -- mostly objects
        if math.random(3) == 1 then
          local items = {}
          for i = 1, math.random(1, 6) do items[i] = str(KEYS[math.random(#KEYS)]) .. ":" .. gen(1) end
          body = "{" .. table.concat(items, ",") .. "}"
        end
        local r = emu.api(route[1], route[2], body)
        statuses[r.status] = (statuses[r.status] or 0) + 1
        assert(r.status > 0 and r.status < 500, route[1] .. " " .. route[2] .. " " .. body .. " -> " .. r.status .. " " .. r.body)
        if r.status >= 400 then assert.is_table(r.json, r.body) end
      end
    end
    assert.is_truthy(statuses[400])
    healthy(u.id)
  end)
end)

describe("emulator apply_then_close fault", function()
  before_each(function() emu.reset{ users = 20 } end)
  after_each(function() emu.clear_faults() end)

  local function curl(args)
    local p = assert(io.popen("curl -sS -o /dev/null -w '%{http_code} %{size_download}' " .. args .. " 2>&1; echo \" rc=$?\""))
    local out = p:read("a")
    p:close()
    return out
  end

  it("applies a POST, logs its real status, and closes without sending a byte", function()
    emu.fault{ method = "POST", path = "/api/v2/users", action = "apply_then_close" }
    emu.clear_log()
    local out = curl(("-X POST -H 'Authorization: Bearer %s' -H 'Content-Type: application/json' "
      .. "--data-binary '{\"name\":\"Once Only\",\"email\":\"once@example.com\",\"password\":\"p\"}' %s/api/v2/users")
      :format(emu.token(), emu.url))
    assert.matches("Empty reply from server", out)
    assert.matches("000 0 rc=52", out, 1, true)
    local s = emu.stats()
    assert.are.equal(1, s.applied["POST /api/v2/users"])
    assert.are.equal(1, s.users_created)
    assert.are.equal(1, s.faults_fired)
    local log = emu.log()
    assert.are.same({ "POST", 200 }, { log[#log].method, log[#log].status })
    local found = emu.api("POST", "/api/v2/users/search",
      { query = { { type = "EXACT", fields = { "email" }, value = "once@example.com" } } }).json
    assert.are.equal(1, found.total)
    -- count = 1: the next POST is answered normally.
    local r = emu.api("POST", "/api/v2/users", { name = "Twice", email = "twice@example.com", password = "p" })
    assert.are.equal(200, r.status)
    assert.are.equal(2, emu.stats().applied["POST /api/v2/users"])
  end)

  it("applies a PATCH after skip, then closes a kept-alive connection", function()
    local u = emu.users(1)[1]
    emu.fault{ method = "PATCH", path = "/api/v2/users/[^/]+", action = "apply_then_close", skip = 1 }
    assert.are.equal(200, emu.api("PATCH", "/api/v2/users/" .. u.id, { title = "First", version = 1 }).status)
    -- One connection: a GET, then the PATCH the fault closes (curl -v shows an empty reply).
    local p = assert(io.popen(("curl -sv -H 'Authorization: Bearer %s' %s/api/v2/users/%s -o /dev/null --next "
      .. "-X PATCH -H 'Authorization: Bearer %s' -H 'Content-Type: application/json' "
      .. "--data-binary '{\"title\":\"Second\",\"version\":2}' %s/api/v2/users/%s -o /dev/null 2>&1")
      :format(emu.token(), emu.url, u.id, emu.token(), emu.url, u.id)))
    local out = p:read("a")
    p:close()
    assert.matches("Re-using existing connection", out, 1, true)
    local now = emu.api("GET", "/api/v2/users/" .. u.id).json
    assert.are.equal("Second", now.title)
    -- Applied once by the fault; curl's CLI may re-send it on a fresh connection, refused as stale (409).
    local s = emu.stats()
    assert.are.equal(2, s.applied["PATCH /api/v2/users/{userId}"])
    assert.are.equal(3, now.version)
  end)
end)
