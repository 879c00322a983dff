-- purecloud.store.redis inside nginx with lua-resty-redis installed (as in
-- OpenResty): the adapter of purecloud.store.resp over the module's
-- documented API. lua-resty-redis is not installable here (not in Debian
-- 12), so a fake module with its semantics (spec/fleet/fake_resty/resty/
-- redis.lua: an in-memory Redis that runs the store's scripts) is put on
-- package.path, with a stand-in `ngx` global (socket.tcp, null) so that the
-- store takes its nginx path. Hermetic: no socket.
local core = require "purecloud.core"

describe("#hermetic the Redis store over lua-resty-redis (a faithful fake)", function()
  local redis, resty, fake, saved_ngx, saved_path, lines
  local K = "purecloud:http://login.example:resty-client"
  local PW = "resty-pw-" .. core.random_hex(8)
  -- The fake's Redis has no socket: its port is only a name in the pool key and messages.
  local FAKE_PORT = 6000 + math.random(1, 999)

  local function store(o)
    o = o or {}
    o.port = o.port or FAKE_PORT
    if o.password == nil then o.password = PW end
    if o.password == false then o.password = nil end
    o.timeout, o.connect_timeout = o.timeout or 0.2, o.connect_timeout or 0.1
    o.retry = o.retry or 0.001
    o.log = { level = "info", sink = function(level, msg) lines[#lines + 1] = level .. " " .. msg end }
    return redis.new(o)
  end
  local function count(pattern)
    local n = 0
    for _, c in ipairs(fake.calls) do if c:find(pattern) then n = n + 1 end end
    return n
  end
  local function keys_in(db)
    local n = 0
    for _ in pairs(fake.dbs[db] or {}) do n = n + 1 end
    return n
  end

  lazy_setup(function()
    saved_ngx, saved_path = rawget(_G, "ngx"), package.path
    -- ngx.null is a NULL light userdata, as the core's null is.
    _G.ngx = { socket = { tcp = function() error("no cosocket in a hermetic spec") end }, null = core.null }
    package.path = "./spec/fleet/fake_resty/?.lua;" .. package.path
    package.loaded["resty.redis"] = nil
    resty = require "resty.redis"
    fake = resty.fake
    redis = require "purecloud.store.redis"
  end)
  lazy_teardown(function()
    _G.ngx = saved_ngx
    package.path = saved_path
    package.loaded["resty.redis"] = nil
  end)
  before_each(function()
    fake.reset{ password = PW }
    lines = {}
  end)

  it("runs the scripts through it: token store, lock, permits, report, hold; timeouts, pool, AUTH once a connection", function()
    local s = store{ db = 2 }
    assert.are.equal("lua-resty-redis", s.via)
    assert.is_nil(s.get(K)) -- the script's false: a nil reply, ngx.null
    s.set(K, "tok-resty", 30)
    local tok, left = s.get(K)
    assert.are.equal("tok-resty", tok)
    assert.is_true(left > 29.9 and left <= 30)
    fake.advance(10000)
    assert.are.near(20, select(2, s.get(K)), 0.01)
    local other = store{ db = 2 }
    assert.is_true(s.lock(K, 5))
    assert.is_false(other.lock(K, 5)) -- SET NX's nil reply
    other.unlock(K)                   -- not its lock: kept
    assert.is_false(other.lock(K, 5))
    s.unlock(K)
    assert.is_true(other.lock(K, 5))
    s.delete(K, "not-the-token")
    assert.are.equal("tok-resty", (s.get(K)))
    s.delete(K, "tok-resty")
    assert.is_nil(s.get(K))

    local granted, wait, allowed = s.take(K, 1) -- the fleet's probe
    assert.are.same({ 1, 0 }, { granted, wait })
    assert.is_nil(allowed)
    granted, wait = other.take(K, 1) -- the probe in flight: the others poll
    assert.are.same({ 0, 0.05 }, { granted, wait })
    assert.is_true(s.report(K, 10, 1, 1))
    local n = 1
    for _ = 1, 20 do n = n + s.take(K, 3) end
    assert.are.equal(10, n) -- the budget, shared
    local _, w, a, c, reset = s.take(K, 1)
    assert.are.same({ 10, 10 }, { a, c })
    assert.is_true(w > 0 and w <= 1 and reset > 0 and reset <= 1)
    fake.advance(1000) -- the window resets
    assert.are.equal(3, (s.take(K, 3)))
    assert.is_true(s.hold(K, 2))
    granted, wait = other.take(K, 1)
    assert.are.same({ 0, 2 }, { granted, wait })

    -- The adapter's own part, as lua-resty-redis is meant to be used.
    assert.are.equal(0, keys_in(0))
    assert.is_true(keys_in(2) >= 2) -- the db selected
    assert.is_true(count("^set_timeouts 100[%.0]* 200[%.0]* 200[%.0]*$") > 0, "timeouts in ms")
    assert.are.equal(count("^new$"), count("^set_timeouts "))
    assert.are.equal(0, count("^set_timeout "))
    local conns = fake.next_conn
    assert.is_true(conns >= 1 and conns <= 2, conns .. " connections: the pool is not used")
    assert.are.equal(conns, count("^auth %(1 args%)$")) -- on a new connection only
    assert.are.equal(conns, count("^select$"))
    assert.are.equal(count("^connect "), count("^set_keepalive 60000 32$")) -- every connection back to the pool
    assert.are.equal(0, count("^close$"))
    for _, call in ipairs(fake.calls) do
      assert.is_nil(call:find(PW, 1, true))
      if call:find("^connect ") then
        assert.is_truthy(call:find("^connect 127%.0%.0%.1 " .. FAKE_PORT .. " purecloud%.redis:%S+ 32$"), call)
      end
    end
    assert.are.same({}, lines)
  end)

  it("loads the scripts again after NOSCRIPT (a restarted or flushed Redis)", function()
    local s = store()
    s.set(K, "tok-1", 30)
    assert.are.equal("tok-1", (s.get(K)))
    local loads = count("^script$")
    fake.flush_scripts()
    assert.are.equal("tok-1", (s.get(K)))
    assert.are.equal(loads + 1, count("^script$"))
    assert.are.same({}, lines)
  end)

  it("a wrong password raises at the first use, naming the store and not the password", function()
    fake.reset{ password = "the-right-one" }
    local s = store()
    local ok, err = pcall(s.get, K)
    assert.is_false(ok)
    err = tostring(err)
    assert.is_truthy(err:find("purecloud.store.redis(127.0.0.1:" .. FAKE_PORT .. ")", 1, true), err)
    assert.is_truthy(err:find("WRONGPASS", 1, true), err)
    assert.is_nil(err:find(PW, 1, true))
    assert.is_nil(tostring(s):find(PW, 1, true))
    assert.are.equal(1, count("^close$")) -- the refused connection is not kept
    assert.are.equal(0, count("^set_keepalive"))
    -- After that it behaves as unreachable: no raise, the process's own token.
    assert.is_nil(s.get(K))
    assert.is_true(s.lock(K, 5))
    assert.are.equal(1, #lines)
    assert.is_truthy(lines[1]:find("^warn "))
    assert.is_nil(table.concat(lines, "\n"):find(PW, 1, true))
  end)

  it("AUTH with a username (a Redis 6 ACL user): AUTH username password", function()
    fake.reset{ password = PW, username = "fleet-app" }
    local s = store{ username = "fleet-app" }
    s.set(K, "tok-acl", 30)
    assert.are.equal("tok-acl", (s.get(K)))
    assert.is_true(count("^auth %(2 args%)$") >= 1)
    assert.are.equal(0, count("^auth %(1 args%)$"))
  end)

  it("AUTH with no answer (timeout) is Redis unavailable, not a refusal: falls back, never raises, rejoins", function()
    local s = store()
    fake.fail("auth", "timeout")
    local ok, v = pcall(s.get, K)
    assert.is_true(ok, "raised: " .. tostring(v))
    assert.is_nil(v)
    assert.is_true(s.lock(K, 5)) -- no Redis: this process fetches its own token
    assert.are.equal(1, #lines)
    assert.is_truthy(lines[1]:find("^warn .*unavailable %(auth: timeout%)"), lines[1])
    core.sleep(0.01) -- past `retry`
    s.set(K, "tok-back", 30)
    assert.are.equal("tok-back", (s.get(K)))
    assert.are.equal(2, #lines)
    assert.is_truthy(lines[2]:find("^info .*answers again"), lines[2])
  end)

  it("connect refused, new failing, a command timing out: nil and one warn line; a timed-out connection is not kept", function()
    local s = store()
    fake.fail("connect", "connection refused")
    assert.is_nil(s.get(K))
    assert.is_nil((s.take(K, 1)))
    assert.are.equal(1, #lines)
    assert.is_truthy(lines[1]:find("unavailable (connect: connection refused)", 1, true), lines[1])
    core.sleep(0.01)
    fake.fail("new", "no memory")
    assert.is_nil(s.get(K))
    core.sleep(0.01)
    s.set(K, "tok-2", 30) -- back
    assert.are.equal("tok-2", (s.get(K)))
    local conns, keeps = fake.next_conn, count("^set_keepalive")
    fake.fail("command", "timeout")
    assert.is_nil(s.get(K))
    assert.are.equal(keeps, count("^set_keepalive"), "a timed-out connection went back to the pool")
    core.sleep(0.01)
    assert.are.equal("tok-2", (s.get(K)))
    assert.are.equal(conns + 1, fake.next_conn) -- a new connection (the timed-out one was dropped)
    local warns, infos = 0, 0
    for _, l in ipairs(lines) do
      if l:find("^warn ") then warns = warns + 1 elseif l:find("^info ") then infos = infos + 1 end
    end
    assert.are.same({ 2, 2 }, { warns, infos }) -- once per outage, once per return: not once a call
  end)

  it("lua-resty-redis before 0.28 (no set_timeouts): set_timeout, never a command named set_timeouts", function()
    local method = rawget(resty, "set_timeouts")
    rawset(resty, "set_timeouts", nil)
    local ok, err = pcall(function()
      local s = store()
      s.set(K, "tok-old", 30)
      assert.are.equal("tok-old", (s.get(K)))
      assert.is_true(count("^set_timeout 200[%.0]*$") > 0)
      assert.are.equal(0, count("^set_timeouts"))
    end)
    rawset(resty, "set_timeouts", method)
    assert(ok, err)
  end)

  it("operators' raw commands go through; the module's own methods are not commands", function()
    local s = store()
    assert.are.equal("PONG", s.command("PING"))
    assert.is_false(s.command("GET", "no-such-key")) -- ngx.null: false, as the RESP client answers
    assert.are.same({ false, false }, s.command("HMGET", "no-such-key", "a", "b"))
    local closes = count("^close$")
    local v, err = s.command("close")
    assert.is_nil(v)
    assert.is_truthy(tostring(err):find("not a Redis command", 1, true))
    assert.are.equal(closes, count("^close$"))
  end)
end)
