-- Issue 22, the fleet: 8 plain-Lua processes (client:batch at concurrency 4,
-- 50 calls each) plus an nginx with 2 workers (LuaJIT, cosockets: each
-- worker its own client, 50 calls at concurrency 4, spec/fleet/ngx_fleet.lua),
-- one client id, one Redis (token_store and rate_store), against an
-- emulator budget of 100 requests per second per token.
--
-- The minimum: 500 calls in windows of 100, the first window opened by the
-- first API request, is (500/100 - 1) × 1 s = 4 s. Shared: exactly 1 token
-- request, 0 429s, within 2 × the minimum, every call's permit taken from
-- Redis. The control (token shared, budget not) gets its 429s. Then Redis
-- killed 1 s into the run (every call still done, none twice: creates
-- counted on the emulator), and Redis restarted mid-run (the processes
-- rejoin: the shared counters move again).
local emu = require "support.emulator"
local redis_server = require "support.redis"
local core = require "purecloud.core"
local ngx_fleet = require "fleet.ngx_fleet"

local PROCS, NGX_WORKERS, CALLS, CONC, ALLOWED = 8, 2, 50, 4, 100
local TOTAL = (PROCS + NGX_WORKERS) * CALLS
local MINIMUM = (TOTAL / ALLOWED - 1) * 1

local function sh_quote(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

-- Start the fleet (the plain processes, and the nginx workers when `nginx`);
-- returns a function that waits for it and returns one entry per member
-- (nginx's marked `ngx = true`) and the start instant.
local function start_fleet(r, mode, id, op, n, calls, nginx)
  local start_at = core.now() + 0.8 -- every process loaded before the first call
  local ngx_wait = nginx and nginx.run{ url = emu.url, mode = mode, id = id, calls = calls or CALLS, conc = CONC,
                                        at = start_at, op = op }
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
      local ok, failed, retries, tokens, t0, t1, shared = l:match("^(%d+) (%d+) (%d+) (%d+) (%S+) (%S+) ([01])$")
      assert(ok, "process " .. i .. " printed: " .. l)
      procs[i] = { ok = tonumber(ok), failed = tonumber(failed), retries = tonumber(retries),
                   tokens = tonumber(tokens), t0 = tonumber(t0), t1 = tonumber(t1), shared = shared == "1" }
    end
    if ngx_wait then
      for _, w in ipairs(ngx_wait(math.max(5, deadline - core.now()))) do
        assert(w.via == "cosocket" or w.via == "lua-resty-redis", "nginx worker's store via " .. tostring(w.via))
        procs[#procs + 1] = { ok = w.ok, failed = w.failed, retries = w.retries, tokens = w.tokens,
                              t0 = w.t0, t1 = w.t1, shared = w.shared, ngx = true, worker = w.worker }
      end
    end
    return procs, start_at
  end
end

local function summary(procs, start_at)
  local ok, failed, tokens, last, ngx_ok, workers = 0, 0, 0, 0, 0, {}
  for _, p in ipairs(procs) do
    ok, failed, tokens = ok + p.ok, failed + p.failed, tokens + p.tokens
    if p.t1 > last then last = p.t1 end
    if p.ngx then ngx_ok, workers[#workers + 1] = ngx_ok + p.ok, ("%d"):format(p.worker) end
  end
  table.sort(workers)
  return ok, failed, tokens, last - start_at, ngx_ok, table.concat(workers, ",")
end

-- Permits taken from the shared window, all time (the rate hash's n).
local function permits_taken(r)
  local k = r.cli("--scan --pattern 'purecloud:*:rate'"):match("(%S+)")
  return k and tonumber((r.cli("HGET " .. k .. " n"):match("%d+"))) or 0
end

describe("a fleet on one Redis (8 processes and an nginx of 2 workers)", function()
  local r, id, nginx
  lazy_setup(function()
    os.execute("mkdir -p build")
    r = redis_server.start()
    nginx = ngx_fleet.start{ redis = r, workers = NGX_WORKERS }
  end)
  lazy_teardown(function()
    if nginx then nginx.stop() end
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
    local procs, start_at = start_fleet(r, "shared", id, nil, nil, nil, nginx)()
    local s1 = emu.stats()
    local ok, failed, _, took, ngx_ok, workers = summary(procs, start_at)
    local tokens = (s1.tokens.client_credentials or 0) - (s0.tokens.client_credentials or 0)
    local refused = s1.rate_limited - s0.rate_limited
    local permits = permits_taken(r)
    io.stderr:write(("\n  [fleet] shared: %d ok (%d in nginx workers %s), %d failed, %d token requests, %d 429s, "
      .. "%d permits taken from Redis, %.2f s (minimum %g s)\n")
      :format(ok, ngx_ok, workers, failed, tokens, refused, permits, took, MINIMUM))
    assert.are.equal("0,1", workers)
    assert.are.equal(NGX_WORKERS * CALLS, ngx_ok)
    assert.are.equal(TOTAL, ok)
    assert.are.equal(0, failed)
    assert.are.equal(1, tokens)
    assert.are.equal(0, refused)
    assert.are.equal(TOTAL, permits) -- every call of every member took its permit from the shared window
    assert.is_true(took >= MINIMUM - 0.1, ("%.2f s: faster than the budget allows"):format(took))
    assert.is_true(took <= 2 * MINIMUM, ("%.2f s: over 2 x the minimum %g s"):format(took, MINIMUM))
  end)

  it("the control: token shared, budget not (no rate_store): 429s, each retried", function()
    local s0 = emu.stats()
    local procs, start_at = start_fleet(r, "token", id, nil, nil, nil, nginx)()
    local s1 = emu.stats()
    local ok, failed, _, took, ngx_ok, workers = summary(procs, start_at)
    local tokens = (s1.tokens.client_credentials or 0) - (s0.tokens.client_credentials or 0)
    local refused = s1.rate_limited - s0.rate_limited
    local retries, ngx_retries = 0, 0
    for _, p in ipairs(procs) do
      retries = retries + p.retries
      if p.ngx then ngx_retries = ngx_retries + p.retries end
    end
    io.stderr:write(("\n  [fleet] control: %d ok (%d in nginx workers %s), %d token requests, %d 429s "
      .. "(%d retries, %d of them in nginx), %.2f s\n"):format(ok, ngx_ok, workers, tokens, refused, retries,
      ngx_retries, took))
    assert.are.equal("0,1", workers)
    assert.are.equal(NGX_WORKERS * CALLS, ngx_ok)
    assert.are.equal(TOTAL, ok)
    assert.are.equal(0, failed)
    assert.are.equal(1, tokens)
    assert.is_true(refused > 0, "no 429 without the shared budget: the control proves nothing")
    assert.are.equal(refused, retries)
  end)

  it("Redis killed 1 s into a run of creates: every call done, none twice, no crash", function()
    -- Three times the calls (about 14 s at the budget), so that every member
    -- is still running when Redis dies: the nginx workers, warm, take their
    -- first permits fastest and finish 50 calls within the first second.
    local created0 = emu.stats().users_created
    local log0 = #nginx.log()
    local wait = start_fleet(r, "shared", id, "create", nil, 3 * CALLS, nginx)
    core.sleep(0.8 + 1)
    local killed_at = core.now()
    r.kill()
    local ok_wait, procs, start_at = pcall(wait, 90)
    r.restart()
    assert(ok_wait, procs)
    local ok, failed, _, took, ngx_ok, workers = summary(procs, start_at)
    local created = emu.stats().users_created - created0
    local ends, early = {}, 0
    for _, p in ipairs(procs) do
      ends[#ends + 1] = ("%s%.2f"):format(p.ngx and "ngx:" or "", p.t1 - start_at)
      if p.t1 <= killed_at then early = early + 1 end
    end
    local log = nginx.log():sub(log0 + 1)
    io.stderr:write(("\n  [fleet] redis killed at %.2f s: %d ok (%d in nginx workers %s), %d failed, %d created, "
      .. "%.2f s; members done at %s s\n"):format(killed_at - start_at, ok, ngx_ok, workers, failed, created, took,
      table.concat(ends, " ")))
    assert.are.equal(0, early, "a member finished before Redis died: the run proves nothing for it")
    assert.are.equal("0,1", workers)
    assert.are.equal(3 * NGX_WORKERS * CALLS, ngx_ok)
    assert.are.equal(3 * TOTAL, ok)
    assert.are.equal(0, failed)
    assert.are.equal(3 * TOTAL, created) -- each create applied once
    for w = 0, NGX_WORKERS - 1 do -- each nginx worker fell back (its one warn line)
      assert.is_truthy(log:find("[fleet nginx worker " .. w .. "] warn purecloud.store.redis(", 1, true),
        "nginx worker " .. w .. " did not say it fell back")
    end
    assert.is_falsy(log:find(r.password, 1, true), "the Redis password is in nginx's error log")
  end)

  it("Redis restarted mid-run: the processes rejoin (the shared counters move again)", function()
    -- Three times the calls (about 14 s at the budget): the fleet is still
    -- running when the restarted Redis is back and each process tries it
    -- again (at most a second later), on a host however loaded. Down for
    -- 1.5 s first, so that every member falls back (a Redis back at once
    -- is found again without any: a dead kept connection is replaced in
    -- the same call, hiredis's and the cosocket pool's alike).
    local log0 = #nginx.log()
    local wait = start_fleet(r, "shared", id, nil, nil, 3 * CALLS, nginx)
    core.sleep(0.8 + 1)
    r.kill()
    core.sleep(1.5)
    r.restart() -- empty: no token, no window, no scripts
    local restarted_at = core.now()
    local rejoined = false
    for _ = 1, 200 do
      if permits_taken(r) > 0 then rejoined = true break end
      core.sleep(0.05)
    end
    local procs, start_at = wait()
    local ok, failed, _, _, ngx_ok = summary(procs, 0)
    -- A member still running a second after the restart has used Redis
    -- again since: its store is shared again at its end.
    local members, alone = {}, 0
    for _, p in ipairs(procs) do
      local running = p.t1 > restarted_at + 1
      members[#members + 1] = ("%s%.2f%s"):format(p.ngx and "ngx:" or "", p.t1 - start_at,
        running and (p.shared and "(shared)" or "(alone)") or "")
      if running and not p.shared then alone = alone + 1 end
    end
    io.stderr:write(("\n  [fleet] redis restarted at %.2f s: %d ok (%d in nginx), %d failed, rejoined: %s; "
      .. "members done at %s s\n"):format(restarted_at - start_at, ok, ngx_ok, failed, tostring(rejoined),
      table.concat(members, " ")))
    assert.is_true(rejoined, "no permit taken from the restarted Redis: the processes did not rejoin")
    assert.are.equal(0, alone, "a member ran on after the restart without using Redis again")
    local log = nginx.log():sub(log0 + 1)
    for w = 0, NGX_WORKERS - 1 do -- each nginx worker fell back, then said Redis answers again
      local tag = "[fleet nginx worker " .. w .. "] "
      local down_at = log:find(tag .. "warn purecloud.store.redis(", 1, true)
      assert.is_truthy(down_at, "nginx worker " .. w .. " did not fall back")
      assert.is_truthy(log:find(tag .. "info purecloud.store.redis(", down_at, true),
        "nginx worker " .. w .. " did not say Redis answers again")
    end
    assert.are.equal(3 * NGX_WORKERS * CALLS, ngx_ok)
    assert.are.equal(3 * TOTAL, ok)
    assert.are.equal(0, failed)
  end)
end)
