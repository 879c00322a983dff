--- Shared token stores: one client-credentials token for many clients.
--
-- A store is a table of five functions:
--
--  * `get(key)` → `token, seconds_left` or `nil`
--  * `set(key, token, seconds)`
--  * `delete(key, token)` — forget `token` if it is still the stored one
--  * `lock(key, seconds)` → `true` when this caller now holds the lock for
--    `key`, `false` when someone else does. The lock must expire by itself
--    after `seconds`, so a holder that dies cannot block the others forever.
--  * `unlock(key)` — release it.
--
-- Each call runs under `pcall`: a store function that raises fails that one
-- call with an `auth` error ("the token store raised in get: …", scrubbed
-- of secrets, one line), never a raise through the request loop. A store
-- function may yield (cosockets, e.g. lua-resty-redis inside OpenResty) on
-- LuaJIT and Lua 5.2–5.4, where `pcall` is yieldable; on PUC Lua 5.1 it must
-- not (a yield there fails the call with "attempt to yield across…"). The
-- two stores below never yield (an nginx shared dict does not).
--
-- A token `get` returns must be 1–8192 bytes of visible ASCII, else the call
-- fails with an `auth` error and nothing is sent; a `seconds_left` that is
-- not a number above 1 counts as a miss (the token is fetched again).
--
-- How clients use it for a client-credentials token: `get`; on a miss,
-- `lock`; the holder asks the login service, `set`s the token and `unlock`s;
-- the others wait a little and `get` again (no token request of their own
-- while the lock is held). So N workers or N hosts starting together make one
-- token request.
--
-- A store shared by a fleet of hosts is a small user module over an existing
-- service; with Redis (lua-resty-redis inside nginx) for instance:
--
--     get    = GET key + TTL key          → token, ttl (nil when missing)
--     set    = SET key token EX seconds
--     delete = a compare-and-delete (a short EVAL script: if GET == token then DEL)
--     lock   = SET key..":lock" 1 NX EX seconds → true when Redis answers OK
--     unlock = DEL key..":lock"
--
-- Pass one as `purecloud.new{ token_store = … }`. Clients with the same
-- login host and client id then reuse one token instead of each asking for
-- their own (the login service rate-limits token requests). Only
-- client-credentials tokens are shared: user tokens stay with their client.
--
--     -- nginx.conf: lua_shared_dict purecloud_tokens 1m;
--     local store = require("purecloud.token_store").ngx_shared("purecloud_tokens")
--
-- `M.file(path)` keeps tokens in a file, so that consecutive processes (the
-- command line's runs) reuse one token until shortly before it expires
-- (`M.margin`, the token keeper's margin); its promises are
-- `purecloud.secret_file`'s: refused when group or others can read it,
-- written 0600 in a 0700 directory by a rename, never through a symbolic
-- link, locked with a flock that ends with its holder.
-- @module purecloud.token_store
local usage = require("purecloud.errors").usage

local M = {}

--- Seconds before expiry at which a token of `lifetime` seconds is no longer
-- handed out: 10 % of its lifetime, at most 60 s. The same rule as the
-- token keeper's (`purecloud.token`, `Keeper:margin`; a spec checks they agree).
function M.margin(lifetime)
  if type(lifetime) ~= "number" or lifetime <= 0 then return 0 end
  return math.min(60, lifetime * 0.1)
end

--- A store in this Lua state (several clients of one script or one nginx worker).
function M.memory(clock)
  clock = clock or os.time
  local entries, locks = {}, {}
  return {
    get = function(key)
      local e = entries[key]
      if not e then return nil end
      local left = e.expires - clock()
      if left <= 0 then
        entries[key] = nil
        return nil
      end
      return e.token, left
    end,
    set = function(key, token, seconds)
      entries[key] = { token = token, expires = clock() + seconds }
    end,
    delete = function(key, token)
      local e = entries[key]
      if e and e.token == token then entries[key] = nil end
    end,
    lock = function(key, seconds)
      local until_ = locks[key]
      if until_ and until_ > clock() then return false end
      locks[key] = clock() + (tonumber(seconds) or 30)
      return true
    end,
    unlock = function(key)
      locks[key] = nil
    end,
  }
end

--- A store in an nginx shared dictionary (`lua_shared_dict NAME 1m;`), shared
-- by every worker of the server.
function M.ngx_shared(name)
  local ngx = ngx -- luacheck: ignore 113
  local dict = ngx and ngx.shared and ngx.shared[name]
  if not dict then usage("purecloud: no lua_shared_dict named '" .. tostring(name) .. "'") end
  return {
    get = function(key)
      local token = dict:get(key)
      if not token then return nil end
      local left = dict:ttl(key)
      if not left or left <= 0 then return nil end
      return token, left
    end,
    set = function(key, token, seconds)
      dict:set(key, token, seconds)
    end,
    delete = function(key, token)
      if dict:get(key) == token then dict:delete(key) end
    end,
    -- dict:add is atomic across workers; the TTL frees a lock whose holder died.
    lock = function(key, seconds)
      local ok, err = dict:add(key .. ":lock", true, tonumber(seconds) or 30)
      if ok then return true end
      if err == "exists" then return false end
      error("purecloud: token store lock on lua_shared_dict '" .. name .. "': " .. tostring(err))
    end,
    unlock = function(key)
      dict:delete(key .. ":lock")
    end,
  }
end

--- A store in a file: `path` holds one line per key (`key`, token, expiry
-- and lifetime, tab-separated, after a header line), for the processes of
-- one user. `clock` (default `os.time`) is for specs.
--
-- A token is handed out by `get` until `M.margin(lifetime)` before it
-- expires. A damaged line is ignored (it is a cache: the token is fetched
-- again); a file group or others can access, or a symbolic link, raises
-- (the call fails with that message). `lock` is a flock on `path .. ".lock"`
-- (not waiting; released by `unlock` or when the process ends, whatever
-- `seconds` says). Besides the five functions: `clear()` removes the file
-- (a logout), `path`.
local HEADER = "purecloud token cache 1"
function M.file(path, clock)
  if type(path) ~= "string" or path == "" then usage("purecloud: token_store.file needs a file path") end
  clock = clock or os.time
  local files = require "purecloud.secret_file"
  local WHAT = "token cache"
  files.check(path, WHAT, true) -- raise now (at `new`) rather than at the first call

  local function load()
    local text = files.read(path, WHAT, true)
    local entries = {}
    if not text or text:sub(1, #HEADER + 1) ~= HEADER .. "\n" then return entries end
    local now = clock()
    for line in text:gmatch("[^\n]+") do
      local key, token, expires, lifetime = line:match("^([^\t]+)\t([^\t]+)\t(%d+)\t(%d+)$")
      expires, lifetime = tonumber(expires), tonumber(lifetime)
      if key and expires > now then entries[key] = { token = token, expires = expires, lifetime = lifetime } end
    end
    return entries
  end

  local function save(entries)
    local out, keys = { HEADER }, {}
    for k in pairs(entries) do keys[#keys + 1] = k end
    if #keys == 0 then files.remove(path) return end
    table.sort(keys)
    for _, k in ipairs(keys) do
      local e = entries[k]
      out[#out + 1] = ("%s\t%s\t%d\t%d"):format(k, e.token, e.expires, e.lifetime)
    end
    files.write(path, table.concat(out, "\n") .. "\n", WHAT)
  end

  local function plain(what, s)
    if type(s) ~= "string" or s == "" or s:find("[%c\t ]") then
      usage("purecloud: token_store.file: the " .. what .. " must be text without spaces or controls")
    end
  end

  local locks = {}
  return {
    path = path,
    get = function(key)
      local e = load()[key]
      if not e then return nil end
      local left = e.expires - clock()
      if left <= M.margin(e.lifetime) then return nil end
      return e.token, left
    end,
    set = function(key, token, seconds)
      plain("key", key)
      plain("token", token)
      local entries = load()
      local lifetime = math.floor(tonumber(seconds) or 0)
      if lifetime <= 0 then return end
      entries[key] = { token = token, expires = math.floor(clock()) + lifetime, lifetime = lifetime }
      save(entries)
    end,
    delete = function(key, token)
      local entries = load()
      local e = entries[key]
      if e and e.token == token then
        entries[key] = nil
        save(entries)
      end
    end,
    lock = function(key)
      if locks[key] then return false end
      local held = files.lock(path .. ".lock", WHAT)
      if not held then return false end
      locks[key] = held
      return true
    end,
    unlock = function(key)
      local held = locks[key]
      locks[key] = nil
      if held then held:close() end
    end,
    clear = function()
      return files.remove(path)
    end,
  }
end

return M
