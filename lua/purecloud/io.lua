--- Which I/O a client's calls use. One owner per client holds:
--
--  * **the transport**, chosen once at `new`: the caller's (`opts.transport`,
--    with `opts.sleep`, `opts.now`), else inside nginx the cosocket transport
--    of the current phase when it has cosockets (`purecloud.transport.ngx`
--    `auto`, asked per call: a phase without them gets the default), else
--    libcurl — found at `new` (a clear error when it is missing) but loaded
--    at the first request, since loading libcurl and its ~30 libraries is
--    most of a cold start (`docs/PERFORMANCE.md`, "Start-up");
--  * **the I/O table bound to each coroutine**: the scheduler binds its
--    tasks' I/O (`bind`), and every call made in a task finds it
--    (`current`), so the request loop never knows whether it runs blocking,
--    as a scheduler task or in an nginx thread;
--  * the libcurl handle for the scheduler's multi interface (`multi`).
--
-- An I/O table is `{ transport = f(req) → res | nil, err, sleep = f(s),
-- now = f() }`, and in a scheduler's tasks also `wait`/`wake`.
-- @module purecloud.io
local core = require "purecloud.core"
local usage = require("purecloud.errors").usage

local co_running = coroutine.running

local M = {}

M.CURL_MODULE = "purecloud.transport.curl" -- (the requires below spell it out: the layering spec reads them)

local function curl_available()
  local name = M.CURL_MODULE
  if package.loaded[name] or package.preload[name] then return true end
  if package.searchpath and package.searchpath(name, package.cpath) then return true end
  -- Not on package.cpath (or Lua 5.1): another searcher may still have it.
  return (pcall(require, "purecloud.transport.curl"))
end

-- Inside nginx, a client given no transport uses the cosocket transport in
-- every phase that has cosockets, so it never blocks a worker.
local function nginx_auto(opts)
  if opts.transport or not ngx then return nil end -- luacheck: ignore 113
  local ok, t = pcall(require, "purecloud.transport.ngx")
  if not ok or type(t.auto) ~= "function" then return nil end
  -- What the cosocket transport must honour (or refuse, now rather than later).
  local wanted = { verify = opts.verify, proxy = opts.proxy, ca_file = opts.ca_file, ca_path = opts.ca_path,
                   client_cert = opts.client_cert, client_key = opts.client_key,
                   client_key_password = opts.client_key_password }
  t.check_options(wanted)
  return function() return t.auto(wanted) end
end

local Owner = {}
Owner.__index = Owner

--- The I/O owner for a client with options `opts` (`purecloud.new`'s, checked).
-- Raises (at the caller's line) when the default transport is needed and
-- libcurl's module is not installed.
function M.new(opts)
  local self = setmetatable({ bound = setmetatable({}, { __mode = "k" }) }, Owner)
  -- (false, not nil: read per call, and a nil would go through __index)
  self.auto = nginx_auto(opts) or false
  local transport = opts.transport
  if not transport then
    -- Inside nginx the cosocket transport serves every phase that has
    -- cosockets, so a missing libcurl module only matters where it is used.
    local missing = ("purecloud: the libcurl transport (module %s) is not installed; pass option 'transport'")
      :format(M.CURL_MODULE)
    if not self.auto and not curl_available() then usage(missing) end
    local curl_opts = {
      verify = opts.verify ~= false, ca_file = opts.ca_file, ca_path = opts.ca_path,
      proxy = opts.proxy, max_connections = opts.max_connections,
      client_cert = opts.client_cert, client_key = opts.client_key, client_key_password = opts.client_key_password,
    }
    local handle
    local function get()
      if not handle then
        local ok, curl = pcall(require, "purecloud.transport.curl")
        if not ok then error(missing .. " (" .. tostring(curl):match("^[^\n]*") .. ")", 0) end
        handle = curl.new(curl_opts)
        self.curl = handle
      end
      return handle
    end
    self.curl_handle = get
    transport = function(req) return (handle or get()):perform(req) end
  end
  self.default = { transport = transport, sleep = opts.sleep or core.sleep, now = opts.now or core.now }
  return self
end

--- The I/O table for the running coroutine: the one bound to it, else the
-- nginx phase's, else the default.
function Owner:current()
  local co = co_running()
  local io = co and self.bound[co]
  if io then return io end
  return self.auto and self.auto() or self.default
end

--- Bind `io` to the running coroutine (the scheduler, for its tasks).
function Owner:bind(io)
  self.bound[co_running()] = io
end

--- The libcurl handle (with `submit`/`poll`) when the default transport is
-- in use outside nginx's cosocket phases, else nil.
function Owner:multi()
  if self.auto and self.auto() then return nil end
  local h = self.curl_handle and self.curl_handle()
  if h and h.submit and h.poll then return h end
  return nil
end

--- Close the connections (libcurl's, when it was loaded). Idempotent.
function Owner:close()
  if self.curl then self.curl:close() end
end

return M
