--- Error objects, and the one rule for a caller's mistakes.
--
-- **Runtime failures are returned** as `nil, err`: `err` is a table with
-- the `purecloud.error` metatable (one-line `__tostring`, every text field
-- scrubbed of the state's secrets), made by one constructor in C
-- (`core.error`, `csrc/protocol/errors.c`) — the C core's own errors (an
-- API answer, a decode, a validation, a libcurl failure) are built there —
-- and by `M.new` in Lua, which checks the field set below first: a field
-- name not in `FIELDS` or a kind not in `KINDS` is a bug in the library,
-- and raises where it was made.
--
-- **Bad arguments raise** (`M.usage`), at the caller's line: the first
-- frame outside the library, found by walking the stack, so no module
-- counts levels by hand and a function may move between modules freely.
-- @module purecloud.errors
local core = require "purecloud.core"
local error, getinfo, pairs, tostring = error, debug.getinfo, pairs, tostring

local M = {}

--- What an error's `kind` may be.
M.KINDS = {
  api = "the service answered an error status (4xx but 401/403, 5xx)",
  auth = "credentials: a 401/403, a token request refused, a token store that failed",
  transport = "no usable answer: connect, send or receive failed (see `sent`)",
  timeout = "a deadline passed (see `sent`)",
  protocol = "an answer that is not HTTP as RFC 9112 frames it",
  decode = "a 2xx body that is not valid JSON",
  validation = "a request the contract refuses, found before sending",
  interrupted = "a batch stopped before its end (see `counts`, `results`)",
  journal = "the write-ahead journal cannot be read or written",
  unknown = "sent in an earlier run that ended before its answer",
}

--- Every field an error may have, and what it holds.
M.FIELDS = {
  kind = "one of KINDS",
  status = "the HTTP status, when there was an answer",
  code = "the service's error code (ErrorBody.code, or OAuth's error)",
  message = "one line for people",
  message_with_params = "ErrorBody.messageWithParams",
  message_params = "ErrorBody.messageParams",
  context_id = "the service's correlation id (ININ-Correlation-Id)",
  details = "ErrorBody.details", errors = "ErrorBody.errors",
  retry_after = "seconds the service asked to wait (429, 503)",
  headers = "the answer's headers", body = "the answer's body, as sent",
  sent = "false when the request surely never left", outcome = "not_sent | rejected | unknown",
  reason = "a transport's finer cause: refused, too_large, framing, …",
  retry_reason = "why the loop stopped retrying",
  curl_code = "libcurl's CURLcode", elapsed = "seconds the transfer took",
  cause = "what stopped a batch", results = "a stopped batch's results", counts = "… and their counts",
}

--- Make an error object from `fields` (`kind` required; only `FIELDS`).
-- @tparam table fields
-- @return the error object
function M.new(fields)
  local kind = fields.kind
  if not M.KINDS[kind] then error("purecloud.errors.new: unknown kind " .. tostring(kind), 2) end
  for k in pairs(fields) do
    if not M.FIELDS[k] then error("purecloud.errors.new: unknown field '" .. tostring(k) .. "'", 2) end
  end
  return core.error(fields)
end

--- An error object from the fields of a table made outside the library (a
-- host transport's error): the known fields only, and a kind not in
-- `KINDS` becomes "transport".
function M.adopt(t)
  local fields = {}
  for k, v in pairs(t) do if M.FIELDS[k] then fields[k] = v end end
  if not M.KINDS[fields.kind] then fields.kind = "transport" end
  return core.error(fields)
end

--- True when `v` is a purecloud error object.
M.is = core.is_error

-- The library's own files: every frame whose source lies below this
-- file's folder (`…/purecloud/`), found once from this file's own path;
-- Lua 5.1's tail-call placeholders count as the library's too.
local HERE = getinfo(1, "S").source
local ROOT = HERE:match("^(@.*[/\\]purecloud[/\\])") or HERE

local function inside(src) return src:sub(1, #ROOT) == ROOT or src == "=(tail call)" end

--- Raise `message` (a caller's mistake: nothing was sent) at the caller's
-- line — the first frame outside the library, so that a check may sit at
-- any depth and move freely. `message` starts with the public name of what
-- was called (`purecloud.users.get_user: …`, `purecloud: option …`).
function M.usage(message)
  local level = 2 -- (1: here; 2: the library function that found the mistake)
  while true do
    local info = getinfo(level + 1, "S")
    if not info or not inside(info.source) then break end
    level = level + 1
  end
  error(message, level + 1)
end

return M
