-- The request loop's rules (purecloud.loop, .token, .gate, .request), proven
-- with a scripted transport and a fake clock: no emulator, no network.
-- The end-to-end proofs of the same rules over HTTP are in spec/client.
local fake = require "support.fakeio"
local loop = require "purecloud.loop"
local gate = require "purecloud.gate"

local ok_users = { entities = {}, pageSize = 25, pageNumber = 1, total = 0 }

describe("the request loop #hermetic", function()
  describe("tokens", function()
    it("asks for one token for many calls and renews it before it expires", function()
      local io = fake.new(function() return fake.res(200, ok_users) end, { ttl = 100 })
      local c = fake.client(io)
      for _ = 1, 50 do assert(c:request("GET", "/api/v2/users")) end
      assert.are.equal(1, #io.tokens)
      assert.are.equal("Bearer tok-1", io.api[50].headers.Authorization)
      io.t = io.t + 89 -- still more than the margin (10 % of 100 s) left
      assert(c:request("GET", "/api/v2/users"))
      assert.are.equal(1, #io.tokens)
      io.t = io.t + 2 -- inside the margin: renewed before use, no 401 needed
      assert(c:request("GET", "/api/v2/users"))
      assert.are.equal(2, #io.tokens)
      assert.are.equal("Bearer tok-2", io.api[#io.api].headers.Authorization)
    end)

    it("renews once on a 401 and replays; a second 401 is returned", function()
      local io = fake.new(function(_, n)
        if n == 1 then return fake.res(401, { code = "bad.credentials", message = "expired" }) end
        return fake.res(200, ok_users)
      end)
      local c = fake.client(io)
      assert(c:request("GET", "/api/v2/users"))
      assert.are.equal(2, #io.tokens)
      assert.are.equal("Bearer tok-2", io.api[2].headers.Authorization)

      local io2 = fake.new(function() return fake.res(401, { code = "bad.credentials", message = "no" }) end)
      local c2 = fake.client(io2)
      local v, err = c2:request("GET", "/api/v2/users")
      assert.is_nil(v)
      assert.are.equal(401, err.status)
      assert.are.equal(2, #io2.api)
      assert.are.equal(2, #io2.tokens)
      assert.are.equal("rejected", err.outcome)
    end)

    it("uses a token whose lifetime was not said for one call, then renews it", function()
      local io = fake.new(function() return fake.res(200, ok_users) end, { token = function(_, n)
        return fake.res(200, { access_token = "once-" .. n, token_type = "bearer" })
      end })
      local c = fake.client(io)
      for _ = 1, 3 do assert(c:request("GET", "/api/v2/users")) end
      assert.are.equal(3, #io.tokens)
      for i = 1, 3 do assert.are.equal("Bearer once-" .. i, io.api[i].headers.Authorization) end
    end)

    it("renews with the refresh token when it holds one, else with the client credentials", function()
      local token = require "purecloud.token"
      assert.are.equal("refresh_token", token.grant_for("refresh_token"))
      assert.are.equal("client_credentials", token.grant_for("client_credentials"))
      assert.is_nil(token.grant_for("access_token"))
      assert.is_nil(token.grant_for("none"))
      local io = fake.new(function() return fake.res(200, ok_users) end, { ttl = 100 })
      local c = fake.client(io, { refresh_token = "r-1" })
      assert(c:request("GET", "/api/v2/users"))
      assert.matches("grant_type=refresh_token", io.tokens[1].body)
    end)

    it("never renews a fixed access token", function()
      local io = fake.new(function() return fake.res(401, { code = "bad.credentials", message = "no" }) end)
      local c = fake.client(io, { client_id = false, client_secret = false, access_token = "fixed" })
      local _, err = c:request("GET", "/api/v2/users")
      assert.are.equal(401, err.status)
      assert.are.equal(0, #io.tokens)
      assert.are.equal(1, #io.api)
      assert.are.equal("Bearer fixed", io.api[1].headers.Authorization)
    end)

    it("retries a token request like any safe request, and names the login host when it fails", function()
      local io = fake.new(function() return fake.res(200, ok_users) end, { token = function(_, n)
        if n == 1 then return fake.res(503, { message = "busy" }) end
        return fake.res(401, { error = "invalid_client", error_description = "bad secret" })
      end })
      local c = fake.client(io)
      local _, err = c:request("GET", "/api/v2/users")
      assert.are.equal("auth", err.kind)
      assert.are.equal(2, #io.tokens)
      assert.are.equal(0, #io.api)
      assert.matches("login host login.test", err.message)
      assert.is_nil(err.body)
    end)
  end)

  describe("429", function()
    it("waits Retry-After and retries any method, the write included", function()
      local io = fake.new(function(_, n)
        if n == 1 then return fake.res(429, { message = "slow down" }, { ["Retry-After"] = "3" }) end
        return fake.res(200, { id = "u1" })
      end)
      local c = fake.client(io)
      local v = assert(c:request("POST", "/api/v2/users", { body = { name = "a" } }))
      assert.are.equal("u1", v.id)
      assert.are.same({ 3 }, io.sleeps)
      assert.are.equal(2, #io.api)
    end)

    it("holds every call of the client during an accepted wait", function()
      local g = gate.new()
      local m1 = loop.new({ safe = true, retry = { max_retries = 5, max_retry_time = 60, max_retry_after = 180 },
                            gate = g }, 0)
      assert.are.same({ "token" }, { m1:start(0)[1] })
      assert.are.equal("send", m1:on("token", 1)[1])
      local err = require("purecloud.core").error{ kind = "api", status = 429, retry_after = 5 }
      local a = m1:on("response", 0.1, nil, err, fake.res(429, ""))
      assert.are.same({ "sleep", 5 }, { a[1], a[2] })
      -- Another call of the same client starting a second later waits the rest.
      local m2 = loop.new({ safe = true, retry = false, gate = g }, 1)
      local first = m2:start(1)
      assert.are.equal("sleep", first[1])
      assert.near(4.1, first[2], 1e-9)
    end)

    it("fails only this call when Retry-After exceeds max_retry_after, and never holds the client", function()
      local io = fake.new(function(_, n)
        if n == 1 then return fake.res(429, { message = "later" }, { ["Retry-After"] = "500" }) end
        return fake.res(200, ok_users)
      end)
      local c = fake.client(io)
      local v, err = c:request("GET", "/api/v2/users")
      assert.is_nil(v)
      assert.are.equal(429, err.status)
      assert.matches("max_retry_after", err.retry_reason)
      assert(c:request("GET", "/api/v2/users")) -- the next call is not poisoned
      assert.are.same({}, io.sleeps)
    end)

    it("with retries off, returns the 429 and holds nothing", function()
      local io = fake.new(function(_, n)
        if n == 1 then return fake.res(429, { message = "later" }, { ["Retry-After"] = "30" }) end
        return fake.res(200, ok_users)
      end)
      local c = fake.client(io, { retry = false })
      local _, err = c:request("GET", "/api/v2/users")
      assert.are.equal(429, err.status)
      assert(c:request("GET", "/api/v2/users"))
      assert.are.same({}, io.sleeps)
    end)

    it("honours a Retry-After above max_retry_time when it is within max_retry_after", function()
      local io = fake.new(function(_, n)
        if n == 1 then return fake.res(429, { message = "later" }, { ["Retry-After"] = "120" }) end
        return fake.res(200, ok_users)
      end)
      local c = fake.client(io)
      assert(c:request("GET", "/api/v2/users"))
      assert.are.same({ 120 }, io.sleeps)
    end)
  end)

  describe("502/503/504 and connection failures", function()
    local function flaky(status_or_err, times)
      return function(_, n)
        if n <= times then
          if type(status_or_err) == "number" then return fake.res(status_or_err, { message = "bad gateway" }) end
          return nil, status_or_err
        end
        return fake.res(200, { id = "ok" })
      end
    end

    it("retries safe operations with growing backoff", function()
      local io = fake.new(flaky(503, 3))
      local c = fake.client(io)
      assert(c:request("GET", "/api/v2/users"))
      assert.are.equal(4, #io.api)
      assert.are.equal(3, #io.sleeps)
      assert.is_true(io.sleeps[1] >= 0.25 and io.sleeps[1] <= 0.5)
      assert.is_true(io.sleeps[3] >= 1 and io.sleeps[3] <= 2)
      assert.are.equal(3, c.stats.retries)
    end)

    it("does not repeat a write after a 502, and says its outcome is unknown", function()
      local io = fake.new(flaky(502, 1))
      local c = fake.client(io)
      local v, err = c:request("POST", "/api/v2/users", { body = { name = "a" } })
      assert.is_nil(v)
      assert.are.equal(1, #io.api)
      assert.are.equal("unknown", err.outcome)
      assert.matches("check before repeating", tostring(err))
    end)

    it("retries a read-only POST marked safe (post_search) like a GET", function()
      local io = fake.new(flaky(503, 2))
      local c = fake.client(io)
      assert(c.users.post_search{ query = { { type = "EXACT", fields = { "email" }, value = "a@b.c" } } })
      assert.are.equal(3, #io.api)
    end)

    it("retries a write when nothing was sent, never when it may have been", function()
      local io = fake.new(flaky(fake.terr(false), 2))
      local c = fake.client(io)
      assert(c:request("POST", "/api/v2/users", { body = { name = "a" } }))
      assert.are.equal(3, #io.api)

      local io2 = fake.new(flaky(fake.terr(true), 1))
      local c2 = fake.client(io2)
      local _, err = c2:request("PATCH", "/api/v2/users/{userId}", { path = { userId = "u" }, body = { a = 1 } })
      assert.are.equal(1, #io2.api)
      assert.are.equal("transport", err.kind)
      assert.are.equal("unknown", err.outcome)

      local io3 = fake.new(flaky(fake.terr(true), 2))
      assert(fake.client(io3):request("GET", "/api/v2/users"))
      assert.are.equal(3, #io3.api)
    end)

    it("treats a plain-string failure of a host transport as sent", function()
      local io = fake.new(function() return nil, "socket closed" end)
      local _, err = fake.client(io):request("POST", "/api/v2/users", { body = {} })
      assert.are.equal(1, #io.api)
      assert.are.equal("unknown", err.outcome)
      assert.matches("socket closed", err.message)
    end)

    it("never retries a response over the body cap", function()
      local io = fake.new(flaky(fake.terr(true, { reason = "too_large" }), 5))
      local _, err = fake.client(io):request("GET", "/api/v2/users")
      assert.are.equal(1, #io.api)
      assert.are.equal("too_large", err.reason)
    end)

    it("caps one backoff wait at 30 s", function()
      local io = fake.new(flaky(503, 9))
      assert(fake.client(io, { retry = { max_retries = 10, max_retry_time = 1000 } }):request("GET", "/api/v2/users"))
      assert.are.equal(9, #io.sleeps)
      for _, s in ipairs(io.sleeps) do assert.is_true(s <= 30, s) end
      assert.is_true(io.sleeps[9] >= 15) -- 0.5 × 2^8 = 128, capped at 30, jittered × 0.5–1
    end)

    it("stops at max_retries and at max_retry_time", function()
      local io = fake.new(flaky(503, 100))
      local _, err = fake.client(io, { retry = { max_retries = 2 } }):request("GET", "/api/v2/users")
      assert.are.equal(3, #io.api)
      assert.are.equal("retries exhausted", err.retry_reason)

      local io2 = fake.new(flaky(503, 100))
      local _, err2 = fake.client(io2, { retry = { max_retry_time = 2 } }):request("GET", "/api/v2/users")
      assert.matches("max_retry_time", err2.retry_reason)
      local total = 0
      for _, s in ipairs(io2.sleeps) do total = total + s end
      assert.is_true(total <= 2)
    end)

    it("returns other errors at once", function()
      for _, status in ipairs({ 400, 404, 409, 500 }) do
        local io = fake.new(flaky(status, 5))
        local _, err = fake.client(io):request("GET", "/api/v2/users")
        assert.are.equal(status, err.status)
        assert.are.equal(1, #io.api)
      end
    end)
  end)

  describe("pacing by the announced budget", function()
    -- A server with a budget of `allowed` per `window` seconds that reports it.
    local function budget(io, allowed, window)
      local start, used = nil, 0
      return function()
        start = start or io.t
        if io.t - start >= window then start, used = start + window * math.floor((io.t - start) / window), 0 end
        used = used + 1
        local h = { ["inin-ratelimit-allowed"] = tostring(allowed), ["inin-ratelimit-count"] = tostring(used),
                    ["inin-ratelimit-reset"] = tostring(start + window - io.t) }
        if used > allowed then
          h["Retry-After"] = "1"
          return fake.res(429, { message = "budget" }, h)
        end
        return fake.res(200, ok_users, h)
      end
    end

    it("spreads a sustained run over the windows so that no 429 comes back", function()
      local io
      io = fake.new(function(...) return io.server(...) end)
      io.server = budget(io, 5, 2)
      local c = fake.client(io)
      local t0 = io.t
      for _ = 1, 20 do assert(c:request("GET", "/api/v2/users")) end
      assert.are.equal(20, #io.api) -- every request accepted the first time
      assert.is_true(io.t - t0 < 3 * 2 + 1, "took " .. (io.t - t0))
      assert.is_true(io.t - t0 >= 3 * 2 - 0.5)
    end)

    it("never slows a caller under the budget, and can be turned off", function()
      local io
      io = fake.new(function(...) return io.server(...) end)
      io.server = budget(io, 50, 60)
      local c = fake.client(io)
      for _ = 1, 20 do assert(c:request("GET", "/api/v2/users")) end
      assert.are.same({}, io.sleeps)

      local io2
      io2 = fake.new(function(...) return io2.server(...) end)
      io2.server = budget(io2, 5, 2)
      local off = fake.client(io2, { pace = false })
      for _ = 1, 12 do assert(off:request("GET", "/api/v2/users")) end
      assert.is_true(#io2.api > 12) -- without pacing the budget shows only as 429s, retried
    end)

    local function rl(allowed, count, reset)
      return true, tostring(allowed), tostring(count), tostring(reset)
    end

    it("lets one call go first until the budget is known, then counts calls not yet sent", function()
      local g = gate.new()
      assert.are.equal(0, g:wait(0))     -- the first call goes
      assert.is_true(g:wait(0) > 0)      -- the others wait for its answer (its token may be slow)
      g:sent(true)
      g:answered(0.1, rl(4, 1, 2))
      -- Three calls pass the gate and wait for a token: they count, so a fourth waits for the reset.
      for _ = 1, 3 do assert.are.equal(0, g:wait(0.2)) end
      local w = g:wait(0.2)
      assert.is_true(math.abs(w - 1.9) < 1e-9, "waits until the reset: " .. w)
      for _ = 1, 3 do g:sent(true) end
      for i = 2, 4 do g:answered(0.3, rl(4, i, 2)) end
      assert.is_true(g:wait(0.3) > 0)
      -- After the reset (the earliest answer's bound, 2.1) the window is new.
      assert.are.equal(0, g:wait(2.1))
    end)

    it("never opens before the earliest bound of the window's reset, with calls in flight counted", function()
      local g = gate.new()
      g:wait(0); g:sent(true); g:answered(0.5, rl(3, 1, 2))   -- reset by 2.5 at the latest
      g:wait(0.6); g:sent(true); g:answered(1.2, rl(3, 2, 1)) -- reset by 2.2: the tighter bound
      assert.are.equal(0, g:wait(1.3)); g:sent(true)          -- in flight: the budget is used up
      assert.is_true(math.abs(g:wait(1.3) - 0.9) < 1e-9)
      -- After the reset, what is still in flight counts against the new window.
      assert.are.equal(0, g:wait(2.2)); g:sent(true)
      assert.are.equal(0, g:wait(2.2)); g:sent(true)
      assert.are.equal(gate.POLL, g:wait(2.2))           -- 3 in flight, no answer yet from the new window
    end)

    it("does not hold calls forever for a call that never sent (its token request failed)", function()
      local g = gate.new()
      assert.are.equal(0, g:wait(0))                      -- admitted; its token fails: never sent
      assert.are.equal(gate.POLL, g:wait(1))
      assert.are.equal(0, g:wait(gate.PROBE_MAX))         -- the first-call probe is bounded
      assert.are.equal(0, g:wait(gate.PROBE_MAX + 1))
      -- Budget known, window reset, nothing in flight: calls that never sent do not count.
      local h = gate.new()
      h:wait(0); h:sent(true); h:answered(0, rl(2, 1, 1))
      h:wait(0.1); h:wait(0.1)                            -- two admitted, never sent
      assert.is_true(h:wait(0.1) > 0)                     -- they count within the window
      assert.are.equal(0, h:wait(1))                      -- forgotten at its reset
      assert.are.equal(0, h:wait(1)); assert.are.equal(0, h:wait(1))
    end)
  end)

  describe("the machine", function()
    it("takes only the events of its table, in one form, and goes only where a row says", function()
      local m = loop.new({ safe = true, retry = false }, 0)
      m:start(0)
      assert.are.equal("authorize", m.state)
      assert.has_error(function() m:on("response", 0) end, "purecloud.loop: event response is not expected in state authorize")
      assert.has_error(function() m:on({ "token", 1 }) end) -- the table form is gone
      assert.has_error(function() m:on("resume", 1) end)
      for state, events in pairs(loop.TRANSITIONS) do
        for event, row in pairs(events) do
          assert.is_string(row[1], state .. "/" .. event .. ": a handler")
          for i = 2, #row do assert.is_table(loop.TRANSITIONS[row[i]], state .. " -> " .. row[i]) end
        end
      end
      assert.are.same({}, loop.TRANSITIONS.done)
      assert.are.same({}, loop.TRANSITIONS.failed)
      assert.is_nil(loop.resume)
      assert.is_nil(loop.admit)
    end)

    it("leaves the gate's accounts as a machine does, on the express lane and after every hand-over", function()
      -- The driver's common call builds no machine (purecloud.loop, "express
      -- lane"); a gate wait, a failed token or a response that is not a
      -- success hands over to one. Either way the gate must hear every
      -- attempt once: nothing left admitted or in flight, the budget known.
      local rl = { ["inin-ratelimit-allowed"] = "300", ["inin-ratelimit-count"] = "7",
                   ["inin-ratelimit-reset"] = "30" }
      local script = { [2] = 503, [4] = 401, [6] = 429 }
      local io = fake.new(function(_, n)
        local status = script[n]
        if status == 429 then return fake.res(429, { code = "too.many.requests" }, { ["Retry-After"] = "1" }) end
        if status then return fake.res(status, { code = "x", message = "scripted" }, rl) end
        return fake.res(200, ok_users, rl)
      end)
      local c = fake.client(io)
      local function settled(what)
        assert.are.equal(0, c.gate.admitted, what .. ": left admitted")
        assert.are.equal(0, c.gate.in_flight, what .. ": left in flight")
      end
      assert(c:request("GET", "/api/v2/users")) -- 1: express, a success
      settled("a success")
      assert.are.equal(300, c.gate.allowed)
      assert(c:request("GET", "/api/v2/users")) -- 2: 503, then 3: a success
      settled("a retry")
      assert(c:request("GET", "/api/v2/users")) -- 4: 401, a new token, 5: a success
      settled("a renewal")
      assert.are.equal(2, #io.tokens)
      assert(c:request("GET", "/api/v2/users")) -- 6: 429 (holds the gate 1 s), 7: a success
      settled("a 429")
      c.gate:hold(io.t + 2)                     -- 8: the gate says wait first
      local t0 = io.t
      assert(c:request("GET", "/api/v2/users"))
      assert.is_true(io.t >= t0 + 2)
      settled("a gate wait")
      assert.are.equal(8, #io.api)

      -- A token request that fails: the call let through never sends.
      local bad = fake.new(function() return fake.res(200, ok_users) end,
        { token = function() return fake.res(401, { error = "invalid_client" }) end })
      local c2 = fake.client(bad)
      local v, err = c2:request("GET", "/api/v2/users")
      assert.is_nil(v)
      assert.are.equal("auth", err.kind)
      assert.are.equal(0, #bad.api)
      assert.are.equal(0, c2.gate.admitted)
      assert.are.equal(0, c2.gate.in_flight)
    end)

    it("walks its table's states on every path: a success, a gate wait, a 401, a retry, a failure", function()
      local core = require "purecloud.core"
      local T = loop.TRANSITIONS
      local g = gate.new()
      local m = loop.new({ safe = true, retry = false, gate = g, can_renew = true }, 0)
      -- Each step: the state reached is one of the row's targets.
      local function step(ev, ...)
        local from = m.state
        local a = m:on(ev, ...)
        local row, ok = T[from][ev], false
        for i = 2, #row do ok = ok or row[i] == m.state end
        assert.is_true(ok, from .. " on " .. ev .. " went to " .. m.state)
        return a
      end
      step("woke", 0)
      assert.are.equal("authorize", m.state)
      step("token", 1)
      assert.are.equal("send", m.state)
      step("response", 0, { id = "x" }, nil, nil)
      assert.are.equal("done", m.state)

      g:hold(5)
      m = loop.new({ safe = true, retry = { max_retries = 1, max_retry_after = 60, max_retry_time = 60 },
                     gate = g, can_renew = true }, 0)
      assert.are.equal("sleep", step("woke", 0)[1])
      assert.are.equal("gate", m.state)
      step("woke", 6)
      assert.are.equal("authorize", m.state)
      step("token", 1)
      step("response", 6, nil, core.error{ kind = "api", status = 401 }, nil)
      assert.are.equal("authorize", m.state)
      step("token", 2)
      step("response", 6, nil, core.error{ kind = "api", status = 503 }, nil)
      assert.are.equal("gate", m.state)
      step("woke", 9)
      step("token", 2)
      step("response", 9, nil, core.error{ kind = "api", status = 503 }, nil)
      assert.are.equal("failed", m.state)
      m = loop.new({ safe = true, retry = false }, 0)
      step("woke", 0)
      step("no_token", core.error{ kind = "auth" })
      assert.are.equal("failed", m.state)
    end)

    it("shares its parameters: one table for many machines, never changed, `safe` given per call", function()
      local core = require "purecloud.core"
      -- (read-only: a machine that writes into the shared table fails here)
      local p = setmetatable({}, {
        __index = { retry = { max_retries = 2, max_retry_time = 60, max_retry_after = 180 },
                    random = function() return 0 end },
        __newindex = function(_, k) error("the machine changed the shared parameter " .. tostring(k)) end,
      })
      local read = loop.new(p, 0, true)   -- a GET
      local write = loop.new(p, 0, false) -- a POST, same parameters
      for _, m in ipairs{ read, write } do m:start(0); m:on("token", 1) end
      local e503 = core.error{ kind = "api", status = 503 }
      local retried = read:on("response", 0, nil, e503) -- p.random: the backoff's jitter is the least
      assert.are.same({ "sleep", 0.25 }, { retried[1], retried[2] })
      local gave_up = write:on("response", 0, nil, core.error{ kind = "api", status = 503 })
      assert.are.same({ "fail", "unknown" }, { gave_up[1], gave_up[2].outcome })
      assert.is_nil(next(p))
      -- Without the third argument, p.safe decides (the token keeper's form).
      local m = loop.new({ safe = false, retry = p.retry }, 0)
      m:start(0); m:on("token", 1)
      assert.are.equal("fail", m:on("response", 0, nil, core.error{ kind = "api", status = 503 })[1])
    end)

    it("asks can_renew (a function) only when a 401 comes back, and renews by its answer", function()
      local core = require "purecloud.core"
      local asked, answer = 0, true
      local p = { retry = false, can_renew = function() asked = asked + 1 return answer end }
      local m = loop.new(p, 0, true)
      m:start(0); m:on("token", 7)
      assert.are.same({ "done", 0 }, { m:on("response", 0, "v", nil, nil)[1], asked })
      local e401 = function() return core.error{ kind = "api", status = 401 } end
      m = loop.new(p, 0, true)
      m:start(0); m:on("token", 7)
      local a = m:on("response", 0, nil, e401())
      assert.are.same({ "token", 7, 1 }, { a[1], a.renew, asked })
      answer = false
      m = loop.new(p, 0, true)
      m:start(0); m:on("token", 8)
      assert.are.same({ "fail", 401, 2 }, { m:on("response", 0, nil, e401())[1], 401, asked })
    end)

    it("gives every failure an outcome", function()
      local core = require "purecloud.core"
      local cases = {
        { core.error{ kind = "api", status = 404 }, true, "rejected" },
        { core.error{ kind = "api", status = 503 }, false, "unknown" },
        { core.error{ kind = "transport", sent = false }, false, "not_sent" },
        { core.error{ kind = "timeout", sent = true }, true, "unknown" },
      }
      for _, case in ipairs(cases) do
        local m = loop.new({ safe = case[2], retry = false }, 0)
        m:start(0)
        m:on("token", 1)
        local a = m:on("response", 0, nil, case[1])
        assert.are.equal("fail", a[1])
        assert.are.equal(case[3], a[2].outcome)
      end
    end)
  end)
end)

describe("a write is sent at most once, but for 401 and 429 #hermetic", function()
  -- The rule README "Retries and auth" states (rules 3, 4, 5, 6 above):
  -- the requests a POST and a PATCH make, answered `first` once, then 200.
  local function sends(method, first)
    local io = fake.new(function(_, n)
      if n > 1 then return fake.res(200, { id = "u1" }) end
      if type(first) == "number" then return fake.res(first, { code = "x", message = "refused" }, { ["Retry-After"] = "0" }) end
      return nil, fake.terr(true, first)
    end)
    local c = fake.client(io)
    c:request(method, method == "POST" and "/api/v2/users" or "/api/v2/users/u1", { body = { name = "a" } })
    return #io.api
  end

  for _, method in ipairs{ "POST", "PATCH" } do
    it(method .. ": 401 and 429 send it again once, nothing else does", function()
      assert.are.equal(2, sends(method, 401))
      assert.are.equal(2, sends(method, 429))
      for _, status in ipairs{ 400, 403, 404, 409, 500, 502, 503, 504 } do
        assert.are.equal(1, sends(method, status), status)
      end
      assert.are.equal(1, sends(method, { message = "connection reset" }))
      assert.are.equal(1, sends(method, { kind = "timeout", message = "timed out" }))
    end)
  end
end)

describe("loop.run, the one driver, with a scripted driver and a fake clock #hermetic", function()
  local core = require "purecloud.core"
  local RETRY = { max_retries = 3, max_retry_time = 60, max_retry_after = 120 }

  -- A driver whose attempts answer from `script` (one entry per attempt:
  -- a value, or an error table), recording every action it is asked for.
  local function scripted(script, tokens)
    local d = { t = 0, log = {} }
    local io = { now = function() return d.t end }
    function d.token(_, _, renew, header)
      d.log[#d.log + 1] = "token" .. (renew and (" renew " .. renew .. " " .. tostring(header)) or "")
      local t = tokens and table.remove(tokens, 1)
      if t == false then return nil, core.error{ kind = "auth", message = "no token" } end
      return "Bearer " .. (t or "t"), (t and #t) or 1
    end
    function d.send(_, _, header, attempt)
      d.log[#d.log + 1] = ("send %d %s"):format(attempt, header)
      d.t = d.t + 0.1
      local r = script[attempt]
      if type(r) == "table" and r.kind then return nil, nil, core.error(r), d.t end
      return { status = 200, headers = {}, body = "" }, r, nil, d.t
    end
    function d.sleep(_, s, action)
      d.log[#d.log + 1] = ("sleep %g%s"):format(s, action.retry and " retry" or "")
      d.t = d.t + s
    end
    return d, io
  end
  local function run(p, script, safe, tokens)
    local d, io = scripted(script, tokens)
    local v, err, res = loop.run(p, d, io, {}, safe)
    return v, err, d.log, res
  end

  it("a success at once: one token, one send, no wait (the straight first attempt)", function()
    local v, err, log, res = run({ retry = RETRY, random = function() return 0 end }, { "value" }, true)
    assert.are.same({ "value", nil }, { v, err })
    assert.are.same({ "token", "send 1 Bearer t" }, log)
    assert.are.equal(200, res.status)
  end)

  it("rule 1: waits for the gate before the first attempt and before every retry", function()
    local g = gate.new()
    g:hold(2)
    local p = { retry = RETRY, gate = g, random = function() return 0 end }
    local v, _, log = run(p, { { kind = "api", status = 503 }, "ok" }, true)
    assert.are.equal("ok", v)
    assert.are.same({ "sleep 2", "token", "send 1 Bearer t", "sleep 0.25 retry", "token", "send 2 Bearer t" }, log)
    assert.are.same({ 0, 0 }, { g.admitted, g.in_flight })
  end)

  it("rule 2: no token fails the call before anything is sent, at once or after a hand-over", function()
    local g = gate.new()
    local _, err, log = run({ retry = RETRY, gate = g }, { "never" }, true, { false })
    assert.are.equal("auth", err.kind)
    assert.are.same({ "token" }, log)
    assert.are.same({ 0, 0 }, { g.admitted, g.in_flight })
    _, err, log = run({ retry = RETRY, random = function() return 0 end }, { { kind = "api", status = 503 } }, true,
      { "a", false })
    assert.are.same({ "auth", { "token", "send 1 Bearer a", "sleep 0.25 retry", "token" } }, { err.kind, log })
  end)

  it("rule 3: a 401 renews the token it was sent with, once; a second 401 is returned", function()
    local e401 = { kind = "api", status = 401 }
    local v, _, log = run({ retry = RETRY, can_renew = true }, { e401, "ok" }, false, { "aa", "bbb" })
    assert.are.equal("ok", v)
    assert.are.same({ "token", "send 1 Bearer aa", "token renew 2 Bearer aa", "send 2 Bearer bbb" }, log)
    local _, err
    _, err, log = run({ retry = RETRY, can_renew = true }, { e401, e401, "ok" }, false)
    assert.are.same({ 401, 2 }, { err.status, #log - 2 })
    -- The token keeper's requests are never renewed.
    _, err, log = run({ retry = RETRY, can_renew = false }, { e401, "ok" }, true)
    assert.are.same({ 401, { "token", "send 1 Bearer t" } }, { err.status, log })
  end)

  it("rule 4: a 429 waits its Retry-After and re-sends any method; one above max_retry_after fails", function()
    local v, _, log = run({ retry = RETRY }, { { kind = "api", status = 429, retry_after = 7 }, "ok" }, false)
    assert.are.equal("ok", v)
    assert.are.equal("sleep 7 retry", log[3])
    local _, err = run({ retry = RETRY }, { { kind = "api", status = 429, retry_after = 121 }, "ok" }, false)
    assert.are.equal(429, err.status)
    assert.matches("max_retry_after", err.retry_reason)
  end)

  it("rules 5 and 6: a 503 or a lost answer is retried when safe; a write fails with outcome unknown", function()
    local p = { retry = RETRY, random = function() return 0 end }
    for _, e in ipairs({ { kind = "api", status = 503 }, { kind = "transport", sent = true } }) do
      assert.are.equal("ok", (run(p, { e, "ok" }, true)))
      local _, err, log = run(p, { e, "ok" }, false)
      assert.are.same({ "unknown", 2 }, { err.outcome, #log })
    end
    -- Nothing sent: retried for a write too.
    assert.are.equal("ok", (run(p, { { kind = "transport", sent = false }, "ok" }, false)))
  end)

  it("rule 7: at most max_retries retries, backoff doubling, never past max_retry_time", function()
    local e = { kind = "api", status = 503 }
    local _, err, log = run({ retry = RETRY, random = function() return 1 end }, { e, e, e, e, e }, true)
    assert.are.equal("retries exhausted", err.retry_reason)
    local sleeps = {}
    for _, l in ipairs(log) do if l:find("^sleep") then sleeps[#sleeps + 1] = l end end
    assert.are.same({ "sleep 0.5 retry", "sleep 1 retry", "sleep 2 retry" }, sleeps)
    _, err = run({ retry = { max_retries = 9, max_retry_time = 1, max_retry_after = 60 },
                   random = function() return 1 end }, { e, e, e }, true)
    assert.are.equal("max_retry_time would be exceeded", err.retry_reason)
  end)

  it("rule 8: a 4xx, a framing error and a body over the cap are returned at once", function()
    local p = { retry = RETRY }
    for _, e in ipairs({ { kind = "api", status = 404 }, { kind = "protocol", sent = true, reason = "framing" },
                         { kind = "transport", sent = true, reason = "too_large" } }) do
      local _, err, log = run(p, { e, "ok" }, false)
      assert.are.same({ e.kind, 2 }, { err.kind, #log }, e.kind)
      assert.are.equal(e.status and "rejected" or "unknown", err.outcome, e.kind)
    end
  end)
end)
