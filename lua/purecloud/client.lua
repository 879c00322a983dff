--- The client: one configuration, one token keeper, one rate-limit gate,
-- and the driver that runs the request loop with an I/O table.
--
-- The rules live elsewhere, each in one place: options (`purecloud.options`),
-- what a request may hold (`purecloud.request`), retries and 401s
-- (`purecloud.loop`), tokens (`purecloud.token`), rate limits
-- (`purecloud.gate`), what a trace log may show (`purecloud.redact`). This
-- file only wires them: the loop's actions (`driver`, for `loop.run`) with
-- the I/O of the running coroutine (`purecloud.io`: the blocking libcurl
-- transport, an nginx cosocket transport, or a scheduler's coroutine I/O).
-- @module purecloud.client
local core = require "purecloud.core"
local api = require "purecloud.api"
local logging = require "purecloud.log"
local options = require "purecloud.options"
local request = require "purecloud.request"
local loop = require "purecloud.loop"
local token = require "purecloud.token"
local gate = require "purecloud.gate"
local redact = require "purecloud.redact"
local io_owner = require "purecloud.io"

local M = {}

M.VERSION = core._VERSION

local Client = {}
M.Client = Client

local header_of = core.header
local loop_run = loop.run
local driver -- (below: what the client does at each action of the loop)

-- (No libcurl version in it: asking libcurl would load it at start-up, and
-- inside nginx the transport is not libcurl.)
local function default_user_agent(ua)
  if ua then return ua end
  local lua_v = _VERSION:match("[%d%.]+") or "?"
  if jit and jit.version then lua_v = jit.version:gsub(" ", "/") end -- luacheck: ignore 113
  return ("purecloud-lua/%s Lua/%s"):format(core._VERSION, lua_v)
end

--- Create a client. See the README for the options.
-- @tparam table opts
-- @return client
function M.new(opts)
  local cfg = options.check(opts)
  local log, log_enabled = logging.new(opts.log)
  local ua = default_user_agent(opts.user_agent)
  cfg.headers = request.merge_headers({ ["User-Agent"] = ua, Accept = "application/json" }, cfg.headers,
    "option 'headers'")
  local self = {
    base_url = cfg.base_url,
    login_url = cfg.login_url,
    validate = cfg.validate,
    timeout = cfg.timeout,
    connect_timeout = cfg.connect_timeout,
    retry = cfg.retry,
    cfg = cfg,
    gate = gate.new{ pace = cfg.pace, store = opts.rate_store,
                     key = "purecloud:" .. cfg.login_url .. ":" .. (opts.client_id or "") },
    stats = { token_requests = 0, requests = 0, retries = 0 },
    _log = log,
    _log_enabled = log_enabled,
    -- (the level is fixed at `new`: the request path reads these, not a call)
    _log_info = log_enabled("info"),
    _log_trace = log_enabled("trace"),
  }
  self._auth = core.auth_new{
    client_id = opts.client_id, client_secret = opts.client_secret,
    access_token = opts.access_token, refresh_token = opts.refresh_token,
  }

  self._token = token.new{
    auth = self._auth, login_url = cfg.login_url, user_agent = ua, timeout = cfg.timeout,
    connect_timeout = cfg.connect_timeout, retry = cfg.retry, log = log, stats = self.stats,
    max_body = 1024 * 1024,
    store = opts.token_store, store_key = "purecloud:" .. cfg.login_url .. ":" .. (opts.client_id or ""),
  }
  -- What every call's loop machine shares (loop.new keeps it, never copies).
  local keeper = self._token
  self._loop_params = {
    retry = self.retry, gate = self.gate,
    can_renew = function() return keeper:can_renew() end,
  }
  self._driver = driver(self)

  -- Which I/O the calls use: the transport chosen now, the coroutines'
  -- bindings (purecloud.io).
  self.io_owner = io_owner.new(opts)
  self.io = self.io_owner.default
  return setmetatable(self, Client)
end

-- `client.users`, `client.presence`, … (`purecloud.api`, generated) are
-- bound at their first use (loading the operations is ~2 ms of start-up). A
-- method found here is kept on the instance, so the calls of the request
-- path do not run this function each time.
Client.__index = function(self, k)
  if api.classes[k] then
    local ops = require("purecloud.operations").bind(self, k)
    rawset(self, k, ops)
    return ops
  end
  local v = Client[k]
  if type(v) == "function" and type(k) == "string" and k:sub(1, 2) ~= "__" then rawset(self, k, v) end
  return v
end

Client.__tostring = function(self)
  local id = self._auth:client_id()
  return ("purecloud.client(%s, %s%s)"):format(self.base_url, self._auth:kind(),
    id and (", client id " .. id) or "")
end

--- Close the client's connections. Idempotent.
function Client:close()
  self.io_owner:close()
end

--- Log through the client's logger (`level`, then a format and its values).
function Client:log(level, fmt, ...)
  return self._log(level, fmt, ...)
end

--- The I/O table for the running coroutine (`purecloud.io`).
function Client:io_for()
  return self.io_owner:current()
end

-- The OAuth grants (`purecloud.token`, "The grant API"): the client
-- lends them its I/O for the running coroutine.

--- An access token (fetched or renewed when needed).
-- @return token string | nil, err
function Client:token() return self._token:access_token(self:io_for()) end

--- The login URL to send a user to for the authorization code grant.
-- @tparam table args { redirect_uri, state, code_challenge }
function Client:authorize_url(args) return self._token:authorize_url(args) end

--- Exchange an authorization code (and PKCE verifier) for tokens.
-- @return true | nil, err
function Client:exchange_code(code, redirect_uri, code_verifier)
  return self._token:exchange_code(self:io_for(), code, redirect_uri, code_verifier)
end

--- Get a user token with a SAML2 bearer assertion (base64 text).
-- @return true | nil, err
function Client:saml2_bearer(assertion, org_name)
  return self._token:saml2_bearer(self:io_for(), assertion, org_name)
end

-- What a successful call can tell besides its value (the third return):
-- `status`, `headers`, `context_id`, `rate_limit`, built at their first use
-- by `core.response_mt` (one place for every transport). A response of the
-- libcurl transport already carries it and is its own info.
local response_mt = core.response_mt
local function info_of(res)
  if not res then return nil end
  if getmetatable(res) == response_mt then return res end
  return setmetatable({ status = res.status, headers = res.headers or {} }, response_mt)
end

-- Log one attempt (info), and at trace level its redacted bodies.
local function log_attempt(self, op, req, res, err, t0, now, attempt)
  local ctx = err and err.context_id or (res and header_of(res, "inin-correlation-id"))
  self._log("info", "%s %s -> %s (%.0f ms, attempt %d%s)", req.method, req.url,
    res and res.status or (err and err.kind or "?"), (now - t0) * 1000, attempt,
    ctx and (", correlation " .. ctx) or "")
  if self._log_trace then
    self._log("trace", "%s request body: %s", op, redact.body(req.body))
    self._log("trace", "%s response body: %s", op, redact.body(res and res.body))
  end
end

-- What the client does at each action of the loop (`purecloud.loop`,
-- `M.run`'s `d`), made once per client: the bearer token for an attempt
-- (and dropping the one a 401 rejected), one attempt sent and logged (at
-- the info level), and a wait (a retry's said at the warn level).
function driver(self)
  local keeper = self._token
  local d = {}
  function d.token(io, _, renew, header)
    if renew then keeper:rejected(renew, header) end
    return keeper:bearer(io)
  end
  function d.send(io, req, header, attempt, op)
    req.headers.Authorization = header
    self.stats.requests = self.stats.requests + 1
    local t0 = self._log_info and io.now()
    local res, terr = io.transport(req)
    local value, err = loop.interpret(res, terr)
    local now = io.now()
    if t0 then log_attempt(self, op, req, res, err, t0, now, attempt) end
    return res, value, err, now
  end
  function d.sleep(io, seconds, action, op)
    if action.retry then
      self.stats.retries = self.stats.retries + 1
      self._log("warn", "%s: retrying in %.2f s after %s", op, seconds,
        (tostring(action.err):gsub("^purecloud: ", "")))
    end
    io.sleep(seconds)
  end
  return d
end

-- Run the request `req` through `io` (`op` names the call in log lines).
local function drive(self, io, req, safe, op)
  if self._log_trace then req.decode = nil end -- the trace shows the (redacted) body text
  local value, err, res = loop_run(self._loop_params, self._driver, io, req, safe, op)
  req.headers.Authorization = nil
  if err then
    self._log("debug", "%s: giving up: %s (%s)", op, tostring(err), err.retry_reason or "not retryable")
    return nil, err
  end
  return value, nil, info_of(res)
end

--- Run one call through `io`.
-- @return value, nil, info | nil, err
function Client:call_with(io, method, path, args)
  local req, safe = request.build(self.cfg, method, path, args)
  if not req then return nil, safe end -- a body that cannot be encoded
  return drive(self, io, req, safe, args and args.op or (method .. " " .. path))
end

--- Run a request already built by `purecloud.request` (`build`, or
-- `prepared` for an operation's prepared call: `purecloud.operations`)
-- through the request loop.
-- @return value, nil, info | nil, err
function Client:run(req, safe, op)
  return drive(self, self:io_for(), req, safe, op)
end

--- Send one API request, with auth and retries.
-- @string method "GET", "POST", …
-- @string path a path template such as "/api/v2/users/{userId}"
-- @tparam[opt] table args { path, query, body, json, headers, op, safe }
-- @return decoded body, nil, info | nil, err
function Client:request(method, path, args)
  return self:call_with(self:io_for(), method, path, args)
end

--- GET a link the service returned (`nextUri`, `selfUri`, …), resolved
-- against the client's base URL and its path prefix (`request.resolve`:
-- through a gateway too; a link to another host is refused, never sent).
-- @string uri the link, e.g. `page.nextUri`
-- @return decoded body, nil, info | nil, err
function Client:follow(uri)
  local url, why = request.resolve(self.cfg, uri)
  if not url then return nil, require("purecloud.errors").new{ kind = "validation", outcome = "not_sent",
    message = "purecloud: client:follow: " .. why } end
  return self:run(request.prepared(self.cfg, "GET", url, true), true)
end

--- Run many independent calls with bounded concurrency (see purecloud.batch).
function Client:batch(calls, opts)
  return require("purecloud.batch").run(self, calls, opts)
end

return M
