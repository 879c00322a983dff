--- Shared token stores: one client-credentials token for many clients.
--
-- A store is a table of three functions:
--
--  * `get(key)` → `token, seconds_left` or `nil`
--  * `set(key, token, seconds)`
--  * `delete(key, token)` — forget `token` if it is still the stored one
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
  local entries = {}
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
  }
end

return M
