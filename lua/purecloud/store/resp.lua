--- A small Redis client over nginx cosockets (RESP2), for `purecloud.store.redis`
-- inside nginx when lua-resty-redis is not installed; and the adapter over
-- lua-resty-redis when it is. Both give the hiredis handle's shape:
-- `conn:call(arg, …)` → value | nil, message, kind (`io`, `auth`, `reply`);
-- (a cosocket's "timeout" error is kind `timeout`); a bulk or status reply is a string, an integer an integer, a nil reply
-- false, an array a table.
--
-- Each call takes a connection from the worker's keep-alive pool (one pool
-- per host, port, db and credentials), authenticates and selects the db on
-- a new one only, sends one command, reads its reply and puts it back (or
-- closes it after an I/O error). Non-blocking: the cosocket yields to
-- nginx. Timeouts: `connect_timeout` to connect, `timeout` for each send
-- and read. A phase without cosockets (init_worker, log) fails the call
-- with kind `io`: the store then falls back.
-- @module purecloud.store.resp
local core = require "purecloud.core"

local M = {}
local concat, tostring, tonumber, pcall = table.concat, tostring, tonumber, pcall

local function encode(n, ...)
  local parts = { "*" .. n .. "\r\n" }
  for i = 1, n do
    local a = tostring((select(i, ...)))
    parts[#parts + 1] = "$" .. #a .. "\r\n" .. a .. "\r\n"
  end
  return concat(parts)
end
M.encode = function(...) return encode(select("#", ...), ...) end

local MAX_DEPTH = 4

-- One reply from `sock` (receive as cosockets do it).
local function read(sock, depth)
  local line, err = sock:receive("*l")
  if not line then return nil, "read: " .. tostring(err), err == "timeout" and "timeout" or "io" end
  local t, rest = line:sub(1, 1), line:sub(2)
  if t == "+" then return rest end
  if t == "-" then return nil, rest, "reply" end
  if t == ":" then return tonumber(rest) end
  if t == "$" then
    local n = tonumber(rest)
    if not n then return nil, "protocol error", "io" end
    if n < 0 then return false end
    local data, e = sock:receive(n + 2)
    if not data then return nil, "read: " .. tostring(e), "io" end
    return data:sub(1, n)
  end
  if t == "*" then
    local n = tonumber(rest)
    if not n then return nil, "protocol error", "io" end
    if n < 0 then return false end
    local out = {}
    for i = 1, n do
      local v, e, kind = read(sock, depth + 1)
      if v == nil then
        if kind == "io" then return nil, e, kind end
        v = false
      end
      out[i] = depth < MAX_DEPTH and v or false
    end
    return out
  end
  return nil, "protocol error (unexpected reply type)", "io"
end

local Conn = {}
Conn.__index = Conn

--- A pooled cosocket connection factory ({ host, port, username, password, db, timeout, connect_timeout, pool_size }).
function M.new(conf)
  local cred = conf.password and core.sha256((conf.username or "") .. "\0" .. conf.password)
    :gsub(".", function(c) return ("%02x"):format(c:byte()) end):sub(1, 16) or "-"
  return setmetatable({ conf = conf, pool = ("purecloud.redis:%s:%d:%d:%s"):format(conf.host, conf.port,
    conf.db, cred) }, Conn)
end

local function handshake(self, sock)
  local c = self.conf
  if c.password then
    local cmd = c.username and encode(3, "AUTH", c.username, c.password) or encode(2, "AUTH", c.password)
    local ok, err = sock:send(cmd)
    if not ok then return nil, "send: " .. tostring(err), "io" end
    local v, e, kind = read(sock, 0)
    if v == nil then return nil, kind == "reply" and ("AUTH refused: " .. e) or e, kind == "reply" and "auth" or kind end
  end
  if c.db and c.db ~= 0 then
    local ok, err = sock:send(encode(2, "SELECT", c.db))
    if not ok then return nil, "send: " .. tostring(err), "io" end
    local v, e, kind = read(sock, 0)
    if v == nil then return nil, kind == "reply" and ("SELECT refused: " .. e) or e, kind == "reply" and "auth" or kind end
  end
  return true
end

local function call(self, ...)
  local c = self.conf
  local sock = ngx.socket.tcp() -- luacheck: ignore 113
  sock:settimeouts(c.connect_timeout * 1000, c.timeout * 1000, c.timeout * 1000)
  local ok, err = sock:connect(c.host, c.port, { pool = self.pool, pool_size = c.pool_size or 32 })
  if not ok then return nil, "connect: " .. tostring(err), "io" end
  if (sock:getreusedtimes() or 0) == 0 then
    local hok, e, kind = handshake(self, sock)
    if not hok then sock:close() return nil, e, kind end
  end
  local sent, serr = sock:send(encode(select("#", ...), ...))
  if not sent then sock:close() return nil, "send: " .. tostring(serr), "io" end
  local v, e, kind = read(sock, 0)
  if v == nil and kind ~= "reply" then sock:close() else sock:setkeepalive(60000, c.pool_size or 32) end
  return v, e, kind
end

--- One command: value | nil, message, kind.
function Conn:call(...)
  local ok, v, e, kind = pcall(call, self, ...)
  if not ok then return nil, tostring(v), "io" end -- no cosockets in this phase, or a raise
  return v, e, kind
end
--- Pooled: a call never finds a connection of its own to reuse.
function Conn.connected() return false end
function Conn.close() end

-- The same shape over lua-resty-redis (its documented API: `redis:new()`
-- → red | nil, err; `red:set_timeouts(connect, send, read)` in ms, or
-- `red:set_timeout(ms)` before v0.28; `red:connect(host, port, { pool,
-- pool_size })` → 1 | nil, err; `red:get_reused_times()`; each command a
-- method of its lower-case name, returning its reply, `false, err` for an
-- error reply, `nil, err` for a failure ("timeout", "closed", …), `ngx.null`
-- for a nil reply, `{ false, err }` for an error element of an array;
-- `red:set_keepalive(idle_ms, pool_size)`, `red:close()`). Its module
-- makes a command method for any name it is asked (lazily, by __index), so
-- an optional method is looked for with rawget, never by indexing.
local Resty = {}
Resty.__index = Resty

function M.over_resty(resty, conf)
  local self = M.new(conf)
  self.resty = resty
  return setmetatable(self, Resty)
end

-- The module's own methods: never sent as a command by `call`.
local NOT_COMMANDS = { new = true, connect = true, close = true, set_keepalive = true, set_timeout = true,
                       set_timeouts = true, get_reused_times = true, read_reply = true, init_pipeline = true,
                       commit_pipeline = true, cancel_pipeline = true, array_to_hash = true, add_commands = true,
                       register_module_prefix = true, subscribe = true, psubscribe = true }

local function failure(what, err)
  return nil, what .. ": " .. tostring(err), err == "timeout" and "timeout" or "io"
end

-- ngx.null → false, an error element → false, as the RESP client answers.
local function plain(v, null, depth)
  if v == null then return false end
  if type(v) == "table" then
    if v[1] == false then return false end -- { false, err }: an error element
    for i = 1, #v do v[i] = depth < MAX_DEPTH and plain(v[i], null, depth + 1) or false end
  end
  return v
end

local function resty_call(self, cmd, ...)
  local c = self.conf
  local name = tostring(cmd):lower()
  if NOT_COMMANDS[name] then return nil, "not a Redis command: " .. name, "reply" end
  local red, nerr = self.resty:new()
  if not red then return failure("new", nerr) end
  if rawget(self.resty, "set_timeouts") then
    red:set_timeouts(c.connect_timeout * 1000, c.timeout * 1000, c.timeout * 1000)
  else -- lua-resty-redis before 0.28: one timeout for the connect and each operation
    red:set_timeout(math.max(c.connect_timeout, c.timeout) * 1000)
  end
  local ok, err = red:connect(c.host, c.port, { pool = self.pool, pool_size = c.pool_size or 32 })
  if not ok then return failure("connect", err) end
  local reused, rerr = red:get_reused_times()
  if not reused then red:close() return failure("connect", rerr) end
  if reused == 0 then -- a new connection: authenticate, select the db
    if c.password then
      local r, e
      if c.username then r, e = red:auth(c.username, c.password) else r, e = red:auth(c.password) end
      if not r then
        red:close()
        if r == false then return nil, "AUTH refused: " .. tostring(e), "auth" end -- an error reply
        return failure("auth", e) -- no answer (timeout, closed): Redis is unavailable, not refusing
      end
    end
    if c.db and c.db ~= 0 then
      local r, e = red:select(c.db)
      if not r then
        red:close()
        if r == false then return nil, "SELECT refused: " .. tostring(e), "auth" end
        return failure("select", e)
      end
    end
  end
  local v, e = red[name](red, ...)
  if v == nil then red:close() return failure("command", e) end
  red:set_keepalive(60000, c.pool_size or 32)
  if v == false then return nil, tostring(e), "reply" end -- an error reply
  return plain(v, ngx.null, 0) -- luacheck: ignore 113
end

function Resty:call(...)
  local ok, v, e, kind = pcall(resty_call, self, ...)
  if not ok then return nil, tostring(v), "io" end
  return v, e, kind
end
function Resty.connected() return false end
function Resty.close() end

return M
