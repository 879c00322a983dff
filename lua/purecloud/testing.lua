--- The emulator as a test fixture for your own automation.
--
--     local testing = require "purecloud.testing"
--     local emu = testing.emulator{ users = 100, seed = 1, rate = false }
--     local client = emu:client()            -- a purecloud client pointed at it
--     emu:fault{ method = "POST", path = "/api/v2/users", status = 503 }
--     ... run your automation against emu.url with emu.client_id / emu.client_secret ...
--     assert(emu:stats().applied["POST /api/v2/users"] == 3)
--     emu:stop()                             -- idempotent; also done when the process exits
--
-- The emulator (nginx with lua-nginx-module: Debian `nginx` and
-- `libnginx-mod-http-lua`) ships with the rock: its files are installed
-- beside this module (purecloud/emulator/: the `ctl` script, its Lua and the
-- contract files it reads at start), and the `purecloud-emulator` command
-- starts and stops one from a shell. Each emulator listens on a free port of
-- 127.0.0.1 and keeps its state (config, pid, logs) in a folder of the user's
-- under $TMPDIR (PURECLOUD_EMULATOR_STATE names another). The admin API it
-- talks to is the emulator's `/__emulator/…` (README of the emulator, "Admin
-- API"). Calls go through the curl command line, not through the library
-- under test.
-- @module purecloud.testing
local cjson = require "cjson.safe"

local M = {}

--- The emulator's test credentials.
M.client_id, M.client_secret = "emulator-client", "emulator-secret"

local function shell_quote(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end
M.shell_quote = shell_quote

--- Percent-encoding of a query value.
local function urlencode(s)
  return (tostring(s):gsub("[^%w%-%._~]", function(c) return ("%%%02X"):format(c:byte()) end))
end
M.urlencode = urlencode

local function query_string(q)
  if not q then return "" end
  local keys = {}
  for k in pairs(q) do keys[#keys + 1] = k end
  table.sort(keys)
  local parts = {}
  for _, k in ipairs(keys) do
    local v = q[k]
    if type(v) == "table" then
      for _, x in ipairs(v) do parts[#parts + 1] = urlencode(k) .. "=" .. urlencode(x) end
    else
      parts[#parts + 1] = urlencode(k) .. "=" .. urlencode(v)
    end
  end
  return #parts > 0 and ("?" .. table.concat(parts, "&")) or ""
end

-- Run `cmd` in sh, stderr merged: its exit status and output (the status is
-- echoed back: Lua 5.1's popen close does not report it).
local function run(cmd)
  local p = assert(io.popen("(" .. cmd .. ") 2>&1; echo \"rc=$?\""))
  local out = p:read("*a")
  p:close()
  local rc = tonumber(out:match("rc=(%d+)%s*$"))
  return rc, (out:gsub("rc=%d+%s*$", ""))
end

local function file_exists(path)
  local f = io.open(path, "rb")
  if f then f:close() end
  return f ~= nil
end

local function source_dir()
  local src = debug.getinfo(1, "S").source
  local dir = src:match("^@(.*)/[^/]*$") or "."
  if dir:sub(1, 1) ~= "/" then
    local pwd = os.getenv("PWD")
    if pwd then dir = pwd .. "/" .. dir:gsub("^%./", "") end
  end
  return dir
end

--- The folder holding the emulator's `ctl` script: PURECLOUD_EMULATOR_HOME,
-- else purecloud/emulator/ beside this module (installed with the rock), else
-- the checkout's emulator/ (this module run from a checkout's lua/).
function M.home()
  local dir = source_dir()
  local candidates = { os.getenv("PURECLOUD_EMULATOR_HOME"), dir .. "/emulator", dir .. "/../../emulator" }
  for i = 1, 3 do
    local c = candidates[i]
    if c and c ~= "" and file_exists(c .. "/ctl") then return c end
  end
  error(("purecloud.testing: the emulator's files are not installed (no ctl in %s/emulator): reinstall the "
    .. "purecloud rock, or set PURECLOUD_EMULATOR_HOME to a folder holding the emulator's ctl"):format(dir), 0)
end

-- `ctl ARGS…` through sh (an installed file may have lost its mode bits): status, output.
local function ctl(args)
  return run("sh " .. shell_quote(M.home() .. "/ctl") .. " " .. table.concat(args, " "))
end

--- Start an emulator with `ctl start`: every key of opts a flag (`users = 5`
-- → `--users 5`, `latency_ms = 20` → `--latency-ms 20`, `tls = true` →
-- `--tls`), on a free port unless opts.port. → its base URL and ctl's whole
-- output (with tls, also its `https_url=` and `ca_file=` lines). Raises with
-- the emulator's own reasons when it cannot start (a missing nginx or Lua
-- module names the Debian packages to install).
function M.start(opts)
  opts = opts or {}
  local args = { "start" }
  if not opts.port then args[#args + 1] = "--port 0" end
  local keys = {}
  for k in pairs(opts) do keys[#keys + 1] = k end
  table.sort(keys)
  for _, k in ipairs(keys) do
    local v, flag = opts[k], "--" .. k:gsub("_", "-")
    if v == true then args[#args + 1] = flag elseif v ~= false then args[#args + 1] = flag .. " " .. shell_quote(v) end
  end
  local rc, out = ctl(args)
  local url = out:match("(https?://[^\n]+)\n?$")
  if rc ~= 0 or not url then
    error("purecloud.testing: the emulator did not start:\n" .. out, 0)
  end
  return url, out
end

--- Stop the emulator at that URL (or port), as `ctl stop` does; nothing for nil.
function M.stop(url_or_port)
  if url_or_port == nil then return end
  local port = tonumber(url_or_port) or tonumber(tostring(url_or_port):match("^https?://[^/]*:(%d+)/?$"))
  if not port then
    error("purecloud.testing.stop: expected an emulator's URL or port, got " .. tostring(url_or_port), 0)
  end
  ctl({ "stop", "--port", tostring(math.floor(port)) })
end

--- An emulator: its `url`, `client_id` and `client_secret`, and the calls below.
-- @type Emulator
local Emulator = {}
Emulator.__index = Emulator

-- Emulators this process started and has not stopped, each with the sentinel
-- whose finalizer stops it when the Lua state closes (busted closes it on exit).
local live = {}

local newproxy = newproxy -- luacheck: ignore 113 (Lua 5.1's; tables have no __gc there)
local function sentinel(stop)
  if newproxy then
    local p = newproxy(true)
    getmetatable(p).__gc = stop
    return p
  end
  return setmetatable({}, { __gc = stop })
end

--- request(method, path, opts) → { status, headers, body, json }
-- opts: headers, body (string or table → JSON), query, form, basic = {user, pass}, bearer, base, max_time.
function Emulator:request(method, path, opts)
  opts = opts or {}
  local base = opts.base or self.url
  if not base then error("purecloud.testing: this emulator has no URL", 0) end
  local hdr, bodyf = os.tmpname(), os.tmpname()
  -- env -u LD_PRELOAD: a sanitizer runtime preloaded into the tests must not reach curl.
  local args = { "env", "-u", "LD_PRELOAD", "curl", "-s", "-g", "-X", method, "-D", hdr, "-o", bodyf,
                 "-w", "'%{http_code}'", "--max-time", tostring(opts.max_time or 30) }
  local headers = {}
  for k, v in pairs(opts.headers or {}) do headers[k] = v end
  if opts.bearer then headers.Authorization = "Bearer " .. opts.bearer end
  if opts.basic then args[#args + 1] = "-u " .. shell_quote(opts.basic[1] .. ":" .. opts.basic[2]) end
  local payload
  if opts.form then
    local parts = {}
    for k, v in pairs(opts.form) do parts[#parts + 1] = urlencode(k) .. "=" .. urlencode(v) end
    payload = table.concat(parts, "&")
    headers["Content-Type"] = headers["Content-Type"] or "application/x-www-form-urlencoded"
  elseif opts.body ~= nil then
    payload = type(opts.body) == "string" and opts.body or assert(cjson.encode(opts.body))
    headers["Content-Type"] = headers["Content-Type"] or "application/json"
  end
  local inf
  if payload then
    inf = os.tmpname()
    local f = assert(io.open(inf, "wb"))
    f:write(payload)
    f:close()
    args[#args + 1] = "--data-binary @" .. inf
  end
  for k, v in pairs(headers) do args[#args + 1] = "-H " .. shell_quote(k .. ": " .. v) end
  args[#args + 1] = shell_quote(base .. path .. query_string(opts.query))
  local p = assert(io.popen(table.concat(args, " ")))
  local code = p:read("*a")
  p:close()
  local res = { status = tonumber(code) or 0, headers = {} }
  local f = io.open(hdr, "rb")
  if f then
    for line in f:lines() do
      local k, v = line:match("^([^:]+):%s*(.-)%s*$")
      if k then res.headers[k:lower()] = v end
    end
    f:close()
  end
  f = io.open(bodyf, "rb")
  res.body = f and f:read("*a") or ""
  if f then f:close() end
  os.remove(hdr); os.remove(bodyf)
  if inf then os.remove(inf) end
  res.json = cjson.decode(res.body)
  return res
end

--- A client-credentials access token (kept; `fresh` asks for a new one).
function Emulator:token(fresh)
  if self.cached_token and not fresh then return self.cached_token end
  local r = self:request("POST", "/oauth/token", { basic = { self.client_id, self.client_secret },
                                                  form = { grant_type = "client_credentials" } })
  if r.status ~= 200 then error("purecloud.testing: the emulator's token request failed: " .. r.status .. " " .. r.body, 0) end
  self.cached_token = r.json.access_token
  return self.cached_token
end

--- An API call with a client-credentials token (asked again once after a revocation).
function Emulator:api(method, path, body, query)
  local r = self:request(method, path, { bearer = self:token(), body = body, query = query, base = self.api_url })
  if r.status == 401 and r.json and r.json.code == "bad.credentials" then
    r = self:request(method, path, { bearer = self:token(true), body = body, query = query, base = self.api_url })
  end
  return r
end

local function admin(self, method, path, body)
  local r = self:request(method, "/__emulator/" .. path, { body = body })
  if r.status ~= 200 then
    error(("purecloud.testing: emulator admin %s %s failed: %d %s"):format(method, path, r.status, r.body), 0)
  end
  return r.json
end

-- The `rate = { allowed, window_s }` an emulator was made with (set after
-- its start, so set again after each reset).
local made_rate = setmetatable({}, { __mode = "k" })

--- Re-seed (`{ users = N, seed = S, revoke = true }`): same seed, same ids;
-- clears faults, stats and the log, restores the start-up config.
function Emulator:reset(opts)
  local r = admin(self, "POST", "reset", opts or {})
  if made_rate[self] then admin(self, "POST", "config", { rate = made_rate[self] }) end
  return r
end
--- Change `latency_ms`, `token_ttl`, `rate_per_min` or `rate` (`{ allowed = N, window_s = S }` or false).
function Emulator:config(opts) return admin(self, "POST", "config", opts or {}) end
--- Revoke every token.
function Emulator:revoke() return admin(self, "POST", "revoke", {}) end
--- Inject a fault: `{ method, path (Lua pattern, anchored), query, skip, count, status, retry_after, body,
-- delay_ms, action }` (the emulator's README lists the actions). → `{ id }`.
function Emulator:fault(spec) return admin(self, "POST", "faults", spec) end
--- Remove every fault.
function Emulator:clear_faults() return admin(self, "DELETE", "faults") end
--- `{ requests, applied, tokens, users_created, rate_limited, faults_fired, users, in_flight, max_in_flight }`:
-- requests and applied (writes answered 2xx) are keyed "METHOD /route/{param}".
function Emulator:stats() return admin(self, "GET", "stats") end
--- The last 10 000 requests, `{ method, path, query, status, route, t }` each.
function Emulator:log() return admin(self, "GET", "log") end
--- Empty the request log.
function Emulator:clear_log() return admin(self, "DELETE", "log") end

--- The first n users in listing order (every user with n = math.huge).
function Emulator:users(n)
  local out, page = {}, 1
  n = n or math.huge
  while #out < n do
    local r = self:api("GET", "/api/v2/users", nil, { pageSize = 500, pageNumber = page })
    if r.status ~= 200 then error("purecloud.testing: listing the emulator's users failed: " .. r.body, 0) end
    for _, u in ipairs(r.json.entities) do
      if #out < n then out[#out + 1] = u end
    end
    if not r.json.nextUri then break end
    page = page + 1
  end
  return out
end

--- A purecloud client pointed at this emulator with its credentials; opts
-- are `purecloud.new` options and win over those.
function Emulator:client(opts)
  local o = { base_url = self.url, client_id = self.client_id, client_secret = self.client_secret }
  for k, v in pairs(opts or {}) do o[k] = v end
  return require("purecloud").new(o)
end

--- Stop it (an emulator this process started; idempotent). Also done when
-- the Lua state closes (at the end of busted, or of a script) and, in Lua
-- 5.4, when a `local emu <close>` goes out of scope.
function Emulator:stop()
  local s = live[self]
  if not s then return end
  live[self] = nil
  s.armed = false
  M.stop(s.port)
end
Emulator.__close = Emulator.stop

function Emulator:__tostring() return "purecloud emulator " .. tostring(self.url) end

--- An object for an emulator already running at opts.url (not stopped by it):
-- `{ url, api_url }`, the API calls going to api_url (default url).
function M.attach(opts)
  return setmetatable({ url = opts.url, api_url = opts.api_url or opts.url,
                        client_id = M.client_id, client_secret = M.client_secret }, Emulator)
end

--- Start an emulator on a free port of 127.0.0.1 and return it.
-- opts: `users` (seeded users, default 250), `seed` (default 1), `rate`
-- (nil: today's service, 300 requests per 60 s per token, with the
-- inin-ratelimit-* headers; false: unlimited, no headers; N: N requests a
-- minute; `{ allowed = N, window_s = S }`), `latency_ms`, `token_ttl`, `tls`
-- (also an HTTPS listener: `emu.https_url`, `emu.ca_file`), `port`.
-- @treturn Emulator with `url`, `client_id`, `client_secret`
function M.emulator(opts)
  opts = opts or {}
  local flags, rate = {}, opts.rate
  for k, v in pairs(opts) do
    if k ~= "rate" then flags[k] = v end
  end
  if rate == false or type(rate) == "table" then
    flags.rate = "none"
  elseif type(rate) == "number" then
    flags.rate = ("%d/min"):format(rate)
  elseif rate ~= nil then
    error("purecloud.testing.emulator: rate must be nil (today's 300 a minute), false, a number a minute, "
      .. "or { allowed = N, window_s = S }", 0)
  end
  local url, out = M.start(flags)
  local self = M.attach{ url = url }
  self.https_url, self.ca_file = out:match("https_url=([^\n]+)"), out:match("ca_file=([^\n]+)")
  self.port = tonumber(url:match(":(%d+)/?$"))
  local s = { port = self.port, armed = true }
  s.sentinel = sentinel(function() if s.armed then s.armed = false; M.stop(s.port) end end)
  live[self] = s
  if type(rate) == "table" then
    made_rate[self] = rate
    local ok, err = pcall(self.config, self, { rate = rate })
    if not ok then self:stop(); error(err, 0) end
  end
  return self
end

return M
