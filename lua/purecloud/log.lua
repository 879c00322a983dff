--- Leveled logging. A client's `log` option is a level name (lines go to
-- stderr) or a function `(level, message)`. Messages are built by the
-- callers from method, URL, status, timing and correlation ids only; request
-- headers are never logged, and token-endpoint bodies never reach a line.
-- @module purecloud.log
local M = {}

M.LEVELS = { none = 0, error = 1, warn = 2, info = 3, debug = 4, trace = 5 }

--- Make a logger: returns `log(level, fmt, ...)` and `enabled(level)`.
function M.new(option)
  local threshold, sink
  if option == nil then
    threshold = M.LEVELS.warn
  elseif type(option) == "string" then
    threshold = M.LEVELS[option]
    if not threshold then
      error("purecloud: log must be one of none, error, warn, info, debug, trace, or a function", 3)
    end
  elseif type(option) == "function" then
    threshold, sink = M.LEVELS.trace, option
  else
    error("purecloud: log must be a level name or a function(level, message)", 3)
  end
  sink = sink or function(level, message)
    io.stderr:write("purecloud [", level, "] ", message, "\n")
  end
  local function enabled(level) return M.LEVELS[level] <= threshold end
  local function log(level, fmt, ...)
    if M.LEVELS[level] > threshold then return end
    local ok, message = pcall(string.format, fmt, ...)
    if not ok then message = fmt end
    -- A logging function that fails must not break the request.
    pcall(sink, level, message)
  end
  return log, enabled
end

return M
