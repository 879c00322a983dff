--- The default client behind `require "purecloud.users"` (set by
-- `purecloud.configure`). Kept in its own module, beside the operations, so
-- `purecloud.operations` finds it without requiring the top-level `purecloud`
-- module; the pagers are handed it by the operations.
-- @module purecloud.default
local usage = require("purecloud.errors").usage

local M = {}

local current -- per Lua state, like any module value

--- Replace the default client; the previous one is closed.
function M.set(c)
  if current and current ~= c then current:close() end
  current = c
end

--- The default client, or an error (at the caller's line) telling how to set one.
function M.get()
  if not current then
    usage("purecloud: no default client: call purecloud.configure{ client_id = …, client_secret = … } first "
      .. "(or use client.users on a client from purecloud.new)")
  end
  return current
end

return M
