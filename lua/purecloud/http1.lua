--- HTTP/1.1 without I/O: request serialisation and a response reader.
--
-- The cosocket transport (`purecloud.transport.ngx`) drives it: it writes
-- what `M.request` returns, feeds the reader the bytes it receives (and the
-- end of the stream), and asks it for the next event. The reader does no
-- I/O, so every rule below is tested byte by byte without a socket
-- (`spec/protocol/http1_spec.lua`, `#hermetic`, and `fuzz/http1.lua`) and
-- over real sockets (`spec/hostile/framing_spec.lua`). The libcurl transport
-- has its own parser (libcurl's); that spec prints libcurl's answer to the
-- same corpus beside ours.
--
-- The grammar, each rule with its reason (RFC 9112 unless marked):
--
--  1. **Line endings.** A line ends at LF; one CR right before it is part of
--     the ending. A CR anywhere else is refused (§2.2: a bare CR is invalid;
--     it is never a line break and never part of a value handed on). A lone
--     LF is accepted (§2.2 allows it; libcurl accepts it). The one rule holds
--     for the status line, header lines, chunk-size lines, the line after a
--     chunk's data and trailer lines alike (`take_line`).
--  2. **Status line.** `HTTP/1.0` or `HTTP/1.1`, SP, three digits in
--     100–599, then nothing or SP and a reason of visible characters, SP,
--     HTAB or obs-text (§4). 1xx responses are interim: skipped, at most
--     `MAX_INTERIM` of them; an unasked-for 101 is refused (we never ask to
--     upgrade).
--  3. **Field lines.** A token, a colon with no whitespace before it (§5.1),
--     then a value of visible characters, SP, HTAB or obs-text, its leading
--     and trailing whitespace dropped; NUL and other controls refused (§5.5).
--     A line starting with SP or HTAB (obs-fold) continues the previous
--     field, joined with one SP (§5.2: a user agent replaces it with SP);
--     before the first field it is refused (§2.2). Repeated fields are
--     joined with ", " (RFC 9110 §5.3). Limits: `MAX_HEADER_LINES` lines,
--     `MAX_HEAD_BYTES` bytes (a head past them: `reason = "too_large"`).
--  4. **Transfer-Encoding** is a comma-separated list of tokens compared
--     case-insensitively as whole tokens (RFC 9110 §5.6.1: empty elements
--     ignored). Only `chunked` is decoded and only as the one and last
--     coding (§6.1: applied once, last); anything else — another coding,
--     `chunked` not last or twice, an empty list — is refused. With
--     `Content-Length` as well, the response is refused (§6.3 ¶3: "ought to
--     be handled as an error"; a smuggling attempt). In an HTTP/1.0
--     response it is refused (§6.1: treat the framing as faulty).
--  5. **Content-Length** is `1*DIGIT` (at most 15 digits); a list of
--     values is accepted only when every value is the same (RFC 9110 §8.6);
--     a sign, a hex or decimal point, whitespace inside the digits or an
--     empty element is refused. SP and HTAB around the value and around a
--     list's commas are OWS (§5.1, RFC 9110 §5.6.1) and dropped.
--  6. **Chunks.** `chunk-size [ chunk-ext ] line-end` (§7.1): 1 to 15
--     significant hex digits (no overflow: see `STEP.chunk_size`), then
--     `*( BWS ";" BWS ext-name [ BWS "=" BWS ( token / quoted-string ) ] )`,
--     nothing else — a quoted value may hold `;`. The line after a chunk's
--     data is empty. Trailer lines follow the field-line rule and are
--     dropped (§7.1.2). The sum of the chunks is capped by `max_body`.
--  7. **The body's end** (§6.3): no body for HEAD, 1xx, 204 and 304; a
--     `Transfer-Encoding` or a non-zero `Content-Length` on a 204 is
--     refused (RFC 9110 §6.4.1, §8.6: a server must not send them); else
--     chunked, else `Content-Length`, else everything until the peer closes.
--  8. **Reuse.** The reader says `reusable` only when the response's end
--     was found exactly from its framing, nothing followed it, and neither
--     `Connection: close` (a token of the list) nor HTTP/1.0 without
--     `keep-alive` said otherwise. After an error, a read to the close or a
--     limit, it is never reusable: the driver closes the connection, so a
--     malformed response can never leave bytes that answer the next call.
--
-- Errors are `{ reason = …, message = … }`: `"framing"` (any rule above:
-- the transport reports `kind = "protocol"`), `"too_large"` (a limit),
-- `"eof"` (the peer closed before the end). The message is one line with
-- the offending bytes escaped and cut to `SHOW` bytes.
-- @module purecloud.http1
local core = require "purecloud.core"

local byte, find, sub, lower, concat = string.byte, string.find, string.sub, string.lower, table.concat
local tonumber, setmetatable, type, tostring, pairs = tonumber, setmetatable, type, tostring, pairs

local M = {}

M.MAX_HEADER_LINES = 100
M.MAX_HEAD_BYTES = 64 * 1024
M.MAX_STATUS_LINE = 8192
M.MAX_CHUNK_LINE = 4096
M.MAX_INTERIM = 10
M.DEFAULT_MAX_BODY = 64 * 1024 * 1024
local SHOW = 40

-- A token (RFC 9110 §5.6.2) as a Lua character class.
local TCHAR = "[%w!#%$%%&'%*%+%-%.%^_`|~]"
-- Bytes a field value, a reason phrase or a trailer may not hold (CTLs
-- except HTAB; CR is refused earlier by rule 1).
local BAD_VALUE_BYTE = "[%z\1-\8\10-\31\127]"

local function show(s)
  if #s > SHOW then s = sub(s, 1, SHOW) .. "..." end
  return core.one_line(s)
end

local function framing(what, bytes)
  return { reason = "framing", message = bytes and (what .. ": " .. show(bytes)) or what }
end

local function body_too_large(self, n)
  return { reason = "too_large", message = "response body " .. (n and ("of " .. n .. " bytes ") or "")
    .. "larger than the " .. self.cap .. "-byte limit (max_body)" }
end

-- ---- request serialisation ----------------------------------------------

-- Headers are checked by the one header rule (`core.check_header`, in C:
-- csrc/text.h), as a transport is handed them: the request layer already
-- refused what a caller may not send, so this only asserts it (the libcurl
-- transport gives the same reason). Authorization passes; the framing and
-- connection headers, which the serialiser writes itself, are refused.
local check_header = core.check_header

--- The bytes of a request.
-- @string method an upper-case method
-- @string target the request target (path and query)
-- @string host the `Host` value
-- @tparam[opt] table headers name → value
-- @tparam[opt] string body
-- @return the wire text, or nil and why
function M.request(method, target, host, headers, body)
  if type(method) ~= "string" or not find(method, "^%u+$") then
    return nil, "bad method " .. tostring(method)
  end
  local lines = { method .. " " .. target .. " HTTP/1.1", "Host: " .. host }
  for k, v in pairs(headers or {}) do
    local ok, why = check_header(k, v, true)
    if not ok then return nil, why end
    lines[#lines + 1] = k .. ": " .. v
  end
  if body ~= nil and type(body) ~= "string" then return nil, "body must be a string" end
  if body or method == "POST" or method == "PATCH" or method == "PUT" then
    lines[#lines + 1] = "Content-Length: " .. #(body or "")
  end
  lines[#lines + 1] = ""
  lines[#lines + 1] = body or ""
  return concat(lines, "\r\n")
end

-- ---- the response reader -------------------------------------------------

local Reader = {}
Reader.__index = Reader

--- A reader for the response to one request.
-- @tparam[opt] table opts { method = the request's method (HEAD has no body),
--   max_body = bytes (default 64 MiB) }
function M.reader(opts)
  opts = opts or {}
  return setmetatable({
    method = opts.method, cap = tonumber(opts.max_body) or M.DEFAULT_MAX_BODY,
    buf = "", pos = 1, eof = false, got = 0,
    state = "status", interim = 0, lines = 0, head_bytes = 0,
    parts = {}, body_len = 0, left = 0, reusable = false,
  }, Reader)
end

--- Give the reader bytes received from the peer.
function Reader:feed(data)
  self.got = self.got + #data
  if self.pos > #self.buf then
    self.buf, self.pos = data, 1
  else
    self.buf, self.pos = sub(self.buf, self.pos) .. data, 1
  end
end

--- Tell the reader the peer closed the stream.
function Reader:feed_eof() self.eof = true end

-- Rule 1: the next line without its ending, or nil (need more bytes), or
-- false and an error.
local function take_line(self, limit, what)
  local buf, pos = self.buf, self.pos
  local lf = find(buf, "\n", pos, true)
  if (lf and lf - pos or #buf - pos + 1) > limit then
    return false, { reason = "too_large", message = (what or "line") .. " longer than " .. limit .. " bytes" }
  end
  if not lf then return nil end
  local stop = lf - 1
  if stop >= pos and byte(buf, stop) == 13 then stop = stop - 1 end
  local line = sub(buf, pos, stop)
  self.pos = lf + 1
  if find(line, "\r", 1, true) then return false, framing("bare CR in a line", line) end
  return line
end

-- Rule 3: one field line into `into` (or a fold onto the last one).
local function field_line(self, line, into)
  local c = byte(line, 1)
  if c == 32 or c == 9 then
    if not self.last then return framing("whitespace-led line before the first field", line) end
    local v = line:match("^[ \t]*(.-)[ \t]*$")
    if find(v, BAD_VALUE_BYTE) then return framing("control byte in a field value", line) end
    into[self.last] = into[self.last] .. " " .. v
    return
  end
  local name, value = line:match("^(" .. TCHAR .. "+):[ \t]*(.-)[ \t]*$")
  if not name then return framing("malformed field line", line) end
  if find(value, BAD_VALUE_BYTE) then return framing("control byte in a field value", line) end
  name = lower(name)
  local had = into[name]
  into[name] = had and (had .. ", " .. value) or value
  self.last = name
end

-- A comma-separated list's elements, lower-cased, empty ones dropped
-- (RFC 9110 §5.6.1); nil when an element is not `token *( OWS ";" … )`.
local function tokens(value)
  local out = {}
  for elem in (value .. ","):gmatch("([^,]*),") do
    elem = elem:match("^[ \t]*(.-)[ \t]*$")
    if elem ~= "" then
      local t = elem:match("^(" .. TCHAR .. "+)")
      if not t then return nil end
      out[#out + 1] = lower(t)
      -- Transfer parameters (`; name=value`) are allowed by the grammar and
      -- ignored: no coding we decode takes one.
      local rest = sub(elem, #t + 1)
      if rest ~= "" and not rest:match("^[ \t]*;") then return nil end
    end
  end
  return out
end

-- Rule 5: the length, or nil and an error.
local function content_length(value)
  local n
  for elem in (value .. ","):gmatch("([^,]*),") do
    local d = elem:match("^[ \t]*(%d+)[ \t]*$")
    if not d or #d > 15 then return nil, framing("bad Content-Length", value) end
    local v = tonumber(d)
    if n and v ~= n then return nil, framing("Content-Length values differ", value) end
    n = v
  end
  return n
end

-- Rule 6: the chunk-ext after the size, "" included.
local function chunk_ext_ok(s)
  local i, n = 1, #s
  while i <= n do
    i = (find(s, "[^ \t]", i)) or n + 1 -- BWS
    if byte(s, i) ~= 59 then return false end -- ";"
    i = (find(s, "[^ \t]", i + 1)) or n + 1
    local _, e = find(s, "^" .. TCHAR .. "+", i)
    if not e then return false end -- ext-name
    i = e + 1
    local j = (find(s, "[^ \t]", i)) or n + 1
    if byte(s, j) == 61 then -- "="
      i = (find(s, "[^ \t]", j + 1)) or n + 1
      if byte(s, i) == 34 then -- quoted-string
        i = i + 1
        while true do
          local c = byte(s, i)
          if c == nil then return false end
          if c == 34 then i = i + 1 break end
          if c == 92 then -- quoted-pair
            local q = byte(s, i + 1)
            if not q or (q < 32 and q ~= 9) or q == 127 then return false end
            i = i + 2
          elseif (c < 32 and c ~= 9) or c == 127 then
            return false
          else
            i = i + 1
          end
        end
      else
        _, e = find(s, "^" .. TCHAR .. "+", i)
        if not e then return false end
        i = e + 1
      end
    end
  end
  return true
end

-- Rule 7: how the body of the head just read ends: "none", "chunked",
-- "length" (self.left set), "close"; or nil and an error.
local function framing_of(self)
  local h, status = self.headers, self.status
  local te, cl = h["transfer-encoding"], h["content-length"]
  local n
  if cl then
    local err
    n, err = content_length(cl)
    if not n then return nil, err end
  end
  if status == 204 then
    if te or (n and n ~= 0) then return nil, framing("a 204 response with a body length", te or cl) end
    return "none"
  end
  if self.method == "HEAD" or status == 304 then return "none" end
  if te then
    if self.version == "1.0" then return nil, framing("Transfer-Encoding in an HTTP/1.0 response", te) end
    if cl then return nil, framing("both Transfer-Encoding and Content-Length", te .. " / " .. cl) end
    local list = tokens(te)
    if not list or #list ~= 1 or list[1] ~= "chunked" then
      return nil, framing("unsupported Transfer-Encoding (only a lone, last 'chunked' is read)", te)
    end
    return "chunked"
  end
  if n then
    if n > self.cap then return nil, body_too_large(self, n) end
    self.left = n
    return "length"
  end
  return "close"
end

local function keep_alive(self)
  local list = tokens(self.headers.connection or "") or { "close" }
  local keep = self.version == "1.1"
  for i = 1, #list do
    if list[i] == "close" then return false end
    if list[i] == "keep-alive" then keep = true end
  end
  return keep
end

local function body_part(self, s)
  self.body_len = self.body_len + #s
  if self.body_len > self.cap then return body_too_large(self) end
  self.parts[#self.parts + 1] = s
end

-- Take up to self.left bytes of body from the buffer.
local function take_bytes(self)
  local have = #self.buf - self.pos + 1
  if have <= 0 then return end
  local n = have < self.left and have or self.left
  local err = body_part(self, sub(self.buf, self.pos, self.pos + n - 1))
  self.pos = self.pos + n
  self.left = self.left - n
  return err
end

local AFTER_HEAD = { none = "done", chunked = "chunk_size", length = "body", close = "rest" }

-- The states: each step takes what it can from the buffer and returns the
-- next state, or nil (it needs more bytes), or false and an error. The
-- table does the dispatch (`Reader:next`); `at_eof` says what the end of the
-- stream means in each state.
local STEP = {}

STEP.status = function(self)
  local line, err = take_line(self, M.MAX_STATUS_LINE, "status line")
  if not line then return line, err end
  local v, code, rest = line:match("^HTTP/1%.([01]) (%d%d%d)(.*)$")
  if not v then return false, framing("bad status line", line) end
  if rest ~= "" and (byte(rest, 1) ~= 32 or find(rest, BAD_VALUE_BYTE)) then
    return false, framing("bad status line", line)
  end
  local status = tonumber(code)
  if status < 100 or status > 599 then return false, framing("status code out of range", line) end
  if status == 101 then return false, framing("an unrequested 101 Switching Protocols", line) end
  self.version, self.status, self.headers, self.last = "1." .. v, status, {}, nil
  return "fields"
end

STEP.fields = function(self)
  while true do
    local line, err = take_line(self, M.MAX_HEAD_BYTES, "response header line")
    if not line then return line, err end
    if line == "" then
      if self.status < 200 then
        self.interim = self.interim + 1
        if self.interim > M.MAX_INTERIM then return false, framing("more than " .. M.MAX_INTERIM .. " interim responses") end
        return "status"
      end
      local how
      how, err = framing_of(self)
      if not how then return false, err end
      self.framing = how
      return AFTER_HEAD[how]
    end
    self.lines = self.lines + 1
    self.head_bytes = self.head_bytes + #line + 2
    if self.lines > M.MAX_HEADER_LINES or self.head_bytes > M.MAX_HEAD_BYTES then
      return false, { reason = "too_large", message = "response has too many or too large headers (more than "
        .. M.MAX_HEADER_LINES .. " lines or " .. M.MAX_HEAD_BYTES .. " bytes)" }
    end
    err = field_line(self, line, self.headers)
    if err then return false, err end
  end
end

-- The bytes a length announced (a Content-Length, a chunk's size), then `after`.
local function counted(after)
  return function(self)
    local err = take_bytes(self)
    if err then return false, err end
    if self.left == 0 then return after end
  end
end

STEP.body = counted("done")

STEP.chunk_size = function(self)
  local line, err = take_line(self, M.MAX_CHUNK_LINE)
  if not line then
    if err and err.reason == "too_large" then return false, framing("chunk-size line too long") end
    return line, err
  end
  local zeros, hex, ext = line:match("^(0*)(%x*)(.*)$")
  -- At most 15 significant hex digits: 2^60 fits a Lua 5.4 integer (whose
  -- tonumber(s, 16) wraps around past 2^63) and is past any max_body.
  if zeros .. hex == "" or #hex > 15 or not chunk_ext_ok(ext) then
    return false, framing("bad chunk-size line", line)
  end
  local size = hex == "" and 0 or tonumber(hex, 16)
  if size == 0 then self.last = nil return "trailers" end
  if self.body_len + size > self.cap then return false, body_too_large(self) end
  self.left = size
  return "chunk_data"
end

STEP.chunk_data = counted("chunk_end")

STEP.chunk_end = function(self)
  local line, err = take_line(self, 2)
  if line == "" then return "chunk_size" end
  if line then return false, framing("bytes after a chunk's data", line) end
  if err then return false, framing("bytes after a chunk's data", sub(self.buf, self.pos, self.pos + SHOW)) end
end

STEP.trailers = function(self)
  local trailers = self.trailers or {}
  self.trailers = trailers
  while true do
    local line, err = take_line(self, M.MAX_HEAD_BYTES, "trailer line")
    if not line then return line, err end
    if line == "" then return "done" end
    self.lines = self.lines + 1
    if self.lines > 2 * M.MAX_HEADER_LINES then
      return false, { reason = "too_large", message = "more than " .. M.MAX_HEADER_LINES .. " trailer lines" }
    end
    err = field_line(self, line, trailers)
    if err then return false, err end
  end
end

STEP.rest = function(self)
  local have = #self.buf - self.pos + 1
  if have > 0 then
    local err = body_part(self, sub(self.buf, self.pos))
    self.buf, self.pos = "", 1
    if err then return false, err end
  end
end

local function finish(self, reusable)
  self.state, self.reusable = "done", reusable
  self.response = { status = self.status, headers = self.headers, body = concat(self.parts), version = self.version }
end

local function fail(self, err)
  self.state, self.err, self.reusable = "error", err, false
end

--- The next event: `"need_data"` (feed more bytes, or the end of the
-- stream), `"response", res` (`{ status, headers, body, version }`; then
-- `reader.reusable` says whether the connection may serve another request)
-- or `"error", err` (`{ reason, message }`).
function Reader:next()
  while true do
    local state = self.state
    if state == "done" then return "response", self.response end
    if state == "error" then return "error", self.err end
    local to, err = STEP[state](self)
    if to == false then
      fail(self, err)
    elseif to == "done" then
      finish(self, self.framing ~= "close" and self.pos > #self.buf and not self.eof and keep_alive(self))
    elseif to then
      self.state = to
    elseif not self.eof then
      return "need_data"
    elseif state == "rest" then -- rule 7: the peer's close ends the body
      finish(self, false)
    else
      fail(self, { reason = "eof", message = self.got == 0 and "connection closed with no response"
        or "connection closed before the response ended" })
    end
  end
end

return M
