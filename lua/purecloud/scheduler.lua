--- Cooperative scheduler: runs many request loops at once over one client.
--
-- Each task is a coroutine running ordinary client code (`client:request`,
-- any `purecloud.users` function). While a task runs, the client's request
-- loop finds the task's I/O table through `client:io_for()` and performs and
-- sleeps by yielding to this scheduler, which drives libcurl's multi
-- interface: so the same retry/auth/rate-limit logic serves the blocking,
-- the embedded and the concurrent cases.
--
-- A host I/O table that can run tasks itself says so with a `threads` field
-- `{ spawn = f(fn, …) → handle, wait = f(h1, h2, …) → true, fn's results… }`
-- (the shape of `ngx.thread.spawn` / `ngx.thread.wait`, which is what
-- `purecloud.transport.ngx` gives): then every task is a host thread that
-- uses that I/O directly — inside nginx each cosocket call yields to the event
-- loop by itself — and the scheduler only starts threads and collects their
-- results, always from the coroutine that created it (ngx.thread.wait only
-- waits for the caller's own threads). Same semantics either way: results
-- handed back through `on_done` in the creating coroutine, at most as many
-- in flight as the caller spawns.
--
-- Without either (a plain host transport, or libcurl disabled) tasks run one
-- after another with the client's own I/O: slower, still right.
-- @module purecloud.scheduler
local M = {}

local co_create, co_resume, co_status, co_yield = coroutine.create, coroutine.resume,
  coroutine.status, coroutine.yield
-- Lua 5.1 / LuaJIT (nginx) have neither table.unpack nor table.pack.
local unpack = table.unpack or unpack -- luacheck: ignore 113
local pack = table.pack or function(...) return { n = select("#", ...), ... } end

local Scheduler = {}
Scheduler.__index = Scheduler

-- Host transports known to come with threads (a client built from
-- `transport = io.transport` keeps only the function, not the I/O table).
local threads_of = setmetatable({}, { __mode = "k" })

--- Declare that `transport` (a host transport function) runs in a host whose
-- tasks can be threads: `threads = { spawn, wait }` as above. The nginx
-- transport does this itself.
function M.register_threads(transport, threads)
  if type(transport) ~= "function" or type(threads) ~= "table" or type(threads.spawn) ~= "function"
     or type(threads.wait) ~= "function" then
    error("purecloud.scheduler.register_threads(transport, { spawn = f, wait = f })", 2)
  end
  threads_of[transport] = threads
end

local PERFORM, SLEEP, WAIT = {}, {}, {} -- unique yield tags

--- Create a scheduler for `client`.
-- @param client a purecloud client
-- @return scheduler
function M.new(client)
  local base = client:io_for()
  local threads = type(base.threads) == "table" and base.threads or threads_of[base.transport]
  local multi = not threads and client:multi_transport() or nil
  local self = setmetatable({
    client = client,
    multi = multi,          -- libcurl handle with submit/poll, or nil
    threads = threads,      -- host threads (nginx), or nil
    base = base,            -- the I/O table host threads use
    running = {},           -- host thread handle -> task (threads mode)
    waiting = {},           -- transfer id -> task
    sleepers = {},          -- array of { wake = t, task = task }
    ready = {},             -- tasks to resume, each { task, values… }
    live = 0,               -- tasks not finished
  }, Scheduler)
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
    wake = function(cond)
      local parked = self.parked[cond]
      self.parked[cond] = nil
      for _, task in ipairs(parked or {}) do
        if task.parked_on == cond then
          task.parked_on = nil
          self.ready[#self.ready + 1] = { task, true, n = 2 }
        end
      end
    end,
  }
  self.parked = setmetatable({}, { __mode = "k" }) -- condition -> tasks waiting on it
  return self
end

--- True when tasks really run concurrently (a multi transport is available).
function Scheduler:concurrent()
  return self.multi ~= nil or self.threads ~= nil
end

-- Host threads: each returns the task and fn's results, pcall-style.
local function thread_body(client, io, task, fn, ...)
  client:bind_io(io)
  return task, pcall(fn, ...)
end

--- Start `fn(...)` as a task. `on_done(ok, …)` receives its results (ok is
-- false and the second value the error value when `fn` raised).
function Scheduler:spawn(fn, on_done, ...)
  local client = self.client
  local io = self.io
  local task = { on_done = on_done }
  if self.threads then
    local ok, handle = pcall(self.threads.spawn, thread_body, client, self.base, task, fn, ...)
    if not ok then error("purecloud: could not start a host thread: " .. tostring(handle), 2) end
    self.live = self.live + 1
    self.running[handle] = task
    return task
  end
  if self.multi then
    task.co = co_create(function(...)
      client:bind_io(io)
      return fn(...)
    end)
  else
    task.co = co_create(fn)
  end
  self.live = self.live + 1
  local item = { task, ... }
  item.n = select("#", ...) + 1
  self.ready[#self.ready + 1] = item
  return task
end

local function finish(self, task, ok, ...)
  self.live = self.live - 1
  task.done = true
  if task.on_done then task.on_done(ok, ...) end
end

-- Resume a task with values and route what it yields.
function Scheduler:_step(task, ...)
  local res = pack(co_resume(task.co, ...))
  local ok = res[1]
  if not ok then
    return finish(self, task, false, res[2])
  end
  if co_status(task.co) == "dead" then
    return finish(self, task, true, unpack(res, 2, res.n))
  end
  local tag, arg = res[2], res[3]
  if tag == PERFORM then
    local ok_submit, id = pcall(self.multi.submit, self.multi, arg)
    if not ok_submit then
      -- A bad request table is a programming error inside the loop: surface
      -- it to the task the way a blocking transport would have raised.
      self.ready[#self.ready + 1] = { task, nil, id, n = 3 }
      return
    end
    self.waiting[id] = task
  elseif tag == SLEEP then
    self.sleepers[#self.sleepers + 1] = { wake = self.io.now() + (tonumber(arg) or 0), task = task }
  elseif tag == WAIT then
    local list = self.parked[arg] or {}
    list[#list + 1] = task
    self.parked[arg] = list
    task.parked_on = arg
    -- The timeout: a sleeper that resumes the task only if nothing woke it.
    self.sleepers[#self.sleepers + 1] = { wake = self.io.now() + (tonumber(res[4]) or 60), task = task, cond = arg }
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

-- Threads mode: wait for any running thread and hand its results on.
function Scheduler:_wait_thread()
  local handles = {}
  for h in pairs(self.running) do handles[#handles + 1] = h end
  local res = pack(self.threads.wait(unpack(handles)))
  -- res: true, task, pcall_ok, values…  (or false, error when the thread died)
  local task = res[2]
  if not res[1] or type(task) ~= "table" or not task.on_done then
    -- Only a killed or broken host thread gets here; drop every dead one.
    for h, t in pairs(self.running) do
      if co_status(h) == "dead" then
        self.running[h] = nil
        finish(self, t, false, "purecloud: host thread ended abnormally: " .. tostring(res[2]))
      end
    end
    return
  end
  for h, t in pairs(self.running) do
    if t == task then self.running[h] = nil break end
  end
  finish(self, task, unpack(res, 3, res.n))
end

--- Run until `predicate()` is true or no task is left.
function Scheduler:run_until(predicate)
  if self.threads then
    while true do
      if predicate and predicate() then return end
      if self.live == 0 then return end
      self:_wait_thread()
    end
  end
  while true do
    self:_drain()
    if predicate and predicate() then return end
    if self.live == 0 then return end
    local soonest = self:_wake_sleepers()
    if #self.ready == 0 then
      local pending = self.multi and self.multi:pending() or 0
      if pending == 0 and not soonest then
        -- Live tasks that neither wait for I/O nor sleep cannot exist: each
        -- one is either ready, waiting or sleeping.
        error("purecloud: scheduler stalled with " .. self.live .. " live task(s)")
      end
      local timeout = 1
      if soonest then timeout = math.max(0, math.min(timeout, soonest - self.io.now())) end
      if pending > 0 then
        for _, done in ipairs(self.multi:poll(timeout)) do
          local task = self.waiting[done.id]
          self.waiting[done.id] = nil
          if task then
            if done.res then
              self.ready[#self.ready + 1] = { task, done.res, n = 2 }
            else
              self.ready[#self.ready + 1] = { task, nil, done.err, n = 3 }
            end
          end
        end
      elseif timeout > 0 then
        self.client.io.sleep(timeout)
      end
    end
  end
end

--- Run every task to completion.
function Scheduler:run()
  return self:run_until(nil)
end

return M
