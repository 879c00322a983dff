-- Issue 22, the fleet: 8 plain-Lua processes (client:batch at concurrency 4,
-- 50 calls each), one client id, one Redis (token_store and rate_store),
-- against an emulator budget of 100 requests per second per token.
--
-- The minimum: 400 calls in windows of 100, the first window opened by the
-- first API request, is (400/100 - 1) × 1 s = 3 s. Shared: exactly 1 token
-- request, 0 429s, within 2 × the minimum. The control (token shared,
-- budget not) gets its 429s. Then Redis killed 1 s into the run (every call
-- still done, none twice: creates counted on the emulator), and Redis
-- restarted mid-run (the processes rejoin: the shared counters move again).
local emu = require "support.emulator"
local redis_server = require "support.redis"
local core = require "purecloud.core"

local PROCS, CALLS, CONC, ALLOWED = 8, 50, 4, 100
local MINIMUM = (PROCS * CALLS / ALLOWED - 1) * 1

local function sh_quote(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

-- Start the fleet; returns a function that waits for it and returns the lines.
local function start_fleet(r, mode, id, op, n, calls)
  local start_at = core.now() + 0.8 -- every process loaded before the first call
  local files = {}
  for i = 1, n or PROCS do
    local out = os.tmpname()
    files[i] = out
    os.execute(("lua5.4 spec/fleet/worker.lua %s %d %s %s %s %d %d %.4f %s %d >%s 2>>build/fleet-spec.log &")
      :format(sh_quote(emu.url), r.port, sh_quote(r.password), mode, sh_quote(id), calls or CALLS, CONC, start_at,
        op or "get", i, out))
  end
  return function(timeout)
    local deadline = core.now() + (timeout or 60)
    local lines = {}
    while core.now() < deadline do
      lines = {}
      for i, f in ipairs(files) do
        local h = io.open(f)
        local l = h and h:read("l")
        if h then h:close() end
        if l then lines[i] = l end
      end
      local n_done = 0
      for _ in pairs(lines) do n_done = n_done + 1 end
      if n_done == #files then break end
      core.sleep(0.05)
    end
    for _, f in ipairs(files) do os.remove(f) end
    local procs = {}
    for i = 1, #files do
      local l = assert(lines[i], "process " .. i .. " did not finish (crashed or hung): see build/fleet-spec.log")
      local ok, failed, retries, tokens, t0, t1 = l:match("^(%d+) (%d+) (%d+) (%d+) (%S+) (%S+)$")
      assert(ok, "process " .. i .. " printed: " .. l)
      procs[i] = { ok = tonumber(ok), failed = tonumber(failed), retries = tonumber(retries),
                   tokens = tonumber(tokens), t0 = tonumber(t0), t1 = tonumber(t1) }
    end
    return procs, start_at
  end
end

local function summary(procs, start_at)
  local ok, failed, tokens, last = 0, 0, 0, 0
  for _, p in ipairs(procs) do
    ok, failed, tokens = ok + p.ok, failed + p.failed, tokens + p.tokens
    if p.t1 > last then last = p.t1 end
  end
  return ok, failed, tokens, last - start_at
end

describe("a fleet on one Redis", function()
  local r, id
  lazy_setup(function()
    os.execute("mkdir -p build")
    r = redis_server.start()
  end)
  lazy_teardown(function()
    if r then r.stop() end
    emu.config{ rate = false }
  end)
  before_each(function()
    r.cli("FLUSHALL")
    emu.reset{ users = 2, revoke = true }
    id = emu.users(1)[1].id
    emu.config{ rate = { allowed = ALLOWED, window_s = 1 } }
  end)

  it("shares one token and one budget: 1 token request, 0 429s, within 2x the minimum", function()
    local s0 = emu.stats()
    local procs, start_at = start_fleet(r, "shared", id)()
    local s1 = emu.stats()
    local ok, failed, _, took = summary(procs, start_at)
    local tokens = (s1.tokens.client_credentials or 0) - (s0.tokens.client_credentials or 0)
    local refused = s1.rate_limited - s0.rate_limited
    io.stderr:write(("\n  [fleet] shared: %d ok, %d failed, %d token requests, %d 429s, %.2f s (minimum %g s)\n")
      :format(ok, failed, tokens, refused, took, MINIMUM))
    assert.are.equal(PROCS * CALLS, ok)
    assert.are.equal(0, failed)
    assert.are.equal(1, tokens)
    assert.are.equal(0, refused)
    assert.is_true(took >= MINIMUM - 0.1, ("%.2f s: faster than the budget allows"):format(took))
    assert.is_true(took <= 2 * MINIMUM, ("%.2f s: over 2 x the minimum %g s"):format(took, MINIMUM))
  end)

  it("the control: token shared, budget not (no rate_store): 429s, each retried", function()
    local s0 = emu.stats()
    local procs, start_at = start_fleet(r, "token", id)()
    local s1 = emu.stats()
    local ok, failed, _, took = summary(procs, start_at)
    local tokens = (s1.tokens.client_credentials or 0) - (s0.tokens.client_credentials or 0)
    local refused = s1.rate_limited - s0.rate_limited
    local retries = 0
    for _, p in ipairs(procs) do retries = retries + p.retries end
    io.stderr:write(("\n  [fleet] control: %d ok, %d token requests, %d 429s (%d retries), %.2f s\n")
      :format(ok, tokens, refused, retries, took))
    assert.are.equal(PROCS * CALLS, ok)
    assert.are.equal(0, failed)
    assert.are.equal(1, tokens)
    assert.is_true(refused > 0, "no 429 without the shared budget: the control proves nothing")
    assert.are.equal(refused, retries)
  end)

  it("Redis killed 1 s into a run of creates: every call done, none twice, no crash", function()
    local created0 = emu.stats().users_created
    local wait = start_fleet(r, "shared", id, "create")
    core.sleep(0.8 + 1)
    r.kill()
    local procs, start_at = wait()
    r.restart()
    local ok, failed, _, took = summary(procs, start_at)
    local created = emu.stats().users_created - created0
    io.stderr:write(("\n  [fleet] redis killed at 1 s: %d ok, %d failed, %d created, %.2f s\n")
      :format(ok, failed, created, took))
    assert.are.equal(PROCS * CALLS, ok)
    assert.are.equal(0, failed)
    assert.are.equal(PROCS * CALLS, created) -- each create applied once
  end)

  it("Redis restarted mid-run: the processes rejoin (the shared counters move again)", function()
    -- Three times the calls (about 9 s at the budget): the fleet is still
    -- running when the restarted Redis is back and each process tries it
    -- again (at most a second later), on a host however loaded.
    local wait = start_fleet(r, "shared", id, nil, nil, 3 * CALLS)
    core.sleep(0.8 + 1)
    r.restart() -- empty: no token, no window, no scripts
    local rejoined = false
    for _ = 1, 200 do
      local keys = r.cli("--scan --pattern 'purecloud:*:rate'"):match("(%S+)")
      local n = keys and tonumber((r.cli("HGET " .. keys .. " n"):match("%d+")))
      if n and n > 0 then rejoined = true break end
      core.sleep(0.05)
    end
    local procs = wait()
    local ok, failed = summary(procs, 0)
    io.stderr:write(("\n  [fleet] redis restarted at 1 s: %d ok, %d failed, rejoined: %s\n")
      :format(ok, failed, tostring(rejoined)))
    assert.is_true(rejoined, "no permit taken from the restarted Redis: the processes did not rejoin")
    assert.are.equal(PROCS * 3 * CALLS, ok)
    assert.are.equal(0, failed)
  end)
end)
