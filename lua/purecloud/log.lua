--- Leveled logging. A client's `log` option is one of
--
--  * a table `{ level = "info", sink = function(level, message) end, format = "text" | "json" }`
--    (every field optional: level `warn`, the default sink, format `text`);
--  * a level name (`none`, `error`, `warn`, `info`, `debug`, `trace`): the default sink;
--  * a function `(level, message)`: that sink at the default level, `warn`.
--
-- A sink receives only messages at or above its level (so trace lines, which
-- carry redacted bodies, only with `level = "trace"`). The default sink is
-- `ngx.log` with the matching nginx level inside nginx / OpenResty, and
-- stderr elsewhere (`purecloud [warn] …`, or one JSON object per line with
-- `format = "json"`; a custom sink then receives that JSON text as `message`).
--
-- What the library logs at the default level `warn`: what the caller cannot
-- see otherwise (retries and waits, unknown fields and enum values it sends).
-- Messages are built by the callers from method, URL, status, timing and
-- correlation ids only; request headers are never logged, and token-endpoint
-- bodies never reach a line. Every line then goes through `core.one_line`
-- (the same scrub and escape as `tostring(err)`, `csrc/protocol/errors.c`):
-- every known secret of the Lua state (client secrets, tokens, codes,
-- verifiers, assertions, proxy passwords) becomes `[REDACTED]`, and control
-- characters, C1 controls and U+2028/U+2029 are escaped, so one message is
-- one line whatever a server put in it.
-- @module purecloud.log
local core = require "purecloud.core"
local usage = require("purecloud.errors").usage

local M = {}
local one_line = core.one_line

M.LEVELS = { none = 0, error = 1, warn = 2, info = 3, debug = 4, trace = 5 }
local NAMES = "none, error, warn, info, debug, trace"
local FIELDS = { level = true, sink = true, format = true }

-- JSON text of a string: quotes, backslashes and control characters escaped,
-- '/' and UTF-8 left as they are.
local function json_string(s)
  return '"' .. s:gsub('[%c"\\]', function(c)
    if c == '"' then return '\\"' elseif c == "\\" then return "\\\\"
    elseif c == "\n" then return "\\n" elseif c == "\r" then return "\\r" elseif c == "\t" then return "\\t" end
    return ("\\u%04x"):format(c:byte())
  end) .. '"'
end

--- One log record as a JSON object line (no trailing newline).
function M.json_line(level, message, time)
  return ('{"time":%s,"level":%s,"logger":"purecloud","message":%s}')
    :format(("%.3f"):format(time or os.time()), json_string(level), json_string(message))
end

local function bad(msg) usage("purecloud: option 'log' " .. msg) end

local function level_of(name)
  local n = M.LEVELS[name]
  if not n then bad(("level must be one of %s, got %s"):format(NAMES, tostring(name))) end
  return n
end

-- The default sink: ngx.log inside nginx, stderr elsewhere.
local function default_sink(format)
  local ngx = rawget(_G, "ngx")
  if type(ngx) == "table" and type(ngx.log) == "function" and ngx.WARN then
    local map = { error = ngx.ERR, warn = ngx.WARN, info = ngx.INFO, debug = ngx.DEBUG, trace = ngx.DEBUG }
    return function(level, message) ngx.log(map[level] or ngx.WARN, "purecloud [", level, "] ", message) end, true
  end
  if format == "json" then
    return function(_, message) io.stderr:write(message, "\n") end
  end
  return function(level, message) io.stderr:write("purecloud [", level, "] ", message, "\n") end
end

--- Make a logger from a client's `log` option: returns `log(level, fmt, ...)`
-- and `enabled(level)`.
function M.new(option)
  local threshold, sink, format = M.LEVELS.warn, nil, "text"
  local t = type(option)
  if option == nil then -- luacheck: ignore 542
  elseif t == "string" then
    threshold = level_of(option)
  elseif t == "function" then
    sink = option
  elseif t == "table" then
    for k in pairs(option) do
      if not FIELDS[k] then
        local near = require("purecloud.keys").nearest(k, FIELDS)
        bad(("has an unknown field %q%s: use level, sink or format"):format(tostring(k),
          near and (" (did you mean '" .. near .. "'?)") or ""))
      end
    end
    if option.level ~= nil then threshold = level_of(option.level) end
    if option.sink ~= nil and type(option.sink) ~= "function" then
      bad("sink must be a function(level, message), got " .. type(option.sink))
    end
    sink = option.sink
    if option.format ~= nil and option.format ~= "text" and option.format ~= "json" then
      bad(("format must be \"text\" or \"json\", got %s"):format(tostring(option.format)))
    end
    format = option.format or "text"
  else
    bad("must be a level name (" .. NAMES .. "), a function(level, message) or a table "
      .. "{ level, sink, format }, got " .. t)
  end
  local native
  if not sink then sink, native = default_sink(format) end
  local json = format == "json" and not native

  local function enabled(level) return (M.LEVELS[level] or 0) <= threshold end
  local function log(level, fmt, ...)
    local n = M.LEVELS[level]
    if not n or n > threshold or n == 0 then return end
    local ok, message = pcall(string.format, fmt, ...)
    if not ok then message = fmt end
    if type(message) ~= "string" then message = tostring(message) end
    -- One message, one line, no secret: what a server sent (a correlation
    -- id, an error message) is scrubbed and escaped, so nobody can forge log
    -- lines and no secret it echoed is shown.
    message = one_line(message)
    if json then message = M.json_line(level, message) end
    -- A logging function that fails must not break the request.
    pcall(sink, level, message)
  end
  return log, enabled
end

return M
