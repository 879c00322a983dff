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
-- @module purecloud.token_store
local M = {}

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
  if not dict then error("purecloud: no lua_shared_dict named '" .. tostring(name) .. "'", 2) end
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

return M
