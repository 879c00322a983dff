--- Host transports that come with threads: a base module (it requires
-- only `purecloud.errors`), so a transport can say what its host can run without requiring
-- the scheduler above it.
--
-- `threads = { spawn = f(fn, …) → handle, wait = f(h) → true, fn's results…,
-- event = f() → { post = f(), wait = f(timeout) } (optional) }`: the shape
-- of `ngx.thread` (and an `ngx.semaphore`), which `purecloud.transport.ngx`
-- registers for its transport. A client built from `transport =
-- io.transport` keeps only the function; the scheduler finds its threads
-- here (`purecloud.scheduler.host_threads`).
-- @module purecloud.threads
local usage = require("purecloud.errors").usage

local M = {}

local by_transport = setmetatable({}, { __mode = "k" })

--- Declare that `transport` (a host transport function) runs in a host whose
-- tasks can be threads.
function M.register(transport, threads)
  if type(transport) ~= "function" or type(threads) ~= "table" or type(threads.spawn) ~= "function"
     or type(threads.wait) ~= "function" then
    usage("purecloud.scheduler.register_threads(transport, { spawn = f, wait = f })")
  end
  by_transport[transport] = threads
end

--- The threads registered for `transport`, or nil.
function M.of(transport)
  return by_transport[transport]
end

return M
