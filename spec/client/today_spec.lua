-- Today's service through client.users (issue 13): today's parameters and body
-- fields are known options (no warning), the third return value carries the
-- response's metadata, per-call headers reach the emulator, and read-only
-- POSTs are retried where writes are not — over real HTTP.
local emu = require "support.emulator"
local support = require "support.client"

-- A client whose warnings are kept; `direct` for calls the contract check must not see.
local function client_with_log(direct)
  local warnings = {}
  local c = (direct and support.direct or support.new){ log = { level = "warn",
    sink = function(_, message) warnings[#warnings + 1] = message end } }
  return c, warnings
end

local function ids(listing)
  local out = {}
  for _, u in ipairs(listing.entities or listing.results or {}) do out[#out + 1] = u.id end
  table.sort(out)
  return out
end

describe("today's parameters through client.users", function()
  local c, warnings, users
  before_each(function()
    emu.reset{ users = 12 }
    c, warnings = client_with_log(true)
    users = c.users
  end)
  after_each(function()
    c:close()
    emu.clear_faults()
  end)

  it("state = \"deleted\" finds a deleted user that the default listing and get hide", function()
    local gone = emu.users(3)[3]
    assert(users.delete_user_id(gone.id))
    local active = assert(users.get_users{ page_size = 100 })
    for _, id in ipairs(ids(active)) do assert.are_not.equal(gone.id, id) end
    local deleted = assert(users.get_users{ page_size = 100, state = "deleted" })
    assert.are.same({ gone.id }, ids(deleted))
    local any = assert(users.get_users{ page_size = 100, state = "any" })
    assert.are.equal(active.total + 1, any.total)
    local _, err = users.get_user_id(gone.id)
    assert.are.equal(404, err.status)
    local u = assert(users.get_user_id(gone.id, { state = "deleted" }))
    assert.are.same({ gone.id, "deleted" }, { u.id, u.state })
    assert.are.same({}, warnings)
  end)

  it("jabber_id fetches users by their chat ids, and none for an unknown one", function()
    local two = emu.users(2)
    local page = assert(users.get_users{ jabber_id = { two[1].chat.jabberId, two[2].chat.jabberId } })
    local want = { two[1].id, two[2].id }
    table.sort(want)
    assert.are.same(want, ids(page))
    assert.are.same({}, ids(assert(users.get_users{ jabber_id = { "nobody@example.com" } })))
    assert.are.same({}, warnings)
  end)

  it("expand = { \"routingStatus\", \"presence\" } returns both", function()
    local id = emu.users(1)[1].id
    local plain = assert(users.get_user_id(id))
    assert.is_nil(plain.routingStatus)
    assert.is_nil(plain.presence)
    local u = assert(users.get_user_id(id, { expand = { "routingStatus", "presence" } }))
    assert.is_string(u.routingStatus.status)
    assert.is_table(u.presence.presenceDefinition)
    local page = assert(users.get_users{ page_size = 2, expand = { "routingStatus", "presence" } })
    assert.is_string(page.entities[1].routingStatus.status)
    assert.are.same({}, warnings)
  end)

  it("MATCH_ALL and QUERY_STRING searches, with today's sort, answer as the emulator's today layer", function()
    local all = assert(users.post_search{ query = { { type = "MATCH_ALL" } }, pageSize = 100,
                                          sort = { { sortBy = "name", sortOrder = "ASC" } },
                                          enforcePermissions = false })
    assert.are.equal(12, all.total)
    for i = 2, #all.results do assert.is_true(all.results[i - 1].name <= all.results[i].name) end
    local target = emu.users(5)[5]
    local word = target.email:match("^[^@%.%-_]+")
    local found = assert(users.post_search{ query = { { type = "QUERY_STRING", value = word, fields = { "email" } } } })
    local hit = false
    for _, u in ipairs(found.results or {}) do if u.id == target.id then hit = true end end
    assert.is_true(hit, "QUERY_STRING " .. word .. " did not find " .. target.email)
    assert.is_true(found.total < 12)
    assert.are.same({}, warnings)
  end)

  it("still warns on an option and a search type no layer knows (and strict refuses them)", function()
    local _, err = users.get_users{ statee = "deleted" }
    assert.is_nil(err)
    assert.matches("did you mean state", table.concat(warnings, "\n"))
    local strict = support.direct{ validate = "strict" }
    local v, serr = strict.users.get_users{ statee = "deleted" }
    assert.is_nil(v)
    assert.are.equal("validation", serr.kind)
    v, serr = strict.users.post_search{ query = { { type = "FUZZY", value = "x" } } }
    assert.is_nil(v)
    assert.are.equal("validation", serr.kind)
    strict:close()
  end)
end)

describe("response metadata and per-call headers", function()
  local c
  before_each(function()
    emu.reset{ users = 3 }
    c = support.direct()
  end)
  after_each(function()
    c:close()
    emu.clear_faults()
  end)

  it("returns status, correlation id and rate-limit values as the third value", function()
    local id = emu.users(1)[1].id
    local user, err, info = c.users.get_user_id(id)
    assert.is_nil(err)
    assert.are.equal(id, user.id)
    assert.are.equal(200, info.status)
    assert.is_string(info.context_id)
    -- The header table is built when first asked for, then stays.
    assert.is_nil(rawget(info, "headers"))
    assert.are.equal(info.headers["inin-correlation-id"], info.context_id)
    assert.are.equal(info.headers, rawget(info, "headers"))
    local n = 0
    for name, value in pairs(info.headers) do
      assert.are.equal(name:lower(), name)
      assert.is_string(value)
      n = n + 1
    end
    assert.is_true(n >= 3)
    assert.is_nil(info.rate_limit) -- the emulator without a budget sends no inin-ratelimit-* headers
    emu.config{ rate = { allowed = 1000, window_s = 60 } }
    user, err, info = c.users.get_user_id(id)
    local _, _, again = c.users.get_user_id(id)
    emu.config{ rate = false }
    assert(user, err)
    assert.are.equal(1000, info.rate_limit.allowed)
    assert.is_true(info.rate_limit.reset >= 1 and info.rate_limit.reset <= 60)
    assert.are.equal(info.rate_limit.count + 1, again.rate_limit.count)
    assert.are_not.equal(info.context_id, again.context_id)
  end)

  it("sends per-call headers to the emulator (Accept-Encoding: identity turns its gzip off)", function()
    local _, _, zipped = assert(c.users.get_users{ page_size = 3 })
    assert.are.equal("gzip", zipped.headers["content-encoding"])
    local page, err, plain = c.users.get_users{ page_size = 3, headers = { ["Accept-Encoding"] = "identity" } }
    assert(page, err)
    assert.are.equal(3, #page.entities)
    assert.is_nil(plain.headers["content-encoding"])
    assert.has_error(function() c.users.get_users{ headers = { Authorization = "Bearer x" } } end)
  end)

  it("retries a 503 on post_search (a read-only POST) but not on post_users", function()
    emu.clear_log()
    emu.fault{ method = "POST", path = "/api/v2/users/search", count = 1, status = 503 }
    local found, err = c.users.post_search{ query = { { type = "MATCH_ALL" } } }
    assert(found, err)
    assert.are.equal(3, found.total)
    emu.fault{ method = "POST", path = "/api/v2/users", count = 1, status = 503 }
    local created, cerr = c.users.post_users{ name = "Once", email = "once@example.com", password = "p4ssw0rd!" }
    assert.is_nil(created)
    assert.are.same({ 503, "unknown" }, { cerr.status, cerr.outcome })
    local seen = {}
    for _, r in ipairs(emu.log()) do
      if r.method == "POST" and r.path:find("^/api/") then seen[#seen + 1] = ("%s %d"):format(r.path, r.status) end
    end
    assert.are.same({ "/api/v2/users/search 503", "/api/v2/users/search 200", "/api/v2/users 503" }, seen)
  end)

  it("reports bad array items by 0-based path, as the service does", function()
    local u = emu.users(1)[1]
    local r, err = c:request("PUT", "/api/v2/users/{userId}/profileskills",
      { path = { userId = u.id }, json = '["ok", 2]' })
    assert.is_nil(r)
    assert.are.equal(400, err.status)
    assert.are.equal("[1]", err.details[1].fieldName)
  end)
end)
