--- Cooperative scheduler: runs many request loops at once over one client.
--
-- **One scheduler per client and I/O** (`M.of`). Batches and pagers do not
-- own schedulers: each starts a *group* of tasks on the client's one
-- scheduler and waits on its group. So they nest in any order and depth — a
-- batch inside a prefetching pager, a pager inside a batch call or inside
-- `on_result` — and every transfer's completion reaches its own task,
-- whoever is driving.
--
-- Each task is a coroutine running ordinary client code (`client:request`,
-- any `purecloud.users` function). While a task runs, the client's request
-- loop finds the task's I/O table through the client's I/O owner
-- (`purecloud.io`: `client.io_owner:current()`, bound by `bind`) and performs,
-- sleeps and waits by yielding to this scheduler, which drives libcurl's
-- multi interface: so the same retry/auth/rate-limit logic serves the
-- blocking, the embedded and the concurrent cases.
--
-- The rules:
--
-- 1. **Who drives.** Waiting on a group (`Group:wait_until`) from inside a
--    task of this scheduler parks that task until the group changes (it is
--    joined, not driven: no second loop). From anywhere else the caller
--    drives the scheduler — every task of every group — until its own
--    condition holds. The driver never runs caller code: a task's `on_done`
--    only records; callbacks (`on_result`) run in the waiting caller's
--    coroutine after `wait_until` returns.
-- 2. **Bounds.** Each group bounds only what it starts itself (its caller
--    launches at most `concurrency` tasks). A task waiting on a nested group
--    holds no transfer, so the transfers in flight are at most the product
--    of the bounds along one nesting chain (a batch of 4 whose calls each
--    page with 4 in flight: at most 16), and at most libcurl's
--    `max_connections` connections.
-- 3. **Failures stay in their task.** A transport that refuses a request
--    (`nil, err`) or raises while taking it answers that task's request
--    with an error (`kind = "transport"`, nothing sent); a task that raises
--    ends with `ok = false`; no other task is touched.
-- 4. **Stopping.** `stop(cause)` (a batch interrupted by SIGINT, or by a
--    raise in its caller's code) marks the scheduler stopping: batches and
--    pagers start nothing new while the tasks in flight end.
--
-- 5. **Host threads are collected one at a time** (see Group:_wait_thread).
--
-- A host I/O table that can run tasks itself says so with a `threads` field
-- `{ spawn = f(fn, …) → handle, wait = f(h) → true, fn's results…,
--    event = f() → { post = f(), wait = f(timeout) } (optional) }`
-- (the shape of `ngx.thread.spawn` / `ngx.thread.wait`, which is what
-- `purecloud.transport.ngx` gives): then every task is a host thread that
-- uses that I/O directly — inside nginx each cosocket call yields to the
-- event loop by itself — and a group waits for its own threads, from the
-- coroutine that started them (ngx.thread.wait only waits for the caller's
-- own threads; nested groups start theirs from the task that waits).
--
-- Without either (a plain host transport, or libcurl disabled) tasks run one
-- after another with the client's own I/O: slower, still right.
-- @module purecloud.scheduler
local threads_registry = require "purecloud.threads"
local errors = require "purecloud.errors"
local usage = errors.usage

local M = {}

local co_create, co_resume, co_status, co_yield, co_running = coroutine.create, coroutine.resume,
  coroutine.status, coroutine.yield, coroutine.running
-- Lua 5.1 / LuaJIT (nginx) have neither table.unpack nor table.pack.
local unpack = table.unpack or unpack -- luacheck: ignore 113
local pack = table.pack or function(...) return { n = select("#", ...), ... } end
local pcall, error, setmetatable, select, type, tostring = pcall, error, setmetatable, select, type, tostring

local Scheduler = {}
Scheduler.__index = Scheduler
local Group = {}
Group.__index = Group

--- Declare that `transport` (a host transport function) runs in a host whose
-- tasks can be threads (`purecloud.threads`; the nginx transport does this
-- itself).
-- @function register_threads
M.register_threads = threads_registry.register

local PERFORM, SLEEP, WAIT, JOIN = {}, {}, {}, {} -- unique yield tags

-- coroutine -> task, for the tasks run as coroutines (multi and serial modes)
local task_of = setmetatable({}, { __mode = "k" })
-- client -> { [base I/O table] = scheduler }
local by_client = setmetatable({}, { __mode = "k" })

local function new(client, base)
  local threads = type(base.threads) == "table" and base.threads or threads_registry.of(base.transport)
  local multi = not threads and client.io_owner:multi() or nil
  local self = setmetatable({
    client = client,
    multi = multi,          -- libcurl handle with submit/poll, or nil
    threads = threads,      -- host threads (nginx), or nil
    base = base,            -- the I/O table host threads use
    waiting = {},           -- transfer id -> task
    sleepers = {},          -- array of { wake = t, task = task }
    ready = {},             -- tasks to resume, each { task, values… }
    live = 0,               -- coroutine tasks not finished
    stopping = nil,         -- the cause, once stop() was called
  }, Scheduler)
  self.parked = setmetatable({}, { __mode = "k" }) -- condition -> tasks waiting on it
  self.io = {
    now = base.now,
    transport = function(req)
      return co_yield(PERFORM, req)
    end,
    sleep = function(seconds)
      return co_yield(SLEEP, seconds)
    end,
    -- A condition any table can be: `wait` parks the task until another
    -- task of this scheduler calls `wake` with it, or `timeout` seconds pass
    -- (the token keeper waits so for the token request in flight).
    wait = function(cond, timeout)
      return co_yield(WAIT, cond, timeout)
    end,
    wake = function(cond) return self:_wake(cond) end,
  }
  return self
end

--- The scheduler of `client` for the running coroutine's I/O: the one whose
-- task is running, else the client's one for its current I/O table
-- (created at first use).
function M.of(client)
  local co = co_running()
  local t = co and task_of[co]
  if t and t.sched.client == client then return t.sched end
  local base = client.io_owner:current()
  local per = by_client[client]
  if not per then
    per = setmetatable({}, { __mode = "k" })
    by_client[client] = per
  end
  local s = per[base]
  if not s then
    s = new(client, base)
    per[base] = s
  end
  return s
end

--- True when the running coroutine is a task of `sched` (its waits join).
function M.running_task(sched)
  local co = co_running()
  local t = co and task_of[co]
  return t ~= nil and t.sched == sched
end

--- The scheduler's clock (its I/O's `now`).
function Scheduler:now()
  return self.io.now()
end

--- The cause given to `stop`, while stopping; else nil.
function Scheduler:stop_cause()
  return self.stopping
end

--- True when tasks really run concurrently (a multi transport is available).
function Scheduler:concurrent()
  return self.multi ~= nil or self.threads ~= nil
end

--- Mark the scheduler stopping (rule 4). The first cause is kept.
function Scheduler:stop(cause)
  if self.stopping == nil then self.stopping = cause == nil and true or cause end
end

--- Clear a stop once the batch that asked for it has reported it.
function Scheduler:clear_stop()
  self.stopping = nil
end

--- A new group of tasks (one batch's or one pager's).
function Scheduler:group()
  return setmetatable({ sched = self, live = 0, threads = {} }, Group)
end

--- True while the group's scheduler is stopping (rule 4).
function Group:stopped()
  return self.sched.stopping ~= nil
end

function Scheduler:_wake(cond)
  local parked = self.parked[cond]
  self.parked[cond] = nil
  for _, task in ipairs(parked or {}) do
    if task.parked_on == cond then
      task.parked_on = nil
      self.ready[#self.ready + 1] = { task, true, n = 2 }
    end
  end
end

local function park(self, task, cond)
  local list = self.parked[cond] or {}
  list[#list + 1] = task
  self.parked[cond] = list
  task.parked_on = cond
end

-- Host threads: each returns the task and fn's results, pcall-style, and
-- says it has ended (rule 5) before it returns.
local function ended(task, ...)
  task.ended = true
  local ev = task.group.event
  if ev then ev.post() end
  return task, ...
end
local function thread_body(owner, io, task, fn, ...)
  owner:bind(io)
  return ended(task, pcall(fn, ...))
end

local function finish(task, ok, ...)
  local g = task.group
  task.done = true
  g.live = g.live - 1
  if task.co then g.sched.live = g.sched.live - 1 end
  -- (on_done only records: rule 1)
  if task.on_done then task.on_done(ok, ...) end
  g.sched:_wake(g)
end

--- Start `fn(...)` as a task of this group. `on_done(ok, …)` receives its
-- results (ok is false and the second value the error value when `fn`
-- raised); it must only record them.
function Group:spawn(fn, on_done, ...)
  local s = self.sched
  local client = s.client
  local task = { on_done = on_done, group = self, sched = s }
  if s.threads then
    if self.event == nil then self.event = s.threads.event and s.threads.event() or false end
    self.seq = (self.seq or 0) + 1
    task.seq = self.seq
    local ok, handle = pcall(s.threads.spawn, thread_body, client.io_owner, s.base, task, fn, ...)
    if not ok then usage("purecloud: could not start a host thread: " .. tostring(handle)) end
    self.live = self.live + 1
    self.threads[handle] = task
    return task
  end
  local io = s.io
  if s.multi then
    local owner = client.io_owner
    task.co = co_create(function(...)
      owner:bind(io)
      return fn(...)
    end)
  else
    task.co = co_create(fn)
  end
  task_of[task.co] = task
  self.live = self.live + 1
  s.live = s.live + 1
  local item = { task, ... }
  item.n = select("#", ...) + 1
  s.ready[#s.ready + 1] = item
  return task
end

local function transport_refused(err)
  -- Rule 3: a refusal or a raise is this request's answer, nothing sent.
  if type(err) == "table" and type(err.kind) == "string" then return err end
  return errors.new{ kind = "transport", sent = false, outcome = "not_sent", reason = "refused",
    message = "the transport refused the request: " .. tostring(err):match("^[^\n]*") }
end

-- Resume a task with values and route what it yields.
function Scheduler:_step(task, ...)
  local res = pack(co_resume(task.co, ...))
  local ok = res[1]
  if not ok then
    return finish(task, false, res[2])
  end
  if co_status(task.co) == "dead" then
    return finish(task, true, unpack(res, 2, res.n))
  end
  local tag, arg = res[2], res[3]
  if tag == PERFORM then
    local ok_submit, id, err = pcall(self.multi.submit, self.multi, arg)
    if not ok_submit or id == nil then
      self.ready[#self.ready + 1] = { task, nil, transport_refused(ok_submit and err or id), n = 3 }
      return
    end
    self.waiting[id] = task
  elseif tag == SLEEP then
    self.sleepers[#self.sleepers + 1] = { wake = self.io.now() + (tonumber(arg) or 0), task = task }
  elseif tag == WAIT then
    park(self, task, arg)
    -- The timeout: a sleeper that resumes the task only if nothing woke it.
    self.sleepers[#self.sleepers + 1] = { wake = self.io.now() + (tonumber(res[4]) or 60), task = task, cond = arg }
  elseif tag == JOIN then
    park(self, task, arg) -- woken when a task of group `arg` ends
  else
    -- A task yielded for its own reasons (a nested coroutine library):
    -- resume it again with what it yielded, as a plain coroutine host would.
    local item = { task, unpack(res, 2, res.n) }
    item.n = res.n
    self.ready[#self.ready + 1] = item
  end
end

-- Run every ready task once. A ready item is { task, values… , n = 1 + #values }.
function Scheduler:_drain()
  while #self.ready > 0 do
    local batch = self.ready
    self.ready = {}
    for i = 1, #batch do
      local item = batch[i]
      self:_step(item[1], unpack(item, 2, item.n))
    end
  end
end

function Scheduler:_wake_sleepers()
  local now = self.io.now()
  local soonest
  local keep = {}
  for i = 1, #self.sleepers do
    local s = self.sleepers[i]
    if s.cond and s.task.parked_on ~= s.cond then -- luacheck: ignore 542
      -- woken by its condition already: the timeout is void
    elseif s.wake <= now then
      if s.cond then s.task.parked_on = nil end
      self.ready[#self.ready + 1] = { s.task, n = 1 }
    else
      keep[#keep + 1] = s
      if not soonest or s.wake < soonest then soonest = s.wake end
    end
  end
  self.sleepers = keep
  return soonest
end

-- Drive every coroutine task until `predicate()` holds (rule 1), or until
-- `deadline` (io.now() clock) passes: returns true when the predicate held.
function Scheduler:_drive(predicate, deadline)
  while true do
    self:_drain()
    if predicate() then return true end
    if deadline and self.io.now() >= deadline then return false end
    if self.live == 0 then
      error("purecloud: scheduler: waiting for work that no task will do", 0)
    end
    local soonest = self:_wake_sleepers()
    if #self.ready == 0 then
      local pending = self.multi and self.multi:pending() or 0
      if pending == 0 and not soonest then
        -- Live tasks that neither wait for I/O nor sleep cannot exist: each
        -- one is ready, waiting, sleeping or joined to a group whose tasks
        -- are.
        error("purecloud: scheduler stalled with " .. self.live .. " live task(s)", 0)
      end
      local timeout = 1
      if soonest then timeout = math.min(timeout, soonest - self.io.now()) end
      if deadline then timeout = math.min(timeout, deadline - self.io.now()) end
      if timeout < 0 then timeout = 0 end
      if pending > 0 then
        local done = self.multi:poll(timeout)
        for i = 1, #done do
          local d = done[i]
          local task = self.waiting[d.id]
          self.waiting[d.id] = nil
          if task then
            if d.res then
              self.ready[#self.ready + 1] = { task, d.res, n = 2 }
            else
              self.ready[#self.ready + 1] = { task, nil, d.err, n = 3 }
            end
          end
        end
      elseif timeout > 0 then
        self.client.io_owner.default.sleep(timeout)
      end
    end
  end
end

-- Threads mode: collect one of the group's threads and hand its results on.
-- A thread is only ever waited for alone, once it has said it ended (or,
-- with no event, the oldest): ngx.thread.wait(h1, h2, …) leaves the threads
-- it did not return marked as waited for by the caller, and nginx then
-- resumes the caller with such a thread's results when it ends — in the
-- middle of whatever cosocket call the caller is making by then.
function Group:_wait_thread(deadline)
  local s = self.sched
  local pick
  for h, t in pairs(self.threads) do
    if t.ended or co_status(h) == "dead" then pick = h break end
  end
  if not pick and self.event then
    local left = deadline and deadline - s.io.now() or 60
    if left <= 0 then return end
    self.event.wait(left < 60 and left or 60)
    return
  end
  if not pick then
    for h, t in pairs(self.threads) do
      if not pick or t.seq < self.threads[pick].seq then pick = h end
    end
  end
  local task = self.threads[pick]
  self.threads[pick] = nil
  local res = pack(s.threads.wait(pick))
  -- res: true, task, pcall_ok, values…  (or false, error when the thread died)
  if not res[1] or res[2] ~= task then
    return finish(task, false, "purecloud: host thread ended abnormally: " .. tostring(res[2]))
  end
  finish(task, unpack(res, 3, res.n))
end

--- Wait until `predicate()` is true (rule 1), or `deadline` (the I/O's
-- clock) passes, or nothing of this group is left; returns true when the
-- predicate held.
function Group:wait_until(predicate, deadline)
  local s = self.sched
  if s.threads then
    while true do
      if predicate() then return true end
      if self.live == 0 then return false end
      if deadline and s.io.now() >= deadline then return false end
      self:_wait_thread(deadline)
    end
  end
  local co = co_running()
  local me = co and task_of[co]
  if me and me.sched == s then
    -- Joined: park until one of the group's tasks ends (or the deadline).
    while true do
      if predicate() then return true end
      if self.live == 0 then return false end
      if deadline then
        local left = deadline - s.io.now()
        if left <= 0 then return false end
        co_yield(WAIT, self, left)
      else
        co_yield(JOIN, self)
      end
    end
  end
  local live = self
  return s:_drive(function() return predicate() or live.live == 0 end, deadline) and predicate()
end

--- Run until every task of the group has ended.
function Group:run()
  local g = self
  return self:wait_until(function() return g.live == 0 end)
end

return M
