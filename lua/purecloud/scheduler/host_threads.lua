--- The scheduler's host-thread engine (`purecloud.scheduler`): each task is
-- a thread of the host (inside nginx, an `ngx.thread` light thread) that
-- uses the host's I/O table directly — every cosocket call yields to the
-- host's event loop by itself, so nothing here drives I/O.
--
-- `threads = { spawn = f(fn, …) → handle, wait = f(h) → true, fn's results…,
-- event = f() → { post = f(), wait = f(timeout) } (optional) }` (the shape
-- of `ngx.thread.spawn` / `ngx.thread.wait` and an `ngx.semaphore`, which
-- `purecloud.transport.ngx` registers through `purecloud.threads`).
--
-- A group waits for its own threads, from the coroutine that started them:
-- `ngx.thread.wait` only waits for the caller's own threads, so nested
-- groups start theirs from the task that waits. **Threads are collected one
-- at a time** (the scheduler's rule 5), each once it has said it ended:
-- `ngx.thread.wait(h1, h2, …)` leaves the threads it did not return marked
-- as waited for by the caller, and nginx then resumes the caller with such a
-- thread's results when it ends — in the middle of whatever cosocket call
-- the caller is making by then.
-- @module purecloud.scheduler.host_threads
local usage = require("purecloud.errors").usage

local M = {}

-- Lua 5.1 / LuaJIT (nginx) have neither table.unpack nor table.pack.
local unpack = table.unpack or unpack -- luacheck: ignore 113
local pack = table.pack or function(...) return { n = select("#", ...), ... } end
local pcall, setmetatable, tostring, pairs = pcall, setmetatable, tostring, pairs
local co_status = coroutine.status

local Engine = {}
Engine.__index = Engine

--- A host-thread engine over `threads`, whose tasks bind `base` (the host's
-- I/O table) through `owner`. `ended(task, ok, …)` is the scheduler's:
-- called once per task, when it is collected.
function M.new(owner, base, threads, ended)
  return setmetatable({
    owner = owner,
    base = base,
    threads = threads,
    ended = ended,
    concurrent = true,
    of_group = setmetatable({}, { __mode = "k" }), -- group -> { threads = handle -> task, seq, event }
  }, Engine)
end

function Engine:now()
  return self.base.now()
end

--- Nothing to wake: a thread's end posts its group's event itself.
function Engine.changed(_) end

local function state(self, group)
  local st = self.of_group[group]
  if not st then
    local ev = self.threads.event
    st = { threads = {}, seq = 0, event = ev and ev() or false }
    self.of_group[group] = st
  end
  return st
end

-- Each thread returns the task and fn's results, pcall-style, and says it
-- has ended before it returns.
local function said_ended(task, event, ...)
  task.ended = true
  if event then event.post() end
  return task, ...
end
local function thread_body(owner, io, task, event, fn, ...)
  owner:bind(io)
  return said_ended(task, event, pcall(fn, ...))
end

--- Start `fn(...)` as a host thread for `task`.
function Engine:spawn(task, fn, ...)
  local st = state(self, task.group)
  st.seq = st.seq + 1
  task.seq = st.seq
  local ok, handle = pcall(self.threads.spawn, thread_body, self.owner, self.base, task, st.event, fn, ...)
  if not ok then usage("purecloud: could not start a host thread: " .. tostring(handle)) end
  st.threads[handle] = task
end

-- Collect one of the group's threads and hand its results on: one that has
-- said it ended, else (with an event) wait for the next to say so, else
-- (no event) the oldest.
local function collect_one(self, group, deadline)
  local st = state(self, group)
  local pick
  for h, t in pairs(st.threads) do
    if t.ended or co_status(h) == "dead" then pick = h break end
  end
  if not pick and st.event then
    local left = deadline and deadline - self.base.now() or 60
    if left <= 0 then return end
    st.event.wait(left < 60 and left or 60)
    return
  end
  if not pick then
    for h, t in pairs(st.threads) do
      if not pick or t.seq < st.threads[pick].seq then pick = h end
    end
  end
  local task = st.threads[pick]
  st.threads[pick] = nil
  local res = pack(self.threads.wait(pick))
  -- res: true, task, pcall_ok, values…  (or false, error when the thread died)
  if not res[1] or res[2] ~= task then
    return self.ended(task, false, "purecloud: host thread ended abnormally: " .. tostring(res[2]))
  end
  self.ended(task, unpack(res, 3, res.n))
end

--- Wait until `predicate()` holds, `deadline` passes or `group` has no task
-- left, collecting the group's threads meanwhile.
function Engine:wait_until(group, predicate, deadline)
  while true do
    if predicate() then return true end
    if group.live == 0 then return false end
    if deadline and self.base.now() >= deadline then return false end
    collect_one(self, group, deadline)
  end
end

return M
