-- Generates, from the contract (api/users-api.json) and today's layer beside
-- it (api/today.lua, see api/README.md "The today layer"):
--   csrc/models/generated.c  static C tables: model schemas and the operations
--   lua/purecloud/users.lua  the 36 Users API functions, with LDoc comments
-- Usage: lua5.4 tools/gen-models.lua [--check] CONTRACT OUT_C OUT_LUA
-- With --check, nothing is written; exits 1 if either file differs from what
-- the contract generates (the generated files are committed).
--
-- The 2016 contract stays the source of the 36 operations (names, paths,
-- positional arguments). Today's layer adds to them: its query parameters
-- (`operations.<operationId>.query`) are optional parameters of the
-- operation (a name the contract also has, such as `expand`, is replaced by
-- today's definition), and its definitions are merged into the contract's
-- (`new`, then `enum`, `items_enum`, `add`; a definition with `replaces` is
-- merged into the 2016 model it renames). Today's `required` lists are not
-- applied: they would turn a request the service answers (400, with its own
-- message) into a local refusal; the request-side required lists stay the
-- contract's with tools/request-exceptions.lua. The LDoc marks every
-- parameter that comes from today's layer.
local cjson = require "cjson"

local check = false
local argv = {}
for _, a in ipairs(arg) do
  if a == "--check" then check = true else argv[#argv + 1] = a end
end
local contract_path, out_c, out_lua = argv[1], argv[2], argv[3]
assert(contract_path and out_c and out_lua, "usage: gen-models.lua [--check] CONTRACT OUT_C OUT_LUA")

local function read(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("a")
  f:close()
  return s
end

local spec = cjson.decode(read(contract_path))
local today_path = (contract_path:gsub("[^/]*$", "")) .. "today.lua"
local today = dofile(today_path)
local exceptions = dofile("tools/request-exceptions.lua")
local safe_ops = {}
for _, name in ipairs(exceptions.safe or {}) do safe_ops[name] = true end
local defs = spec.definitions

local function copy(v)
  if type(v) ~= "table" then return v end
  local c = {}
  for k, x in pairs(v) do c[k] = copy(x) end
  return c
end

-- Today's definitions merged into the contract's (in name order, so the
-- output does not depend on hash order). A definition that neither exists in
-- the contract nor is `new` nor `replaces` one (today's predicate names,
-- whose values the 2016 AnalyticsQueryPredicate already has) changes nothing.
do
  local names = {}
  for name in pairs(today.definitions or {}) do names[#names + 1] = name end
  table.sort(names)
  for _, name in ipairs(names) do
    local d = today.definitions[name]
    if d.new and not defs[name] then defs[name] = copy(d.new) end
    local target = defs[name] or (d.replaces and defs[d.replaces])
    if target then
      target.properties = target.properties or {}
      for prop, values in pairs(d.enum or {}) do
        local p = target.properties[prop]
        if p then p.enum = copy(values) else target.properties[prop] = { type = "string", enum = copy(values) } end
      end
      for prop, values in pairs(d.items_enum or {}) do
        local p = target.properties[prop]
        if not p then
          p = { type = "array" }
          target.properties[prop] = p
        end
        p.items = { type = "string", enum = copy(values) }
      end
      for prop, schema in pairs(d.add or {}) do
        if not target.properties[prop] then target.properties[prop] = copy(schema) end
      end
    end
  end
end

local function sorted_keys(t)
  local k = {}
  for name in pairs(t) do k[#k + 1] = name end
  table.sort(k)
  return k
end

local function cstr(s)
  if s == nil then return "NULL" end
  return '"' .. tostring(s):gsub('[\\"]', "\\%0"):gsub("\n", "\\n"):gsub("\r", "") .. '"'
end

-- Schemas ------------------------------------------------------------------
-- Index 0..4 are shared primitives; definitions follow in name order; then
-- anonymous schemas (arrays, maps, enums) deduplicated by shape.
local schemas = {}
local index_of = {}
local function add_schema(key, s)
  if index_of[key] then return index_of[key] end
  schemas[#schemas + 1] = s
  index_of[key] = #schemas - 1
  return #schemas - 1
end

for _, t in ipairs({ "any", "string", "integer", "number", "boolean" }) do
  add_schema("prim:" .. t, { kind = t:upper() })
end
local def_names = sorted_keys(defs)
for _, name in ipairs(def_names) do
  add_schema("def:" .. name, { kind = "OBJECT", name = name }) -- filled below
end

local schema_of
schema_of = function(s)
  if s == nil then return index_of["prim:any"] end
  if s["$ref"] then return index_of["def:" .. s["$ref"]:match("[^/]+$")] end
  local t = s.type
  if t == "array" then
    local items = schema_of(s.items)
    return add_schema("array:" .. items, { kind = "ARRAY", items = items })
  elseif t == "object" or (t == nil and s.properties) then
    if s.additionalProperties and type(s.additionalProperties) == "table" then
      local items = schema_of(s.additionalProperties)
      return add_schema("map:" .. items, { kind = "MAP", items = items })
    end
    return add_schema("prim:object", { kind = "ANYOBJECT" })
  elseif s.enum then
    local e = {}
    for i, v in ipairs(s.enum) do e[i] = v end
    return add_schema("enum:" .. table.concat(e, "|"), { kind = "STRING", enum = e })
  elseif t then
    return index_of["prim:" .. t] or index_of["prim:any"]
  end
  return index_of["prim:any"]
end

for _, name in ipairs(def_names) do
  local d = defs[name]
  local s = schemas[index_of["def:" .. name] + 1]
  local ex = exceptions.models[name] or {}
  local writable = {}
  for _, f in ipairs(ex.writable or {}) do writable[f] = true end
  s.fields = {}
  for _, pname in ipairs(sorted_keys(d.properties or {})) do
    local p = d.properties[pname]
    s.fields[#s.fields + 1] = { name = pname, schema = schema_of(p),
                                read_only = p.readOnly and not writable[pname] or false }
  end
  local req = ex.required or d.required or {}
  s.required = {}
  for i, r in ipairs(req) do s.required[i] = r end
  table.sort(s.required)
  if d.additionalProperties and type(d.additionalProperties) == "table" then
    s.additional = schema_of(d.additionalProperties)
  end
end

-- Operations ---------------------------------------------------------------
local function snake(name)
  return (name:gsub("(%l)(%u)", "%1_%2"):gsub("(%u)(%u%l)", "%1_%2"):lower())
end

local ops = {}
for _, path in ipairs(sorted_keys(spec.paths)) do
  for _, method in ipairs(sorted_keys(spec.paths[path])) do
    local o = spec.paths[path][method]
    local op = { name = o["x-seed-ruby-method"], method = method:upper(), path = path, summary = o.summary,
                 description = o.description, params = {}, positional = {}, optional = {} }
    assert(op.name, "operation without x-seed-ruby-method: " .. method .. " " .. path)
    -- Today's query parameters: replace the contract's of the same name, or follow them.
    local parameters = {}
    for i, p in ipairs(o.parameters or {}) do parameters[i] = p end
    local top = o.operationId and (today.operations or {})[o.operationId]
    for _, tp in ipairs(top and top.query or {}) do
      local p = copy(tp)
      p.today = true
      local replaced = false
      for i, q in ipairs(parameters) do
        if q.name == p.name and q["in"] == p["in"] then
          p.description = p.description or q.description
          parameters[i], replaced = p, true
        end
      end
      if not replaced then parameters[#parameters + 1] = p end
    end
    op.today_body = top and top.body
    for _, p in ipairs(parameters) do
      local lua_name = p["in"] == "body" and "body" or snake(p.name)
      local pex = p["in"] == "query" and exceptions.params[p.name] or {}
      local pdef = p
      if pex.extra_enum and p.enum then
        pdef = { type = p.type, enum = {} }
        for _, v in ipairs(p.enum) do pdef.enum[#pdef.enum + 1] = v end
        for _, v in ipairs(pex.extra_enum) do pdef.enum[#pdef.enum + 1] = v end
      end
      local schema = p["in"] == "body" and schema_of(p.schema) or schema_of(pdef)
      -- Integer bounds: the format's range, narrowed by request-exceptions.lua.
      local min, max
      if p.type == "integer" then
        if p.format == "int32" then min, max = -2147483648, 2147483647 else min, max = -2^53, 2^53 end
        min = pex.minimum or p.minimum or min
        max = pex.maximum or p.maximum or max
      end
      local param = { name = p.name, lua_name = lua_name, where = p["in"], required = p.required or false,
                      schema = schema, multi = p.collectionFormat == "multi", description = p.description,
                      default = p.default, type = p.type or (p.schema and (p.schema.type or
                        (p.schema["$ref"] and p.schema["$ref"]:match("[^/]+$")))),
                      items_type = p.items and p.items.type, enum = pdef.enum or (p.items and p.items.enum),
                      min = min, max = max, today = p.today }
      op.params[#op.params + 1] = param
      if param.required then op.positional[#op.positional + 1] = param else op.optional[#op.optional + 1] = param end
      if param.where == "body" then op.body = param end
    end
    local ok = o.responses["200"] or o.responses["202"] or o.responses.default
    op.response_props = ok and ok.schema and ok.schema["$ref"]
      and (defs[ok.schema["$ref"]:match("[^/]+$")] or {}).properties or {}
    op.returns = ok and ok.schema and (ok.schema["$ref"] and ok.schema["$ref"]:match("[^/]+$") or
      (ok.schema.type == "array" and ("array of " .. (ok.schema.items.type or ok.schema.items["$ref"]:match("[^/]+$")))
      or ok.schema.type)) or nil
    op.status = o.responses["202"] and 202 or 200
    op.safe = op.method == "GET" or op.method == "PUT" or op.method == "DELETE" or safe_ops[op.name] or false
    -- What the runtime needs, known here once: the positional arguments
    -- first (in the contract's order), then the optional ones; how many
    -- arguments a call takes at most (the options table last); and whether
    -- its common call can be prepared (its at most two required arguments
    -- are exactly the path template's parameters, in its order).
    local ordered = {}
    for _, p in ipairs(op.positional) do ordered[#ordered + 1] = p end
    for _, p in ipairs(op.optional) do ordered[#ordered + 1] = p end
    op.params = ordered
    op.npos = #op.positional
    op.max_args = op.npos + (#op.optional > 0 and 1 or 0)
    local names = {}
    for n in op.path:gmatch("{(.-)}") do names[#names + 1] = n end
    op.prepared = op.npos <= 2 and #names == op.npos
    for i, p in ipairs(op.positional) do
      if p.where ~= "path" or p.name ~= names[i] then op.prepared = false end
    end
    ops[#ops + 1] = op
  end
end
table.sort(ops, function(a, b) return a.name < b.name end)

-- Paged listings, read from the contract (purecloud.pager walks them):
--   * "numbered": a GET whose response has `entities` and `pageCount` and
--     that takes a `pageNumber` query parameter; its helpers are named after
--     the path's last segment in the singular (`users` → `user_pages`,
--     `each_user`);
--   * "next_page": an operation whose response has `results` and
--     `nextPage`, started by the POST and followed by the GET of the same
--     path that takes `q64` (`search` → `search_pages`, `each_search_result`).
local by_path = {}
for _, op in ipairs(ops) do
  by_path[op.path] = by_path[op.path] or {}
  by_path[op.path][op.method] = op
end
local function takes(op, name)
  for _, p in ipairs(op.params) do if p.name == name and p.where == "query" then return true end end
  return false
end
local function singular(word) return (word:gsub("ies$", "y"):gsub("s$", "")) end
for _, op in ipairs(ops) do
  local props = op.response_props
  local last = op.path:match("([%a]+)$")
  if op.method == "GET" and props.entities and props.pageCount and takes(op, "pageNumber") and last then
    local name = singular(last)
    op.paging = { kind = "numbered", pages = name .. "_pages", each = "each_" .. name, items = "entities" }
  elseif op.method == "POST" and props.results and props.nextPage and last then
    local follow = by_path[op.path].GET
    assert(follow and takes(follow, "q64"), op.name .. ": a nextPage listing without its GET ?q64= to follow")
    op.paging = { kind = "next_page", pages = last .. "_pages", each = "each_" .. last .. "_result", items = "results",
                  follow = follow }
  end
end
local handle_of = {}
for i, op in ipairs(ops) do handle_of[op] = i end

-- C output ------------------------------------------------------------------
local c = {}
local function w(s) c[#c + 1] = s end
w("/* GENERATED by tools/gen-models.lua from api/users-api.json and api/today.lua — do not edit.")
w(" * `make generate` rebuilds it; `make generate-check` fails when it drifts. */")
w('#include "models/schema.h"')
w("")
for i, s in ipairs(schemas) do
  local id = i - 1
  if s.enum then
    local parts = {}
    for _, e in ipairs(s.enum) do parts[#parts + 1] = cstr(e) end
    w(("static const char *const enum_%d[] = {%s};"):format(id, table.concat(parts, ", ")))
  end
  if s.fields and #s.fields > 0 then
    w(("static const pc_field fields_%d[] = {"):format(id))
    for _, f in ipairs(s.fields) do
      w(("    {%s, %d, %d},"):format(cstr(f.name), f.schema, f.read_only and 1 or 0))
    end
    w("};")
  end
  if s.required and #s.required > 0 then
    local parts = {}
    for _, r in ipairs(s.required) do parts[#parts + 1] = cstr(r) end
    w(("static const char *const required_%d[] = {%s};"):format(id, table.concat(parts, ", ")))
  end
end
w("")
w("const pc_schema pc_schemas[] = {")
for i, s in ipairs(schemas) do
  local id = i - 1
  local kind = s.kind
  local items = s.items or s.additional or -1
  if kind == "OBJECT" and s.additional and #(s.fields or {}) == 0 then kind = "MAP" end
  w(("    /* %d */ {PC_%s, %s, %d, %s, %d, %s, %d, %s, %d},"):format(id, kind, cstr(s.name), items,
    (s.fields and #s.fields > 0) and ("fields_" .. id) or "NULL", s.fields and #s.fields or 0,
    s.enum and ("enum_" .. id) or "NULL", s.enum and #s.enum or 0,
    (s.required and #s.required > 0) and ("required_" .. id) or "NULL", s.required and #s.required or 0))
end
w("};")
w("")
for _, op in ipairs(ops) do
  w(("static const pc_param params_%s[] = {"):format(op.name))
  for _, p in ipairs(op.params) do
    w(("    {.name = %s, .lua_name = %s, .where = PC_IN_%s, .required = %d, .multi = %d, .schema = %d, "
      .. ".min = %s, .max = %s},"):format(cstr(p.name), cstr(p.lua_name), p.where:upper(),
      p.required and 1 or 0, p.multi and 1 or 0, p.schema, ("%.0f"):format(p.min or 0), ("%.0f"):format(p.max or 0)))
  end
  w("};")
end
w("")
w("const pc_operation pc_operations[] = {")
for _, op in ipairs(ops) do
  w(("    {.name = %s, .method = %s, .path = %s, .params = params_%s, .nparams = %d, .npos = %d, .max_args = %d,")
    :format(cstr(op.name), cstr(op.method), cstr(op.path), op.name, #op.params, op.npos, op.max_args))
  local pg = op.paging
  w(("     .body_schema = %d, .safe = %d, .prepared = %d%s},"):format(op.body and op.body.schema or -1,
    op.safe and 1 or 0, op.prepared and 1 or 0, pg and
      (",\n     .paging = %s, .paging_pages = %s, .paging_each = %s, .paging_items = %s, .paging_follow = %d")
        :format(cstr(pg.kind), cstr(pg.pages), cstr(pg.each), cstr(pg.items), pg.follow and handle_of[pg.follow] or 0)
      or ""))
end
w("};")
w(("const int pc_noperations = %d;"):format(#ops))
local c_text = table.concat(c, "\n") .. "\n"

-- Lua output ----------------------------------------------------------------
local l = {}
local function lw(s) l[#l + 1] = s end
local function lua_str(s) return ("%q"):format(s) end
local function doc_type(p)
  if p.type == "array" then return "{" .. (p.items_type or "string") .. ",...}" end
  if p.type == "integer" then return "int" end
  return p.type or "table"
end

lw("--- The PureCloud Platform API v2 Users API: the 36 operations of the PureCloud Ruby SDK's UsersApi.")
lw("--")
lw("-- GENERATED by tools/gen-models.lua from api/users-api.json and api/today.lua —")
lw("-- do not edit; `make generate` rebuilds it. Request bodies are validated and")
lw("-- encoded by the C core from the contract's schemas with today's additions")
lw("-- (api/today.lua); see README for `validate`. Parameters marked")
lw("-- \"[today's API]\" come from today's layer, not the 2016 contract.")
lw("--")
lw("--     local users = require \"purecloud.users\"   -- after purecloud.configure{ … }")
lw("--     local users = client.users                  -- bound to one client")
lw("--")
lw("-- Every function returns the decoded result (a table; `true` for an empty")
lw("-- 2xx such as 202; a string for a JSON string) or `nil, err`.")
lw("-- @module purecloud.users")
lw("local operations = require \"purecloud.operations\"")
lw("")
lw("local M = {}")
lw("")
for _, op in ipairs(ops) do
  lw("--- " .. (op.summary or op.name) .. ".")
  if op.description and op.description ~= "" and op.description ~= op.summary then
    lw("-- " .. op.description:gsub("\n", "\n-- "))
  end
  lw(("-- `%s %s`"):format(op.method, op.path))
  local args = {}
  for _, p in ipairs(op.positional) do
    args[#args + 1] = p.lua_name
    lw(("-- @tparam %s %s %s%s"):format(p.where == "body" and (p.type or "table") or doc_type(p), p.lua_name,
      p.description or p.name, (p.where == "body" and op.today_body and op.today_body ~= p.type)
        and (" (today's model: %s, api/today.lua)"):format(op.today_body) or ""))
  end
  if #op.optional > 0 then
    args[#args + 1] = "opts"
    lw("-- @tparam[opt] table opts optional parameters:")
    for _, p in ipairs(op.optional) do
      local extra = ""
      if p.enum then extra = " (one of " .. table.concat(p.enum, ", ") .. ")" end
      if p.default ~= nil then extra = extra .. " (server default " .. tostring(p.default) .. ")" end
      if p.today then extra = extra .. " [today's API: api/today.lua]" end
      lw(("--   `%s` %s: %s%s"):format(p.lua_name, p.where == "body" and "request body" or doc_type(p),
        p.description or p.name, extra))
    end
  end
  lw(("-- @return %s, or `nil, err`"):format(op.status == 202 and "`true` (202 Accepted, no body)" or
    (op.returns or "`true`")))
  lw(("function M.%s(%s)"):format(op.name, table.concat(args, ", ")))
  lw(("  return operations.call(nil, %s, %s)"):format(lua_str(op.name), table.concat(args, ", ")))
  lw("end")
  lw("")
end
lw("--- The same functions bound to one client (this is `client.users`).")
lw("-- @param client a client from purecloud.new")
lw("function M.bind(client)")
lw("  return operations.bind(client)")
lw("end")
lw("")
lw("operations.install_paging(M, nil)")
lw("")
lw("return M")
local lua_text = table.concat(l, "\n") .. "\n"

-- Write or check ------------------------------------------------------------
local function exists_same(path, text)
  local f = io.open(path, "rb")
  if not f then return false end
  local s = f:read("a")
  f:close()
  return s == text
end

if check then
  local drift = {}
  if not exists_same(out_c, c_text) then drift[#drift + 1] = out_c end
  if not exists_same(out_lua, lua_text) then drift[#drift + 1] = out_lua end
  if #drift > 0 then
    io.stderr:write("generated files drift from the contract: ", table.concat(drift, ", "),
      " — run `make generate` and commit\n")
    os.exit(1)
  end
  print("generated files match the contract")
else
  for path, text in pairs({ [out_c] = c_text, [out_lua] = lua_text }) do
    local f = assert(io.open(path, "wb"))
    f:write(text)
    f:close()
  end
  print(("generated %d schemas and %d operations"):format(#schemas, #ops))
end
