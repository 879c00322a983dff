-- A fake `resty.redis` for spec/fleet/resty_adapter_spec.lua (hermetic: no
-- socket): the lua-resty-redis API as its README and lib/resty/redis.lua
-- document it, over an in-memory Redis of its own that runs the store's
-- server-side scripts. Only what purecloud.store.resp's adapter can call:
--
--   redis:new() → red | nil, err          red:set_timeouts(c, s, r) / red:set_timeout(ms)
--   red:connect(host, port, { pool, pool_size }) → 1 | nil, err
--   red:get_reused_times() → n            red:set_keepalive(idle, size) → 1 | nil, err
--   red:close() → 1 | nil, err            red:<command>(…) (auth, select, set, get, del,
--                                           script, eval, evalsha; any name, made lazily)
--
-- A command returns its reply: a status or bulk a string, an integer a
-- number, a nil reply `ngx.null`, an array a table (an error element
-- `{ false, err }`); an error reply `false, err`; a failure `nil, err`
-- ("closed" after set_keepalive or close, "timeout" — the socket then
-- closed, as lua-resty-redis does). Connections kept by set_keepalive go to
-- their pool (by the `pool` name) and come back from connect with a reused
-- count > 0; each connection remembers its own AUTH and SELECT.
--
-- `M.fake` is the spec's handle: `reset{ password, username }`, `advance(ms)`,
-- `flush_scripts()`, `fail(what, err)` (the next `new`, `connect`, `auth`
-- or other command fails with err: nil, err), `calls` (what the adapter did,
-- in order; AUTH's arguments counted, not shown), `dbs` (the data, by db). To
-- behave as lua-resty-redis before 0.28, remove `set_timeouts` from the
-- module (rawset nil): the name then makes a command method, as there.
-- Runs on every Lua of `make test-matrix` (5.1 to 5.4).
-- luacheck: globals setfenv loadstring
local null = ngx.null -- luacheck: ignore 113
local unpack = table.unpack or unpack -- luacheck: ignore 113

local function compile(text, env)
  if setfenv then -- Lua 5.1
    local f, err = loadstring(text, "=user_script")
    if f then setfenv(f, env) end
    return f, err
  end
  return load(text, "=user_script", "t", env)
end

local _M = { _VERSION = "0.32-fake" }
local mt = { __index = _M }

local fake = { calls = {} }
_M.fake = fake

local function record(...) fake.calls[#fake.calls + 1] = table.concat({ ... }, " ") end

function fake.reset(o)
  o = o or {}
  fake.password, fake.username = o.password, o.username or "default"
  fake.now_ms = 1700000000000
  fake.dbs, fake.scripts, fake.pools, fake.failing, fake.calls = {}, {}, {}, {}, {}
  fake.next_conn = 0
end
function fake.advance(ms) fake.now_ms = fake.now_ms + ms end
function fake.flush_scripts() fake.scripts = {} end
function fake.fail(what, err) fake.failing[what] = err end
fake.reset()

local function take_failure(what)
  local err = fake.failing[what]
  fake.failing[what] = nil
  return err
end

-- The data of one db: key → { v = string | hash table, exp = ms | nil }.
local function db(n)
  fake.dbs[n] = fake.dbs[n] or {}
  return fake.dbs[n]
end
local function entry(conn, k)
  local e = db(conn.db)[k]
  if e and e.exp and e.exp <= fake.now_ms then db(conn.db)[k], e = nil, nil end
  return e
end

-- Redis' own conversion of a script's number argument to a string.
local function arg_string(x)
  if type(x) == "number" then
    if x == math.floor(x) and x > -2 ^ 53 and x < 2 ^ 53 then return ("%d"):format(x) end
    return ("%.17g"):format(x)
  end
  return tostring(x)
end

-- The server. Replies: { "status", s } | { "bulk", s | nil } | { "int", n } | { "array", list } | { "err", s }.
local exec

local function script_call(conn, ...)
  local args = { n = select("#", ...), ... }
  for i = 1, args.n do args[i] = arg_string(args[i]) end
  local rep = exec(conn, unpack(args, 1, args.n))
  local t = rep[1]
  if t == "err" then error({ err = rep[2] }, 0) end
  if t == "status" then return { ok = rep[2] } end
  if t == "bulk" then return rep[2] or false end
  if t == "int" then return rep[2] end
  local out = {}
  for i, r in ipairs(rep[2]) do
    out[i] = (r[1] == "bulk" and (r[2] or false)) or r[2]
  end
  return out
end

-- A script's Lua value → a reply (Redis' conversion rules).
local function to_reply(v)
  local t = type(v)
  if t == "number" then return { "int", math.floor(v) } end
  if t == "string" then return { "bulk", v } end
  if t == "boolean" then return v and { "int", 1 } or { "bulk", nil } end
  if t == "table" then
    if v.err then return { "err", v.err } end
    if v.ok then return { "status", v.ok } end
    local out = {}
    local i = 1
    while v[i] ~= nil do out[i] = to_reply(v[i]) i = i + 1 end
    return { "array", out }
  end
  return { "bulk", nil }
end

local function run_script(conn, text, nkeys, ...)
  nkeys = tonumber(nkeys)
  if not nkeys then return { "err", "ERR value is not an integer or out of range" } end
  local all = { ... }
  local keys_, argv = {}, {}
  for i = 1, #all do
    if i <= nkeys then keys_[#keys_ + 1] = all[i] else argv[#argv + 1] = all[i] end
  end
  local env = { KEYS = keys_, ARGV = argv, tonumber = tonumber, tostring = tostring, type = type,
                math = math, string = string, table = table, pairs = pairs, ipairs = ipairs,
                redis = { call = function(...) return script_call(conn, ...) end } }
  local f, lerr = compile(text, env)
  if not f then return { "err", "ERR Error compiling script: " .. lerr } end
  local ok, v = pcall(f)
  if not ok then
    return { "err", type(v) == "table" and v.err or ("ERR Error running script: " .. tostring(v)) }
  end
  return to_reply(v)
end

local COMMANDS = {}
function COMMANDS.PING() return { "status", "PONG" } end
function COMMANDS.AUTH(conn, a, b)
  local user, pass = b and a or "default", b or a
  if not fake.password then return { "err", "ERR AUTH <password> called without any password configured" } end
  if user ~= fake.username or pass ~= fake.password then
    return { "err", "WRONGPASS invalid username-password pair or user is disabled." }
  end
  conn.authed = true
  return { "status", "OK" }
end
function COMMANDS.SELECT(conn, n)
  n = tonumber(n)
  if not n or n < 0 or n > 15 then return { "err", "ERR DB index is out of range" } end
  conn.db = n
  return { "status", "OK" }
end
function COMMANDS.TIME()
  return { "array", { { "bulk", ("%d"):format(math.floor(fake.now_ms / 1000)) },
                      { "bulk", ("%d"):format((fake.now_ms % 1000) * 1000) } } }
end
function COMMANDS.GET(conn, k)
  local e = entry(conn, k)
  if e and type(e.v) ~= "string" then
    return { "err", "WRONGTYPE Operation against a key holding the wrong kind of value" }
  end
  return { "bulk", e and e.v }
end
function COMMANDS.SET(conn, k, v, ...)
  local opts, px, nx = { ... }, nil, false
  local i = 1
  while opts[i] do
    local o = opts[i]:upper()
    if o == "NX" then nx = true
    elseif o == "PX" then px = tonumber(opts[i + 1]) i = i + 1
    else return { "err", "ERR syntax error" } end
    i = i + 1
  end
  if nx and entry(conn, k) then return { "bulk", nil } end
  db(conn.db)[k] = { v = v, exp = px and fake.now_ms + px }
  return { "status", "OK" }
end
function COMMANDS.DEL(conn, ...)
  local n = 0
  for _, k in ipairs({ ... }) do
    if entry(conn, k) then db(conn.db)[k] = nil n = n + 1 end
  end
  return { "int", n }
end
function COMMANDS.PTTL(conn, k)
  local e = entry(conn, k)
  if not e then return { "int", -2 } end
  return { "int", e.exp and e.exp - fake.now_ms or -1 }
end
function COMMANDS.PEXPIRE(conn, k, ms)
  local e = entry(conn, k)
  if not e then return { "int", 0 } end
  e.exp = fake.now_ms + tonumber(ms)
  return { "int", 1 }
end
local function hash(conn, k, create)
  local e = entry(conn, k)
  if not e and create then
    e = { v = {} }
    db(conn.db)[k] = e
  end
  if e and type(e.v) ~= "table" then return nil end
  return e and e.v or {}
end
function COMMANDS.HGET(conn, k, f)
  local h = hash(conn, k)
  if not h then return { "err", "WRONGTYPE" } end
  return { "bulk", h[f] }
end
function COMMANDS.HMGET(conn, k, ...)
  local h = hash(conn, k)
  if not h then return { "err", "WRONGTYPE" } end
  local out = {}
  for i, f in ipairs({ ... }) do out[i] = { "bulk", h[f] } end
  return { "array", out }
end
function COMMANDS.HSET(conn, k, ...)
  local fv = { ... }
  if #fv == 0 or #fv % 2 ~= 0 then return { "err", "ERR wrong number of arguments for 'hset' command" } end
  local h = hash(conn, k, true)
  if not h then return { "err", "WRONGTYPE" } end
  local added = 0
  for i = 1, #fv, 2 do
    if h[fv[i]] == nil then added = added + 1 end
    h[fv[i]] = fv[i + 1]
  end
  return { "int", added }
end
function COMMANDS.HDEL(conn, k, ...)
  local h = hash(conn, k)
  if not h then return { "err", "WRONGTYPE" } end
  local n = 0
  for _, f in ipairs({ ... }) do
    if h[f] ~= nil then h[f] = nil n = n + 1 end
  end
  return { "int", n }
end
function COMMANDS.HINCRBY(conn, k, f, by)
  local h = hash(conn, k, true)
  if not h then return { "err", "WRONGTYPE" } end
  local v = (tonumber(h[f]) or 0) + tonumber(by)
  h[f] = ("%d"):format(v)
  return { "int", v }
end
function COMMANDS.SCRIPT(_, sub, text)
  sub = tostring(sub):upper()
  if sub == "LOAD" then
    -- A stand-in for the SHA1 of the text (any stable 40-hex name will do here).
    local h = 0
    for i = 1, #text do h = (h * 31 + text:byte(i)) % 0xFFFFFFFF end
    local sha = ("%08x"):format(h):rep(5)
    fake.scripts[sha] = text
    return { "bulk", sha }
  end
  if sub == "FLUSH" then fake.scripts = {} return { "status", "OK" } end
  return { "err", "ERR unknown subcommand '" .. sub .. "'" }
end
function COMMANDS.EVAL(conn, text, nkeys, ...) return run_script(conn, text, nkeys, ...) end
function COMMANDS.EVALSHA(conn, sha, nkeys, ...)
  local text = fake.scripts[sha]
  if not text then return { "err", "NOSCRIPT No matching script. Please use EVAL." } end
  return run_script(conn, text, nkeys, ...)
end

exec = function(conn, cmd, ...)
  local f = COMMANDS[tostring(cmd):upper()]
  if not f then return { "err", ("ERR unknown command '%s'"):format(tostring(cmd)) } end
  local up = tostring(cmd):upper()
  if fake.password and not conn.authed and up ~= "AUTH" then
    return { "err", "NOAUTH Authentication required." }
  end
  return f(conn, ...)
end

-- A reply as lua-resty-redis returns it.
local function resty_value(rep)
  local t, v = rep[1], rep[2]
  if t == "err" then return false, v end
  if t == "bulk" then
    if v == nil then return null end
    return v
  end
  if t == "array" then
    local out = {}
    for i, r in ipairs(v) do
      local x, e = resty_value(r)
      if x == false then out[i] = { false, e } else out[i] = x end
    end
    return out
  end
  return v
end

-- lua-resty-redis API -------------------------------------------------
function _M.new(_)
  record("new")
  local err = take_failure("new")
  if err then return nil, err end
  return setmetatable({ _sock = { state = "new" } }, mt)
end

function _M.set_timeouts(self, c, s, r)
  record("set_timeouts", c, s, r)
  self._sock.timeouts = { c, s, r }
end

function _M.set_timeout(self, ms)
  record("set_timeout", ms)
  self._sock.timeouts = { ms, ms, ms }
end

function _M.connect(self, host, port, opts)
  if type(host) ~= "string" then error("bad argument #1 host: string expected, got " .. type(host), 2) end
  if type(port) ~= "number" then error("bad argument #2 port: number expected, got " .. type(port), 2) end
  if opts ~= nil and type(opts) ~= "table" then error("bad argument #3 opts: nil or table expected", 2) end
  record("connect", host, port, opts and opts.pool or "-", opts and opts.pool_size or "-")
  local err = take_failure("connect")
  if err then return nil, err end
  local pool = opts and opts.pool or (host .. ":" .. port)
  local idle = fake.pools[pool]
  local conn = idle and table.remove(idle)
  if conn then
    conn.reused = conn.reused + 1
  else
    fake.next_conn = fake.next_conn + 1
    conn = { id = fake.next_conn, db = 0, reused = 0 }
  end
  self._sock = { state = "connected", conn = conn, pool = pool, timeouts = self._sock.timeouts }
  return 1
end

function _M.get_reused_times(self)
  if self._sock.state ~= "connected" then return nil, "closed" end
  return self._sock.conn.reused
end

function _M.set_keepalive(self, idle, size)
  if self._sock.state ~= "connected" then return nil, "closed" end
  record("set_keepalive", idle, size)
  local list = fake.pools[self._sock.pool] or {}
  fake.pools[self._sock.pool] = list
  list[#list + 1] = self._sock.conn
  self._sock = { state = "closed" }
  return 1
end

function _M.close(self)
  if self._sock.state ~= "connected" then return nil, "closed" end
  record("close")
  self._sock = { state = "closed" }
  return 1
end

function _M._command(self, cmd, ...)
  record(cmd:upper() == "AUTH" and ("auth (%d args)"):format(select("#", ...)) or cmd)
  if self._sock.state ~= "connected" then return nil, "closed" end
  local err = take_failure(cmd == "auth" and "auth" or "command")
  if err then
    if err == "timeout" then self._sock = { state = "closed" } end -- lua-resty-redis closes it on a read timeout
    return nil, err
  end
  for i = 1, select("#", ...) do
    if select(i, ...) == nil then error("nil argument to a command", 2) end
  end
  return resty_value(exec(self._sock.conn, cmd, ...))
end

-- Any other name is a command, made at its first use (as lua-resty-redis does).
setmetatable(_M, { __index = function(_, cmd)
  if type(cmd) ~= "string" or cmd:sub(1, 1) == "_" then return nil end
  return function(self, ...) return _M._command(self, cmd, ...) end
end })

return _M
