--- How a generated operation (`purecloud.users`, `purecloud.presence`, …)
-- becomes a request: positional arguments in the official SDKs' order,
-- optional ones from `opts`, query and body validated and encoded by the C
-- core from the contract's schemas.
--
-- The operation table is generated once, into C (`csrc/models/generated.c`),
-- with everything the runtime needs precomputed; `core.operations()` hands
-- it to this module, and the encoders take an operation's handle. An
-- operation whose required arguments are its path parameters is prepared
-- when bound (`M.bind`): its common call skips the generic argument handling.
-- @module purecloud.operations
local core = require "purecloud.core"
-- (hot-path globals as upvalues: each global is a lookup in _G)
local pcall, select, type, ipairs, pairs = pcall, select, type, ipairs, pairs
local unpack = table.unpack or unpack -- luacheck: ignore 113 (5.1)
local default = require "purecloud.default"
local api = require "purecloud.api"
local pager = require "purecloud.pager"
local request = require "purecloud.request"
local usage = require("purecloud.errors").usage
local fill_url, MAX_URL, prepared_request, prepared_op = core.fill_url, request.MAX_URL, request.prepared, request.operation

local M = {}

-- Every operation by name, as generated (`csrc/models/generated.c`, by
-- `tools/gen-models.lua`): `{ handle, name, class, alias, method, path, safe,
-- body, deprecated, preview, seed_body_optional, params, positional,
-- optional, npos, max_args, prepared }` — nothing is computed here. Each is
-- built from the C table the first time it is asked for (`core.operation`),
-- so a process holds only the operations it uses: the whole table is 160+
-- operations, and every table a process keeps is marked again by each
-- garbage collection. A seed alias is a second key for the same table
-- (`OPERATIONS.get_user_id == OPERATIONS.get_user`).
local OPS = setmetatable({}, { __index = function(t, name)
  local op = type(name) == "string" and core.operation(name)
  if not op then return nil end
  t[op.name] = op
  if op.alias then t[op.alias] = op end
  return op
end })
M.OPERATIONS = OPS

--- Every operation at once (the command line's list): `{ [name] = op,
-- [alias] = op }`, the same tables as `OPERATIONS`.
function M.all()
  for name in pairs(core.operations()) do local _ = OPS[name] end
  local copy = {}
  for name, op in pairs(OPS) do copy[name] = op end
  return copy
end

-- A seed operation gone from today's API: its name -> the call that keeps
-- its promise, by class (`purecloud.api`, generated).
local SEED_GONE = api.seed_gone

-- Deprecated operations warn once per process, at their first call.
local warned = {}
local function warn_deprecated(client, op)
  if warned[op.name] then return end
  warned[op.name] = true
  client:log("warn", "purecloud.%s.%s is deprecated in the official SDK; see docs/operations.md", op.class, op.name)
end

--- What a caller (the command line, docs) may know of an operation, by its
-- name or its seed alias, or nil: `{ name, class, alias, deprecated,
-- preview, method, path, safe, body, arguments = { lua names in order },
-- lists = { [lua name] = true for a required list argument }, options = {
-- sorted lua names }, body_optional = bool, body_positional = bool }`.
function M.describe(name)
  local op = OPS[name]
  if not op then return nil end
  name = op.name
  local args, lists, opts = {}, {}, {}
  for i, p in ipairs(op.positional) do
    args[i] = p.lua_name
    if p.multi and p["in"] == "query" then lists[p.lua_name] = true end
  end
  for k in pairs(op.optional) do if k ~= "body" then opts[#opts + 1] = k end end
  table.sort(opts)
  local body_in_args = false
  for _, p in ipairs(op.positional) do if p["in"] == "body" then body_in_args = true end end
  return { name = name, class = op.class, alias = op.alias, deprecated = op.deprecated, preview = op.preview,
           method = op.method, path = op.path, safe = op.safe, body = op.body,
           arguments = args, lists = lists, options = opts, body_optional = op.optional.body ~= nil,
           body_positional = body_in_args }
end

local function arg_error(op, name, i, lua_name, what, got)
  usage(("purecloud.%s.%s: bad argument #%d '%s' (%s expected, got %s)"):format(op.class, name, i, lua_name, what, got))
end

--- Run operation `name` on `client` (nil: the default client).
-- @return result | nil, err
function M.call(client, name, ...)
  client = client or default.get()
  local op = OPS[name]
  if op.deprecated then warn_deprecated(client, op) end
  local npos = op.npos
  local nargs = select("#", ...)
  if nargs > op.max_args then
    usage(("purecloud.%s.%s: too many arguments (%d given, at most %d)"):format(op.class, name, nargs, op.max_args))
  end
  local path, required_query, body, has_body = {}, nil, nil, false
  for i = 1, npos do
    local v = select(i, ...)
    local p = op.positional[i]
    if p["in"] == "body" then
      if v == nil then arg_error(op, name, i, p.lua_name, "a request body", "nil") end
      body, has_body = v, true
    elseif p.multi then -- (a required list in the query: `schema_ids`)
      if type(v) ~= "table" or v[1] == nil then
        arg_error(op, name, i, p.lua_name, "a non-empty list of strings", type(v) == "table" and "an empty table"
          or type(v))
      end
      for j = 1, #v do
        if type(v[j]) ~= "string" then
          arg_error(op, name, i, p.lua_name, "a list of strings", ("a %s at [%d]"):format(type(v[j]), j))
        end
      end
      required_query = required_query or {}
      required_query[p.name] = v
    else
      if type(v) ~= "string" or v == "" then
        arg_error(op, name, i, p.lua_name, "a non-empty string", v == "" and "an empty string" or type(v))
      end
      if p["in"] == "path" then
        path[p.name] = v
      else
        required_query = required_query or {}
        required_query[p.name] = v
      end
    end
  end
  local opts = select(npos + 1, ...)
  if opts ~= nil and type(opts) ~= "table" then arg_error(op, name, npos + 1, "opts", "a table", type(opts)) end
  -- `opts.headers`: per-call headers (the official SDKs' customHeaders), under
  -- the client's header rules; `opts.body` where the body is optional.
  local qopts, headers = opts, nil
  if opts and (opts.headers ~= nil or op.optional.body) then
    qopts = {}
    for k, v in pairs(opts) do
      if k == "body" and op.optional.body then body, has_body = v, v ~= nil
      elseif k == "headers" then headers = v
      else qopts[k] = v end
    end
  end
  local mode = client.validate
  local query, warnings
  if qopts ~= nil then
    local ok
    ok, query, warnings = pcall(core.encode_query, op.handle, qopts, mode)
    if not ok then usage(("purecloud.%s.%s: %s"):format(op.class, name, query)) end
    if not query then return nil, warnings end
    for _, w in ipairs(warnings) do client:log("warn", "%s: %s", name, w) end
  end
  -- No options (the common call): nothing to validate or rename, and no query
  -- table unless a required parameter goes in the query.
  if required_query then
    query = query or {}
    for k, v in pairs(required_query) do query[k] = v end
  end
  local json
  if has_body then
    json, warnings = core.encode_body(op.handle, body, mode)
    if not json then return nil, warnings end
    for _, w in ipairs(warnings) do client:log("warn", "%s: %s", name, w) end
  end
  local req, safe = prepared_op(client.cfg, op, { path = path, query = query, json = json, headers = headers })
  return client:run(req, safe, name)
end

--- `true` for a result, or the `nil, err` of a failure: a call whose
-- promise is only that it happened (the seed's `delete_user_id_roles`).
function M.done(result, err)
  if result == nil then return nil, err end
  return true
end

--- The seed's call of an operation whose body, optional in 2016, came in
-- `opts.body` (`put_user_id_profileskills(user_id, { body = … })`): `fn` is
-- today's function, whose `npos`-th argument is the body.
function M.seed_body_adapter(fn, npos)
  return function(...)
    local args = { ... }
    local opts = args[npos]
    args[npos] = type(opts) == "table" and opts.body or nil
    return fn(unpack(args, 1, npos))
  end
end

--- A seed operation gone from today's API, done by today's `fn` with an
-- empty body (`delete_user_id_roles` is `put_user_roles(id, {})`): `true` or
-- `nil, err`.
function M.seed_gone_adapter(fn)
  return function(id) return M.done(fn(id, {})) end
end

--- Install the pagination helpers of class `class` on `t` (bound to
-- `client`, or the default): the generated modules' helpers, all at once.
function M.install_paging(t, client, class)
  local the_client = function() return client or default.get() end
  local done = {}
  for _, name in pairs(core.operation_index(class).helpers) do
    if not done[name] then
      done[name] = true
      local op = OPS[name]
      t[op.paging.pages], t[op.paging.each] = pager.helpers(t, the_client, op)
    end
  end
end

-- The bound function of a prepared operation. Its common call — only the
-- required arguments, each a string — is sent with the URL filled straight
-- from them (`core.fill_url`) and its request made by `request.prepared`,
-- then run by `client:run`: no argument tables, no
-- generic checks. Anything else (opts, a missing, extra or non-string
-- argument, a value `fill_url` refuses, a URL over the limit) takes
-- `M.call`, which validates and raises exactly as for any operation.
local function prepare(client, name, op)
  local method, handle, safe, npos, call = op.method, op.handle, op.safe, op.npos, M.call
  return function(...)
    if select("#", ...) == npos then
      local a, b = ...
      if (npos < 1 or type(a) == "string") and (npos < 2 or type(b) == "string") then
        local url = fill_url(client.cfg.base_url, handle, a, b) -- (a and b past npos are nil, ignored)
        if url and #url <= MAX_URL then return client:run(prepared_request(client.cfg, method, url, safe), safe, name) end
      end
    end
    return call(client, name, ...)
  end
end

--- A table of every operation of class `class` (`"users"`, `"presence"`,
-- …) bound to `client`, under its name and its seed alias, plus the
-- pagination helpers. Each function is made at its first use (the table
-- answers every name of the class: `core.operation_index`).
function M.bind(client, class)
  local index = core.operation_index(class)
  local names, helpers, gone = index.names, index.helpers, SEED_GONE[class] or {}
  local the_client = function() return client end
  local t = {}
  return setmetatable(t, { __index = function(_, name)
    local fn
    if names[name] then
      local op = OPS[name]
      if name == op.alias and op.seed_body_optional then
        fn = M.seed_body_adapter(t[op.name], op.npos)
      elseif op.prepared then
        fn = prepare(client, name, op)
      else
        fn = function(...) return M.call(client, name, ...) end
      end
    elseif helpers[name] then
      local op = OPS[helpers[name]]
      local pages, each = pager.helpers(t, the_client, op)
      rawset(t, op.paging.pages, pages)
      rawset(t, op.paging.each, each)
      return rawget(t, name)
    elseif gone[name] then
      fn = M.seed_gone_adapter(t[gone[name]])
    else
      return nil
    end
    rawset(t, name, fn)
    return fn
  end })
end

return M
