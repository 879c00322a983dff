-- ErrorBody answers. Handlers raise with errors.raise(); the app catches the
-- table and answers it in the real service's shape.
local M = {}

local ERR = {}
ERR.__index = ERR

function M.new(status, code, message, opts)
  opts = opts or {}
  return setmetatable({ status = status, code = code, message = message, params = opts.params,
                        details = opts.details, headers = opts.headers }, ERR)
end

function M.is(e) return getmetatable(e) == ERR end

function M.raise(status, code, message, opts)
  error(M.new(status, code, message, opts), 0)
end

function M.not_found(what)
  M.raise(404, "not.found", what or "The requested resource was not found.")
end

function M.bad_request(code, message, opts)
  M.raise(400, code or "bad.request", message or "The request could not be understood by the server due to malformed syntax.", opts)
end

-- The ErrorBody table for an error and a correlation id.
function M.body(e, context_id)
  local json = require "emu.json"
  local params = e.params or {}
  local mwp = e.message
  if e.params then
    mwp = e.message:gsub("%[([%w_]+)%]", function(k) return params[k] and ("{" .. k .. "}") or nil end)
  end
  return {
    status = e.status, code = e.code, message = e.message, messageWithParams = mwp,
    messageParams = json.object(params), contextId = context_id,
    details = json.array(e.details or {}), errors = json.array({}),
  }
end

return M
