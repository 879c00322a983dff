--- Non-blocking I/O for nginx / OpenResty hosts (lua-nginx-module).
--
--     -- inside a request handler, a timer, rewrite/access/content phases:
--     local io = require("purecloud.transport.ngx").auto()   -- nil outside those phases
--     -- or explicitly, e.g. in init_worker_by_lua* for one client per worker:
--     local io = require("purecloud.transport.ngx").new{ verify = true }
--     local client = purecloud.new{ client_id = …, client_secret = …,
--                                   transport = io.transport, sleep = io.sleep, now = io.now }
--
-- The transport speaks HTTP/1.1 over `ngx.socket.tcp` cosockets, so a
-- request yields to nginx's event loop instead of blocking the worker (the
-- libcurl transport would freeze every request of the worker). It is called
-- from Lua by the request loop, never from C, so yielding is allowed under
-- LuaJIT. Connections go back to the cosocket keep-alive pool.
--
-- The I/O table also carries `threads = { spawn, wait }` (`ngx.thread`):
-- `client:batch` and the pagers use it to run up to `concurrency` calls at
-- once (`purecloud.scheduler`).
--
-- The same rules as the libcurl transport:
--
--  * a header the one header rule refuses (`core.check_header`, csrc/text.h:
--    a token name, a field-value with no control byte but HTAB, none of
--    the framing headers) is refused with the same reason (nothing is sent);
--  * one deadline per request (`req.timeout`, default 30 s) covers connect,
--    TLS, send, headers and body — a server trickling 1 byte/s ends there;
--  * the response body is capped at `req.max_body` (default 64 MiB): a larger
--    `Content-Length` is refused before reading, a chunked or read-to-close
--    body is stopped as soon as it passes the cap (error `reason = "too_large"`, never retried);
--  * the response is read by `purecloud.http1` (HTTP/1.1 without I/O: its
--    grammar, each rule with its RFC reason, is at the top of that file):
--    at most 100 header lines and 64 KiB of head; a framing error fails the
--    call with `kind = "protocol"`, is never retried and closes the
--    connection; a connection goes back to the pool only when the reader
--    found the response's exact end with nothing after it;
--  * `Host` carries a non-default port;
--  * a failure after the request may have reached the server is
--    `sent = true, outcome = "unknown"`. A request that found its reused
--    keep-alive connection dead before any response byte is re-sent once on
--    a fresh connection only when it is safe (not `req.safe == false`): a POST
--    or PATCH is never re-sent by the transport.
--
-- TLS: the server certificate is verified with SNI and the host name unless
-- `verify = false`; the trusted CAs are nginx's `lua_ssl_trusted_certificate`
-- (a per-socket CA file does not exist), host names need a `resolver`.
-- Cosockets do not exist in init_by_lua*, init_worker_by_lua*, set_by_lua*,
-- header/body filters and log_by_lua*.
-- @module purecloud.transport.ngx
local ngx = ngx -- luacheck: ignore 113

local http1 = require "purecloud.http1"

local M = {}

M.DEFAULT_MAX_BODY = http1.DEFAULT_MAX_BODY
local READ_SIZE = 64 * 1024

-- Phases where cosockets and ngx.thread work.
local COSOCKET_PHASES = {
  rewrite = true, access = true, content = true, timer = true,
  ssl_cert = true, ssl_session_fetch = true, ssl_client_hello = true,
}

local function parse_url(url)
  if type(url) ~= "string" then return nil end
  local scheme, host, port, path = url:match("^(https?)://([%w%.%-]+):?(%d*)([^#]*)$")
  if not scheme then
    scheme, host, port, path = url:match("^(https?)://(%[[%x:%.]+%]):?(%d*)([^#]*)$")
    if not scheme then return nil end
  end
  local default = scheme == "https" and 443 or 80
  port = port ~= "" and tonumber(port) or default
  if not port or port < 1 or port > 65535 then return nil end
  if path == "" then path = "/" end
  if path:sub(1, 1) ~= "/" and path:sub(1, 1) ~= "?" then return nil end
  if path:sub(1, 1) == "?" then path = "/" .. path end
  if path:find("[%c ]") then return nil end
  local host_header = port == default and host or (host .. ":" .. port)
  return scheme, host, port, path, host_header
end

local function terr(kind, message, sent, extra)
  local e = { kind = kind, message = message, sent = sent }
  if sent then e.outcome = "unknown" end
  for k, v in pairs(extra or {}) do e[k] = v end
  return require("purecloud.errors").new(e)
end

-- A caller's mistake, raised at its line (`errors.usage`).
local function usage(message) require("purecloud.errors").usage(message) end

local function now()
  ngx.update_time()
  return ngx.now()
end

-- The one deadline rule: every wait of a request is bounded by the time
-- left until its deadline (at most `cap` seconds when given). Returns
-- false when none is left.
local function bound(sock, deadline, cap)
  local left = deadline - now()
  if left <= 0 then return false end
  if cap and cap < left then left = cap end
  local ms = math.max(1, math.floor(left * 1000))
  sock:settimeouts(ms, ms, ms)
  return true
end

-- Read one response from `sock` through the sans-I/O reader: the reader
-- says what it needs, the socket gives it. Returns the response and
-- whether the connection may be reused, or nil, the error (the reader's
-- `{ reason, message }`, or a socket error string) and the bytes received.
local function read_response(sock, deadline, method, cap)
  local r = http1.reader{ method = method, max_body = cap }
  while true do
    local ev, v = r:next()
    if ev == "response" then return v, r.reusable end
    if ev == "error" then return nil, v, r.got end
    if not bound(sock, deadline) then return nil, "timeout", r.got end
    local data, err = sock:receiveany(READ_SIZE)
    if data then
      r:feed(data)
    elseif err == "closed" then
      r:feed_eof()
    else
      return nil, err, r.got
    end
  end
end

local function fail_kind(err)
  return err == "timeout" and "timeout" or "transport"
end

--- Whether this nginx sets client certificates on cosockets.
function M.client_certs()
  local ok, ssl = pcall(require, "ngx.ssl")
  if not ok or type(ssl.parse_pem_cert) ~= "function" then return false end
  local made, sock = pcall(ngx.socket.tcp)
  return made and type(sock.setclientcert) == "function"
end

--- The client identity of `opts` (PEM files, parsed once) or nil: its
-- certificate and key cdata and an id for the connection pool's key, so a
-- connection made with one certificate is never reused without it.
function M.client_identity(opts)
  if not opts.client_cert then return nil end
  local function pem(option, path)
    local f, why = io.open(path, "rb")
    if not f then usage(("purecloud: option '%s': cannot read the PEM file (%s)"):format(option, tostring(why))) end
    local text = f:read("*a")
    f:close()
    return text
  end
  local ssl = require "ngx.ssl"
  local cert_pem = pem("client_cert", opts.client_cert)
  local key_pem = opts.client_key and pem("client_key", opts.client_key) or cert_pem
  local cert, cerr = ssl.parse_pem_cert(cert_pem)
  if not cert then usage("purecloud: option 'client_cert': not a PEM certificate (" .. tostring(cerr) .. ")") end
  local key, kerr = ssl.parse_pem_priv_key(key_pem)
  if not key then
    usage("purecloud: option '" .. (opts.client_key and "client_key" or "client_cert")
      .. "': no PEM private key without a pass phrase (" .. tostring(kerr) .. ")")
  end
  return { cert = cert, key = key, id = ngx.md5(cert_pem):sub(1, 16) }
end

--- Make the I/O functions.
-- @tparam[opt] table opts { verify = true, pool_size = 16, keepalive = 60 (seconds),
--   pool = a name: this I/O's own keep-alive pools (default: nginx's pool per
--   host and port, shared by every cosocket of the worker) }
-- (`ssl_verify` is the older name of `verify`)
-- @return { transport, sleep, now, threads = { spawn, wait } }
function M.new(opts)
  opts = opts or {}
  if type(opts) ~= "table" then usage("purecloud.transport.ngx.new: opts must be a table") end
  local verify = opts.verify ~= false and opts.ssl_verify ~= false
  local keepalive_ms = (opts.keepalive or 60) * 1000
  local pool_size = opts.pool_size or 16
  local pool = opts.pool ~= nil and tostring(opts.pool) or nil
  local identity = opts.identity or M.client_identity(opts)
  if identity then pool = (pool or "purecloud") .. "/cert:" .. identity.id end

  local function connect(sock, host, port)
    if pool then return sock:connect(host, port, { pool = pool .. "/" .. host .. ":" .. port }) end
    return sock:connect(host, port)
  end

  local function unknown(host, what)
    return what .. " from " .. host .. "; the request may have reached the server (outcome unknown): "
      .. "check before repeating it"
  end

  -- One exchange on one connection. Returns res, or nil, err, retryable
  -- (retryable: the connection was reused and died before any response byte).
  local function exchange(req, scheme, host, port, wire, deadline, fresh)
    local sock = ngx.socket.tcp()
    if not bound(sock, deadline, tonumber(req.connect_timeout) or 10) then
      return nil, terr("timeout", "timed out before connecting to " .. host, false)
    end
    local ok, err = connect(sock, host, port)
    -- A fresh connection is wanted: drop pooled ones until a new one comes.
    for _ = 1, fresh and pool_size + 1 or 0 do
      if not ok or (sock:getreusedtimes() or 0) == 0 then break end
      sock:close()
      sock = ngx.socket.tcp()
      bound(sock, deadline, tonumber(req.connect_timeout) or 10)
      ok, err = connect(sock, host, port)
    end
    if not ok then
      return nil, terr(fail_kind(err), "connect " .. host .. ":" .. port .. ": " .. tostring(err), false)
    end
    local reused = (sock:getreusedtimes() or 0) > 0
    if scheme == "https" and not reused then
      if identity then
        ok, err = sock:setclientcert(identity.cert, identity.key)
        if not ok then
          sock:close()
          return nil, terr("transport", "client certificate for " .. host .. ": " .. tostring(err), false)
        end
      end
      bound(sock, deadline)
      ok, err = sock:sslhandshake(nil, host, verify)
      if not ok then
        sock:close()
        return nil, terr(fail_kind(err), "TLS handshake with " .. host .. ": " .. tostring(err), false)
      end
    end
    if not bound(sock, deadline) then
      sock:close()
      return nil, terr("timeout", "timed out before sending to " .. host, false)
    end
    local bytes
    bytes, err = sock:send(wire)
    if not bytes then
      sock:close()
      return nil, terr(fail_kind(err), unknown(host, "send failed (" .. tostring(err) .. ")"), true),
        reused and err ~= "timeout"
    end
    local cap = tonumber(req.max_body) or M.DEFAULT_MAX_BODY
    local res, keep, got = read_response(sock, deadline, req.method, cap)
    if not res then
      sock:close() -- never reused after a failure: its next bytes are unknown
      err = keep
      if type(err) == "table" then
        if err.reason == "framing" then
          return nil, terr("protocol", "malformed response from " .. host .. " (" .. err.message
            .. "); not retried, connection closed", true, { reason = "framing" })
        elseif err.reason == "too_large" then
          return nil, terr("transport", err.message, true, { reason = "too_large" })
        end
        err = err.message
      end
      if got == 0 and err ~= "timeout" then
        return nil, terr("transport", unknown(host, "no response (" .. tostring(err) .. ")"), true), reused
      end
      return nil, terr(fail_kind(err), "bad response from " .. host .. ": " .. tostring(err)
        .. (err == "timeout" and " (deadline of " .. tostring(req.timeout or 30) .. " s)" or ""), true)
    end
    if keep then sock:setkeepalive(keepalive_ms, pool_size) else sock:close() end
    return res
  end

  local function transport(req)
    if type(req) ~= "table" then usage("purecloud.transport.ngx: request must be a table") end
    local scheme, host, port, path, host_header = parse_url(req.url)
    if not scheme then return nil, terr("transport", "bad URL " .. ("%q"):format(tostring(req.url):sub(1, 200)), false) end
    local wire, bad = http1.request(req.method, path, host_header, req.headers, req.body)
    -- (refused by the one header rule: "validation", as the libcurl transport says)
    if not wire then return nil, terr("validation", "request refused: " .. bad, false) end
    local timeout = tonumber(req.timeout) or 30
    local deadline = now() + timeout
    local res, err, retryable = exchange(req, scheme, host, port, wire, deadline, false)
    if not res and retryable and req.safe ~= false then
      -- The pooled connection was dead before any response byte: one re-send
      -- on a fresh connection, for idempotent requests only.
      res, err = exchange(req, scheme, host, port, wire, deadline, true)
    end
    return res, err
  end

  local threads = {
    spawn = function(...) return ngx.thread.spawn(...) end,
    wait = function(...) return ngx.thread.wait(...) end,
    -- Told by each thread as it ends, so a group waits for "any of mine"
    -- without ngx.thread.wait on several threads (purecloud.scheduler.host_threads).
    event = function()
      local sema = require("ngx.semaphore").new()
      return { post = function() sema:post(1) end, wait = function(t) return sema:wait(t) end }
    end,
  }
  -- A client given only `transport = io.transport` still runs batches and
  -- pagers as threads.
  require("purecloud.threads").register(transport, threads)
  return { transport = transport, sleep = function(s) return ngx.sleep(s) end, now = now, threads = threads }
end

--- Check client options against what this transport can honour; raises for
-- the ones it cannot and returns the options for `new`.
-- @tparam table opts client options (`purecloud.new`)
-- @return { verify = bool }
function M.check_options(opts)
  opts = opts or {}
  if opts.proxy ~= nil then
    usage("purecloud: option 'proxy' is not supported by the nginx transport (cosockets connect directly); "
      .. "remove it or use the libcurl transport outside request handlers")
  end
  if opts.ca_path ~= nil then
    usage("purecloud: option 'ca_path' is not supported by the nginx transport; set the trusted CAs with nginx's "
      .. "lua_ssl_trusted_certificate directive instead")
  end
  if opts.ca_file ~= nil then
    usage("purecloud: option 'ca_file' cannot be set per socket in nginx; put the CA file in nginx's "
      .. "lua_ssl_trusted_certificate directive (with lua_ssl_verify_depth) and remove the option")
  end
  -- Mutual TLS: a client certificate per connection through
  -- tcpsock:setclientcert (lua-nginx-module 0.10.20+ with lua-resty-core;
  -- Debian 12 ships 0.10.23) from PEM files parsed once by ngx.ssl, which
  -- reads no encrypted key. Where that is missing, or for a key with a pass
  -- phrase, nginx's own directives do it.
  local DIRECTIVES = "lua_ssl_certificate and lua_ssl_certificate_key (with lua_ssl_password_file for a key "
    .. "with a pass phrase) for cosockets, or proxy_ssl_certificate and proxy_ssl_certificate_key in a "
    .. "proxy_pass location"
  if opts.client_key_password ~= nil then
    usage("purecloud: option 'client_key_password' is not supported by the nginx transport (ngx.ssl reads no "
      .. "encrypted key): give a key file without a pass phrase (openssl pkey -in key.pem -out clear.pem, "
      .. "mode 0600), or let nginx present the certificate: " .. DIRECTIVES)
  end
  if opts.client_key ~= nil and opts.client_cert == nil then
    usage("purecloud: option 'client_key' needs 'client_cert'")
  end
  if opts.client_cert ~= nil and not M.client_certs() then
    usage("purecloud: option 'client_cert' needs tcpsock:setclientcert (lua-nginx-module 0.10.20 or later "
      .. "with lua-resty-core), which this nginx lacks; let nginx present the certificate: " .. DIRECTIVES)
  end
  -- (read and parsed here, at `purecloud.new`, so a bad file is its error)
  return { verify = opts.verify ~= false, client_cert = opts.client_cert, client_key = opts.client_key,
           identity = M.client_identity(opts) }
end


local cached = {}

--- The I/O table for the current nginx context, or nil outside nginx or in a
-- phase without cosockets (init, init_worker, set, filters, log). One per
-- worker (per `verify` setting), created on first use.
-- @tparam[opt] table opts client options: checked with `check_options`
function M.auto(opts)
  if not (ngx and ngx.get_phase and ngx.socket and ngx.thread) then return nil end
  local ok, phase = pcall(ngx.get_phase)
  if not ok or not COSOCKET_PHASES[phase] then return nil end
  local o = M.check_options(opts)
  local key = (o.verify and "verify" or "noverify") .. "|" .. tostring(o.client_cert) .. "|" .. tostring(o.client_key)
  if not cached[key] then cached[key] = M.new(o) end
  return cached[key]
end

return M
