-- Running commands and reading files from specs, the same on every Lua the
-- matrix runs (Lua 5.1's io.popen:close reports no exit status, so the
-- status is echoed by the shell and read back).
local M = {}

--- Run `cmd` in sh with stderr merged; returns its exit status and output.
function M.run(cmd)
  local p = assert(io.popen("(" .. cmd .. ") 2>&1; echo \"rc=$?\""))
  local out = p:read("*a")
  p:close()
  local rc = tonumber(out:match("rc=(%d+)%s*$"))
  return rc, (out:gsub("rc=%d+%s*$", ""))
end

--- The whole content of the file at `path`.
function M.read(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("*a")
  f:close()
  return s
end

return M
