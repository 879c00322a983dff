--- Bounded concurrency for many independent calls: `client:batch(calls, opts)`.
--
-- Each call is a function (run with no arguments; it may call any
-- `purecloud.users` function or `client:request`) or an array
-- `{ "operation_name", arg1, arg2, … }` naming a `purecloud.users` function.
-- At most `opts.concurrency` calls are in flight; every call keeps its own
-- retries, and a 429 slows every in-flight call of the client together (the
-- client's shared rate-limit gate). The result has one entry per call, in
-- input order — nothing is dropped:
--
--     results[i] = { ok = true, value = v }   or   { ok = false, err = e }
--
-- A call that raises (a programming error such as a bad argument) is
-- recorded as `ok = false` with the raised value; the others go on.
-- @module purecloud.batch
local scheduler = require "purecloud.scheduler"

local M = {}

local unpack = table.unpack or unpack -- luacheck: ignore 113 (LuaJIT / 5.1)

local function is_integer(x) return type(x) == "number" and x % 1 == 0 end

M.DEFAULT_CONCURRENCY = 4

local function as_function(client, call, i)
  if type(call) == "function" then return call end
  if type(call) == "table" and type(call[1]) == "string" then
    local fn = client.users[call[1]]
    if type(fn) ~= "function" then
      error(("purecloud: calls[%d]: unknown operation %q"):format(i, call[1]), 3)
    end
    return function() return fn(unpack(call, 2, call.n or #call)) end
  end
  error(("purecloud: calls[%d] must be a function or { \"operation\", args… }"):format(i), 3)
end

--- Run `calls` with at most `opts.concurrency` in flight.
-- @param client the client
-- @param calls array of calls
-- @param opts { concurrency = n (default 4), on_result = function(i, entry) (progress) }
-- @return results (array of { ok, value | err }), number of failed calls
function M.run(client, calls, opts)
  if type(calls) ~= "table" then error("purecloud: calls must be an array", 2) end
  opts = opts or {}
  if type(opts) ~= "table" then error("purecloud: opts must be a table", 2) end
  local concurrency = opts.concurrency or M.DEFAULT_CONCURRENCY
  if not is_integer(concurrency) or concurrency < 1 or concurrency > 256 then
    error("purecloud: opts.concurrency must be an integer from 1 to 256", 2)
  end
  local on_result = opts.on_result
  local n = #calls
  local fns = {}
  for i = 1, n do fns[i] = as_function(client, calls[i], i) end

  local results, failed = {}, 0
  local sched = scheduler.new(client)
  local next_index = 1

  local function record(i, ok, value, err)
    local entry
    if not ok then
      entry = { ok = false, err = value }
    elseif value == nil and err ~= nil then
      entry = { ok = false, err = err }
    else
      entry = { ok = true, value = value }
    end
    if not entry.ok then failed = failed + 1 end
    results[i] = entry
    if on_result then on_result(i, entry) end
  end

  local launch
  launch = function()
    local i = next_index
    if i > n then return end
    next_index = i + 1
    sched:spawn(fns[i], function(ok, value, err)
      record(i, ok, value, err)
      launch()
    end)
  end

  local width = sched:concurrent() and concurrency or 1
  for _ = 1, math.min(width, n) do launch() end
  sched:run()
  return results, failed
end

return M
