--- The token rule — which bearer token a call sends, and when one is
-- fetched — and the OAuth grant API the client's methods hand over to.
-- All of the policy is here; the C side (`core.auth_new`) keeps only the
-- secrets: it stores them, writes a header for the token it holds, drops a
-- generation, and writes the form of a grant.
--
-- * **Use.** A call sends the current token while it has more than a margin
--   left (10 % of its lifetime, at most 60 s: `Keeper:margin`); a token whose
--   lifetime the response did not say is used for one call, then renewed.
-- * **Grant.** Otherwise the keeper fetches one first: with the refresh
--   token when it holds one, else with the client credentials (`M.grant_for`).
--   A fixed `access_token` given by the caller is never renewed.
-- * **One request at a time per client**: while one call fetches a token,
--   the others wait for it on a condition (`io.wait`/`cond`, woken when it
--   ends — no polling where the I/O can wait), then use it.
-- * **One request per token store**: with a `token_store` (nginx workers,
--   several clients) a client-credentials token is shared; a store that can
--   `lock` lets exactly one holder ask while the others wait for it to `set`.
-- * A 401 drops the token that was sent (only if it is still the current
--   one, so concurrent 401s renew once) and deletes it from the store.
-- * Every token is checked where it is accepted (`auth:accept`, in C): a
--   token from the login service or a store that is not 1–8192 bytes of
--   visible ASCII fails the call with an `auth` error, nothing sent. A token
--   whose `expires_in` is missing, not a number, 0 or below is used once and
--   renewed before the next call (a debug line says so).
-- * **A token store that raises** fails that one call: the raise becomes an
--   `auth` error saying which store function raised and what it said
--   (scrubbed of secrets, one line), never a raise through the request loop.
--   Each store call runs under `pcall`. A store function may yield on Lua
--   5.2–5.4 and LuaJIT (cosockets inside OpenResty: `pcall` is yieldable
--   there); on PUC Lua 5.1 it must not (5.1 cannot yield across `pcall`; a
--   store that tries fails its call with "attempt to yield across…").
--
-- The secrets themselves live in C (`core.auth_new`), wiped when collected;
-- token requests go through the same request loop as API calls (a token
-- request is safe to repeat), and their bodies are never logged.
-- @module purecloud.token
local core = require "purecloud.core"
local errors = require "purecloud.errors"
local loop = require "purecloud.loop"
local check_text = require("purecloud.request").check_text
local usage = errors.usage

local M = {}
-- (hot-path globals as upvalues: each global is a lookup in _G)
local min = math.min

local Keeper = {}
Keeper.__index = Keeper

--- A keeper for `auth` (`core.auth_new`).
-- @tparam table k { auth, login_url, user_agent, timeout, connect_timeout, retry, log,
--   stats, store, store_key, max_body }
function M.new(k)
  k.busy = false   -- the deadline of the token request in flight (its waiters park on `k.cond`)
  k.ttl = nil
  -- What its token requests' loop machines share: safe to repeat, never renewed.
  k.loop_params = { safe = true, retry = k.retry, can_renew = false }
  return setmetatable(k, Keeper)
end

local function host_of(url) return url:match("^https?://([^/]+)") or url end

local pcall, tostring, type = pcall, tostring, type

-- One store call under pcall: its results, or nil and an auth error
-- naming the function and what it raised (core.error scrubs the text, its
-- tostring escapes it to one line).
local function store_call(self, name, ...)
  local f = self.store[name]
  local ok, a, b = pcall(f, ...)
  if ok then return true, a, b end
  local what = type(a) == "string" and a or (core.is_error(a) and a.message) or tostring(a)
  if #what > 300 then what = what:sub(1, 300) .. "…" end
  return false, errors.new{ kind = "auth", outcome = "not_sent",
    message = ("the token store raised in %s: %s"):format(name, what) }
end

local function auth_error(self, message, status)
  return errors.new{ kind = "auth", status = status, outcome = "not_sent",
                     message = ("%s (login host %s)"):format(message, host_of(self.login_url)) }
end

-- What the keeper does at each action of the loop (`purecloud.loop`,
-- `M.run`'s `d`): a token request carries its grant's Basic credentials,
-- not a token; one attempt is counted and logged (debug); a wait is a wait.
local GRANT = {}
function GRANT.token(_, req) return req.headers.Authorization, 0 end
function GRANT.send(io, req, _, _, ctx)
  local self, grant = ctx.keeper, ctx.grant
  self.stats.token_requests = self.stats.token_requests + 1
  local t0 = io.now()
  local res, terr = io.transport(req)
  local value, err = loop.interpret(res, terr)
  local now = io.now()
  self.log("debug", "POST %s (%s grant) -> %s (%.0f ms)", req.url, grant,
    res and res.status or (err and err.kind), (now - t0) * 1000)
  if value ~= nil and type(value) ~= "table" then
    value, err = nil, errors.new{ kind = "auth", status = res.status, message = "unexpected token response" }
  end
  return res, value, err, now
end
function GRANT.sleep(io, seconds) io.sleep(seconds) end

--- Send one token request (retried like any safe request, by the one loop).
-- @return generation | nil, err
function Keeper:grant(io, grant, params)
  local form, basic = self.auth:grant_request(grant, params)
  if not form then return nil, auth_error(self, basic) end
  local req = {
    method = "POST", url = self.login_url .. "/oauth/token", body = form,
    headers = { Authorization = basic, ["Content-Type"] = "application/x-www-form-urlencoded",
                Accept = "application/json", ["User-Agent"] = self.user_agent },
    timeout = self.timeout, connect_timeout = self.connect_timeout, max_body = self.max_body,
  }
  local value, err = loop.run(self.loop_params, GRANT, io, req, true, { keeper = self, grant = grant })
  if value ~= nil then
    local gen, ttl = self.auth:accept(value, io.now())
    if not gen then return nil, auth_error(self, ttl, 200) end
    if ttl <= 0 then
      self.once_gen, self.once_used = gen, false
      self.log("debug", "the token response (%s grant) has no positive expires_in: the token is used once "
        .. "and renewed before the next call", grant)
    end
    self.ttl = ttl
    return gen
  end
  if err.kind == "api" or err.kind == "decode" then err.kind = "auth" end
  -- The usual cause of a login failure is the wrong region: say which host answered.
  err.message = ("%s (login host %s)"):format(err.message or "login failed", host_of(self.login_url))
  err.body, err.headers = nil, nil -- the token endpoint's answer stays out of errors
  -- Returned to the caller, so only a debug line: a library does not print
  -- (at the default level) the error it also hands back.
  self.log("debug", "token request failed: %s", tostring(err))
  return nil, err
end

-- Rule "Grant": the grant that renews a token of this kind of credentials
-- (`auth:kind()`), or nil: a fixed access token, or nothing to renew with.
local GRANT_FOR = { refresh_token = "refresh_token", client_credentials = "client_credentials" }
function M.grant_for(kind) return GRANT_FOR[kind] end

--- The token can be renewed (the loop asks at a 401: its rule 3).
function Keeper:can_renew() return GRANT_FOR[self.auth:kind()] ~= nil end

-- Rule "Use": the header of the held token while it may be sent at `now`,
-- and its generation; nil when it must be renewed first. A token of the
-- generation already seen (the usual call) reuses its header string.
local function usable(self, now)
  local gen, expires_at = self.auth:token()
  if not gen then return nil end
  if expires_at > 0 and now + self:margin() >= expires_at then return nil end
  if self.once_gen == gen then -- no lifetime said: its one use
    if self.once_used then return nil end
    self.once_used = true
  end
  if gen ~= self.header_gen then self.header, self.header_gen = self.auth:header() end
  return self.header, gen
end

-- Seconds before expiry at which a token is renewed.
function Keeper:margin()
  local ttl = self.ttl
  if not ttl or ttl <= 0 then return 0 end
  return min(60, ttl * 0.1)
end

-- Wait until the token request in flight ends (or `deadline`).
local function wait_for_flight(self, io, deadline)
  if io.wait then
    local cond = self.cond or {}
    self.cond = cond
    io.wait(cond, deadline - io.now())
  else
    io.sleep(0.01) -- a host I/O that cannot wait on a condition: poll
  end
end

local function wake_all(self, io)
  local cond = self.cond
  self.cond = nil
  if cond and io.wake then io.wake(cond) end
end

-- A token request is in flight (and has not overrun its deadline).
local function busy(self, io)
  return self.busy and io.now() < self.busy
end

--- The bearer header and its generation, fetching a token when needed.
-- @return header, generation | nil, err
function Keeper:bearer(io)
  local deadline
  while true do
    local now = io.now()
    local header, gen = usable(self, now)
    if header then return header, gen end
    deadline = deadline or now + self.timeout + self.connect_timeout + 60
    local grant = GRANT_FOR[self.auth:kind()]
    if not grant then
      if self.auth:kind() == "none" then
        return nil, errors.new{ kind = "auth", outcome = "not_sent",
          message = "no credentials: give client_id and client_secret, access_token or refresh_token, "
                 .. "or complete a code grant with client:exchange_code" }
      end
      return nil, errors.new{ kind = "auth", outcome = "not_sent",
        message = "the access token was rejected and cannot be renewed: give the client new credentials" }
    end
    local store = grant == "client_credentials" and self.store or nil
    local stored, left, ok
    if store then
      ok, stored, left = store_call(self, "get", self.store_key)
      if not ok then return nil, stored end
    end
    local adopt = stored ~= nil and type(left) == "number" and left > 1
    local locked = true
    if not adopt and store and store.lock and not busy(self, io) then
      ok, locked = store_call(self, "lock", self.store_key, self.timeout + 5)
      if not ok then return nil, locked end
    end
    if adopt then
      -- Another client (another worker) holds a token: adopt it (checked
      -- like any token: a bad one fails the call, nothing sent).
      local adopted, why = self.auth:accept({ access_token = stored, expires_in = left }, io.now())
      if not adopted then
        return nil, errors.new{ kind = "auth", outcome = "not_sent",
          message = "the token store's get returned an unusable token: " .. why:gsub("^the token response's ", "") }
      end
      self.ttl = left
    elseif busy(self, io) or not locked then
      if io.now() > deadline then
        return nil, errors.new{ kind = "auth", outcome = "not_sent",
          message = "timed out waiting for a token request in progress" }
      end
      if busy(self, io) then wait_for_flight(self, io, deadline) else io.sleep(0.05) end
    else
      -- No pcall around the request: it yields (scheduler, cosockets), and
      -- PUC Lua 5.1 cannot yield across a pcall. `busy` is a deadline
      -- instead, so a request that raised cannot block the others forever.
      self.busy = io.now() + self.timeout + self.connect_timeout + 5
      local fetched, err = self:grant(io, grant)
      self.busy = false
      local serr
      if store and fetched and self.ttl and self.ttl > 0 then
        local h = self.auth:header()
        if h then
          local sok, e = store_call(self, "set", self.store_key, h:sub(#"Bearer " + 1), self.ttl)
          if not sok then serr = e end
        end
      end
      if store and store.unlock then
        local uok, e = store_call(self, "unlock", self.store_key)
        if not uok then serr = serr or e end
      end
      wake_all(self, io)
      if not fetched then return nil, err end
      if serr then return nil, serr end
    end
  end
end

-- The grant API (`client:token`, `authorize_url`, `exchange_code`,
-- `saml2_bearer` hand their calls here with the client's I/O). Bad
-- arguments raise at the caller's line; a failed grant is `nil, err`.

--- The current access token, fetched or renewed when needed.
-- @return token | nil, err
function Keeper:access_token(io)
  local header, err = self:bearer(io)
  if not header then return nil, err end
  return header:sub(#"Bearer " + 1)
end

--- The login URL to send a user to for the authorization code grant.
-- @tparam table args { redirect_uri, state, code_challenge (S256) }
function Keeper:authorize_url(args)
  if type(args) ~= "table" or type(args.redirect_uri) ~= "string" then
    usage("purecloud: authorize_url{ redirect_uri = …, state = …, code_challenge = … } needs redirect_uri")
  end
  local id = self.auth:client_id()
  if not id then usage("purecloud: authorize_url needs a client with client_id") end
  local q = { client_id = id, response_type = "code", redirect_uri = args.redirect_uri, state = args.state }
  if args.code_challenge then
    q.code_challenge = args.code_challenge
    q.code_challenge_method = "S256"
  end
  return core.build_url(self.login_url, "/oauth/authorize", nil, q)
end

local function granted(gen, err)
  if not gen then return nil, err end
  return true
end

--- Exchange an authorization code (and PKCE verifier) for tokens.
-- @return true | nil, err
function Keeper:exchange_code(io, code, redirect_uri, code_verifier)
  check_text("exchange_code: code", code)
  check_text("exchange_code: redirect_uri", redirect_uri)
  if code_verifier ~= nil then check_text("exchange_code: code_verifier", code_verifier) end
  return granted(self:grant(io, "authorization_code",
    { code = code, redirect_uri = redirect_uri, code_verifier = code_verifier }))
end

--- A user token for a SAML2 bearer assertion (base64 text).
-- @return true | nil, err
function Keeper:saml2_bearer(io, assertion, org_name)
  check_text("saml2_bearer: assertion", assertion)
  if org_name ~= nil then check_text("saml2_bearer: org_name", org_name) end
  return granted(self:grant(io, "saml2", { assertion = assertion, org_name = org_name }))
end

--- A 401 answered the token of generation `gen` (sent as `header`): drop it.
-- A store whose `delete` raises is logged (warn) and otherwise ignored: the
-- call goes on to renew, and the stale token in the store is refused by
-- the service again.
function Keeper:rejected(gen, header)
  if self.auth:invalidate(gen) and self.store then
    local ok, err = store_call(self, "delete", self.store_key, header:sub(#"Bearer " + 1))
    if not ok then self.log("warn", "%s", (tostring(err):gsub("^purecloud: ", ""))) end
  end
end

return M
