-- A write is sent at most once, by every layer (issue: hardening §1).
-- The emulator applies the write and then drops the connection without one
-- response byte, on a keep-alive connection the client reuses: libcurl on its
-- own would re-send the request on a fresh connection and apply it twice.
local emu = require "support.emulator"
local support = require "support.client"

local function applied(route)
  return (emu.stats().applied or {})[route] or 0
end

describe("a write whose answer is lost #hostile", function()
  before_each(function() emu.reset{ users = 3 } end)

  it("is applied once over libcurl and reported with an unknown outcome (POST)", function()
    local c = support.direct()
    assert(c.users.get_users()) -- the connection is now alive and will be reused
    emu.fault{ action = "apply_then_close", method = "POST", path = "/api/v2/users", count = 1 }
    local before = emu.stats().users_created
    local v, err = c.users.post_users{ name = "Once", email = "once@example.com", password = "x-Secret-1" }
    assert.is_nil(v)
    assert.are.equal("transport", err.kind)
    assert.are.equal("unknown", err.outcome)
    assert.is_true(err.sent)
    assert.matches("check before repeating", tostring(err))
    assert.are.equal(1, emu.stats().users_created - before)
    assert.are.equal(1, applied("POST /api/v2/users"))
    assert.are.equal(0, c.stats.retries)
    c:close()
  end)

  it("is applied once over libcurl (PATCH)", function()
    local c = support.direct()
    local u = emu.users(1)[1]
    local fresh = assert(c.users.get_user_id(u.id))
    emu.fault{ action = "apply_then_close", method = "PATCH", path = "/api/v2/users/[^/]+", count = 1 }
    local v, err = c.users.patch_user_id(u.id, { name = "Renamed", version = fresh.version })
    assert.is_nil(v)
    assert.are.equal("unknown", err.outcome)
    assert.are.equal(1, applied("PATCH /api/v2/users/{userId}"))
    local now = assert(c.users.get_user_id(u.id))
    assert.are.equal(fresh.version + 1, now.version) -- one PATCH, not two
    c:close()
  end)

  it("is never re-sent by the raw transport either, while a safe request may be", function()
    local token = emu.token(true)
    local h = require("purecloud.transport.curl").new{}
    local auth = { Authorization = "Bearer " .. token, ["Content-Type"] = "application/json" }
    assert(h:perform{ method = "GET", url = emu.url .. "/api/v2/users", headers = auth })
    emu.fault{ action = "apply_then_close", method = "POST", path = "/api/v2/users", count = 1 }
    local res, err = h:perform{ method = "POST", url = emu.url .. "/api/v2/users", headers = auth, safe = false,
      body = '{"name":"Raw","email":"raw@example.com","password":"x-Secret-1"}' }
    assert.is_nil(res)
    assert.are.equal("unknown", err.outcome)
    assert.are.equal(1, applied("POST /api/v2/users"))
    -- Without `safe = false` (an idempotent request), libcurl's re-send on a fresh
    -- connection is allowed: this shows the fault really provokes it.
    assert(h:perform{ method = "GET", url = emu.url .. "/api/v2/users", headers = auth })
    emu.fault{ action = "apply_then_close", method = "POST", path = "/api/v2/users", count = 1 }
    res = h:perform{ method = "POST", url = emu.url .. "/api/v2/users", headers = auth,
      body = '{"name":"Twice","email":"twice@example.com","password":"x-Secret-1"}' }
    -- libcurl re-sent it: the server saw it twice and refused the duplicate
    -- ("already exists") for a write that had succeeded — the symptom fixed above.
    assert.are.equal(400, res.status)
    assert.are.equal(3, emu.stats().requests["POST /api/v2/users"])
    assert.are.equal(2, applied("POST /api/v2/users"))
    h:close()
  end)

  it("is reported by batch as failed with an unknown outcome, the other calls done", function()
    local c = support.direct()
    assert(c.users.get_users())
    emu.fault{ action = "apply_then_close", method = "POST", path = "/api/v2/users", count = 1, skip = 2 }
    local calls = {}
    for i = 1, 5 do
      calls[i] = { "post_users", { name = "B" .. i, email = ("b%d@example.com"):format(i), password = "x-Secret-1" } }
    end
    local results, failed = c:batch(calls, { concurrency = 1 })
    assert.are.equal(1, failed)
    local unknown = 0
    for _, r in ipairs(results) do
      if not r.ok then
        assert.are.equal("unknown", r.err.outcome)
        unknown = unknown + 1
      end
    end
    assert.are.equal(1, unknown)
    assert.are.equal(5, applied("POST /api/v2/users"))
    c:close()
  end)
end)
