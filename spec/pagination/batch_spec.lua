-- client:batch against the emulator: every call answered, in order, bounded
-- concurrency, and no write made twice except those the server refused (429).
local emu = require "support.emulator"
local support = require "support.client"

describe("client:batch", function()
  local client
  before_each(function() client = support.new() end)
  after_each(function() client:close() end)

  it("runs 1000 calls with injected 429s and returns 1000 results in order", function()
    emu.reset{ users = 1000 }
    -- A budget far above 1000 calls, so the client's pacing (the emulator
    -- advertises 300/min by default) does not stretch the run to minutes.
    emu.config{ rate_per_min = 1000000 }
    local ids = {}
    for _, u in ipairs(emu.all_users()) do ids[#ids + 1] = u.id end
    assert.are.equal(1000, #ids)
    local statuses = { "OFF_QUEUE", "IDLE", "INTERACTING", "NOT_RESPONDING", "COMMUNICATING" }
    local calls = {}
    for i, id in ipairs(ids) do
      calls[i] = { "put_user_id_routingstatus", id, { status = statuses[i % #statuses + 1] } }
    end
    -- Every 100th write is refused once, and 20 more later on.
    emu.fault{ method = "PUT", path = "/api/v2/users/[^/]+/routingstatus", skip = 100, count = 10,
               status = 429, retry_after = 1 }
    emu.fault{ method = "PUT", path = "/api/v2/users/[^/]+/routingstatus", skip = 600, count = 10,
               status = 429, retry_after = 1 }
    emu.clear_log()
    local results, failed = client:batch(calls, { concurrency = 8 })
    assert.are.equal(0, failed)
    assert.are.equal(1000, #results)
    for i, r in ipairs(results) do
      assert.is_true(r.ok, "call " .. i .. " failed: " .. tostring(r.err))
      assert.are.equal(ids[i], r.value.userId)
      assert.are.equal(statuses[i % #statuses + 1], r.value.status)
    end
    -- Each user's status was written once by a 200, and only 429s were repeated.
    local ok_writes, refused = {}, 0
    for _, r in ipairs(emu.log()) do
      if r.method == "PUT" and r.path:match("/routingstatus$") then
        if r.status == 429 then
          refused = refused + 1
        else
          assert.are.equal(200, r.status)
          assert.is_nil(ok_writes[r.path], "written twice: " .. r.path)
          ok_writes[r.path] = true
        end
      end
    end
    assert.are.equal(20, refused)
    local n = 0
    for _ in pairs(ok_writes) do n = n + 1 end
    assert.are.equal(1000, n)
  end)

  it("reports a result or an error for every call, in order", function()
    emu.reset{ users = 3 }
    local u = emu.users(3)
    local results, failed = client:batch({
      { "get_user_id", u[1].id },
      { "get_user_id", "no-such-user" },
      function() return client.users.get_user_id(u[3].id) end,
      function() error("boom") end,
    }, { concurrency = 2 })
    assert.are.equal(2, failed)
    assert.are.equal(u[1].id, results[1].value.id)
    assert.is_false(results[2].ok)
    assert.are.equal(404, results[2].err.status)
    assert.are.equal(u[3].id, results[3].value.id)
    assert.is_false(results[4].ok)
    assert.matches("boom", tostring(results[4].err))
  end)

  it("keeps at most `concurrency` calls in flight", function()
    emu.reset{ users = 40 }
    emu.config{ latency_ms = 150 }
    local ids = {}
    for _, x in ipairs(emu.users(40)) do ids[#ids + 1] = { "get_user_id", x.id } end
    local t0 = client.io.now()
    local results, failed = client:batch(ids, { concurrency = 4 })
    local elapsed = client.io.now() - t0
    assert.are.equal(0, failed)
    assert.are.equal(40, #results)
    -- 40 calls, 4 at a time, 150 ms each: never faster than 10 rounds.
    assert.is_true(elapsed >= 1.4, "more than 4 in flight? took " .. elapsed .. " s")
  end)

  it("raises on malformed calls before sending anything", function()
    assert.has_error(function() client:batch({ 42 }) end)
    assert.has_error(function() client:batch({ { "no_such_op" } }) end)
    assert.has_error(function() client:batch({}, { concurrency = 0 }) end)
  end)

  it("makes concurrent calls of a fresh client wait for one token request, woken when it ends", function()
    emu.reset{ users = 20 }
    local fresh = support.direct()
    local before = emu.stats().tokens.client_credentials or 0
    emu.fault{ method = "POST", path = "/oauth/token", count = 1, delay_ms = 400 }
    local calls = {}
    for i = 1, 8 do calls[i] = { "get_users", { page_number = i, page_size = 2 } } end
    local t0 = fresh.io.now()
    local results, failed = fresh:batch(calls, { concurrency = 8 })
    local took = fresh.io.now() - t0
    assert.are.equal(0, failed)
    assert.are.equal(8, #results)
    assert.are.equal(1, (emu.stats().tokens.client_credentials or 0) - before)
    assert.are.equal(1, fresh.stats.token_requests)
    assert.is_true(took < 2, ("took %.2f s"):format(took)) -- 0.4 s for the token, then all 8 at once
    fresh:close()
  end)
end)
