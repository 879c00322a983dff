-- purecloud.store.redis against a real redis-server (its own, on a free
-- port, with a password): the token store interface, the rate store's
-- scripts, secrecy, and failure (unreachable, stopped, restarted, script
-- cache flushed) never fatal and never slower than the store's timeout.
local redis_server = require "support.redis"
local redis = require "purecloud.store.redis"
local core = require "purecloud.core"

local KEY = "purecloud:http://login.example:emulator-client"

local function lines()
  local got = {}
  return got, { level = "info", sink = function(level, msg) got[#got + 1] = level .. " " .. msg end }
end

describe("purecloud.store.redis", function()
  local r
  lazy_setup(function() r = redis_server.start() end)
  lazy_teardown(function() if r then r.stop() end end)
  before_each(function() r.cli("FLUSHALL") end)

  it("is a token store: get/set/delete/lock/unlock, with the token's TTL and a lock that expires", function()
    local s = redis.new{ port = r.port, password = r.password }
    assert.is_nil(s.get(KEY))
    s.set(KEY, "tok-1", 30)
    local tok, left = s.get(KEY)
    assert.are.equal("tok-1", tok)
    assert.is_true(left > 29 and left <= 30)
    local ttl = tonumber(r.cli("PTTL " .. s.key(KEY, "token")))
    assert.is_true(ttl > 29000 and ttl <= 30000, "the key outlives the token: " .. ttl)
    s.delete(KEY, "other")
    assert.are.equal("tok-1", (s.get(KEY)))
    s.delete(KEY, "tok-1")
    assert.is_nil(s.get(KEY))
    local other = redis.new{ port = r.port, password = r.password }
    assert.is_true(s.lock(KEY, 1))
    assert.is_false(other.lock(KEY, 1))
    other.unlock(KEY) -- not its lock: still held
    assert.is_false(other.lock(KEY, 1))
    core.sleep(1.1)   -- the holder "died": the TTL freed it
    assert.is_true(other.lock(KEY, 5))
    other.unlock(KEY)
    assert.is_true(s.lock(KEY, 5))
  end)

  it("keys: the login host + client id hashed, in one hash tag, under the prefix; no secret stored", function()
    local s = redis.new{ port = r.port, password = r.password, prefix = "pc:" }
    s.set(KEY, "tok-2", 30)
    s.take(KEY, 1)
    local names = r.cli("KEYS '*'")
    assert.is_nil(names:find("emulator-client", 1, true))
    local tags = {}
    for k in names:gmatch("%S+") do
      assert.is_truthy(k:match("^pc:{%x+}:%a+$"), k)
      tags[k:match("{(%x+)}")] = true
    end
    assert.are.equal(1, #(function() local t = {} for k in pairs(tags) do t[#t + 1] = k end return t end)())
    assert.is_true(tonumber(r.cli("PTTL " .. s.key(KEY, "rate"))) > 0, "the rate state does not expire")
  end)

  it("takes permits atomically: one probe before the budget is known, then at most `allowed` per window", function()
    local s = redis.new{ port = r.port, password = r.password }
    assert.are.equal(1, (s.take(KEY, 1)))
    local granted, wait = s.take(KEY, 1)
    assert.are.equal(0, granted) -- the probe has not answered
    assert.is_true(wait > 0)
    assert.is_true(s.report(KEY, 10, 1, 1))
    local total = 1
    for _ = 1, 20 do total = total + (s.take(KEY, 3)) end
    assert.are.equal(10, total)
    granted, wait = s.take(KEY, 1)
    assert.are.equal(0, granted)
    assert.is_true(wait > 0 and wait <= 1, tostring(wait))
    core.sleep(wait + 0.01)
    assert.are.equal(3, (s.take(KEY, 3))) -- the window reset
    assert.is_true(s.hold(KEY, 1))          -- a 429's Retry-After holds every process
    granted, wait = s.take(KEY, 1)
    assert.are.equal(0, granted)
    -- (the lower bound leaves half a second for a slow CI between the two calls)
    assert.is_true(wait > 0.5 and wait <= 1, tostring(wait))
  end)

  it("keeps its password out of tostring, errors and log lines; refuses a URL with userinfo", function()
    local pw = r.password
    local s = redis.new{ port = r.port, password = pw }
    s.get(KEY)
    assert.is_nil(tostring(s):find(pw, 1, true))
    assert.are.equal("x [REDACTED] y", core.scrub("x " .. pw .. " y")) -- registered with the core's scrub
    local ok, err = pcall(redis.new, { host = "user:" .. pw .. "@127.0.0.1", port = r.port })
    assert.is_false(ok)
    assert.is_nil(err:find(pw, 1, true))
    assert.is_truthy(err:find("option 'host'", 1, true))
    assert.has_error(function() redis.new{ host = "redis://127.0.0.1" } end)
    assert.has_error(function() redis.new{ prot = 1 } end, "purecloud.store.redis: unknown option 'prot' (did you mean 'port'?)")
  end)

  it("a wrong password: a clear error at the first use, naming the store, not the password", function()
    local got, log = lines()
    local wrong = "not-the-password-" .. core.random_hex(4)
    local s = redis.new{ port = r.port, password = wrong, log = log }
    local ok, err = pcall(s.get, KEY)
    assert.is_false(ok)
    assert.is_truthy(err:find("purecloud.store.redis(127.0.0.1:" .. r.port .. ")", 1, true), err)
    assert.is_truthy(err:find("refused the credentials", 1, true), err)
    assert.is_nil(err:find(wrong, 1, true))
    for _, l in ipairs(got) do assert.is_nil(l:find(wrong, 1, true)) end
    assert.is_nil(s.get(KEY))          -- then: as unreachable (the process uses its own token)
    assert.is_true(s.lock(KEY, 5))
    assert.is_nil(s.take(KEY, 1))
    -- and through a client: the first call fails with an auth error saying so
    local purecloud = require "purecloud"
    local c = purecloud.new{ base_url = "http://127.0.0.1:9", client_id = "id", client_secret = "secret-xyz",
      token_store = redis.new{ port = r.port, password = wrong, log = "none" }, log = "none", retry = false }
    local v, cerr = c:token()
    assert.is_nil(v)
    assert.are.equal("auth", cerr.kind)
    assert.is_truthy(tostring(cerr):find("token store raised in get: purecloud.store.redis", 1, true), tostring(cerr))
    assert.is_nil(tostring(cerr):find(wrong, 1, true))
  end)

  it("unreachable: falls back at once (one warn line), never waits past its timeout, rejoins (one info line)", function()
    local got, log = lines()
    local s = redis.new{ port = r.port, password = r.password, timeout = 0.2, retry = 0.3, log = log }
    s.set(KEY, "tok-3", 60)
    r.cli("SCRIPT FLUSH") -- NOSCRIPT: the scripts are loaded again
    assert.are.equal("tok-3", (s.get(KEY)))
    os.execute("kill -STOP " .. r.pid) -- slow: accepts, never answers
    local t0 = core.now()
    assert.is_nil(s.get(KEY))
    local t1 = core.now()
    assert.is_true(s.lock(KEY, 5))
    assert.is_nil(s.take(KEY, 1))
    local t2 = core.now()
    os.execute("kill -CONT " .. r.pid)
    -- The bounds are the discriminating ones, not a guess at this machine's speed
    -- (CI runs this under ASan on a shared CPU): a second network attempt costs
    -- one more 0.2 s timeout, so the first call stays under two of them, and two
    -- calls while down that touched the network would cost at least one.
    assert.is_true(t1 - t0 < 0.2 * 2, ("the first call waited %.3f s"):format(t1 - t0))
    assert.is_true(t2 - t1 < 0.2, ("calls while down waited %.3f s"):format(t2 - t1))
    assert.are.equal(1, #got)
    assert.is_truthy(got[1]:find("^warn purecloud.store.redis%(127.0.0.1:%d+%) unavailable %(.*timed out"), got[1])
    r.kill()
    core.sleep(0.35)
    assert.is_nil(s.get(KEY)) -- refused: still down, no second warn
    assert.are.equal(1, #got)
    r.restart()
    core.sleep(0.35)
    assert.is_nil(s.get(KEY)) -- answers (empty after the restart)
    assert.are.equal(1, (s.take(KEY, 1)))
    assert.are.equal(2, #got)
    assert.is_truthy(got[2]:find("^info .* answers again"), got[2])
    r.cli("CONFIG SET requirepass " .. r.password) -- (unchanged; the restarted server has it from its file)
  end)
end)
