--- Client options: checked once, at `purecloud.new`, into a plain config.
--
-- Bad options raise (they are mistakes in the program), naming the option
-- and what it takes. Strings that reach a URL, a header or a credential are
-- refused when they hold a NUL, CR or LF byte (`purecloud.request` holds that
-- rule); numbers must be finite and in range.
--
-- Secrets are never echoed in these messages. `access_token` and
-- `refresh_token` must pass the token check of the C vault
-- (`core.check_token`: 1–8192 bytes of visible ASCII). The API and login
-- URLs (`base_url`, `login_url`, and the hosts `environment` names) must not
-- carry userinfo (`http://user:password@host`): a URL is shown in
-- `tostring(client)` and in every info line, so a password there would be
-- everywhere; it is refused naming the option only. `proxy` may carry
-- credentials (`http://user:password@proxy:3128`): it is checked here
-- (scheme http, https, socks5 or socks5h, a host, a port from 1 to 65535,
-- no spaces or controls), never shown, and its password is one of the
-- secrets every error and log line is scrubbed of (the libcurl handle
-- registers it, `csrc/transport/curl.c`).
-- @module purecloud.options
local core = require "purecloud.core"
local regions = require "purecloud.regions"
local request = require "purecloud.request"
local keys = require "purecloud.keys"
local usage = require("purecloud.errors").usage

local M = {}

-- Option name -> accepted Lua types.
local TYPES = {
  environment = "string", base_url = "string", login_url = "string",
  client_id = "string", client_secret = "string", access_token = "string", refresh_token = "string",
  timeout = "number", connect_timeout = "number", retry = "table|boolean",
  ca_file = "string", ca_path = "string", verify = "boolean", proxy = "string",
  user_agent = "string", headers = "table", log = "string|function|table", validate = "string|boolean",
  transport = "function", sleep = "function", now = "function", max_connections = "number",
  token_store = "table", max_body = "number", pace = "boolean", rate_store = "table",
  client_cert = "string", client_key = "string", client_key_password = "string",
}

-- Options whose text ends up in a URL, a header line or a credential.
local TEXT = { "environment", "base_url", "login_url", "client_id", "client_secret", "access_token",
               "refresh_token", "ca_file", "ca_path", "proxy", "user_agent", "client_cert", "client_key",
               "client_key_password" }

--- The retry policy's defaults (README "Retries and auth" explains them).
M.RETRY = { max_retries = 5, max_retry_time = 60, max_retry_after = 180 }

-- Raise at the caller of `purecloud.new` (`errors.usage`: the first frame
-- outside the library), however deep in this file the check that fails is.
local function fail(fmt, ...) usage("purecloud: " .. fmt:format(...)) end

local function finite(v) return v == v and v > -math.huge and v < math.huge end

local function number_in(name, v, lo, hi, what)
  if not finite(v) or v < lo or v > hi then
    fail("option '%s' must be %s, got %s", name, what, tostring(v))
  end
end

local function strip_slash(u) return (u:gsub("/+$", "")) end

-- The authority of a URL (between "scheme://" and the first / ? #), or nil.
local function authority(u)
  return u:match("^%a[%w+.-]*://([^/?#]*)")
end

-- A URL option that carries userinfo is refused without quoting it.
local function no_userinfo(name, u)
  local a = authority(u)
  if (a and a:find("@", 1, true)) or (not a and u:find("@", 1, true)) then
    fail("option '%s' must not hold credentials (user:password@): give them as client_id and client_secret; "
      .. "the URL is not shown here", name)
  end
end

-- The proxy URL: scheme://[user[:password]@]host[:port][/], checked
-- without ever quoting it (it may hold a password).
local PROXY_SCHEMES = { http = true, https = true, socks5 = true, socks5h = true }
local function check_proxy(u)
  local function bad(why) fail("option 'proxy' %s (the value is not shown: it may hold a password)", why) end
  if u:find("[%c%s]") then bad("must not contain spaces or control characters") end
  local scheme, rest = u:match("^(%a[%w+.-]*)://(.*)$")
  if not scheme then bad("must be a URL such as http://proxy.example.com:3128") end
  if not PROXY_SCHEMES[scheme:lower()] then bad("must use the scheme http, https, socks5 or socks5h") end
  local auth, path = rest:match("^([^/?#]*)(.*)$")
  if path ~= "" and path ~= "/" then bad("must be scheme://host:port, with no path, query or fragment") end
  local hostport = auth:match("@([^@]*)$") or auth
  if auth:match("^([^@]*)@") == "" then bad("has an empty user name before '@'") end
  local host, port = hostport:match("^(%[[%x:.]+%]):?(%d*)$")
  if not host then host, port = hostport:match("^([%w.-]+):?(%d*)$") end
  if not host or host == "" then bad("must name a host (letters, digits, '.', '-', or an [IPv6] address)") end
  if hostport:find(":", #host + 1, true) and port == "" then bad("has an empty port") end
  local p = tonumber(port)
  if port ~= "" and (not p or p < 1 or p > 65535) then bad("has a port outside 1-65535") end
end

-- Mutual TLS (the official SDKs' certificate and key files: Python's
-- `configuration.cert_file`/`key_file`): `client_cert`, a PEM file with the
-- client certificate (and possibly its key), `client_key`, a PEM file with
-- the key, `client_key_password`, the key's pass phrase (a secret: never
-- shown; the libcurl handle registers it with the error scrub). The files
-- must be readable now: a typo fails here, not at the first call's TLS
-- handshake.
local function check_client_cert(opts)
  if opts.client_key and not opts.client_cert then
    fail("option 'client_key' needs 'client_cert' (the certificate that goes with the key)")
  end
  if opts.client_key_password and not opts.client_cert then
    fail("option 'client_key_password' needs 'client_cert' (and 'client_key' when the key is a file of its own)")
  end
  if opts.client_key_password == "" then fail("option 'client_key_password' must not be empty") end
  for _, k in ipairs({ "client_cert", "client_key" }) do
    local path = opts[k]
    if path then
      if path == "" then fail("option '%s' must be a PEM file's path, got an empty string", k) end
      local f, why = io.open(path, "rb")
      if not f then fail("option '%s': cannot read the PEM file (%s)", k, why) end
      f:close()
    end
  end
end

-- environment/base_url/login_url into the two hosts.
local function resolve_hosts(opts)
  local env = opts.environment or "mypurecloud.com"
  env = regions[env] or env
  -- A host name is at most 253 bytes (RFC 1035); a URL option at most a
  -- request's URL (request.MAX_URL). The value is not quoted: it may be
  -- anything a script read from its environment.
  if #env > 253 then fail("option 'environment' is %d bytes long: a host suffix is at most 253", #env) end
  for _, k in ipairs({ "base_url", "login_url" }) do
    if type(opts[k]) == "string" and #opts[k] > request.MAX_URL then
      fail("option '%s' is %d bytes long: a URL option is at most %d", k, #opts[k], request.MAX_URL)
    end
  end
  if env:find("[@:/]") then
    fail("option 'environment' must be a host suffix such as mypurecloud.ie or a region such as eu_west_1, "
      .. "without a scheme or credentials (the value is not shown)")
  end
  if not env:find("^[%w%.%-]+$") then
    fail("unknown environment %q: use a host such as mypurecloud.ie or a region such as eu_west_1", env)
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
    no_userinfo(name, u)
    if not u:find("^https?://[^/%s]+[^%s]*$") then
      fail("option '%s' must be an http(s) URL, got %q", name, u)
    end
  end
  return strip_slash(base), strip_slash(login)
end

--- Check `opts` and return the config the client runs on.
function M.check(opts)
  if type(opts) ~= "table" then usage("purecloud.new: expected a table of options") end
  local problem = keys.typed_problem(opts, TYPES)
  if problem then fail("%s", problem) end
  for _, k in ipairs(TEXT) do
    if opts[k] ~= nil then request.check_text("option '" .. k .. "'", opts[k]) end
  end
  for _, k in ipairs({ "access_token", "refresh_token" }) do
    local why = opts[k] ~= nil and core.check_token(opts[k])
    if why then fail("option '%s' %s (the token is not shown)", k, why) end
  end
  for _, k in ipairs({ "base_url", "login_url" }) do
    if opts[k] then no_userinfo(k, opts[k]) end
  end
  if opts.proxy then check_proxy(opts.proxy) end
  check_client_cert(opts)
  if opts.client_secret and not opts.client_id then fail("option 'client_secret' needs 'client_id'") end
  if opts.client_id and not opts.client_secret and not opts.access_token and not opts.refresh_token then
    fail("option 'client_id' needs 'client_secret' (or give 'access_token')")
  end

  local retry = { max_retries = M.RETRY.max_retries, max_retry_time = M.RETRY.max_retry_time,
                  max_retry_after = M.RETRY.max_retry_after }
  if opts.retry == false then
    retry = false
  elseif type(opts.retry) == "table" then
    for k, v in pairs(opts.retry) do
      if not M.RETRY[k] then
        local near = keys.nearest(k, M.RETRY)
        fail("unknown retry option '%s'%s", tostring(k), near and (" (did you mean '" .. near .. "'?)") or "")
      end
      if type(v) ~= "number" then fail("retry option '%s' must be a number, got %s", k, type(v)) end
      number_in("retry." .. k, v, 0, 86400, "a number of " .. (k == "max_retries" and "retries" or "seconds")
        .. " from 0 to 86400")
      retry[k] = v
    end
  end
  if opts.validate ~= nil and opts.validate ~= false and opts.validate ~= "lenient" and opts.validate ~= "strict" then
    fail("option 'validate' must be \"lenient\", \"strict\" or false")
  end
  -- Under a millisecond libcurl would read a timeout as "none".
  for _, k in ipairs({ "timeout", "connect_timeout" }) do
    if opts[k] then number_in(k, opts[k], 0.001, 86400, "a number of seconds from 0.001 to 86400") end
  end
  if opts.max_connections then number_in("max_connections", opts.max_connections, 1, 1024, "from 1 to 1024") end
  if opts.max_body then number_in("max_body", opts.max_body, 1024, 2 ^ 31, "a byte count from 1024 to 2^31") end
  if opts.token_store then
    for _, f in ipairs({ "get", "set", "delete" }) do
      if type(opts.token_store[f]) ~= "function" then
        fail("option 'token_store' needs a function '%s' (see purecloud.token_store)", f)
      end
    end
  end
  if opts.rate_store then -- a shared budget (purecloud.gate; purecloud.store.redis is one)
    for _, f in ipairs({ "take", "report", "hold" }) do
      if type(opts.rate_store[f]) ~= "function" then
        fail("option 'rate_store' needs a function '%s' (see purecloud.gate)", f)
      end
    end
  end
  local headers = opts.headers and request.merge_headers({}, opts.headers, "option 'headers'") or {}

  local base, login = resolve_hosts(opts)
  return {
    base_url = base, login_url = login,
    validate = opts.validate == nil and "lenient" or opts.validate,
    timeout = opts.timeout or 30,
    connect_timeout = opts.connect_timeout or 10,
    retry = retry,
    headers = headers,
    max_body = opts.max_body or 64 * 1024 * 1024,
    pace = opts.pace ~= false,
  }
end

return M
