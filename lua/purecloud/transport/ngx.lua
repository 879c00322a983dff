--- Non-blocking I/O for nginx / OpenResty hosts (lua-nginx-module).
--
--     local purecloud = require "purecloud"
--     local io = require("purecloud.transport.ngx").new{ ssl_verify = true }
--     local client = purecloud.new{ client_id = …, client_secret = …,
--                                   transport = io.transport, sleep = io.sleep, now = io.now }
--
-- The transport speaks HTTP/1.1 over `ngx.socket.tcp` cosockets, so a
-- request yields to nginx's event loop instead of blocking the worker (the
-- libcurl transport would freeze every request of the worker). It is called
-- from Lua by the request loop, never from C, so yielding is allowed under
-- LuaJIT. Connections go back to the cosocket keep-alive pool.
--
-- Verifying TLS needs nginx's `lua_ssl_trusted_certificate`; host names need
-- a `resolver` directive. Not available in init_by_lua* (no cosockets there).
-- @module purecloud.transport.ngx
local ngx = ngx -- luacheck: ignore 113

local M = {}

local function parse_url(url)
  local scheme, host, port, path = url:match("^(https?)://([^/:]+):?(%d*)(.*)$")
  if not scheme then return nil end
  port = tonumber(port) or (scheme == "https" and 443 or 80)
  if path == "" then path = "/" end
  return scheme, host, port, path
end

local function terr(kind, message, sent)
  local core = require "purecloud.core"
  return core.error{ kind = kind, message = message, sent = sent }
end

-- Read a chunked body.
local function read_chunked(sock)
  local parts = {}
  while true do
    local line, err = sock:receive("*l")
    if not line then return nil, err end
    local size = tonumber(line:match("^%x+"), 16)
    if not size then return nil, "bad chunk size" end
    if size == 0 then
      repeat
        line, err = sock:receive("*l")
        if not line then return nil, err end
      until line == ""
      return table.concat(parts)
    end
    local data
    data, err = sock:receive(size)
    if not data then return nil, err end
    parts[#parts + 1] = data
    sock:receive(2) -- CRLF after each chunk
  end
end

--- Make the I/O functions.
-- @tparam[opt] table opts { ssl_verify = true, pool_size = 16, keepalive = 60 (seconds) }
-- @return { transport, sleep, now }
function M.new(opts)
  opts = opts or {}
  local verify = opts.ssl_verify ~= false
  local keepalive_ms = (opts.keepalive or 60) * 1000
  local pool_size = opts.pool_size or 16

  local function transport(req)
    local scheme, host, port, path = parse_url(req.url)
    if not scheme then return nil, terr("transport", "bad URL " .. tostring(req.url), false) end
    local sock = ngx.socket.tcp()
    local ct, t = (req.connect_timeout or 10) * 1000, (req.timeout or 30) * 1000
    sock:settimeouts(ct, t, t)
    local ok, err = sock:connect(host, port)
    if not ok then
      return nil, terr(err == "timeout" and "timeout" or "transport", "connect " .. host .. ": " .. err, false)
    end
    if scheme == "https" and sock:getreusedtimes() == 0 then
      ok, err = sock:sslhandshake(nil, host, verify)
      if not ok then return nil, terr("transport", "TLS handshake with " .. host .. ": " .. err, false) end
    end
    local lines = { req.method .. " " .. path .. " HTTP/1.1", "Host: " .. host }
    local has_len = false
    for k, v in pairs(req.headers or {}) do
      if k:lower() == "content-length" then has_len = true end
      lines[#lines + 1] = k .. ": " .. v
    end
    if req.body and not has_len then lines[#lines + 1] = "Content-Length: " .. #req.body end
    if not req.body and (req.method == "POST" or req.method == "PATCH") then
      lines[#lines + 1] = "Content-Length: 0"
    end
    lines[#lines + 1] = ""
    lines[#lines + 1] = req.body or ""
    local bytes
    bytes, err = sock:send(table.concat(lines, "\r\n"))
    if not bytes then return nil, terr(err == "timeout" and "timeout" or "transport", "send: " .. err, true) end

    local status_line
    status_line, err = sock:receive("*l")
    if not status_line then
      return nil, terr(err == "timeout" and "timeout" or "transport", "receive: " .. err, true)
    end
    local status = tonumber(status_line:match("^HTTP/1%.%d (%d%d%d)"))
    if not status then return nil, terr("transport", "bad status line", true) end
    local headers = {}
    while true do
      local line
      line, err = sock:receive("*l")
      if not line then return nil, terr("transport", "receive headers: " .. err, true) end
      if line == "" then break end
      local k, v = line:match("^([^:]+):%s*(.-)%s*$")
      if k then
        k = k:lower()
        headers[k] = headers[k] and (headers[k] .. ", " .. v) or v
      end
    end
    local body = ""
    if req.method ~= "HEAD" and status ~= 204 and status ~= 304 then
      if (headers["transfer-encoding"] or ""):lower():find("chunked") then
        body, err = read_chunked(sock)
      elseif headers["content-length"] then
        local n = tonumber(headers["content-length"])
        if n and n > 0 then body, err = sock:receive(n) end
      else
        body, err = sock:receive("*a")
        headers.connection = "close"
      end
      if not body then
        return nil, terr(err == "timeout" and "timeout" or "transport", "receive body: " .. err, true)
      end
    end
    if (headers.connection or ""):lower() == "close" then
      sock:close()
    else
      sock:setkeepalive(keepalive_ms, pool_size)
    end
    return { status = status, headers = headers, body = body }
  end

  return {
    transport = transport,
    sleep = function(s) return ngx.sleep(s) end,
    now = function()
      ngx.update_time()
      return ngx.now()
    end,
  }
end

return M
