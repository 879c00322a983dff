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
--  * a header name or value with CR, LF or NUL is refused (nothing is sent);
--  * one deadline per request (`req.timeout`, default 30 s) covers connect,
--    TLS, send, headers and body — a server trickling 1 byte/s ends there;
--  * the response body is capped at `req.max_body` (default 64 MiB): a larger
--    `Content-Length` is refused before reading, a chunked or read-to-close
--    body is stopped as soon as it passes the cap (error `reason = "too_large"`, never retried);
--  * at most 100 response header lines and 64 KiB of head; chunk sizes are
--    validated and the CRLF after each chunk is checked;
--  * `Host` carries a non-default port;
--  * a failure after the request may have reached the server is
--    `sent = true, outcome = "unknown"`. A request that found its reused
--    keep-alive connection dead before any response byte is re-sent once on
--    a fresh connection only when it is idempotent (not `req.once`): a POST
--    or PATCH is never re-sent by the transport.
--
-- TLS: the server certificate is verified with SNI and the host name unless
-- `verify = false`; the trusted CAs are nginx's `lua_ssl_trusted_certificate`
-- (a per-socket CA file does not exist), host names need a `resolver`.
-- Cosockets do not exist in init_by_lua*, init_worker_by_lua*, set_by_lua*,
-- header/body filters and log_by_lua*.
-- @module purecloud.transport.ngx
local ngx = ngx -- luacheck: ignore 113

local M = {}

M.DEFAULT_MAX_BODY = 64 * 1024 * 1024
M.MAX_HEADER_LINES = 100
M.MAX_HEAD_BYTES = 64 * 1024
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
  local core = require "purecloud.core"
  local e = { kind = kind, message = message, sent = sent }
  if sent then e.outcome = "unknown" end
  for k, v in pairs(extra or {}) do e[k] = v end
  return core.error(e)
end

local function now()
  ngx.update_time()
  return ngx.now()
end

-- Header names are HTTP tokens; values may not hold CR, LF or NUL.
local function bad_header(k, v)
  if type(k) ~= "string" or k == "" or k:find("[^%w!#%$%%&'%*%+%-%.%^_`|~]") then
    return "header name " .. (type(k) == "string" and ("%q"):format(k:sub(1, 40)) or type(k)) .. " is not a valid token"
  end
  if type(v) ~= "string" and type(v) ~= "number" then
    return "header '" .. k .. "' has a " .. type(v) .. " value"
  end
  v = tostring(v)
  if v:find("[\r\n]") or v:find("\0", 1, true) then
    return "header '" .. k .. "' contains CR, LF or NUL (header injection refused)"
  end
end

-- Headers the transport writes itself; a caller's copy would disagree.
local OWN = { host = true, ["content-length"] = true, ["transfer-encoding"] = true, connection = true }

local function build_request(req, path, host_header)
  if type(req.method) ~= "string" or not req.method:match("^%u+$") then
    return nil, "bad method " .. tostring(req.method)
  end
  local lines = { req.method .. " " .. path .. " HTTP/1.1", "Host: " .. host_header }
  for k, v in pairs(req.headers or {}) do
    local bad = bad_header(k, v)
    if bad then return nil, bad end
    if not OWN[k:lower()] then lines[#lines + 1] = k .. ": " .. v end
  end
  local body = req.body
  if body ~= nil and type(body) ~= "string" then return nil, "body must be a string" end
  if body or req.method == "POST" or req.method == "PATCH" or req.method == "PUT" then
    lines[#lines + 1] = "Content-Length: " .. #(body or "")
  end
  lines[#lines + 1] = ""
  lines[#lines + 1] = body or ""
  return table.concat(lines, "\r\n")
end

-- A buffered reader over a cosocket that honours one absolute deadline: every
-- wait is bounded by the time left, and a trickle is cut off at the deadline.
local Reader = {}
Reader.__index = Reader

local function new_reader(sock, deadline)
  return setmetatable({ sock = sock, deadline = deadline, buf = "", got = 0 }, Reader)
end

function Reader:fill()
  local left = self.deadline - now()
  if left <= 0 then return nil, "timeout" end
  local ms = math.max(1, math.floor(left * 1000))
  self.sock:settimeouts(ms, ms, ms)
  local data, err = self.sock:receiveany(READ_SIZE)
  if not data then return nil, err end
  self.got = self.got + #data
  self.buf = self.buf .. data
  return true
end

-- One line (without its line ending); `limit` bytes at most.
function Reader:line(limit)
  while true do
    local i = self.buf:find("\n", 1, true)
    if i then
      if i - 1 > limit then return nil, "line too long" end
      local line = self.buf:sub(1, i - 1)
      self.buf = self.buf:sub(i + 1)
      return (line:gsub("\r$", ""))
    end
    if #self.buf > limit then return nil, "line too long" end
    local ok, err = self:fill()
    if not ok then return nil, err end
  end
end

-- Exactly n bytes.
function Reader:bytes(n)
  local parts, have = {}, 0
  while true do
    local need = n - have
    if #self.buf >= need then
      parts[#parts + 1] = self.buf:sub(1, need)
      self.buf = self.buf:sub(need + 1)
      return table.concat(parts)
    end
    if #self.buf > 0 then
      parts[#parts + 1] = self.buf
      have = have + #self.buf
      self.buf = ""
    end
    local ok, err = self:fill()
    if not ok then return nil, err end
  end
end

-- Everything until the peer closes, at most `cap` bytes.
function Reader:rest(cap)
  local parts, have = { self.buf }, #self.buf
  self.buf = ""
  while true do
    if have > cap then return nil, "oversize" end
    local left = self.deadline - now()
    if left <= 0 then return nil, "timeout" end
    local ms = math.max(1, math.floor(left * 1000))
    self.sock:settimeouts(ms, ms, ms)
    local data, err = self.sock:receiveany(READ_SIZE)
    if not data then
      if err == "closed" then return table.concat(parts) end
      return nil, err
    end
    self.got = self.got + #data
    parts[#parts + 1] = data
    have = have + #data
  end
end

-- Head: status line and headers (1xx interim responses skipped).
local function read_head(r)
  local head_bytes, status, headers, version
  repeat
    head_bytes = 0
    local line, err = r:line(8192)
    if not line then return nil, err end
    local v, code = line:match("^HTTP/(1%.[01]) (%d%d%d)[ ]?")
    if not v then return nil, "bad status line" end
    version, status, headers = v, tonumber(code), {}
    local count = 0
    while true do
      line, err = r:line(M.MAX_HEAD_BYTES)
      if not line then
        if err == "line too long" then return nil, "response header too large" end
        return nil, err
      end
      if line == "" then break end
      count = count + 1
      head_bytes = head_bytes + #line + 2
      if count > M.MAX_HEADER_LINES or head_bytes > M.MAX_HEAD_BYTES then
        return nil, "response has too many or too large headers (more than " .. M.MAX_HEADER_LINES
          .. " lines or " .. M.MAX_HEAD_BYTES .. " bytes)"
      end
      local k, val = line:match("^([^:%s]+):[ \t]*(.-)[ \t]*$")
      if not k then return nil, "malformed response header line" end
      k = k:lower()
      headers[k] = headers[k] and (headers[k] .. ", " .. val) or val
    end
  until status >= 200 or status == 101
  return status, headers, version
end

local function read_chunked(r, cap)
  local parts, total = {}, 0
  while true do
    local line, err = r:line(4096)
    if not line then return nil, err == "line too long" and "bad chunk size line" or err end
    local hex, ext = line:match("^(%x+)[ \t]*(.*)$")
    if not hex or (ext ~= "" and ext:sub(1, 1) ~= ";") or #hex > 15 then
      return nil, "bad chunk size"
    end
    local size = tonumber(hex, 16)
    if size == 0 then
      local count = 0
      repeat -- trailers
        line, err = r:line(8192)
        if not line then return nil, err end
        count = count + 1
        if count > M.MAX_HEADER_LINES then return nil, "too many trailer lines" end
      until line == ""
      return table.concat(parts)
    end
    total = total + size
    if total > cap then return nil, "oversize" end
    local data
    data, err = r:bytes(size)
    if not data then return nil, err end
    parts[#parts + 1] = data
    local crlf
    crlf, err = r:bytes(2)
    if not crlf then return nil, err end
    if crlf ~= "\r\n" then return nil, "missing CRLF after a chunk" end
  end
end

local function fail_kind(err)
  return err == "timeout" and "timeout" or "transport"
end

--- Make the I/O functions.
-- @tparam[opt] table opts { verify = true, pool_size = 16, keepalive = 60 (seconds) }
-- (`ssl_verify` is the older name of `verify`)
-- @return { transport, sleep, now, threads = { spawn, wait } }
function M.new(opts)
  opts = opts or {}
  if type(opts) ~= "table" then error("purecloud.transport.ngx.new: opts must be a table", 2) end
  local verify = opts.verify ~= false and opts.ssl_verify ~= false
  local keepalive_ms = (opts.keepalive or 60) * 1000
  local pool_size = opts.pool_size or 16

  -- One exchange on one connection. Returns res, or nil, err, retryable
  -- (retryable: the connection was reused and died before any response byte).
  local function exchange(req, scheme, host, port, wire, deadline, fresh)
    local sock = ngx.socket.tcp()
    local left = deadline - now()
    if left <= 0 then return nil, terr("timeout", "timed out before connecting to " .. host, false) end
    local ct = math.min(tonumber(req.connect_timeout) or 10, left)
    local ms = math.max(1, math.floor(ct * 1000))
    sock:settimeouts(ms, ms, ms)
    local ok, err = sock:connect(host, port)
    -- A fresh connection is wanted: drop pooled ones until a new one comes.
    for _ = 1, fresh and pool_size + 1 or 0 do
      if not ok or (sock:getreusedtimes() or 0) == 0 then break end
      sock:close()
      sock = ngx.socket.tcp()
      sock:settimeouts(ms, ms, ms)
      ok, err = sock:connect(host, port)
    end
    if not ok then
      return nil, terr(fail_kind(err), "connect " .. host .. ":" .. port .. ": " .. tostring(err), false)
    end
    local reused = (sock:getreusedtimes() or 0) > 0
    if scheme == "https" and not reused then
      left = deadline - now()
      ms = math.max(1, math.floor(left * 1000))
      sock:settimeouts(ms, ms, ms)
      ok, err = sock:sslhandshake(nil, host, verify)
      if not ok then
        sock:close()
        return nil, terr(fail_kind(err), "TLS handshake with " .. host .. ": " .. tostring(err), false)
      end
    end
    left = deadline - now()
    if left <= 0 then
      sock:close()
      return nil, terr("timeout", "timed out before sending to " .. host, false)
    end
    ms = math.max(1, math.floor(left * 1000))
    sock:settimeouts(ms, ms, ms)
    local bytes
    bytes, err = sock:send(wire)
    if not bytes then
      sock:close()
      return nil, terr(fail_kind(err), "send to " .. host .. ": " .. tostring(err) .. "; the request may have "
        .. "reached the server (outcome unknown): check before repeating it", true), reused and err ~= "timeout"
    end
    local r = new_reader(sock, deadline)
    local status, headers, version = read_head(r)
    if not status then
      err = headers
      sock:close()
      if r.got == 0 and err ~= "timeout" then
        return nil, terr("transport", "no response from " .. host .. " (" .. tostring(err) .. "); the request may "
          .. "have reached the server (outcome unknown): check before repeating it", true), reused
      end
      return nil, terr(fail_kind(err), "bad response from " .. host .. ": " .. tostring(err)
        .. (err == "timeout" and " (deadline of " .. tostring(req.timeout or 30) .. " s)" or ""), true)
    end
    local cap = tonumber(req.max_body) or M.DEFAULT_MAX_BODY
    local body, keep = "", true
    if req.method ~= "HEAD" and status ~= 204 and status ~= 304 and status >= 200 then
      local te = headers["transfer-encoding"]
      local cl = headers["content-length"]
      if te and te:lower():find("chunked", 1, true) then
        body, err = read_chunked(r, cap)
      elseif cl then
        local n = cl:match("^%d+$") and tonumber(cl)
        if not n or #cl > 15 then
          body, err = nil, "bad Content-Length"
        elseif n > cap then
          body, err = nil, "oversize"
        elseif n > 0 then
          body, err = r:bytes(n)
        end
      else
        body, err = r:rest(cap)
        keep = false
      end
      if not body then
        sock:close()
        if err == "oversize" then
          return nil, terr("transport", "response body larger than the " .. cap .. "-byte limit (max_body)", true,
            { reason = "too_large", status = status })
        end
        return nil, terr(fail_kind(err), "receive body from " .. host .. ": " .. tostring(err)
          .. (err == "timeout" and " (deadline of " .. tostring(req.timeout or 30) .. " s)" or ""), true)
      end
    end
    local conn = (headers.connection or ""):lower()
    if conn:find("close", 1, true) or (version == "1.0" and not conn:find("keep-alive", 1, true))
       or r.buf ~= "" then
      keep = false
    end
    if keep then sock:setkeepalive(keepalive_ms, pool_size) else sock:close() end
    return { status = status, headers = headers, body = body }
  end

  local function transport(req)
    if type(req) ~= "table" then error("purecloud.transport.ngx: request must be a table", 2) end
    local scheme, host, port, path, host_header = parse_url(req.url)
    if not scheme then return nil, terr("transport", "bad URL " .. ("%q"):format(tostring(req.url):sub(1, 200)), false) end
    local wire, bad = build_request(req, path, host_header)
    if not wire then return nil, terr("transport", "request refused: " .. bad, false) end
    local timeout = tonumber(req.timeout) or 30
    local deadline = now() + timeout
    local res, err, retryable = exchange(req, scheme, host, port, wire, deadline, false)
    if not res and retryable and not req.once then
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
    -- without ngx.thread.wait on several threads (purecloud.scheduler, rule 5).
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
    error("purecloud: option 'proxy' is not supported by the nginx transport (cosockets connect directly); "
      .. "remove it or use the libcurl transport outside request handlers", 3)
  end
  if opts.ca_path ~= nil then
    error("purecloud: option 'ca_path' is not supported by the nginx transport; set the trusted CAs with nginx's "
      .. "lua_ssl_trusted_certificate directive instead", 3)
  end
  if opts.ca_file ~= nil then
    error("purecloud: option 'ca_file' cannot be set per socket in nginx; put the CA file in nginx's "
      .. "lua_ssl_trusted_certificate directive (with lua_ssl_verify_depth) and remove the option", 3)
  end
  return { verify = opts.verify ~= false }
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
  local key = o.verify and "verify" or "noverify"
  if not cached[key] then cached[key] = M.new(o) end
  return cached[key]
end

return M
