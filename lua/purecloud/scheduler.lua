--- Cooperative scheduler: runs many request loops at once over one client.
--
-- **One scheduler per client and I/O** (`M.of`). Batches and pagers do not
-- own schedulers: each starts a *group* of tasks on the client's one
-- scheduler and waits on its group. So they nest in any order and depth — a
-- batch inside a prefetching pager, a pager inside a batch call or inside
-- `on_result` — and every transfer's completion reaches its own task,
-- whoever is driving.
--
-- Each task runs ordinary client code (`client:request`, any
-- `purecloud.users` function) with an I/O table bound to it through the
-- client's I/O owner (`purecloud.io`), so the same retry/auth/rate-limit
-- loop serves the blocking, the embedded and the concurrent cases. What runs
-- the tasks is an **engine**, chosen once per scheduler from the I/O table:
--
-- * `purecloud.scheduler.host_threads` when the host runs tasks itself (the
--   I/O table has a `threads` field, or its transport registered some:
--   `purecloud.threads`; inside nginx, light threads over cosockets);
-- * else `purecloud.scheduler.coroutines`: tasks are coroutines that yield
--   their transfers to libcurl's multi interface, or — with no multi
--   transport (a plain host transport, libcurl disabled) — run one after
--   another with the client's own I/O: slower, still right.
--
-- This file holds what both engines share: the scheduler per client, the
-- groups and their bookkeeping, stopping. An engine offers `spawn(task, fn,
-- …)`, `wait_until(group, predicate, deadline)`, `now()`, `changed(group)`
-- and `concurrent`, and calls `ended(task, ok, …)` (below) when a task ends.
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
-- 5. **Host threads are collected one at a time** (why:
--    `purecloud.scheduler.host_threads`).
-- @module purecloud.scheduler
local threads_registry = require "purecloud.threads"
local coroutines = require "purecloud.scheduler.coroutines"
local host_threads = require "purecloud.scheduler.host_threads"

local M = {}

local setmetatable, type = setmetatable, type

local Scheduler = {}
Scheduler.__index = Scheduler
local Group = {}
Group.__index = Group

--- Declare that `transport` (a host transport function) runs in a host whose
-- tasks can be threads (`purecloud.threads`; the nginx transport does this
-- itself).
-- @function register_threads
M.register_threads = threads_registry.register

-- client -> { [base I/O table] = scheduler }
local by_client = setmetatable({}, { __mode = "k" })

-- What an engine calls when a task ends: the group's count, the task's
-- `on_done` (it only records: rule 1), and the engine told the group changed
-- (it wakes the tasks joined to it).
local function ended(task, ok, ...)
  local g = task.group
  task.done = true
  g.live = g.live - 1
  if task.on_done then task.on_done(ok, ...) end
  g.sched.engine:changed(g)
end

local function new(client, base)
  local threads = type(base.threads) == "table" and base.threads or threads_registry.of(base.transport)
  local self = setmetatable({
    client = client,
    stopping = nil,         -- the cause, once stop() was called
  }, Scheduler)
  if threads then
    self.engine = host_threads.new(client.io_owner, base, threads, ended)
  else
    self.engine = coroutines.new(client.io_owner, base, ended)
  end
  return self
end

--- The scheduler of `client` for the running coroutine's I/O: the one whose
-- task is running, else the client's one for its current I/O table
-- (created at first use).
function M.of(client)
  local t = coroutines.running_task()
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
  local t = coroutines.running_task()
  return t ~= nil and t.sched == sched
end

--- The scheduler's clock (its I/O's `now`).
function Scheduler:now()
  return self.engine:now()
end

--- The cause given to `stop`, while stopping; else nil.
function Scheduler:stop_cause()
  return self.stopping
end

--- True when tasks really run concurrently (a multi transport or host
-- threads are available).
function Scheduler:concurrent()
  return self.engine.concurrent
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
  return setmetatable({ sched = self, live = 0 }, Group)
end

--- True while the group's scheduler is stopping (rule 4).
function Group:stopped()
  return self.sched.stopping ~= nil
end

--- Start `fn(...)` as a task of this group. `on_done(ok, …)` receives its
-- results (ok is false and the second value the error value when `fn`
-- raised); it must only record them.
function Group:spawn(fn, on_done, ...)
  local s = self.sched
  local task = { on_done = on_done, group = self, sched = s }
  s.engine:spawn(task, fn, ...)
  self.live = self.live + 1
  return task
end

--- Wait until `predicate()` is true (rule 1), or `deadline` (the I/O's
-- clock) passes, or nothing of this group is left; returns true when the
-- predicate held.
function Group:wait_until(predicate, deadline)
  return self.sched.engine:wait_until(self, predicate, deadline)
end

--- Run until every task of the group has ended.
function Group:run()
  local g = self
  return self:wait_until(function() return g.live == 0 end)
end

return M
