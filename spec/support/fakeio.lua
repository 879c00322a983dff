-- A scripted I/O table for hermetic specs: a fake clock that only moves when
-- the code under test sleeps (or a transport call takes its scripted time),
-- and a transport that answers from a script and records every request.
local cjson = require "cjson"

local M = {}

--- res(status, body_table_or_string, headers) -> a transport response
function M.res(status, body, headers)
  local h = {}
  for k, v in pairs(headers or {}) do h[k:lower()] = v end
  if type(body) == "table" then body = cjson.encode(body) end
  return { status = status, headers = h, body = body or "" }
end

function M.token_res(ttl, token)
  return M.res(200, { access_token = token or "tok-1", token_type = "bearer", expires_in = ttl or 86400 })
end

function M.terr(sent, extra)
  local e = { kind = "transport", message = "connection reset", sent = sent }
  for k, v in pairs(extra or {}) do e[k] = v end
  return require("purecloud.core").error(e)
end

--- An I/O table. `api(req, n)` answers API requests (n counts them from 1);
-- token requests get `opts.token(req, n)` (default: a fresh token each time).
function M.new(api, opts)
  opts = opts or {}
  local io = { t = 1000, requests = {}, api = {}, tokens = {}, sleeps = {} }
  io.now = function() return io.t end
  io.sleep = function(s)
    io.sleeps[#io.sleeps + 1] = s
    io.t = io.t + s
  end
  io.transport = function(req)
    local copy = {}
    for k, v in pairs(req) do copy[k] = v end
    copy.headers = {}
    for k, v in pairs(req.headers) do copy.headers[k] = v end
    io.requests[#io.requests + 1] = copy
    io.t = io.t + (opts.latency or 0.01)
    if req.url:find("/oauth/token$") then
      io.tokens[#io.tokens + 1] = copy
      if opts.token then return opts.token(copy, #io.tokens) end
      return M.token_res(opts.ttl, "tok-" .. #io.tokens)
    end
    io.api[#io.api + 1] = copy
    return api(copy, #io.api)
  end
  return io
end

--- A client on `io` with test credentials (more options merged in).
function M.client(io, extra)
  local o = { base_url = "http://api.test", client_id = "id", client_secret = "secret", log = "none",
              transport = io.transport, sleep = io.sleep, now = io.now }
  for k, v in pairs(extra or {}) do
    if v == false and (k == "client_id" or k == "client_secret") then o[k] = nil else o[k] = v end
  end
  return require("purecloud").new(o)
end

return M
