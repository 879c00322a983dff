--- Building a request at the boundary: the one place that decides what a
-- caller's strings and headers may be.
--
-- * Text that reaches a URL, a header or a credential never holds a NUL, CR
--   or LF byte: C would truncate it at the NUL (a DELETE meant for
--   `/users/<id>\0/roles` would hit the user), and CR/LF would forge headers.
-- * A header is what the one header rule allows (`core.check_header`,
--   decided in C in `csrc/text.h` and shared with both transports): the
--   name an HTTP token of at most 256 bytes, the value RFC 9110's
--   field-value (no control byte but HTAB, no DEL, no white space at either
--   end, at most 16 KiB), and none of the headers the library owns
--   (`core.OWNED_HEADERS`: `Authorization`, the framing and connection
--   headers). Headers merge case-insensitively: the caller's
--   `content-type` replaces the library's `Content-Type`, never joins it.
-- * Path parameters are non-empty strings or integers, at most 1 KiB; query
--   values strings, numbers or booleans (the C core refuses NaN, infinity
--   and NUL bytes there); the whole URL at most 16 KiB.
--
-- Every refusal raises (a mistake in the program, found before anything is
-- sent), naming what was refused.
-- @module purecloud.request
local core = require "purecloud.core"
local keys = require "purecloud.keys"
local usage = require("purecloud.errors").usage
-- (hot-path globals as upvalues: each global is a lookup in _G)
local pairs, pcall, type = pairs, pcall, type
local check_header_rule, build_url = core.check_header, core.build_url

local M = {}

local MAX_URL = 16 * 1024 -- (a path parameter's 1 KiB is checked by core.build_url)
--- The longest URL a request may have (bytes).
M.MAX_URL = MAX_URL

local SAFE_METHODS = { GET = true, HEAD = true, PUT = true, DELETE = true, OPTIONS = true }
local METHODS = { GET = true, HEAD = true, PUT = true, DELETE = true, OPTIONS = true, POST = true, PATCH = true }

--- Raise (at the caller's line) unless `s` is a string without NUL, CR or LF.
-- @string what what it is, for the message ("option 'base_url'")
-- @param s the value
function M.check_text(what, s)
  if type(s) ~= "string" then
    usage(("purecloud: %s must be a string, got %s"):format(what, type(s)))
  end
  local bad = s:find("[%z\r\n]")
  if bad then
    local name = ({ ["\0"] = "NUL", ["\r"] = "CR", ["\n"] = "LF" })[s:sub(bad, bad)]
    usage(("purecloud: %s contains a %s byte at position %d; refused (nothing was sent)"):format(what, name, bad))
  end
end

-- Raise unless header k = v may be given (the one header rule).
local function check_header(what, k, v)
  if type(k) ~= "string" or type(v) ~= "string" then
    usage(("purecloud: %s must map header names to string values (got %s = %s)"):format(what, type(k), type(v)))
  end
  local ok, why = check_header_rule(k, v)
  if not ok then usage(("purecloud: %s: %s; refused (nothing was sent)"):format(what, why)) end
end

--- `base` (a header table) with `extra` merged in, case-insensitively;
-- every header of both checked by the one header rule (`core.check_header`).
-- @treturn table a new table; neither argument changes
function M.merge_headers(base, extra, what)
  local out, index = {}, {}
  for k, v in pairs(base) do
    check_header(what, k, v)
    out[k] = v
    index[k:lower()] = k
  end
  if type(extra) ~= "table" then usage(("purecloud: %s must be a table of headers"):format(what)) end
  for k, v in pairs(extra) do
    check_header(what, k, v)
    local lk = k:lower()
    if index[lk] then out[index[lk]] = nil end
    out[k], index[lk] = v, k
  end
  return out
end

--- The value of header `name` in `h`, whatever its case.
function M.header(h, name)
  local lname = name:lower()
  for k, v in pairs(h) do
    if k:lower() == lname then return v end
  end
end

-- The request table: a copy of the headers (the driver adds the bearer
-- token to it), and `decode` — a transport may hand back a 2xx JSON body
-- already decoded (res.value; the libcurl transport does, from its own
-- buffer).
local function new_req(cfg, method, url, headers, body, safe)
  local copy = {}
  for k, v in pairs(headers) do copy[k] = v end
  if body ~= nil and not M.header(copy, "content-type") then copy["Content-Type"] = "application/json" end
  local req = {
    method = method, url = url, headers = copy, safe = safe == true, -- (unknown: not safe, never re-sent)
    timeout = cfg.timeout, connect_timeout = cfg.connect_timeout, max_body = cfg.max_body, decode = true,
  }
  if body ~= nil then req.body = body end
  return req
end

-- Path templates already found good (an operation's template repeats on
-- every call); bounded, so a caller building paths per call cannot grow it.
local checked, nchecked = {}, 0

local finish

--- Build the request for one call.
-- @tparam table cfg the client's config (base_url, headers, timeout, connect_timeout, max_body)
-- @string method
-- @string path a template such as "/api/v2/users/{userId}"
-- @tparam table args { path, query, body, json, headers, safe }
-- @return req, safe
--- The keys of `client:request`'s args table.
M.ARGS = { path = true, query = true, body = true, json = true, headers = true, op = true, safe = true }

function M.build(cfg, method, path, args)
  if type(method) ~= "string" or not METHODS[method] then
    usage("purecloud: request: method must be one of GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS")
  end
  if not checked[path] then
    M.check_text("request path", path)
    if path:byte(1) ~= 47 then usage("purecloud: request: path must start with '/'") end -- 47: "/"
    if nchecked >= 256 then checked, nchecked = {}, 0 end
    checked[path], nchecked = true, nchecked + 1
  end
  if args ~= nil and type(args) ~= "table" then usage("purecloud: request: args must be a table") end
  args = args or {}
  for k in pairs(args) do
    if not M.ARGS[k] then usage(keys.unknown("client:request", k, M.ARGS)) end
  end
  return finish(cfg, method, path, args)
end

--- The request of a generated operation `op` (`purecloud.operations`:
-- arguments checked, query and body encoded there): its URL from the
-- operation's compiled template (`core.build_url` with its handle).
-- @tparam table args { path, query, json, headers }
-- @return req, safe
function M.operation(cfg, op, args)
  return finish(cfg, op.method, op.handle, args, op.safe)
end

-- The rest of a build (declared above `M.build`): the URL, from a
-- template or an operation's handle; headers; body.
function finish(cfg, method, template, args, op_safe)
  local ok, url = pcall(build_url, cfg.base_url, template, args.path, args.query)
  if not ok then usage(url) end
  if #url > MAX_URL then
    usage(("purecloud: request URL would be %d bytes long (at most %d)"):format(#url, MAX_URL))
  end
  local headers = cfg.headers
  if args.headers then headers = M.merge_headers(headers, args.headers, "request headers") end
  local body = args.json
  if body ~= nil and type(body) ~= "string" then usage("purecloud: request: json must be a string") end
  if body == nil and args.body ~= nil then
    local encoded, err = core.encode_json(args.body)
    if not encoded then return nil, err end
    body = encoded
  end
  local safe = op_safe
  if safe == nil then safe = args.safe end
  if safe == nil then safe = SAFE_METHODS[method] or false end
  return new_req(cfg, method, url, headers, body, safe), safe
end

--- The URL of a link the service returned (`selfUri`, `nextUri`,
-- `previousUri`, `firstUri`, `lastUri`), resolved against the client's API
-- base, path prefix included: the service writes them relative to its API
-- host (`/api/v2/users?pageNumber=2`), so behind a gateway
-- (`base_url = "https://gw.example/pc/api"`) they are joined to the base as
-- the operations' paths are (`https://gw.example/pc/api/api/v2/users?…`);
-- one the gateway already rewrote (starting with the prefix and `/api/`)
-- keeps its path on the base's origin. An absolute URL is followed only on
-- the base's own origin (scheme, host and port): the call carries the
-- client's token, so a link elsewhere is refused, never sent.
-- @return url | nil, why
function M.resolve(cfg, uri)
  if type(uri) ~= "string" or uri == "" then return nil, "a link must be a non-empty string" end
  if uri:find("[%c ]") then return nil, "a link must not hold spaces or control characters" end
  local base = cfg.base_url
  local origin, prefix = base:match("^(%a[%w+.-]*://[^/?#]*)(.*)$")
  if not origin then return nil, "the client's base_url has no origin" end
  local path = uri
  if not uri:find("^/") or uri:find("^//") then
    local o, rest = uri:match("^(%a[%w+.-]*://[^/?#]*)(.*)$")
    if not o then return nil, "a link must be a path (/api/v2/…) or a URL of the API host" end
    if o:lower() ~= origin:lower() then
      return nil, "the link points outside the client's API (" .. origin .. "): not followed with its token"
    end
    path = rest ~= "" and rest or "/"
    if path:sub(1, 1) ~= "/" then path = "/" .. path end
  end
  local url
  if prefix ~= "" and path:sub(1, #prefix + 5) == prefix .. "/api/" then
    url = origin .. path
  else
    url = base .. path
  end
  if #url > MAX_URL then return nil, ("the link's URL would be %d bytes long (at most %d)"):format(#url, MAX_URL) end
  return url
end

--- The request of a prepared call (`purecloud.operations`): `url` came from
-- `core.fill_url` with the operation's own method and template, which
-- `build` checks, and the call has no headers, query or body of its own.
-- The caller checks the URL's length against `MAX_URL` first; `safe` is
-- the operation's (the contract's, always given).
-- @return req
function M.prepared(cfg, method, url, safe)
  return new_req(cfg, method, url, cfg.headers, nil, safe)
end

return M
