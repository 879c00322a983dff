--- The scheduler's coroutine engine (`purecloud.scheduler`): each task is a
-- coroutine; its request loop's I/O yields here, and this engine drives
-- libcurl's multi interface for every task of every group at once.
--
-- While a task runs, the client's request loop finds the task's I/O table
-- through the I/O owner (`owner:current()`, bound at the task's start) and
-- performs, sleeps and waits by yielding to this engine. With no multi
-- handle (a plain host transport, libcurl disabled) tasks keep the client's
-- own blocking I/O and run one after another: `concurrent` is false.
--
-- The engine never runs caller code (the scheduler's rule 1): a task's
-- `ended` only records, and a caller's callbacks run after `wait_until`
-- returns. A transport that refuses or raises answers that task's request
-- only (rule 3).
-- @module purecloud.scheduler.coroutines
local errors = require "purecloud.errors"

local M = {}

local co_create, co_resume, co_status, co_yield, co_running = coroutine.create, coroutine.resume,
  coroutine.status, coroutine.yield, coroutine.running
-- Lua 5.1 / LuaJIT (nginx) have neither table.unpack nor table.pack.
local unpack = table.unpack or unpack -- luacheck: ignore 113
local pack = table.pack or function(...) return { n = select("#", ...), ... } end
local pcall, error, setmetatable, select, type, tostring, tonumber, ipairs = pcall, error, setmetatable, select,
  type, tostring, tonumber, ipairs
local min = math.min

local Engine = {}
Engine.__index = Engine

local PERFORM, SLEEP, WAIT, JOIN = {}, {}, {}, {} -- unique yield tags

-- coroutine -> task, and coroutine -> its engine, for every task of every
-- coroutine engine
local task_of = setmetatable({}, { __mode = "k" })
local engine_of = setmetatable({}, { __mode = "k" })

--- The task the running coroutine is, or nil.
function M.running_task()
  local co = co_running()
  return co and task_of[co]
end

--- A coroutine engine over the I/O owner's multi handle (none: serial).
-- `ended(task, ok, …)` is the scheduler's: called once per task, when it ends.
function M.new(owner, base, ended)
  local multi = owner:multi()
  local self = setmetatable({
    owner = owner,
    ended = ended,
    multi = multi,          -- libcurl handle with submit/poll/pending, or nil
    concurrent = multi ~= nil,
    waiting = {},           -- transfer id -> task
    sleepers = {},          -- array of { wake = t, task = task [, cond = c] }
    ready = {},             -- tasks to resume, each { task, values…, n = 1 + #values }
    live = 0,               -- tasks not finished
  }, Engine)
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
    -- task of this engine calls `wake` with it, or `timeout` seconds pass
    -- (the token keeper waits so for the token request in flight).
    wait = function(cond, timeout)
      return co_yield(WAIT, cond, timeout)
    end,
    wake = function(cond) return self:_wake(cond) end,
  }
  return self
end

function Engine:now()
  return self.io.now()
end

function Engine:_wake(cond)
  local parked = self.parked[cond]
  self.parked[cond] = nil
  for _, task in ipairs(parked or {}) do
    if task.parked_on == cond then
      task.parked_on = nil
      self.ready[#self.ready + 1] = { task, true, n = 2 }
    end
  end
end

--- A group changed (one of its tasks ended): wake the tasks joined to it.
function Engine:changed(group)
  self:_wake(group)
end

local function park(self, task, cond)
  local list = self.parked[cond] or {}
  list[#list + 1] = task
  self.parked[cond] = list
  task.parked_on = cond
end

local function finish(self, task, ok, ...)
  self.live = self.live - 1
  return self.ended(task, ok, ...)
end

--- Queue `fn(...)` as the coroutine of `task`.
function Engine:spawn(task, fn, ...)
  if self.multi then
    local owner, io = self.owner, self.io
    task.co = co_create(function(...)
      owner:bind(io)
      return fn(...)
    end)
  else
    task.co = co_create(fn)
  end
  task_of[task.co] = task
  engine_of[task.co] = self
  self.live = self.live + 1
  local item = { task, ... }
  item.n = select("#", ...) + 1
  self.ready[#self.ready + 1] = item
end

local function transport_refused(err)
  -- Rule 3: a refusal or a raise is this request's answer, nothing sent.
  if type(err) == "table" and type(err.kind) == "string" then return err end
  return errors.new{ kind = "transport", sent = false, outcome = "not_sent", reason = "refused",
    message = "the transport refused the request: " .. tostring(err):match("^[^\n]*") }
end

-- Resume a task with values and route what it yields.
function Engine:_step(task, ...)
  local res = pack(co_resume(task.co, ...))
  if not res[1] then
    return finish(self, task, false, res[2])
  end
  if co_status(task.co) == "dead" then
    return finish(self, task, true, unpack(res, 2, res.n))
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

-- Run every ready task once.
function Engine:_drain()
  while #self.ready > 0 do
    local batch = self.ready
    self.ready = {}
    for i = 1, #batch do
      local item = batch[i]
      self:_step(item[1], unpack(item, 2, item.n))
    end
  end
end

function Engine:_wake_sleepers()
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

-- Drive every task until `predicate()` holds (rule 1), or until `deadline`
-- (io.now() clock) passes: returns true when the predicate held.
function Engine:_drive(predicate, deadline)
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
      if soonest then timeout = min(timeout, soonest - self.io.now()) end
      if deadline then timeout = min(timeout, deadline - self.io.now()) end
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
        self.owner.default.sleep(timeout)
      end
    end
  end
end

--- Wait until `predicate()` holds, `deadline` passes or `group` has no task
-- left (the scheduler's rule 1): a task of this engine parks (joins), any
-- other caller drives.
function Engine:wait_until(group, predicate, deadline)
  local co = co_running()
  if co and engine_of[co] == self then
    while true do
      if predicate() then return true end
      if group.live == 0 then return false end
      if deadline then
        local left = deadline - self.io.now()
        if left <= 0 then return false end
        co_yield(WAIT, group, left)
      else
        co_yield(JOIN, group)
      end
    end
  end
  return self:_drive(function() return predicate() or group.live == 0 end, deadline) and predicate()
end

return M
