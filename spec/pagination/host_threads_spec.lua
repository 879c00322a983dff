-- The scheduler's host-thread engine (purecloud.scheduler.host_threads) over
-- a fake host with ngx.thread's rules (no nginx, no network): a thread runs
-- at once until it first pauses; only the coroutine that spawned a thread may
-- wait for it; a waiter that is itself a thread yields to the host, which
-- runs every paused thread a turn (and moves its clock) until the wait is
-- answered. The nginx specs run the same engine inside a real nginx.
local scheduler = require "purecloud.scheduler"

local co_create, co_resume, co_status, co_yield, co_running = coroutine.create, coroutine.resume,
  coroutine.status, coroutine.yield, coroutine.running

-- A host: threads = { spawn, wait [, event] }, and what it saw.
local function host(opts)
  opts = opts or {}
  local h = { t = 0, all = {}, parent = {}, results = {}, waits = {}, violations = {} }
  local function is_thread() local co = co_running(); return h.parent[co] ~= nil end
  local function resume(co, ...)
    local r = table.pack(co_resume(co, ...))
    if co_status(co) == "dead" then h.results[co] = r end
  end
  -- One turn of the host's event loop: every paused thread runs once.
  local function tick()
    h.t = h.t + 0.1
    local list = {}
    for i, co in ipairs(h.all) do list[i] = co end
    for _, co in ipairs(list) do
      if co_status(co) == "suspended" then resume(co) end
    end
  end
  local function block_until(cond)
    while not cond() do
      if is_thread() then co_yield() else tick() end
    end
  end
  h.pause = function() co_yield() end -- a cosocket call, from a thread
  h.threads = {
    spawn = function(fn, ...)
      if opts.refuse_spawn then error("too many threads") end
      local co = co_create(fn)
      h.parent[co] = co_running() or "main"
      h.all[#h.all + 1] = co
      resume(co, ...)
      return co
    end,
    wait = function(...)
      local n, co = select("#", ...), ...
      h.waits[#h.waits + 1] = { co = co, dead = co_status(co) == "dead", n = n }
      if n ~= 1 then h.violations[#h.violations + 1] = "a wait for " .. n .. " threads" end
      if h.parent[co] ~= (co_running() or "main") then
        h.violations[#h.violations + 1] = "a wait for another coroutine's thread"
      end
      block_until(function() return co_status(co) == "dead" end)
      local r = h.results[co]
      return table.unpack(r, 1, r.n)
    end,
  }
  if not opts.no_event then
    h.threads.event = function()
      local count = 0
      return {
        post = function() count = count + 1 end,
        wait = function(timeout)
          local until_t = h.t + timeout
          block_until(function() return count > 0 or h.t >= until_t end)
          if count > 0 then count = count - 1; return true end
          return nil, "timeout"
        end,
      }
    end
  end
  -- The client as the scheduler sees it: its I/O owner; the host's I/O
  -- table carries the threads.
  local bound = setmetatable({}, { __mode = "k" })
  local base = { threads = h.threads, now = function() return h.t end,
                 transport = function() error("no transport in this fake") end }
  local owner = { default = base }
  function owner.current() return bound[co_running() or "main"] or base end
  function owner.multi() error("the thread engine must not ask for libcurl") end
  function owner.bind(_, io) bound[co_running()] = io end
  h.base, h.bound = base, bound
  return { io_owner = owner }, h
end

describe("scheduler: host threads #hermetic", function()
  it("runs each task as a host thread with the host's I/O, and collects each alone once it has ended", function()
    local client, h = host()
    local s = scheduler.of(client)
    assert.is_true(s:concurrent())
    local g = s:group()
    local got = {}
    for i = 1, 5 do
      g:spawn(function(k)
        for _ = 1, 6 - k do h.pause() end -- the first spawned ends last
        return k * 10, client.io_owner:current() == h.base
      end, function(ok, v, io_ok) got[#got + 1] = { ok = ok, v = v, io_ok = io_ok } end, i)
    end
    assert.is_true(g:run())
    assert.are.equal(5, #got)
    for k, r in ipairs(got) do
      assert.is_true(r.ok)
      assert.is_true(r.io_ok, "a task did not run with the host's I/O")
      assert.are.equal((6 - k) * 10, r.v) -- collected in the order they ended
    end
    assert.are.same({}, h.violations)
    assert.are.equal(5, #h.waits)
    for _, w in ipairs(h.waits) do assert.is_true(w.dead, "a thread was waited for before it said it ended") end
  end)

  it("a raising task ends with ok = false; the others end normally", function()
    local client, h = host()
    local g = scheduler.of(client):group()
    local got = {}
    for i = 1, 3 do
      g:spawn(function()
        h.pause()
        if i == 2 then error("task two exploded") end
        return i
      end, function(ok, v) got[i] = { ok = ok, v = v } end)
    end
    g:run()
    assert.are.same({ ok = true, v = 1 }, got[1])
    assert.are.same({ ok = true, v = 3 }, got[3])
    assert.is_false(got[2].ok)
    assert.matches("task two exploded", got[2].v)
  end)

  it("a nested group starts its threads from the task that waits on it, and collects them there", function()
    local client, h = host()
    local top = scheduler.of(client):group()
    local total = 0
    for i = 1, 2 do
      top:spawn(function()
        local inner = scheduler.of(client):group()
        local sum = 0
        for j = 1, 3 do
          inner:spawn(function() h.pause(); return i * j end, function(ok, v) assert(ok, v); sum = sum + v end)
        end
        inner:run()
        return sum
      end, function(ok, v) assert(ok, v); total = total + v end)
    end
    top:run()
    assert.are.equal((1 + 2 + 3) * 3, total)
    assert.are.same({}, h.violations) -- ngx.thread.wait only waits for the caller's own threads
    assert.are.equal(8, #h.waits)
  end)

  it("without an event the oldest thread is collected first, one at a time", function()
    local client, h = host{ no_event = true }
    local g = scheduler.of(client):group()
    local order = {}
    for i = 1, 4 do
      g:spawn(function() for _ = 1, 5 - i do h.pause() end; return i end,
        function(_, v) order[#order + 1] = v end)
    end
    g:run()
    -- None had ended at the first wait: the oldest (which ends last) was
    -- waited for alone, and the others, ended meanwhile, after it.
    assert.are.equal(1, order[1])
    table.sort(order)
    assert.are.same({ 1, 2, 3, 4 }, order)
    assert.are.same({}, h.violations)
    for _, w in ipairs(h.waits) do assert.are.equal(1, w.n) end
  end)

  it("a wait with a deadline returns false when it passes, and the work goes on", function()
    local client, h = host()
    local s = scheduler.of(client)
    local g = s:group()
    local done = false
    g:spawn(function() for _ = 1, 50 do h.pause() end; done = true end) -- 5 s of the host's clock
    assert.is_false(g:wait_until(function() return done end, s:now() + 1))
    assert.is_false(done)
    assert.is_true(g:wait_until(function() return done end))
    assert.is_true(h.t > 4.9)
  end)

  it("a host that cannot start a thread is the caller's mistake, raised at the caller's line", function()
    local client = host{ refuse_spawn = true }
    local g = scheduler.of(client):group()
    local ok, err = pcall(function() g:spawn(function() end) end)
    assert.is_false(ok)
    assert.matches("^spec/pagination/host_threads_spec%.lua:%d+: purecloud: could not start a host thread: .*too many threads", err)
    assert.are.equal(0, g.live) -- nothing counted: a later run does not wait for it
    assert.is_true(g:run())
  end)
end)
