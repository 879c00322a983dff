--- How a generated `purecloud.users` function becomes a request: positional
-- arguments in the seed's order, optional ones from `opts`, query and body
-- validated and encoded by the C core from the contract's schemas.
-- @module purecloud.operations
local core = require "purecloud.core"

local M = {}

local function default_client()
  return require("purecloud").default_client()
end

local function arg_error(name, i, lua_name, what, got)
  error(("purecloud.users.%s: bad argument #%d '%s' (%s expected, got %s)"):format(name, i, lua_name, what, got), 4)
end

--- Run operation `name` of `ops` on `client` (nil: the default client).
function M.call(client, ops, name, ...)
  client = client or default_client()
  local op = ops[name]
  local npos = #op.positional
  local has_opts = next(op.optional) ~= nil
  local nargs = select("#", ...)
  if nargs > npos + (has_opts and 1 or 0) then
    error(("purecloud.users.%s: too many arguments (%d given, at most %d)")
      :format(name, nargs, npos + (has_opts and 1 or 0)), 3)
  end
  local path, required_query, body, has_body = {}, {}, nil, false
  for i = 1, npos do
    local v = select(i, ...)
    local lua_name, api_name, where = op.positional[i][1], op.positional[i][2], op.positional[i][3]
    if where == "path" or where == "query" then
      if type(v) ~= "string" or v == "" then
        arg_error(name, i, lua_name, "a non-empty string", v == "" and "an empty string" or type(v))
      end
      if where == "path" then path[api_name] = v else required_query[api_name] = v end
    else
      if v == nil then arg_error(name, i, lua_name, "a request body", "nil") end
      body, has_body = v, true
    end
  end
  local opts = select(npos + 1, ...)
  if opts ~= nil and type(opts) ~= "table" then arg_error(name, npos + 1, "opts", "a table", type(opts)) end
  local qopts = opts
  if opts and op.optional.body then
    qopts = {}
    for k, v in pairs(opts) do
      if k == "body" then body, has_body = v, v ~= nil else qopts[k] = v end
    end
  end
  local mode = client.validate
  local ok, query, err = pcall(core.encode_query, name, qopts, mode)
  if not ok then error(query, 3) end -- an unknown option: a programming error, raised at the caller
  if not query then return nil, err end
  for k, v in pairs(required_query) do query[k] = v end
  local json
  if has_body then
    local warnings
    json, warnings = core.encode_body(name, body, mode)
    if not json then return nil, warnings end
    for _, w in ipairs(warnings) do client._log("warn", "%s: %s", name, w) end
  end
  return client:request(op.method, op.path, { path = path, query = query, json = json, op = name })
end

--- A table of every operation in `ops`, bound to `client`, plus the
-- pagination helpers.
function M.bind(client, ops)
  local t = {}
  for name in pairs(ops) do
    t[name] = function(...) return M.call(client, ops, name, ...) end
  end
  require("purecloud.paging").install(t, client)
  return t
end

return M
