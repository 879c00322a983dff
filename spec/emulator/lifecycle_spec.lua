-- A user's lifecycle over raw HTTP (emulator/lua/emu/routes/lifecycle.lua and
-- users.lua): state (inactive, deleted, back), every user by cursor, the
-- 10 000-result window of offset paging, ACD auto-answer in bulk, the
-- activation email, password changes; each answer checked against
-- api/today/swagger.json.
local emu = require "support.emulator"
local cjson = require "cjson.safe"
local schema = require "spec.support.schema"

local function api(method, path, body, query)
  local r = emu.api(method, path, body, query)
  return r, r.json
end

local function ids_of(page)
  local out = {}
  for _, u in ipairs(page.entities) do out[#out + 1] = u.id end
  return out
end

local function listed(query)
  local r, page = api("GET", "/api/v2/users", nil, query)
  assert.are.equal(200, r.status, r.body)
  local set = {}
  for _, u in ipairs(page.entities) do set[u.id] = u end
  return set, page
end

local function put_state(u, want, version, reason)
  return api("PUT", "/api/v2/users/" .. u.id .. "/state", { state = want, version = version, stateChangeReason = reason })
end

describe("emulator today: user state", function()
  before_each(function() emu.reset{ users = 20 } end)

  it("an inactive user leaves the default listing, is listed with state=inactive and comes back", function()
    local u = emu.users(3)[3]
    local r, st = api("GET", "/api/v2/users/" .. u.id .. "/state")
    assert.are.equal(200, r.status, r.body)
    assert.is_nil(schema.check("UserState", st))
    assert.are.same({ "active", 1 }, { st.state, st.version })
    r, st = put_state(u, "inactive", 1, "Leave")
    assert.are.equal(200, r.status, r.body)
    assert.is_nil(schema.check("UserState", st))
    assert.are.same({ "inactive", 2, "Leave" }, { st.state, st.version, st.stateChangeReason })
    assert.matches("^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%d", st.stateChangeDate)
    local active, page = listed{ pageSize = 100 }
    assert.is_nil(active[u.id])
    assert.are.equal(19, page.total)
    local inactive = listed{ state = "inactive" }
    assert.are.same({ "inactive", 2 }, { inactive[u.id].state, inactive[u.id].version })
    assert.is_table(listed{ state = "any", pageSize = 100 }[u.id])
    assert.is_nil(listed{ state = "deleted" }[u.id])
    -- The user itself stays readable, and its GET says inactive.
    local _, got = api("GET", "/api/v2/users/" .. u.id)
    assert.are.same({ "inactive", 2 }, { got.state, got.version })
    -- A stale version is a conflict; the current one brings it back.
    assert.are.equal(409, put_state(u, "active", 1).status)
    r, st = put_state(u, "active", 2)
    assert.are.equal(200, r.status, r.body)
    assert.are.same({ "active", 3 }, { st.state, st.version })
    assert.is_table(listed{ pageSize = 100 }[u.id])
    assert.is_nil(listed{ state = "inactive" }[u.id])
  end)

  it("PUT state deleted deletes; PUT state active restores; bad bodies change nothing", function()
    local u = emu.users(4)[4]
    assert.are.equal(400, put_state(u, "gone", 1).status)
    assert.are.equal(400, put_state(u, "inactive", 1, "Bored").status)
    assert.are.equal(400, api("PUT", "/api/v2/users/" .. u.id .. "/state", { state = "inactive" }).status)
    assert.are.equal(404, put_state({ id = "nobody" }, "inactive", 1).status)
    local r, st = put_state(u, "deleted", 1)
    assert.are.equal(200, r.status, r.body)
    assert.are.equal("deleted", st.state)
    assert.are.equal(404, api("GET", "/api/v2/users/" .. u.id).status)
    assert.is_nil(listed{ pageSize = 100 }[u.id])
    assert.are.equal("deleted", listed{ state = "deleted" }[u.id].state)
    -- Its state stays readable, and is how it comes back.
    r, st = api("GET", "/api/v2/users/" .. u.id .. "/state")
    assert.are.same({ 200, "deleted", 2 }, { r.status, st.state, st.version })
    r, st = put_state(u, "active", 2)
    assert.are.equal(200, r.status, r.body)
    assert.are.equal("active", st.state)
    local _, got = api("GET", "/api/v2/users/" .. u.id)
    assert.are.same({ u.id, "active", u.email }, { got.id, got.state, got.email })
    assert.is_table(listed{ pageSize = 100 }[u.id])
    -- A deleted user whose email another user took since cannot come back.
    assert.are.equal(200, api("DELETE", "/api/v2/users/" .. u.id).status)
    assert.are.equal(200, api("POST", "/api/v2/users", { name = "Taker", email = u.email, password = "p" }).status)
    r = put_state(u, "active", 3)
    assert.are.equal(400, r.status)
    assert.are.equal("general.conflict", r.json.code)
    assert.are.equal("deleted", api("GET", "/api/v2/users/" .. u.id .. "/state").json.state)
  end)
end)

describe("emulator today: every user by cursor, and the offset window", function()
  before_each(function() emu.reset{ users = 23 } end)

  local function page_all(query)
    local seen, pages, cursor = {}, 0, nil
    repeat
      local q = {}
      for k, v in pairs(query) do q[k] = v end
      q.cursor = cursor
      local r, page = api("GET", "/api/v2/users/query", nil, q)
      assert.are.equal(200, r.status, r.body)
      assert.is_nil(schema.check("UserCursorEntityListing", page))
      assert.are.equal(#page.entities, page.results)
      for _, u in ipairs(page.entities) do seen[#seen + 1] = u.id end
      pages = pages + 1
      if page.cursor then
        assert.matches("cursor=" .. page.cursor:gsub("%p", "%%%0"), page.nextUri)
      else
        assert.is_nil(page.nextUri)
      end
      cursor = page.cursor
    until not cursor or pages > 50
    return seen, pages
  end

  it("pages through every user in the listing's order; the last page has no cursor", function()
    local seen, pages = page_all{ pageSize = 5 }
    assert.are.equal(5, pages)
    local _, all = api("GET", "/api/v2/users", nil, { pageSize = 100 })
    assert.are.same(ids_of(all), seen)
    local desc = page_all{ pageSize = 10, sortOrder = "DESC" }
    local reversed = {}
    for i = #seen, 1, -1 do reversed[#reversed + 1] = seen[i] end
    assert.are.same(reversed, desc)
    -- Exactly full last page: still no cursor after it.
    local _, one = page_all{ pageSize = 23 }
    assert.are.equal(1, one)
  end)

  it("resumes after the last user seen even when users change meanwhile; state and bad cursors", function()
    local r, first = api("GET", "/api/v2/users/query", nil, { pageSize = 4 })
    assert.are.equal(200, r.status)
    -- A user of the first page is deleted: the next page starts where it would have.
    local _, all = api("GET", "/api/v2/users", nil, { pageSize = 100 })
    assert.are.equal(200, api("DELETE", "/api/v2/users/" .. first.entities[2].id).status)
    local _, second = api("GET", "/api/v2/users/query", nil, { pageSize = 4, cursor = first.cursor })
    assert.are.equal(all.entities[5].id, second.entities[1].id)
    local u = all.entities[7]
    put_state(u, "inactive", 1)
    local inactive = page_all{ state = "inactive" }
    assert.are.same({ u.id }, inactive)
    local deleted = page_all{ state = "deleted" }
    assert.are.same({ first.entities[2].id }, deleted)
    assert.are.equal(23, #page_all{ state = "any", pageSize = 7 })
    assert.are.equal(21, #page_all{ pageSize = 100 })
    for _, bad in ipairs({ "not-a-cursor!", "bm9wZQ", "" .. ("x"):rep(10) }) do
      r = api("GET", "/api/v2/users/query", nil, { cursor = bad })
      assert.are.equal(400, r.status, bad)
      assert.are.equal("cursor", r.json.details[1].fieldName)
    end
    assert.are.equal(400, api("GET", "/api/v2/users/query", nil, { state = "gone" }).status)
    assert.are.equal(400, api("GET", "/api/v2/users/query", nil, { pageSize = 0 }).status)
    local _, x = api("GET", "/api/v2/users/query", nil, { pageSize = 2, expand = "routingStatus" })
    assert.is_nil(schema.check("UserCursorEntityListing", x))
    assert.is_table(x.entities[1].routingStatus)
  end)

  it("offset paging refuses pages past the first 10 000 results", function()
    local r = api("GET", "/api/v2/users", nil, { pageSize = 100, pageNumber = 100 })
    assert.are.equal(200, r.status)
    assert.are.equal(0, #r.json.entities)
    for _, q in ipairs({ { pageSize = 100, pageNumber = 101 }, { pageSize = 500, pageNumber = 21 },
                         { pageSize = 1, pageNumber = 10001 }, { pageNumber = 401 } }) do
      r = api("GET", "/api/v2/users", nil, q)
      assert.are.equal(400, r.status, cjson.encode(q))
      assert.matches("10000 results", r.json.message, 1, true)
      assert.matches("/api/v2/users/query", r.json.message, 1, true)
    end
    assert.are.equal(200, api("GET", "/api/v2/users", nil, { pageNumber = 400 }).status)
  end)
end)

describe("emulator today: ACD auto-answer in bulk", function()
  before_each(function() emu.reset{ users = 60 } end)

  it("sets each user's acdAutoAnswer, bumping its version, and answers the updated users", function()
    local us = emu.users(3)
    local r, page = api("PATCH", "/api/v2/users/bulk", { { id = us[1].id, acdAutoAnswer = true },
      { id = us[2].id, acdAutoAnswer = false }, { id = us[3].id, acdAutoAnswer = true } })
    assert.are.equal(200, r.status, r.body)
    assert.is_nil(schema.check("UserEntityListing", page))
    assert.are.same({ us[1].id, us[2].id, us[3].id }, ids_of(page))
    assert.are.equal(3, page.total)
    local _, one = api("GET", "/api/v2/users/" .. us[1].id)
    assert.are.same({ true, 2 }, { one.acdAutoAnswer, one.version })
    local _, two = api("GET", "/api/v2/users/" .. us[2].id)
    assert.are.same({ false, 2 }, { two.acdAutoAnswer, two.version })
    assert.is_true(listed{ id = us[3].id }[us[3].id].acdAutoAnswer)
    -- The single PATCH sees and changes the same field.
    r = api("PATCH", "/api/v2/users/" .. us[1].id, { acdAutoAnswer = false, version = 2 })
    assert.are.same({ 200, false, 3 }, { r.status, r.json.acdAutoAnswer, r.json.version })
  end)

  it("refuses more than 50 users, unknown users and bad items, changing nobody", function()
    local us = emu.users(51)
    local many = {}
    for i = 1, 51 do many[i] = { id = us[i].id, acdAutoAnswer = true } end
    local r = api("PATCH", "/api/v2/users/bulk", many)
    assert.are.equal(400, r.status)
    assert.matches("50", r.json.message, 1, true)
    many[51] = nil
    many[50] = { id = "nobody", acdAutoAnswer = true }
    assert.are.equal(404, api("PATCH", "/api/v2/users/bulk", many).status)
    many[50] = { acdAutoAnswer = true }
    assert.are.equal(400, api("PATCH", "/api/v2/users/bulk", many).status)
    many[50] = { id = us[50].id, acdAutoAnswer = "yes" }
    assert.are.equal(400, api("PATCH", "/api/v2/users/bulk", many).status)
    assert.are.equal(400, api("PATCH", "/api/v2/users/bulk", { id = us[1].id, acdAutoAnswer = true }).status)
    for i = 1, 50 do
      local _, u = api("GET", "/api/v2/users/" .. us[i].id)
      assert.are.same({ nil, 1 }, { u.acdAutoAnswer, u.version })
    end
    -- Exactly 50 is fine.
    many[50] = { id = us[50].id, acdAutoAnswer = true }
    r = api("PATCH", "/api/v2/users/bulk", many)
    assert.are.same({ 200, 50 }, { r.status, #r.json.entities })
  end)
end)

describe("emulator today: activation email and passwords", function()
  before_each(function() emu.reset{ users = 10 } end)

  local function welcome(u)
    local r, got = api("GET", "/api/v2/users/" .. u.id, nil, { expand = "dateWelcomeSent" })
    assert.are.equal(200, r.status, r.body)
    assert.is_nil(schema.check("User", got))
    return got.dateWelcomeSent
  end

  it("an invitation is recorded as dateWelcomeSent; resent only with force", function()
    local u = emu.users(2)[2]
    assert.is_nil(welcome(u))
    local r = api("POST", "/api/v2/users/" .. u.id .. "/invite")
    assert.are.same({ 204, "" }, { r.status, r.body })
    local first = welcome(u)
    assert.matches("^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%d%.%d%d%dZ$", first)
    assert.is_nil(api("GET", "/api/v2/users/" .. u.id).json.dateWelcomeSent)
    assert.are.equal(first, api("GET", "/api/v2/users", nil, { id = u.id, expand = "dateWelcomeSent" })
      .json.entities[1].dateWelcomeSent)
    os.execute("sleep 0.02")
    assert.are.equal(204, api("POST", "/api/v2/users/" .. u.id .. "/invite").status)
    assert.are.equal(first, welcome(u))
    assert.are.equal(204, api("POST", "/api/v2/users/" .. u.id .. "/invite", nil, { force = "true" }).status)
    assert.is_true(welcome(u) > first)
    assert.are.equal(400, api("POST", "/api/v2/users/" .. u.id .. "/invite", nil, { force = "maybe" }).status)
    assert.are.equal(404, api("POST", "/api/v2/users/nobody/invite").status)
    emu.reset{ users = 10 }
    assert.is_nil(welcome(u))
  end)

  it("a password change follows the default policy and refuses a recent password", function()
    local u = emu.users(1)[1]
    local path = "/api/v2/users/" .. u.id .. "/password"
    for pw, missing in pairs({ ["Sh0rt!"] = "at least 8 characters", ["alllower1!"] = "an uppercase letter",
                               ["ALLUPPER1!"] = "a lowercase letter", ["NoDigits!!"] = "a number",
                               ["NoSpecial12"] = "a special character", [("Aa1!"):rep(101)] = "at most 400" }) do
      local r = api("POST", path, { newPassword = pw })
      assert.are.equal(400, r.status, pw)
      assert.matches(missing, r.json.message, 1, true)
      assert.are.equal("newPassword", r.json.details[1].fieldName)
    end
    assert.are.equal(400, api("POST", path, {}).status)
    local r = api("POST", path, { newPassword = "Str0ng!pass" })
    assert.are.same({ 204, "" }, { r.status, r.body })
    assert.are.equal(204, api("POST", path, { newPassword = "An0ther!pass" }).status)
    r = api("POST", path, { newPassword = "Str0ng!pass" })
    assert.are.equal(400, r.status)
    assert.matches("previous 10", r.json.message, 1, true)
    assert.are.equal(404, api("POST", "/api/v2/users/nobody/password", { newPassword = "Str0ng!pass" }).status)
  end)

  it("a user changes their own password with the old one; client credentials cannot", function()
    local u = emu.users(3)[3]
    local path = "/api/v2/users/me/password"
    local r = api("POST", path, { oldPassword = "whatever", newPassword = "Str0ng!pass" })
    assert.are.same({ 400, "not.a.user" }, { r.status, r.json.code })
    local tok = emu.user_token(u.id)
    local function mine(body) return emu.request("POST", path, { bearer = tok, body = body }) end
    assert.are.equal(400, mine({ newPassword = "Str0ng!pass" }).status)
    assert.are.equal(400, mine({ oldPassword = "x", newPassword = "weak" }).status)
    -- No password was ever set for this user here: the first change takes any old one.
    assert.are.equal(204, mine({ oldPassword = "unknown", newPassword = "Str0ng!pass" }).status)
    r = mine({ oldPassword = "wrong", newPassword = "An0ther!pass" })
    assert.are.equal(400, r.status)
    assert.are.equal("oldPassword", cjson.decode(r.body).details[1].fieldName)
    assert.are.equal(204, mine({ oldPassword = "Str0ng!pass", newPassword = "An0ther!pass" }).status)
    -- The administrator's change and the user's own share the password.
    assert.are.equal(204, api("POST", "/api/v2/users/" .. u.id .. "/password", { newPassword = "Th1rd!pass" }).status)
    assert.are.equal(400, mine({ oldPassword = "An0ther!pass", newPassword = "F0urth!pass" }).status)
    assert.are.equal(204, mine({ oldPassword = "Th1rd!pass", newPassword = "F0urth!pass" }).status)
  end)
end)
