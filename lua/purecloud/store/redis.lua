--- A Redis store shared by a fleet: one client-credentials token and one
-- rate budget for every process and host of one client id.
--
--     local store = require("purecloud.store.redis").new{
--       host = "10.0.0.5", port = 6379, password = os.getenv("REDIS_PASSWORD"),
--       username = nil, db = 0, prefix = "purecloud:", timeout = 0.25 }
--     local client = purecloud.new{ client_id = …, client_secret = …,
--                                   token_store = store, rate_store = store }
--
-- The object is both a token store (`get`, `set`, `delete`, `lock`,
-- `unlock`: `purecloud.token_store`) and a rate store (`take`, `report`,
-- `hold`: `purecloud.gate`). Works with Redis and Redis-compatible servers
-- (Valkey); each key is the login host + client id hashed (SHA-256, never
-- the secret) inside a hash tag, `prefix{tag}:token`, `:lock`, `:rate`, so
-- the keys of one client id live on one Redis Cluster shard. Every key
-- expires by itself: the token with its own remaining lifetime (never
-- longer), the lock after the seconds the token keeper asks (a dead holder
-- delays the others at most that), the rate state after two minutes idle.
--
-- **Two clients, one set of scripts.** Outside nginx it talks through
-- hiredis (`purecloud.store.hiredis`, C, loaded at the first use); inside
-- nginx over cosockets (lua-resty-redis when installed, else
-- `purecloud.store.resp`, keep-alive pooled). The atomic parts are the
-- server-side scripts `M.SCRIPTS`, run with EVALSHA (loaded with SCRIPT LOAD
-- at the first use, loaded again after a NOSCRIPT: a restarted or flushed
-- Redis), the same text for both clients. The window is kept in Redis
-- server time (`TIME`), so the hosts' clocks need not agree.
--
-- **Failure is never fatal.** When Redis is unreachable, slower than
-- `timeout`, or answers an error, the call goes on without it: `get` is a
-- miss and `lock` is granted (the process fetches its own token), `set`,
-- `delete`, `unlock` do nothing, `take`/`report`/`hold` return nil (the
-- gate paces on its own, `purecloud.gate`). One `warn` line says so, one
-- `info` line when Redis answers again; meanwhile one attempt per `retry`
-- seconds (default 1) is made, so no call waits on a dead Redis longer than
-- `timeout` (connect and each command). A restarted Redis is reconnected at
-- the next attempt; a flushed one loses the token (one token request more)
-- and the window (the next request probes it again).
--
-- **Wrong password**: the first use raises "purecloud.store.redis(host:port):
-- Redis refused the credentials (WRONGPASS …)"; a token store that raises
-- fails that call with an auth error saying so (`purecloud.token`), a rate
-- store that raises puts the gate on its own. After that the store behaves
-- as unreachable (the warn line, one attempt per `retry`).
--
-- **Security.** Whoever can read these keys can use the token: protect the
-- Redis with an ACL user or a password, keep it on a private network (this
-- store speaks plain TCP; hiredis 0.14 has no TLS). Nothing else secret is
-- stored (the rate state is counters). The password is given as a field,
-- never in a URL (`host` refuses `user:pass@` and schemes), is never in
-- `tostring(store)`, errors or logs (it is one of the secrets the core's
-- scrub removes: the hiredis handle registers it; inside nginx a vault of
-- the core holds it for the scrub).
--
-- **Batched permits** (`permits = n`, default 1): `take` asks n permits in
-- one round trip and the gate spends them locally until the window resets.
-- The trade-off: a process that dies (or goes idle) holding unused permits
-- wastes them for the rest of that window.
-- @module purecloud.store.redis
local core = require "purecloud.core"
local keys = require "purecloud.keys"
local logging = require "purecloud.log"
local usage = require("purecloud.errors").usage

local M = {}

--- The server-side scripts (Lua run by Redis), by name.
M.SCRIPTS = {
  -- KEYS[1] token → false | { token, milliseconds left }
  get = [[
local v = redis.call('GET', KEYS[1])
if not v then return false end
return { v, redis.call('PTTL', KEYS[1]) }]],
  -- KEYS[1] key, ARGV[1] value: delete it while it still holds that value
  cas_delete = [[
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0]],
  -- KEYS[1] rate hash; ARGV want, poll_ms, probe_ms, idle_ms →
  -- { granted, wait_ms, allowed (-1 unknown), count, reset_in_ms (-1 unknown) }
  -- Fields: a allowed, c used in the window (permits taken, raised to the
  -- counts announced), r the window's reset (server ms), h no request
  -- before (a 429's Retry-After), p a probe in flight until, n permits
  -- taken all time (for operators and specs).
  take = [[
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local k = KEYS[1]
local want, poll, probe, idle = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local s = redis.call('HMGET', k, 'a', 'c', 'r', 'h', 'p')
local a, c, r, h, p = tonumber(s[1]), tonumber(s[2]) or 0, tonumber(s[3]), tonumber(s[4]) or 0, tonumber(s[5]) or 0
if h > now then return { 0, h - now, a or -1, c, r and r - now or -1 } end
if r and now >= r then
  c, r = 0, nil
  redis.call('HDEL', k, 'r')
end
local grant
if not a then
  if p > now then return { 0, poll, -1, c, -1 } end
  redis.call('HSET', k, 'p', now + probe)
  grant = 1
elseif c >= a then
  return { 0, r and r - now or poll, a, c, r and r - now or -1 }
else
  grant = math.min(want, a - c)
end
c = c + grant
redis.call('HSET', k, 'c', c)
redis.call('HINCRBY', k, 'n', grant)
redis.call('PEXPIRE', k, idle + (r and r - now or 0))
return { grant, 0, a or -1, c, r and r - now or -1 }]],
  -- KEYS[1] rate hash; ARGV allowed, count, reset_s, idle_ms: what a response announced
  report = [[
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local k = KEYS[1]
local a, cnt, reset, idle = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local s = redis.call('HMGET', k, 'c', 'r')
local c, r = tonumber(s[1]) or 0, tonumber(s[2])
if r and now >= r then c, r = 0, nil end
local rn = now + reset * 1000
if r and math.abs(rn - r) < 1000 then
  if cnt > c then c = cnt end
  if rn < r then r = rn end
elseif r and rn < r then
  return 0
else
  if cnt > c then c = cnt end
  r = rn
end
redis.call('HSET', k, 'a', a, 'c', c, 'r', r)
redis.call('HDEL', k, 'p')
redis.call('PEXPIRE', k, idle + (r - now))
return 1]],
  -- KEYS[1] rate hash; ARGV ms, idle_ms: no request of the fleet before now + ms
  hold = [[
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local k = KEYS[1]
local until_ = now + tonumber(ARGV[1])
local h = tonumber(redis.call('HGET', k, 'h')) or 0
if until_ > h then redis.call('HSET', k, 'h', until_) end
redis.call('PEXPIRE', k, tonumber(ARGV[2]) + tonumber(ARGV[1]))
return 1]],
}

local POLL_MS, PROBE_MS, IDLE_MS = 50, 2000, 120000

local OPTS = { host = "string", port = "number", password = "string", username = "string", db = "number",
               prefix = "string", timeout = "number", connect_timeout = "number", log = "string|function|table",
               permits = "number", retry = "number", pool_size = "number" }

-- What is wrong with the options `o`, or nil: `M.new` raises it, so every
-- message points at the caller's line, whichever check found it.
local function problem(o)
  if type(o) ~= "table" then return "new expects a table of options { host, port, password, … }" end
  local why = keys.typed_problem(o, OPTS)
  if why then return why end
  local host = o.host or "127.0.0.1"
  if host:find("[@/%s%c]") or host == "" then
    return "option 'host' must be a host name or address (no URL, no user:password@: give password and username "
      .. "as their own options; the value is not shown)"
  end
  for _, r in ipairs({ { "port", 1, 65535 }, { "db", 0, 1e6 }, { "permits", 1, 10000 }, { "pool_size", 1, 10000 } }) do
    local name, lo, hi = r[1], r[2], r[3]
    local v = o[name]
    if v ~= nil and (v ~= v or v % 1 ~= 0 or v < lo or v > hi) then
      return ("option '%s' must be an integer from %d to %d"):format(name, lo, hi)
    end
  end
  for _, name in ipairs({ "timeout", "connect_timeout", "retry" }) do
    local v = o[name]
    if v ~= nil and (v ~= v or v < 0.001 or v > 600) then
      return ("option '%s' must be seconds from 0.001 to 600"):format(name)
    end
  end
  for _, name in ipairs({ "password", "username", "prefix" }) do
    if o[name] and o[name]:find("[%z\r\n]") then return ("option '%s' must not hold NUL, CR or LF (not shown)"):format(name) end
  end
  if o.username and not o.password then return "option 'username' needs 'password'" end
end

local function in_nginx()
  local ngx = ngx -- luacheck: ignore 113
  return ngx ~= nil and type(ngx.socket) == "table" and type(ngx.socket.tcp) == "function"
end

-- The connection for this host: hiredis outside nginx; cosockets inside
-- (lua-resty-redis when it is installed, else the project's RESP client).
local function backend(o)
  local conf = { host = o.host or "127.0.0.1", port = o.port or 6379, password = o.password,
                 username = o.username, db = o.db or 0, timeout = o.timeout or 0.25,
                 connect_timeout = o.connect_timeout or o.timeout or 0.25, pool_size = o.pool_size }
  if in_nginx() then
    local ok, resty = pcall(require, "resty.redis")
    local resp = require "purecloud.store.resp"
    if ok and type(resty) == "table" then return resp.over_resty(resty, conf), "lua-resty-redis" end
    return resp.new(conf), "cosocket"
  end
  return require("purecloud.store.hiredis").new(conf), "hiredis"
end

--- A store (see the module's text for the options).
function M.new(o)
  local why = problem(o)
  if why then usage("purecloud.store.redis: " .. why) end
  local conn, via = backend(o)
  local name = ("purecloud.store.redis(%s:%d%s)"):format(o.host or "127.0.0.1", o.port or 6379,
    (o.db and o.db ~= 0) and (" db " .. o.db) or "")
  local log = logging.new(o.log)
  local prefix = o.prefix or "purecloud:"
  local retry = o.retry or 1
  -- Inside nginx the password is a Lua string the scrub does not know: a
  -- vault of the core (kept by the store) registers it as a secret.
  local vault = o.password and via ~= "hiredis" and
    core.auth_new{ client_id = "purecloud.store.redis", client_secret = o.password } or nil
  local owner = core.random_hex(16) -- this store's lock value (unlock deletes only its own)
  local sha = {}                    -- script name → SHA1 (SCRIPT LOAD)
  local down, retry_at, auth_raised = false, 0, false
  local tags = setmetatable({}, { __mode = "k" })
  local now = core.now

  local st = { permits = o.permits or 1, via = via, _vault = vault }

  -- The key of `what` for the keeper's key (login host + client id).
  local function key(k, what)
    local tag = tags[k]
    if not tag then
      tag = core.sha256(k):gsub(".", function(c) return ("%02x"):format(c:byte()) end):sub(1, 24)
      tags[k] = tag
    end
    return prefix .. "{" .. tag .. "}:" .. what
  end
  st.key = key

  local function fell(err)
    retry_at = now() + retry
    if not down then
      down = true
      log("warn", "%s unavailable (%s): each process uses its own token and rate gate until it answers "
        .. "(retried every %g s)", name, tostring(err), retry)
    end
  end

  -- One command; nil, err when Redis failed (the store is then down).
  local function raw(...)
    if down and now() < retry_at then return nil, "down (retrying)" end
    local was = conn:connected()
    local v, err, kind = conn:call(...)
    -- A kept connection found closed (a restarted Redis): once more on a new
    -- one (not after a timeout: a slow Redis must not cost two).
    if v == nil and kind == "io" and was then v, err, kind = conn:call(...) end
    if v == nil then
      if kind == "reply" and err:find("^NOSCRIPT") then return nil, err, kind end
      if kind == "auth" then
        local msg = ("Redis refused the credentials (%s): check the store's password and username"):format(err)
        fell(msg)
        if not auth_raised then
          auth_raised = true
          error(name .. ": " .. msg, 0)
        end
        return nil, msg
      end
      fell(err)
      return nil, err
    end
    if down then
      down = false
      log("info", "%s answers again: the token and the rate budget are shared again", name)
    end
    return v
  end

  local function script(sname, nkeys, ...)
    for _ = 1, 2 do
      local h = sha[sname]
      if not h then
        local e
        h, e = raw("SCRIPT", "LOAD", M.SCRIPTS[sname])
        if not h then return nil, e end
        sha[sname] = h
      end
      local v, err, kind = raw("EVALSHA", h, nkeys, ...)
      if v ~= nil then return v end
      if kind ~= "reply" then return nil, err end
      sha[sname] = nil -- NOSCRIPT: the server lost it (restarted, flushed); load it again
    end
    return nil, "NOSCRIPT twice"
  end

  -- Token store -------------------------------------------------------
  function st.get(k)
    local v = script("get", 1, key(k, "token"))
    if type(v) ~= "table" or type(v[1]) ~= "string" then return nil end
    local ms = tonumber(v[2])
    if not ms or ms <= 0 then return nil end
    return v[1], ms / 1000
  end
  function st.set(k, token, seconds)
    local ms = math.floor((tonumber(seconds) or 0) * 1000)
    if ms < 1000 then return end
    raw("SET", key(k, "token"), token, "PX", ms)
  end
  function st.delete(k, token)
    script("cas_delete", 1, key(k, "token"), token)
  end
  function st.lock(k, seconds)
    local ms = math.max(1000, math.floor((tonumber(seconds) or 30) * 1000))
    local v, err = raw("SET", key(k, "lock"), owner, "NX", "PX", ms)
    if v == nil and err then return true end -- no Redis: this process fetches its own token
    return v == "OK"
  end
  function st.unlock(k)
    script("cas_delete", 1, key(k, "lock"), owner)
  end

  -- Rate store (purecloud.gate) ---------------------------------------
  --- take(key, want) → granted, wait_s, allowed | nil, count, reset_in_s | nil; or nil, err
  function st.take(k, want)
    local v, err = script("take", 1, key(k, "rate"), want or st.permits, POLL_MS, PROBE_MS, IDLE_MS)
    if type(v) ~= "table" then return nil, err or "unexpected reply" end
    local a, r = tonumber(v[3]), tonumber(v[5])
    return tonumber(v[1]), tonumber(v[2]) / 1000, a >= 0 and a or nil, tonumber(v[4]), r >= 0 and r / 1000 or nil
  end
  --- report(key, allowed, count, reset_s): what a response announced.
  function st.report(k, allowed, count, reset)
    return script("report", 1, key(k, "rate"), allowed, count, reset, IDLE_MS) ~= nil
  end
  --- hold(key, seconds): a 429's Retry-After holds the fleet.
  function st.hold(k, seconds)
    return script("hold", 1, key(k, "rate"), math.max(1, math.floor(seconds * 1000)), IDLE_MS) ~= nil
  end

  --- The store is using Redis (not fallen back).
  function st.shared() return not down end
  --- A raw command (operators, specs): value | nil, err.
  function st.command(...) return raw(...) end
  --- Close its connection (kept connections inside nginx stay in the pool).
  function st.close() conn:close() end

  return setmetatable(st, { __tostring = function() return name end, __name = "purecloud.store.redis" })
end

return M
