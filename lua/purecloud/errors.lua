--- Error objects. Runtime failures are returned as `nil, err`; `err` is a
-- table with the `purecloud.error` metatable (one-line `__tostring`).
-- Fields: kind ("api", "auth", "transport", "timeout", "decode",
-- "validation"), status, code, message, message_with_params, message_params,
-- context_id, details, errors, retry_after, headers, body.
-- @module purecloud.errors
local core = require "purecloud.core"

local M = {}

--- Make an error object from a table of fields (needs `kind`).
M.new = core.error

--- True when `v` is a purecloud error object.
M.is = core.is_error

return M
