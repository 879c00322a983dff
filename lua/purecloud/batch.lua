--- Bounded concurrency for many independent calls: `client:batch(calls, opts)`.
--
-- Each call is a function (run with no arguments; it may call any
-- `purecloud.users` function, `client:request`, a pager or another batch)
-- or an array `{ "operation_name", arg1, arg2, … }` naming a
-- `purecloud.users` function. At most `opts.concurrency` calls are in
-- flight; every call keeps its own retries, and a 429 slows every in-flight
-- call of the client together (the client's shared rate-limit gate). The
-- result has one entry per call, in input order — nothing is dropped:
--
--     results[i] = { ok = true, value = v, outcome = "done" }
--               or { ok = false, err = e, outcome = "failed" | "unknown" }
--
-- `outcome = "unknown"`: the call was sent and its answer never came (a
-- write the server may have applied: check before repeating it). A call
-- that raises (a programming error such as a bad argument) is recorded as
-- failed with the raised value as `err`; the others go on.
--
-- **Interruption.** When the batch's caller is interrupted (SIGINT's
-- "interrupted!" in the standalone interpreter, or any raise in
-- `on_result`), the batch starts no new call (nor do the other batches and
-- pagers of the client), lets the calls in flight end within `opts.grace`
-- seconds (default: the client's timeout), and raises an error object of
-- `kind = "interrupted"` whose `results` has one entry per call, each
-- `"done"`, `"failed"`, `"unknown"` (in flight when the grace ran out) or
-- `"not_started"`, with `counts` and the original error as `cause`.
--
-- **Journal.** With `opts.journal = PATH` every call is recorded before it
-- starts and when it ends (`purecloud.journal`), so a re-run of the same
-- calls with the same journal runs only what never started (and, with
-- `opts.retry_failed`, what failed), and never sends again what may have
-- been applied.
-- @module purecloud.batch
local core = require "purecloud.core"
local scheduler = require "purecloud.scheduler"
local journal = require "purecloud.journal"
local keys = require "purecloud.keys"
local errors = require "purecloud.errors"
local usage = errors.usage

local M = {}

local unpack = table.unpack or unpack -- luacheck: ignore 113 (LuaJIT / 5.1)
local pcall, error, type, tostring = pcall, error, type, tostring

-- PUC Lua 5.1 cannot yield across pcall: there a batch nested in a task
-- runs unprotected (the interruption reaches the outer batch instead).
local YIELDABLE_PCALL = _VERSION ~= "Lua 5.1" or jit ~= nil -- luacheck: ignore 113

local function is_integer(x) return type(x) == "number" and x % 1 == 0 end

M.DEFAULT_CONCURRENCY = 4
M.OPTIONS = { concurrency = true, on_result = true, journal = true, journal_sync = true, grace = true,
  retry_failed = true }

local function as_function(client, call, i)
  if type(call) == "function" then return call end
  if type(call) == "table" and type(call[1]) == "string" then
    local fn = client.users[call[1]]
    if type(fn) ~= "function" then
      usage(("purecloud: calls[%d]: unknown operation %q"):format(i, call[1]))
    end
    return function() return fn(unpack(call, 2, call.n or #call)) end
  end
  usage(("purecloud: calls[%d] must be a function or { \"operation\", args… }"):format(i))
end

local function check_opts(client, opts)
  if type(opts) ~= "table" then usage("purecloud: client:batch: opts must be a table") end
  keys.check(opts, M.OPTIONS, "client:batch")
  local concurrency = opts.concurrency or M.DEFAULT_CONCURRENCY
  if not is_integer(concurrency) or concurrency < 1 or concurrency > 256 then
    usage("purecloud: opts.concurrency must be an integer from 1 to 256")
  end
  if opts.on_result ~= nil and type(opts.on_result) ~= "function" then
    usage("purecloud: client:batch: opts.on_result must be a function(i, entry)")
  end
  if opts.journal ~= nil and (type(opts.journal) ~= "string" or opts.journal == "") then
    usage("purecloud: client:batch: opts.journal must be a file path")
  end
  if opts.journal_sync ~= nil and type(opts.journal_sync) ~= "boolean" then
    usage("purecloud: client:batch: opts.journal_sync must be a boolean")
  end
  if opts.retry_failed ~= nil and type(opts.retry_failed) ~= "boolean" then
    usage("purecloud: client:batch: opts.retry_failed must be a boolean")
  end
  local grace = opts.grace
  if grace == nil then grace = client.timeout or 30 end
  if type(grace) ~= "number" or grace ~= grace or grace < 0 or grace > 3600 then
    usage("purecloud: client:batch: opts.grace must be a number of seconds from 0 to 3600")
  end
  return concurrency, grace
end

-- The entry of a call that ended: `ok` false when it raised.
local function entry_of(ok, value, err)
  if not ok then
    -- A nested batch that was interrupted may have done part of its work.
    local interrupted = type(value) == "table" and value.kind == "interrupted"
    return { ok = false, err = value, outcome = interrupted and "unknown" or "failed" }
  end
  if value == nil and err ~= nil then
    local unknown = type(err) == "table" and err.outcome == "unknown"
    return { ok = false, err = err, outcome = unknown and "unknown" or "failed" }
  end
  return { ok = true, value = value, outcome = "done" }
end

-- What the journal of an earlier run says of a call, as its entry.
local function entry_of_record(outcome, rec, path)
  if outcome == "done" then
    return { ok = true, value = { id = rec.id, email = rec.email }, outcome = "done", journaled = true }
  end
  if outcome == "failed" then
    return { ok = false, outcome = "failed", journaled = true, err = errors.new{
      kind = errors.KINDS[rec.kind] and rec.kind or "api", status = rec.status, code = rec.code,
      message = (rec.message or "failed") .. " (recorded in an earlier run)" } }
  end
  return { ok = false, outcome = "unknown", journaled = true, err = errors.new{
    kind = "unknown", outcome = "unknown",
    message = ("sent in an earlier run that ended before its answer (journal %s): not sent again"):format(path) } }
end

local function not_started(cause)
  return { ok = false, outcome = "not_started", err = errors.new{ kind = "interrupted", outcome = "not_sent",
    message = "not started: the batch was interrupted (" .. tostring(cause):match("^[^\n]*") .. ")" } }
end

local function in_flight_unknown(cause)
  return { ok = false, outcome = "unknown", err = errors.new{ kind = "interrupted", outcome = "unknown",
    message = "still in flight when the batch stopped (" .. tostring(cause):match("^[^\n]*") .. ")" } }
end

local function interrupted_error(cause, results, n)
  local counts = { done = 0, failed = 0, unknown = 0, not_started = 0 }
  for i = 1, n do
    local o = results[i].outcome
    counts[o] = counts[o] + 1
  end
  local why = core.is_error(cause) and tostring(cause):gsub("^purecloud: ", "") or tostring(cause)
  return errors.new{ kind = "interrupted", cause = cause, results = results, counts = counts,
    message = ("batch stopped by %s: %d done, %d failed, %d unknown, %d not started"):format(
      why:match("^[^\n]*"), counts.done, counts.failed, counts.unknown, counts.not_started) }
end

--- Run `calls` with at most `opts.concurrency` in flight.
-- @param client the client
-- @param calls array of calls
-- @param opts { concurrency = n (default 4), on_result = function(i, entry) (progress, called in the
--   caller's coroutine as each call ends), journal = path, journal_sync = bool, grace = seconds,
--   retry_failed = bool (run again the calls a journal recorded as failed) }
-- @return results (array of { ok, value | err, outcome }), number of failed calls
function M.run(client, calls, opts)
  if type(calls) ~= "table" then usage("purecloud: calls must be an array") end
  opts = opts or {}
  local concurrency, grace = check_opts(client, opts)
  local on_result = opts.on_result
  local n = #calls
  local fns = {}
  for i = 1, n do fns[i] = as_function(client, calls[i], i) end

  local jr
  if opts.journal then
    local fps, whole = journal.fingerprints(calls, "client:batch")
    jr = journal.open{ path = opts.journal, n = n, whole = whole, fps = fps, sync = opts.journal_sync }
  end

  local sched = scheduler.of(client)
  local group = sched:group()
  local results, failed = {}, 0
  local state = {}   -- i -> "started" | "ended"
  local queue, qhead, qtail = {}, 1, 0 -- calls that ended, in the order they did, not yet recorded
  local in_flight, next_i = 0, 1
  local width = sched:concurrent() and concurrency or 1

  local function settle(notify)
    while queue[qhead] do
      local q = queue[qhead]
      queue[qhead] = nil
      qhead = qhead + 1
      local i = q[1]
      local entry = entry_of(q[2], q[3], q[4])
      results[i] = entry
      state[i], in_flight = "ended", in_flight - 1
      if not entry.ok then failed = failed + 1 end
      if jr then
        local info = q[5]
        local ok, jerr = jr:ended(i, entry.outcome, entry.value, entry.err,
          type(info) == "table" and info.status or nil)
        if not ok then error(jerr, 0) end
      end
      if notify and on_result then on_result(i, entry) end
    end
  end

  local function launch()
    while in_flight < width and not group:stopped() do
      while next_i <= n and state[next_i] do next_i = next_i + 1 end
      if next_i > n then return end
      local i = next_i
      next_i = i + 1
      -- Started before its journal line: an interruption in between leaves
      -- a call counted as in flight (unknown), never as not started.
      state[i], in_flight = "started", in_flight + 1
      if jr then
        local ok, jerr = jr:sent(i)
        if not ok then
          state[i], in_flight = nil, in_flight - 1
          error(jerr, 0)
        end
      end
      group:spawn(fns[i], function(ok, value, err, info)
        qtail = qtail + 1
        queue[qtail] = { i, ok, value, err, info }
      end)
    end
  end

  local function has_news() return queue[qhead] ~= nil end

  local function body()
    -- What an earlier run settled comes back first, in order.
    if jr then
      for i = 1, n do
        local outcome, rec = jr:recorded(i)
        -- (a failure was a refusal or never sent: running it again is no duplicate)
        if outcome == "failed" and opts.retry_failed then outcome = nil end
        if outcome then
          local entry = entry_of_record(outcome, rec, opts.journal)
          results[i], state[i] = entry, "ended"
          if not entry.ok then failed = failed + 1 end
          if on_result then on_result(i, entry) end
        end
      end
    end
    while true do
      launch()
      if in_flight == 0 then return end
      group:wait_until(has_news)
      settle(true)
    end
  end

  local nested = scheduler.running_task(sched)
  local ok, cause
  if nested and not YIELDABLE_PCALL then
    ok = true
    body()
  else
    ok, cause = pcall(body)
  end
  local complete = ok
  if ok then
    for i = 1, n do
      if state[i] ~= "ended" then complete = false break end
    end
    -- Stopped by another batch of the client (its caller was interrupted).
    if not complete then cause = sched:stop_cause() end
  end
  if complete then
    if jr then jr:close() end
    return results, failed
  end

  -- Interrupted: nothing new starts anywhere on this client; the calls in
  -- flight get the grace to end, then the rest is reported as it stands.
  local stopped_here = sched:stop_cause() == nil
  sched:stop(cause)
  local deadline = sched:now() + grace
  pcall(function()
    while in_flight > 0 do
      if not group:wait_until(has_news, deadline) then break end
      settle(false)
    end
  end)
  for i = 1, n do
    if state[i] == "started" or (state[i] ~= nil and results[i] == nil) then
      results[i] = in_flight_unknown(cause)
      if jr then jr:ended(i, "unknown", nil, results[i].err) end
    elseif state[i] == nil then
      results[i] = not_started(cause)
    end
  end
  if jr then jr:close() end
  if stopped_here then sched:clear_stop() end
  error(interrupted_error(cause, results, n), 0)
end

return M
