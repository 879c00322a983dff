-- Stopping an nginx a spec started, the one way every spec does it: signal
-- the master by the pid in its pid file (read before anything can remove
-- the file), wait until it is gone (5 s), then kill it.
local core = require "purecloud.core"

local M = {}

local function alive(pid) return os.execute("kill -0 " .. pid .. " 2>/dev/null") == true end

--- Stop the nginx whose master wrote `pid_file`; nothing when there is none.
-- True when it stopped by itself.
function M.stop(pid_file)
  local f = io.open(pid_file)
  local pid = f and tonumber(f:read("a"):match("%d+"))
  if f then f:close() end
  if not pid then return true end
  os.execute("kill -TERM " .. pid .. " 2>/dev/null")
  for _ = 1, 50 do
    if not alive(pid) then return true end
    core.sleep(0.1)
  end
  os.execute("kill -9 " .. pid .. " 2>/dev/null")
  return false
end

return M
