-- The emulator's users routes, search, error shapes and paging edges.
local emu = require "support.emulator"

describe("emulator users", function()
  before_each(function() emu.reset{ users = 30 } end)

  it("is deterministic for a seed and differs across seeds", function()
    local a = emu.users(5)
    emu.reset{ users = 30 }
    local b = emu.users(5)
    for i = 1, 5 do assert.are.equal(a[i].id, b[i].id) end
    emu.reset{ users = 30, seed = 2 }
    assert.are_not.equal(a[1].id, emu.users(1)[1].id)
  end)

  it("lists with page edges: previous/next absent at the ends, out of range empty", function()
    local first = emu.api("GET", "/api/v2/users", nil, { pageSize = 10 }).json
    assert.are.same({ 30, 3, 1, 10 }, { first.total, first.pageCount, first.pageNumber, #first.entities })
    assert.is_nil(first.previousUri)
    assert.are.equal("/api/v2/users?pageSize=10&pageNumber=2", first.nextUri)
    assert.are.equal("/api/v2/users?pageSize=10&pageNumber=3", first.lastUri)
    local last = emu.api("GET", "/api/v2/users", nil, { pageSize = 10, pageNumber = 3 }).json
    assert.is_nil(last.nextUri)
    assert.is_string(last.previousUri)
    local beyond = emu.api("GET", "/api/v2/users", nil, { pageSize = 10, pageNumber = 9 }).json
    assert.are.equal(0, #beyond.entities)
    assert.are.equal(30, beyond.total)
    assert.are.equal("[]", emu.api("GET", "/api/v2/users", nil, { pageSize = 10, pageNumber = 9 }).body
      :match('"entities":(%[%])'))
    for _, bad in ipairs({ 0, 501, "x" }) do
      local r = emu.api("GET", "/api/v2/users", nil, { pageSize = bad })
      assert.are.equal(400, r.status)
      assert.are.equal("pageSize", r.json.details[1].fieldName)
    end
  end)

  it("sorts by name both ways and accepts ASC/DESC", function()
    local asc = emu.api("GET", "/api/v2/users", nil, { pageSize = 30, sortOrder = "ascending" }).json.entities
    local desc = emu.api("GET", "/api/v2/users", nil, { pageSize = 30, sortOrder = "DESC" }).json.entities
    assert.are.equal(asc[1].id, desc[30].id)
    for i = 2, 30 do assert.is_true(asc[i - 1].name <= asc[i].name) end
    assert.are.equal(400, emu.api("GET", "/api/v2/users", nil, { sortOrder = "sideways" }).status)
  end)

  it("filters by repeated id and refuses more than 100", function()
    local u = emu.users(3)
    local r = emu.api("GET", "/api/v2/users", nil, { id = { u[1].id, u[3].id, "nope" } }).json
    assert.are.equal(2, r.total)
    local many = {}
    for i = 1, 101 do many[i] = "id" .. i end
    r = emu.api("GET", "/api/v2/users", nil, { id = many })
    assert.are.equal(400, r.status)
    assert.are.equal("max.user.ids", r.json.code)
    assert.are.equal("Only 100 users can be requested at a time", r.json.message)
  end)

  it("creates users, refusing missing fields and duplicate emails", function()
    local r = emu.api("POST", "/api/v2/users", { name = "New Person", email = "new@example.com", password = "x1!" })
    assert.are.equal(200, r.status)
    assert.are.equal(1, r.json.version)
    assert.are.equal("/api/v2/users/" .. r.json.id, r.json.selfUri)
    assert.are.equal(r.json.id, emu.api("GET", "/api/v2/users/" .. r.json.id).json.id)
    local dup = emu.api("POST", "/api/v2/users", { name = "B", email = "NEW@example.com", password = "x" })
    assert.are.equal(400, dup.status)
    assert.matches("already exists", dup.json.message)
    local missing = emu.api("POST", "/api/v2/users", { name = "C" })
    assert.are.equal(400, missing.status)
    local fields = {}
    for _, d in ipairs(missing.json.details) do fields[d.fieldName] = true end
    assert.is_true(fields.email)
    assert.is_nil(fields.password) -- (optional today: invite-only and SSO users)
    assert.is_nil(fields.divisionId) -- (the home division when absent)
    assert.are.equal(31, emu.api("GET", "/api/v2/users").json.total)
    assert.are.equal(1, emu.stats().users_created)
  end)

  it("patches with version checks: 409 on a stale version, bump on success", function()
    local u = emu.users(1)[1]
    local ok = emu.api("PATCH", "/api/v2/users/" .. u.id, { title = "Boss", version = 1 })
    assert.are.equal(200, ok.status)
    assert.are.same({ "Boss", 2 }, { ok.json.title, ok.json.version })
    local stale = emu.api("PATCH", "/api/v2/users/" .. u.id, { title = "Again", version = 1 })
    assert.are.equal(409, stale.status)
    assert.are.equal("The version number of the modified resource must match the version number in the database.",
      stale.json.message)
    local noversion = emu.api("PATCH", "/api/v2/users/" .. u.id, { title = "Again" })
    assert.are.equal(400, noversion.status)
    assert.are.equal("version", noversion.json.details[1].fieldName)
    -- Read-only fields are ignored, not applied.
    local ro = emu.api("PATCH", "/api/v2/users/" .. u.id, { version = 2, id = "other", state = "deleted" })
    assert.are.same({ u.id, "active", 3 }, { ro.json.id, ro.json.state, ro.json.version })
  end)

  it("deletes users: gone from GET, PATCH, DELETE, listings and search", function()
    local u = emu.users(1)[1]
    assert.are.equal(200, emu.api("DELETE", "/api/v2/users/" .. u.id).status)
    assert.are.equal(404, emu.api("GET", "/api/v2/users/" .. u.id).status)
    assert.are.equal(404, emu.api("PATCH", "/api/v2/users/" .. u.id, { version = 1 }).status)
    assert.are.equal(404, emu.api("DELETE", "/api/v2/users/" .. u.id).status)
    assert.are.equal(29, emu.api("GET", "/api/v2/users").json.total)
    local s = emu.api("POST", "/api/v2/users/search", { query = { { type = "EXACT", fields = { "email" },
      value = u.email } } }).json
    assert.are.equal(0, s.total)
  end)

  it("answers errors in the ErrorBody shape with a matching correlation header", function()
    local r = emu.api("GET", "/api/v2/users/does-not-exist")
    assert.are.equal(404, r.status)
    assert.are.equal("not.found", r.json.code)
    assert.are.equal(r.headers["inin-correlation-id"], r.json.contextId)
    for _, k in ipairs({ "status", "code", "message", "messageWithParams", "messageParams", "contextId", "details",
                         "errors" }) do
      assert.is_not_nil(r.json[k], k)
    end
    assert.are.equal(404, emu.api("GET", "/api/v2/nothing/here").status)
    local bad = emu.request("POST", "/api/v2/users", { bearer = emu.token(), body = "{not json",
                                                        headers = { ["Content-Type"] = "application/json" } })
    assert.are.equal(400, bad.status)
    local media = emu.request("POST", "/api/v2/users", { bearer = emu.token(), body = "name=x",
                                                          headers = { ["Content-Type"] = "text/plain" } })
    assert.are.equal(415, media.status)
    local wrongtype = emu.api("POST", "/api/v2/users", { name = 5, email = "a@b.c", password = "p" })
    assert.are.equal(400, wrongtype.status)
    assert.are.equal("name", wrongtype.json.details[1].fieldName)
  end)

  it("keeps encoded path segments opaque", function()
    local r = emu.api("GET", "/api/v2/users/..%2F..%2Foauth%2Ftoken")
    assert.are.equal(404, r.status)
    assert.matches("%.%./%.%./oauth/token", r.json.message)
  end)
end)

describe("emulator search", function()
  before_each(function() emu.reset{ users = 120 } end)

  local function search(body) return emu.api("POST", "/api/v2/users/search", body) end

  it("supports EXACT, STARTS_WITH, CONTAINS, TERM, TERMS and REQUIRED_FIELDS", function()
    local u = emu.users(1)[1]
    local first = u.name:match("^(%S+)")
    assert.are.equal(1, search{ query = { { type = "EXACT", fields = { "email" }, value = u.email } } }.json.total)
    local sw = search{ query = { { type = "STARTS_WITH", fields = { "name" }, value = first } } }.json
    assert.is_true(sw.total >= 1)
    for _, x in ipairs(sw.results) do assert.are.equal(first, x.name:sub(1, #first)) end
    assert.are.equal(120, search{ pageSize = 100, query = { { type = "CONTAINS", fields = { "email" },
      value = "@example.com" } } }.json.total)
    assert.is_true(search{ query = { { type = "TERM", fields = { "name" }, value = first:lower() } } }.json.total >= 1)
    assert.is_true(search{ query = { { type = "TERMS", fields = { "department" }, values = { "sales", "billing" } } } }
      .json.total > 0)
    assert.are.equal(120, search{ query = { { type = "REQUIRED_FIELDS", fields = { "email" } } } }.json.total)
  end)

  it("combines criteria with AND / OR", function()
    local a = search{ query = { { type = "EXACT", fields = { "department" }, value = "Sales" } } }.json.total
    local b = search{ query = { { type = "EXACT", fields = { "department" }, value = "Support" } } }.json.total
    local both = search{ query = {
      { type = "EXACT", fields = { "department" }, value = "Sales", operator = "OR" },
      { type = "EXACT", fields = { "department" }, value = "Support", operator = "OR" } } }.json.total
    assert.are.equal(a + b, both)
    local none = search{ query = {
      { type = "EXACT", fields = { "department" }, value = "Sales" },
      { type = "EXACT", fields = { "department" }, value = "Support" } } }.json.total
    assert.are.equal(0, none)
  end)

  it("pages with q64 values through GET /users/search", function()
    local body = { pageSize = 25, query = { { type = "CONTAINS", fields = { "email" }, value = "@" } } }
    local page = search(body).json
    assert.are.same({ 120, 5, 1 }, { page.total, page.pageCount, page.pageNumber })
    assert.is_nil(page.previousPage)
    local seen, n = {}, 0
    while true do
      for _, x in ipairs(page.results) do
        assert.is_nil(seen[x.id]); seen[x.id] = true; n = n + 1
      end
      if not page.nextPage then break end
      page = emu.api("GET", "/api/v2/users/search", nil, { q64 = page.nextPage }).json
    end
    assert.are.equal(120, n)
    assert.are.equal(5, page.pageNumber)
    assert.are.equal(400, emu.api("GET", "/api/v2/users/search", nil, { q64 = "!!!" }).status)
  end)

  it("rejects bad criteria", function()
    assert.are.equal(400, search{ query = { { fields = { "name" }, value = "x" } } }.status)
    assert.are.equal(400, search{ query = { { type = "FUZZY", value = "x" } } }.status)
    assert.are.equal(400, search{ pageSize = 101 }.status)
  end)
end)
