--- The client: configuration, OAuth, and the request loop.
--
-- The loop (token → send → interpret → maybe wait and retry) is plain Lua
-- that reaches the network only through an I/O table
-- `{ transport = f(req) → res | nil, err, sleep = f(seconds), now = f() }`,
-- so it runs unchanged with the blocking libcurl transport, inside an
-- event-loop host (cosockets, `ngx.sleep`), or as many coroutines over one
-- libcurl multi handle (`purecloud.scheduler`). The protocol decisions —
-- URLs, response interpretation, error objects, the retry decision and the
-- token state — live in the C core (`purecloud.core`).
-- @module purecloud.client
local core = require "purecloud.core"
local regions = require "purecloud.regions"
local logging = require "purecloud.log"

local cjson = require "cjson.safe"

local M = {}

M.VERSION = core._VERSION

local Client = {}
M.Client = Client

local co_running = coroutine.running

-- Option name -> accepted Lua types.
local OPTIONS = {
  environment = "string", base_url = "string", login_url = "string",
  client_id = "string", client_secret = "string", access_token = "string", refresh_token = "string",
  timeout = "number", connect_timeout = "number", retry = "table|boolean",
  ca_file = "string", ca_path = "string", verify = "boolean", proxy = "string",
  user_agent = "string", headers = "table", log = "string|function", validate = "string|boolean",
  transport = "function", sleep = "function", now = "function", max_connections = "number",
  token_store = "table",
}

local RETRY_OPTIONS = { max_retries = true, max_retry_time = true, max_retry_after = true }

local function check_type(name, value, spec)
  for t in spec:gmatch("[^|]+") do
    if type(value) == t then return end
  end
  error(("purecloud: option '%s' must be a %s, got %s"):format(name, spec:gsub("|", " or "), type(value)), 4)
end

local function has_crlf(s)
  return s:find("[\r\n%z]") ~= nil
end

local function check_headers(headers, where)
  for k, v in pairs(headers) do
    if type(k) ~= "string" or type(v) ~= "string" then
      error(("purecloud: %s must map header names to string values"):format(where), 4)
    end
    if has_crlf(k) or has_crlf(v) or k:find("[:%s]") then
      error(("purecloud: %s: header %q contains CR, LF, NUL, ':' or white space; refused")
        :format(where, k:gsub("[\r\n%z]", "?")), 4)
    end
  end
end

local function strip_slash(u) return (u:gsub("/+$", "")) end

-- Resolve environment/base_url/login_url into the two hosts.
local function resolve_hosts(opts)
  local env = opts.environment or "mypurecloud.com"
  env = regions[env] or env
  if not env:find("^[%w%.%-]+$") then
    error(("purecloud: unknown environment %q: use a host such as mypurecloud.ie or a region such as eu_west_1")
      :format(env), 4)
  end
  local base = opts.base_url or ("https://api." .. env)
  -- A base_url on an api.* host implies the matching login.* host (as the
  -- official SDKs derive it); any other base_url (a gateway, the emulator)
  -- serves both unless login_url says otherwise.
  local login = opts.login_url
  if not login and opts.base_url then
    local derived, n = opts.base_url:gsub("^(https?://)api%.", "%1login.")
    login = n == 1 and derived or opts.base_url
  end
  login = login or ("https://login." .. env)
  for name, u in pairs({ base_url = base, login_url = login }) do
    if not u:find("^https?://[^/]") then
      error(("purecloud: option '%s' must be an http(s) URL, got %q"):format(name, u), 4)
    end
  end
  return strip_slash(base), strip_slash(login)
end

local function host_of(url) return url:match("^https?://([^/]+)") or url end

--- Create a client. See the README for the options.
-- @tparam table opts
-- @return client
function M.new(opts)
  if type(opts) ~= "table" then error("purecloud.new: expected a table of options", 2) end
  for k, v in pairs(opts) do
    local spec = OPTIONS[k]
    if not spec then error(("purecloud: unknown option '%s'"):format(tostring(k)), 3) end
    check_type(k, v, spec)
  end
  if opts.client_secret and not opts.client_id then
    error("purecloud: option 'client_secret' needs 'client_id'", 3)
  end
  if opts.client_id and not opts.client_secret and not opts.access_token and not opts.refresh_token then
    error("purecloud: option 'client_id' needs 'client_secret' (or give 'access_token')", 3)
  end
  if opts.headers then check_headers(opts.headers, "option 'headers'") end
  local retry = { max_retries = 5, max_retry_time = 60, max_retry_after = 180 }
  if opts.retry == false then
    retry = false
  elseif type(opts.retry) == "table" then
    for k, v in pairs(opts.retry) do
      if not RETRY_OPTIONS[k] then error(("purecloud: unknown retry option '%s'"):format(tostring(k)), 3) end
      if type(v) ~= "number" or v < 0 then
        error(("purecloud: retry option '%s' must be a non-negative number"):format(k), 3)
      end
      retry[k] = v
    end
  elseif opts.retry == true then -- luacheck: ignore 542
    -- the defaults
  end
  if opts.validate ~= nil and opts.validate ~= false and opts.validate ~= "lenient" and opts.validate ~= "strict" then
    error("purecloud: option 'validate' must be \"lenient\", \"strict\" or false", 3)
  end
  for _, k in ipairs({ "timeout", "connect_timeout" }) do
    if opts[k] and not (opts[k] > 0 and opts[k] < 86400) then
      error(("purecloud: option '%s' must be a positive number of seconds"):format(k), 3)
    end
  end

  local base, login = resolve_hosts(opts)
  local log, log_enabled = logging.new(opts.log)
  local self = {
    base_url = base,
    login_url = login,
    validate = opts.validate == nil and "lenient" or opts.validate,
    timeout = opts.timeout or 30,
    connect_timeout = opts.connect_timeout or 10,
    retry = retry,
    _log = log,
    _log_enabled = log_enabled,
    _headers = {},
    _coio = setmetatable({}, { __mode = "k" }),
    _not_before = 0,        -- rate-limit gate shared by every call of this client
    _token_busy = false,    -- one token request in flight at a time
    _token_ttl = nil,
    stats = { token_requests = 0, requests = 0, retries = 0 },
  }
  self._auth = core.auth_new{
    client_id = opts.client_id, client_secret = opts.client_secret,
    access_token = opts.access_token, refresh_token = opts.refresh_token,
  }
  local lua_v = _VERSION:match("[%d%.]+") or "?"
  if jit and jit.version then lua_v = jit.version:gsub(" ", "/") end -- luacheck: ignore 113
  local curl_v = core.curl_version and core.curl_version() or "?"
  self._headers["User-Agent"] = opts.user_agent or
    ("purecloud-lua/%s libcurl/%s Lua/%s"):format(core._VERSION, curl_v, lua_v)
  self._headers["Accept"] = "application/json"
  for k, v in pairs(opts.headers or {}) do self._headers[k] = v end

  if opts.token_store then
    for _, f in ipairs({ "get", "set", "delete" }) do
      if type(opts.token_store[f]) ~= "function" then
        error(("purecloud: option 'token_store' needs a function '%s' (see purecloud.token_store)"):format(f), 3)
      end
    end
    self._store = opts.token_store
    self._store_key = "purecloud:" .. login .. ":" .. (opts.client_id or "")
  end

  local transport = opts.transport
  if not transport then
    if not core.curl_new then error("purecloud: this build has no libcurl transport; pass option 'transport'", 3) end
    local handle = core.curl_new{
      verify = opts.verify ~= false, ca_file = opts.ca_file, ca_path = opts.ca_path,
      proxy = opts.proxy, max_connections = opts.max_connections,
    }
    self._curl = handle
    transport = function(req) return handle:perform(req) end
  end
  self.io = {
    transport = transport,
    sleep = opts.sleep or core.sleep,
    now = opts.now or core.now,
  }
  return setmetatable(self, Client)
end

Client.__index = function(self, k)
  if k == "users" then
    local users = require("purecloud.users").bind(self)
    rawset(self, "users", users)
    return users
  end
  return Client[k]
end

Client.__tostring = function(self)
  local id = self._auth:client_id()
  return ("purecloud.client(%s, %s%s)"):format(self.base_url, self._auth:kind(),
    id and (", client id " .. id) or "")
end

--- Close the client's connections. Idempotent.
function Client:close()
  if self._curl then self._curl:close() end
end

--- The libcurl handle when the default transport is in use (for the
-- scheduler's multi interface), else nil.
function Client:multi_transport()
  local h = self._curl
  if h and h.submit and h.poll then return h end
  return nil
end

--- Bind an I/O table to the running coroutine (used by the scheduler).
function Client:bind_io(io)
  local co = co_running()
  self._coio[co] = io
end

--- The I/O table for the running coroutine.
function Client:io_for()
  local co = co_running()
  return co and self._coio[co] or self.io
end

-- Trace logs show bodies, but never a password or anything token-like:
-- the string value of every JSON key containing one of these words is
-- replaced (a user's password travels in post_users bodies).
local SENSITIVE = { "password", "secret", "token", "assertion", "credential" }

local function redact(body)
  if type(body) ~= "string" then return body end
  local out, pos = {}, 1
  while true do
    local ks, ke, key = body:find('"([^"\\]-)"%s*:%s*"', pos)
    if not ks then break end
    local lower, hit = key:lower(), false
    for _, w in ipairs(SENSITIVE) do
      if lower:find(w, 1, true) then hit = true break end
    end
    if not hit then
      out[#out + 1] = body:sub(pos, ke)
      pos = ke + 1
    else
      -- Skip the string value, honouring backslash escapes.
      local i = ke + 1
      while i <= #body do
        local c = body:sub(i, i)
        if c == "\\" then i = i + 2 elseif c == '"' then break else i = i + 1 end
      end
      out[#out + 1] = body:sub(pos, ke) .. '[REDACTED]"'
      pos = i + 1
    end
  end
  out[#out + 1] = body:sub(pos)
  return table.concat(out)
end
M._redact = redact

-- Error object helpers --------------------------------------------------

local function new_error(fields) return core.error(fields) end

-- A host transport may fail with a plain string (or nothing): make it an
-- error object, and assume the request may have been sent (no retried writes).
local function transport_error(err)
  if core.is_error(err) then return err end
  if type(err) == "table" and type(err.kind) == "string" then return core.error(err) end
  return new_error{ kind = "transport", sent = true,
                    message = "transport failed: " .. (err ~= nil and tostring(err) or "no response and no error") }
end

-- Token handling ---------------------------------------------------------

-- Send one token request (with retries for 429/5xx/connection failures:
-- asking for a token twice is harmless).
function Client:_grant(io, grant, params)
  local form, basic = self._auth:grant_request(grant, params)
  if not form then
    return nil, new_error{ kind = "auth", message = basic .. " (login host " .. host_of(self.login_url) .. ")" }
  end
  local url = self.login_url .. "/oauth/token"
  local started, attempt = io.now(), 0
  while true do
    self.stats.token_requests = self.stats.token_requests + 1
    local t0 = io.now()
    local res, err = io.transport{
      method = "POST", url = url, body = form,
      headers = { Authorization = basic, ["Content-Type"] = "application/x-www-form-urlencoded",
                  Accept = "application/json", ["User-Agent"] = self._headers["User-Agent"] },
      timeout = self.timeout, connect_timeout = self.connect_timeout,
    }
    local value
    if res then value, err = core.interpret(res) else err = transport_error(err) end
    self._log("debug", "POST %s (%s grant) -> %s (%.0f ms)", url, grant,
      res and res.status or (err and err.kind), (io.now() - t0) * 1000)
    if value and type(value) == "table" then
      local gen, ttl = self._auth:accept(value, io.now())
      if not gen then
        return nil, new_error{ kind = "auth", status = res.status,
          message = ttl .. " (login host " .. host_of(self.login_url) .. ")" }
      end
      self._token_ttl = ttl
      return gen
    end
    err = err or new_error{ kind = "auth", status = res and res.status, message = "unexpected token response" }
    local delay = self.retry and core.retry_delay{
      method = "POST", idempotent = true, status = err.status, kind = err.kind, sent = err.sent,
      attempt = attempt, elapsed = io.now() - started, retry_after = err.retry_after,
      max_retries = self.retry.max_retries, max_retry_time = self.retry.max_retry_time,
      max_retry_after = self.retry.max_retry_after, random = math.random(),
    }
    if not delay then
      if err.kind == "api" or err.kind == "auth" or err.kind == "decode" then
        err.kind = "auth"
      end
      -- The usual cause of a login failure is the wrong region: say which host answered.
      err.message = ("%s (login host %s)"):format(err.message or "login failed", host_of(self.login_url))
      err.body = nil -- the token endpoint's body is not needed and is kept out of errors
      self._log("error", "token request failed: %s", tostring(err))
      return nil, err
    end
    attempt = attempt + 1
    io.sleep(delay)
  end
end

-- Seconds before expiry at which a token is renewed.
function Client:_margin()
  local ttl = self._token_ttl
  if not ttl or ttl <= 0 then return 0 end
  return math.min(60, ttl * 0.1)
end

-- The current bearer header and its generation, fetching a token when needed.
-- At most one token request runs per client; other calls wait for it.
function Client:_bearer(io)
  local waited = 0
  while true do
    local header, gen = self._auth:current(io.now(), self:_margin())
    if header then return header, gen end
    local grant = self._auth:can_refresh()
    if not grant then
      if self._auth:kind() == "none" then
        return nil, new_error{ kind = "auth",
          message = "no credentials: give client_id and client_secret, access_token or refresh_token, "
                 .. "or complete a code grant with client:exchange_code" }
      end
      return nil, new_error{ kind = "auth", message = "the access token was rejected and cannot be renewed" }
    end
    local shared = self._store and grant == "client_credentials"
    local stored, left
    if shared then stored, left = self._store.get(self._store_key) end
    if stored and left and left > 1 then
      -- Another client (another worker) already holds a token: adopt it.
      local ttl = left
      self._auth:accept({ access_token = stored, expires_in = ttl }, io.now())
      self._token_ttl = ttl
    elseif not self._token_busy then
      self._token_busy = true
      local ok, gen_or_err, err = pcall(self._grant, self, io, grant)
      self._token_busy = false
      if not ok then error(gen_or_err, 0) end
      if not gen_or_err then return nil, err end
      if shared and self._token_ttl and self._token_ttl > 0 then
        local h = self._auth:current(io.now())
        if h then self._store.set(self._store_key, h:sub(8), self._token_ttl) end
      end
    else
      io.sleep(0.01)
      waited = waited + 0.01
      if waited > self.timeout + self.connect_timeout + 60 then
        return nil, new_error{ kind = "auth", message = "timed out waiting for a token request in progress" }
      end
    end
  end
end

--- An access token (fetched or renewed when needed).
-- @return token string | nil, err
function Client:token()
  local header, err = self:_bearer(self:io_for())
  if not header then return nil, err end
  return (header:gsub("^Bearer ", ""))
end

--- The login URL to send a user to for the authorization code grant.
-- @tparam table args { redirect_uri, state, code_challenge }
function Client:authorize_url(args)
  if type(args) ~= "table" or type(args.redirect_uri) ~= "string" then
    error("purecloud: authorize_url{ redirect_uri = …, state = …, code_challenge = … } needs redirect_uri", 2)
  end
  local id = self._auth:client_id()
  if not id then error("purecloud: authorize_url needs a client with client_id", 2) end
  local q = { client_id = id, response_type = "code", redirect_uri = args.redirect_uri, state = args.state }
  if args.code_challenge then
    q.code_challenge = args.code_challenge
    q.code_challenge_method = "S256"
  end
  return core.build_url(self.login_url, "/oauth/authorize", nil, q)
end

--- Exchange an authorization code (and PKCE verifier) for tokens.
-- @return true | nil, err
function Client:exchange_code(code, redirect_uri, code_verifier)
  if type(code) ~= "string" then error("purecloud: exchange_code: code must be a string", 2) end
  if type(redirect_uri) ~= "string" then error("purecloud: exchange_code: redirect_uri must be a string", 2) end
  local gen, err = self:_grant(self:io_for(), "authorization_code",
    { code = code, redirect_uri = redirect_uri, code_verifier = code_verifier })
  if not gen then return nil, err end
  return true
end

--- Get a user token with a SAML2 bearer assertion (base64 text).
-- @return true | nil, err
function Client:saml2_bearer(assertion, org_name)
  if type(assertion) ~= "string" then error("purecloud: saml2_bearer: assertion must be a string", 2) end
  local gen, err = self:_grant(self:io_for(), "saml2", { assertion = assertion, org_name = org_name })
  if not gen then return nil, err end
  return true
end

-- The request loop -------------------------------------------------------

local function check_args(method, path, args)
  if type(method) ~= "string" or not method:find("^%u+$") then
    error("purecloud: request: method must be an upper-case HTTP method", 4)
  end
  if type(path) ~= "string" or path:sub(1, 1) ~= "/" then
    error("purecloud: request: path must be a string starting with '/'", 4)
  end
  if args ~= nil and type(args) ~= "table" then error("purecloud: request: args must be a table", 4) end
end

--- Send one API request through `io`, with auth and retries.
-- @return decoded body (table, string, or true for an empty 2xx) | nil, err
function Client:_call(io, method, path, args)
  check_args(method, path, args)
  args = args or {}
  local url = core.build_url(self.base_url, path, args.path, args.query)
  local headers = {}
  for k, v in pairs(self._headers) do headers[k] = v end
  if args.headers then
    for k, v in pairs(args.headers) do
      if type(k) ~= "string" or type(v) ~= "string" or has_crlf(k) or has_crlf(v) or k:find("[:%s]") then
        return nil, new_error{ kind = "validation",
          message = ("header %q refused: names and values must be strings without CR, LF or NUL")
            :format(tostring(k):gsub("[\r\n%z]", "?")) }
      end
      headers[k] = v
    end
  end
  local body = args.json
  if body == nil and args.body ~= nil then
    local encoded, why = cjson.encode(args.body)
    if not encoded then
      return nil, new_error{ kind = "validation", message = "body cannot be encoded as JSON: " .. tostring(why) }
    end
    body = encoded
  end
  if body ~= nil then headers["Content-Type"] = headers["Content-Type"] or "application/json" end
  local req = { method = method, url = url, headers = headers, body = body,
                timeout = self.timeout, connect_timeout = self.connect_timeout }
  local op = args.op or method .. " " .. path
  local retry = self.retry
  local started, attempt, reauthed = io.now(), 0, false

  while true do
    -- Every call of this client honours a 429's Retry-After together.
    local wait = self._not_before - io.now()
    if wait > 0 then io.sleep(wait) end

    local auth, gen = self:_bearer(io)
    if not auth then return nil, gen end
    headers.Authorization = auth

    local t0 = io.now()
    self.stats.requests = self.stats.requests + 1
    local res, err = io.transport(req)
    local value
    if res then value, err = core.interpret(res) else err = transport_error(err) end
    if self._log_enabled("info") then
      self._log("info", "%s %s -> %s (%.0f ms, attempt %d%s)", method, url,
        res and res.status or (err and err.kind or "?"), (io.now() - t0) * 1000, attempt + 1,
        err and err.context_id and (", correlation " .. err.context_id) or
          (res and res.headers and res.headers["inin-correlation-id"] and
            (", correlation " .. res.headers["inin-correlation-id"]) or ""))
      if self._log_enabled("trace") then
        self._log("trace", "%s request body: %s", op, redact(body) or "(none)")
        self._log("trace", "%s response body: %s", op, res and redact(res.body) or "(none)")
      end
    end
    if err == nil then return value end

    if err.status == 401 and not reauthed and self._auth:can_refresh() then
      -- Renew once and replay; a second 401 is returned. Only the call
      -- whose token is still current drops it, so concurrent 401s renew once.
      reauthed = true
      if self._auth:invalidate(gen) and self._store then
        self._store.delete(self._store_key, auth:sub(8)) -- "Bearer " stripped
      end
    else
      if err.status == 429 and err.retry_after then
        local nb = io.now() + err.retry_after
        if nb > self._not_before then self._not_before = nb end
      end
      local delay, why
      if retry then
        delay, why = core.retry_delay{
          method = method, idempotent = args.idempotent, status = err.status, kind = err.kind,
          sent = err.sent, attempt = attempt, elapsed = io.now() - started, retry_after = err.retry_after,
          max_retries = retry.max_retries, max_retry_time = retry.max_retry_time,
          max_retry_after = retry.max_retry_after, random = math.random(),
        }
      end
      if not delay then
        if why and why ~= "not retryable" then err.retry_reason = why end
        self._log("debug", "%s: giving up: %s (%s)", op, tostring(err), why or "retries off")
        return nil, err
      end
      attempt = attempt + 1
      self.stats.retries = self.stats.retries + 1
      self._log("info", "%s: retrying in %.2f s after %s", op, delay, tostring(err))
      if err.status == 429 then
        local w = self._not_before - io.now()
        if w > 0 then delay = w end
      end
      io.sleep(delay)
    end
  end
end

--- Send one API request, with auth and retries.
-- @string method "GET", "POST", …
-- @string path a path template such as "/api/v2/users/{userId}"
-- @tparam[opt] table args { path, query, body, json, headers, op, idempotent }
-- @return decoded body | nil, err
function Client:request(method, path, args)
  return self:_call(self:io_for(), method, path, args)
end

--- Run many independent calls with bounded concurrency (see purecloud.batch).
function Client:batch(calls, opts)
  return require("purecloud.batch").run(self, calls, opts)
end

return M
