--- The default client behind `require "purecloud.users"` (set by
-- `purecloud.configure`). Kept in its own module, beside the operations, so
-- `purecloud.operations` finds it without requiring the top-level `purecloud`
-- module; the pagers are handed it by the operations.
-- @module purecloud.default
local M = {}

local current -- per Lua state, like any module value

--- Replace the default client; the previous one is closed.
function M.set(c)
  if current and current ~= c then current:close() end
  current = c
end

--- The default client, or an error telling how to set one.
-- @int[opt] level error level (default 3: the caller's caller)
function M.get(level)
  if not current then
    error("purecloud: no default client: call purecloud.configure{ client_id = …, client_secret = … } first "
      .. "(or use client.users on a client from purecloud.new)", level or 3)
  end
  return current
end

return M
