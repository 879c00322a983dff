-- Generates, from today's contract (api/today/swagger.json, derived from the
-- pinned official JS SDK by tools/derive-contract.lua):
--   csrc/models/generated.c        static C tables: model schemas and the operations
--   lua/purecloud/<class>.lua      one module per API class (users, presence,
--                                  authorization, routing, groups), with LDoc
--   docs/operations.md             the reference: every operation by class
-- Usage: lua5.4 tools/gen-models.lua [--check] CONTRACT OUT_C LUA_DIR DOC
-- With --check, nothing is written; exits 1 if a file differs from what the
-- contract generates (the generated files are committed).
--
-- Names: each operation under the official Python SDK's method name (the
-- snake_case of the JS operation name, `x-python-name`), on the table of its
-- official class (`x-purecloud-class`). The seed's 36 Ruby names stay as
-- aliases: `x-seed-ruby-method` names the same operation (one handle, two
-- names, in C and in Lua); a seed operation gone from today's API has the
-- call that keeps its promise (api/today/selection.lua `seed_gone`).
-- Request-side required lists are the contract's, with
-- tools/request-exceptions.lua.
local cjson = require "cjson"

local check = false
local argv = {}
for _, a in ipairs(arg) do
  if a == "--check" then check = true else argv[#argv + 1] = a end
end
local contract_path, out_c, lua_dir, out_doc = argv[1], argv[2], argv[3], argv[4]
assert(contract_path and out_c and lua_dir and out_doc, "usage: gen-models.lua [--check] CONTRACT OUT_C LUA_DIR DOC")

local function read(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("a")
  f:close()
  return s
end

local spec = cjson.decode(read(contract_path))
local selection = dofile("api/today/selection.lua")
local exceptions = dofile("tools/request-exceptions.lua")
local safe_ops = {}
for _, name in ipairs(exceptions.safe or {}) do safe_ops[name] = true end
local defs = spec.definitions
local SOURCE = ("%s %s"):format(spec.info["x-source"].package, spec.info["x-source"].version)

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
  return (name:gsub("(%l)(%u)", "%1_%2"):gsub("(%d)(%u)", "%1_%2"):gsub("(%u)(%u%l)", "%1_%2"):lower())
end

local CLASSES = {}
for i, c in ipairs(selection.classes) do CLASSES[c.lua] = i end

local ops = {}
for _, path in ipairs(sorted_keys(spec.paths)) do
  for _, method in ipairs(sorted_keys(spec.paths[path])) do
    local o = spec.paths[path][method]
    local op = { name = o["x-python-name"], js = o.operationId, class = o["x-purecloud-class"],
                 alias = o["x-seed-ruby-method"], seed_body_optional = o["x-seed-body-optional"],
                 permissions = o["x-permissions"],
                 method = method:upper(), path = path, summary = o.summary,
                 description = o.description, deprecated = o.deprecated or false, preview = o["x-preview"] or false,
                 params = {}, positional = {}, optional = {} }
    assert(op.name and CLASSES[op.class], "operation without a python name or class: " .. method .. " " .. path)
    if op.alias == op.name then op.alias = nil end -- (a seed name today's SDK kept)
    for _, p in ipairs(o.parameters or {}) do
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
      local body_type = p.schema and (p.schema["$ref"] and p.schema["$ref"]:match("[^/]+$") or
        (p.schema.type == "array" and p.schema.items["$ref"] and ("{" .. p.schema.items["$ref"]:match("[^/]+$")
          .. ",...}")) or p.schema.type)
      local param = { name = p.name, lua_name = lua_name, where = p["in"], required = p.required or false,
                      schema = schema, multi = p.collectionFormat == "multi" or p.type == "array",
                      description = p.description, default = p.default, type = p.type or body_type,
                      items_type = p.items and p.items.type, enum = pdef.enum or (p.items and p.items.enum),
                      min = min, max = max }
      if param.required then op.positional[#op.positional + 1] = param else op.optional[#op.optional + 1] = param end
      if param.where == "body" then op.body = param end
    end
    local code, ok
    for c, r in pairs(o.responses) do if c:match("^2") then code, ok = c, r end end
    op.status = tonumber(code)
    local rs = ok and ok.schema
    op.response_props = rs and rs["$ref"] and (defs[rs["$ref"]:match("[^/]+$")] or {}).properties or {}
    op.returns = rs and (rs["$ref"] and rs["$ref"]:match("[^/]+$") or
      (rs.type == "array" and ("array of " .. (rs.items.type or rs.items["$ref"]:match("[^/]+$"))) or rs.type)) or nil
    op.safe = op.method == "GET" or op.method == "PUT" or op.method == "DELETE" or safe_ops[op.name] or false
    -- What the runtime needs, known here once: the positional arguments
    -- first (in the official SDKs' order), then the optional ones; how many
    -- arguments a call takes at most (the options table last); and whether
    -- its common call can be prepared (its at most two required arguments
    -- are exactly the path template's parameters, in its order). A
    -- deprecated operation is never prepared: its first call warns.
    local ordered = {}
    for _, p in ipairs(op.positional) do ordered[#ordered + 1] = p end
    for _, p in ipairs(op.optional) do ordered[#ordered + 1] = p end
    op.params = ordered
    op.npos = #op.positional
    op.max_args = op.npos + (#op.optional > 0 and 1 or 0)
    local names = {}
    for n in op.path:gmatch("{(.-)}") do names[#names + 1] = n end
    op.prepared = op.npos <= 2 and #names == op.npos and not op.deprecated
    for i, p in ipairs(op.positional) do
      if p.where ~= "path" or p.name ~= names[i] then op.prepared = false end
    end
    -- The compiled path template: each literal run, then the index (in
    -- `op.params`) of the parameter after it, or -1 at the end; the URL
    -- builder walks these and never parses the template.
    local index = {}
    for i, p in ipairs(ordered) do if p.where == "path" then index[p.name] = i - 1 end end
    op.segments = {}
    local rest = op.path
    while true do
      local lit, name, after = rest:match("^([^{]*){([^}]*)}(.*)$")
      if not lit then
        op.segments[#op.segments + 1] = { literal = rest, param = -1 }
        break
      end
      assert(not lit:find("}") and index[name], op.name .. ": path parameter {" .. name .. "} is not a parameter")
      op.segments[#op.segments + 1] = { literal = lit, param = index[name] }
      rest = after
    end
    ops[#ops + 1] = op
  end
end
table.sort(ops, function(a, b) return a.name < b.name end)
do
  local seen = {}
  for _, op in ipairs(ops) do
    for _, n in ipairs({ op.name, op.alias }) do
      assert(not seen[n], "two operations named " .. n)
      seen[n] = true
    end
  end
  for name in pairs(selection.seed_gone) do assert(not seen[name], "a seed_gone name is an operation: " .. name) end
end

-- Paged listings, read from the contract (purecloud.pager walks them):
--   * "numbered": a GET whose response has `entities` and `pageCount` and
--     that takes a `pageNumber` query parameter;
--   * "next_page": a POST whose response has `results` and `nextPage`,
--     followed by the GET of the same path that takes `q64`;
--   * "cursor": a GET that takes `cursor` and whose response has `cursor`
--     (the next page's token; absent on the last page).
-- Helpers are named after the path's last literal segment in the singular
-- (`users` → `user_pages`, `each_user`; `search` → `search_pages`,
-- `each_search_result`; a cursor listing `…/users/query` →
-- `user_cursor_pages`, `each_user_by_cursor`). Where that segment is `me`
-- or a parameter, or another listing of the same class has the name with a
-- shorter path, the helpers are named after the operation instead
-- (`get_profiles_users` → `profiles_users_pages`, `each_profiles_users`).
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
local listings = {}
for _, op in ipairs(ops) do
  local props = op.response_props
  local segs = {}
  for seg in op.path:gmatch("[^/]+") do segs[#segs + 1] = seg end
  local last = segs[#segs]
  local literal = last and not last:find("^{") and last ~= "me" and last
  local pg
  if op.method == "GET" and props.entities and props.pageCount and takes(op, "pageNumber") then
    pg = { kind = "numbered", items = "entities", short = literal and singular(literal) }
    if pg.short then pg.pages, pg.each = pg.short .. "_pages", "each_" .. pg.short end
  elseif op.method == "POST" and props.results and props.nextPage and by_path[op.path].GET
         and takes(by_path[op.path].GET, "q64") then
    pg = { kind = "next_page", items = "results", follow = by_path[op.path].GET, short = literal }
    if literal then pg.pages, pg.each = literal .. "_pages", "each_" .. literal .. "_result" end
  elseif op.method == "GET" and props.cursor and takes(op, "cursor") then
    local items = props.entities and "entities" or "results"
    local what = last == "query" and segs[#segs - 1] and not segs[#segs - 1]:find("^{") and singular(segs[#segs - 1])
    pg = { kind = "cursor", items = items, short = what and (what .. "_cursor") }
    if what then pg.pages, pg.each = what .. "_cursor_pages", "each_" .. what .. "_by_cursor" end
  end
  if pg then
    op.paging = pg
    listings[#listings + 1] = op
  end
end
do
  local function fallback(op)
    local base = op.name:gsub("^get_", ""):gsub("^post_", "")
    op.paging.pages, op.paging.each = base .. "_pages", "each_" .. base
  end
  local owner = {}
  table.sort(listings, function(a, b)
    if #a.path ~= #b.path then return #a.path < #b.path end
    return a.name < b.name
  end)
  for _, op in ipairs(listings) do
    local key = op.class .. ":" .. tostring(op.paging.pages)
    if not op.paging.pages or owner[key] then fallback(op) else owner[key] = op end
  end
end
local handle_of = {}
for i, op in ipairs(ops) do handle_of[op] = i end

-- C output ------------------------------------------------------------------
local c = {}
local function w(s) c[#c + 1] = s end
w("/* GENERATED by tools/gen-models.lua from api/today/swagger.json (" .. SOURCE .. ") — do not edit.")
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
  if #op.params > 0 then
    w(("static const pc_param params_%s[] = {"):format(op.name))
    for _, p in ipairs(op.params) do
      w(("    {.name = %s, .lua_name = %s, .where = PC_IN_%s, .required = %d, .multi = %d, .schema = %d, "
        .. ".min = %s, .max = %s},"):format(cstr(p.name), cstr(p.lua_name), p.where:upper(),
        p.required and 1 or 0, p.multi and 1 or 0, p.schema, ("%.0f"):format(p.min or 0), ("%.0f"):format(p.max or 0)))
    end
    w("};")
  end
end
for _, op in ipairs(ops) do
  local parts = {}
  for _, s in ipairs(op.segments) do
    parts[#parts + 1] = ("{.literal = %s, .len = %d, .param = %d}"):format(cstr(s.literal), #s.literal, s.param)
  end
  w(("static const pc_segment path_%s[] = {%s};"):format(op.name, table.concat(parts, ", ")))
end
w("")
w("const pc_operation pc_operations[] = {")
for _, op in ipairs(ops) do
  w(("    {.name = %s, .alias = %s, .class = %s, .method = %s, .path = %s,"):format(cstr(op.name),
    cstr(op.alias), cstr(op.class), cstr(op.method), cstr(op.path)))
  w(("     .segments = path_%s, .nsegments = %d,"):format(op.name, #op.segments))
  w(("     .params = %s, .nparams = %d, .npos = %d, .max_args = %d,"):format(
    #op.params > 0 and ("params_" .. op.name) or "NULL", #op.params, op.npos, op.max_args))
  local pg = op.paging
  w(("     .body_schema = %d, .safe = %d, .prepared = %d, .deprecated = %d, .preview = %d, .seed_body_optional = %d%s},")
    :format(op.body and op.body.schema or -1, op.safe and 1 or 0, op.prepared and 1 or 0, op.deprecated and 1 or 0,
    op.preview and 1 or 0, op.seed_body_optional and 1 or 0, pg and
      (",\n     .paging = %s, .paging_pages = %s, .paging_each = %s, .paging_items = %s, .paging_follow = %d")
        :format(cstr(pg.kind), cstr(pg.pages), cstr(pg.each), cstr(pg.items), pg.follow and handle_of[pg.follow] or 0)
      or ""))
end
w("};")
w(("const int pc_noperations = %d;"):format(#ops))

local c_text = table.concat(c, "\n") .. "\n"

-- Lua output: one module per class -----------------------------------------
local function lua_str(s) return ("%q"):format(s) end
local function doc_type(p)
  if p.type == "array" then return "{" .. (p.items_type or "string") .. ",...}" end
  if p.type == "integer" then return "int" end
  return p.type or "table"
end
local function one_line(s) return (tostring(s or ""):gsub("%s*\n%s*", " "):gsub("%s+$", "")) end
-- "all of a, b" / "any of a, b", or nil (the official docs' required permissions)
local function permission_text(op)
  local p = op.permissions
  if not p then return nil end
  if p.all then return "all of " .. table.concat(p.all, ", ") end
  return "any of " .. table.concat(p.any, ", ")
end
local function describe_param(p)
  local d = one_line(p.description)
  return d ~= "" and d or p.name
end

local outputs = {}
for _, class in ipairs(selection.classes) do
  local l = {}
  local function lw(s) l[#l + 1] = s end
  local mine = {}
  for _, op in ipairs(ops) do if op.class == class.lua then mine[#mine + 1] = op end end
  lw(("--- The %s operations of the PureCloud Platform API v2 (the official %s), %d in all."):format(
    class.lua, class.name, #mine))
  lw("--")
  lw("-- GENERATED by tools/gen-models.lua from api/today/swagger.json (" .. SOURCE .. ") —")
  lw("-- do not edit; `make generate` rebuilds it. Names are the official Python")
  lw("-- SDK's; arguments in the official SDKs' order, then an options table for")
  lw("-- the optional query parameters (snake_case) and `headers`. Request bodies")
  lw("-- are validated and encoded by the C core from the contract's models.")
  lw("--")
  lw(("--     local %s = require \"purecloud.%s\"   -- after purecloud.configure{ … }"):format(class.lua, class.lua))
  lw(("--     local %s = client.%s                  -- bound to one client"):format(class.lua, class.lua))
  lw("--")
  lw("-- Every function returns the decoded result (a table; `true` for an empty")
  lw("-- 2xx such as 202 or 204; a string for a JSON string) or `nil, err`.")
  if class.lua == "users" then
    lw("-- The 36 seed operations keep their names (the 2016 Ruby SDK's) as aliases")
    lw("-- of today's: `get_user_id` is `get_user`; each alias is documented below.")
  end
  lw("-- @module purecloud." .. class.lua)
  lw("-- luacheck: no max line length")
  lw("local operations = require \"purecloud.operations\"")
  lw("")
  lw("local M = {}")
  lw("")
  for _, op in ipairs(mine) do
    lw("--- " .. one_line(op.summary ~= "" and op.summary or op.name))
    if op.description and op.description ~= "" and op.description ~= op.summary then
      lw("-- " .. op.description:gsub("%s*\n", "\n-- "):gsub("%s+$", ""))
    end
    if op.deprecated then lw("-- **Deprecated** in the official SDK: the first call logs one warning per process.") end
    if op.preview then lw("-- **Preview** in the official SDK: subject to breaking changes without notice.") end
    lw(("-- `%s %s` (official: %s)"):format(op.method, op.path, op.js))
    if permission_text(op) then lw("-- Requires " .. permission_text(op) .. ".") end
    local args = {}
    for _, p in ipairs(op.positional) do
      args[#args + 1] = p.lua_name
      lw(("-- @tparam %s %s %s"):format(p.where == "body" and (p.type or "table") or doc_type(p), p.lua_name,
        describe_param(p)))
    end
    if #op.optional > 0 then
      args[#args + 1] = "opts"
      lw("-- @tparam[opt] table opts optional parameters:")
      for _, p in ipairs(op.optional) do
        local extra = ""
        if p.enum then extra = " (one of " .. table.concat(p.enum, ", ") .. ")" end
        if p.default ~= nil then extra = extra .. " (server default " .. tostring(p.default) .. ")" end
        lw(("--   `%s` %s: %s%s"):format(p.lua_name, p.where == "body" and "request body" or doc_type(p),
          describe_param(p), extra))
      end
    end
    lw(("-- @return %s, or `nil, err`"):format(op.status == 202 and "`true` (202 Accepted, no body)" or
      op.status == 204 and "`true` (204, no body)" or (op.returns or "`true`")))
    lw(("function M.%s(%s)"):format(op.name, table.concat(args, ", ")))
    lw(("  return operations.call(nil, %s)"):format(table.concat({ lua_str(op.name), table.unpack(args) }, ", ")))
    lw("end")
    lw("")
    if op.alias and op.seed_body_optional then
      local a = {}
      for _, p in ipairs(op.positional) do if p.where ~= "body" then a[#a + 1] = p.lua_name end end
      a[#a + 1] = "opts"
      lw(("--- The seed's `%s(%s)`: today's `%s`, whose body, optional in 2016, is `opts.body`."):format(op.alias,
        table.concat(a, ", "), op.name))
      lw(("M.%s = operations.seed_body_adapter(M.%s, %d)"):format(op.alias, op.name, op.npos))
      lw("")
    elseif op.alias then
      lw(("--- The seed's name of `%s` (the 2016 Ruby SDK's `%s`)."):format(op.name, op.alias))
      lw(("M.%s = M.%s"):format(op.alias, op.name))
      lw("")
    end
  end
  local gone = {}
  for name, g in pairs(selection.seed_gone) do
    local via
    for _, op in ipairs(mine) do if op.js == g.via then via = op end end
    if via then gone[#gone + 1] = { name = name, g = g, via = via } end
  end
  table.sort(gone, function(a, b) return a.name < b.name end)
  for _, x in ipairs(gone) do
    local args = {}
    for _, p in ipairs(x.via.positional) do if p.where ~= "body" then args[#args + 1] = p.lua_name end end
    lw(("--- The seed's `%s` (`%s %s`): %s — so it is `%s(%s, {})`."):format(x.name, x.g.method, x.g.path,
      x.g.why, x.via.name, table.concat(args, ", ")))
    lw(("M.%s = operations.seed_gone_adapter(M.%s)"):format(x.name, x.via.name))
    lw("")
  end
  lw(("--- The same functions bound to one client (this is `client.%s`)."):format(class.lua))
  lw("-- @param client a client from purecloud.new")
  lw("function M.bind(client)")
  lw(("  return operations.bind(client, %s)"):format(lua_str(class.lua)))
  lw("end")
  lw("")
  lw(("operations.install_paging(M, nil, %s)"):format(lua_str(class.lua)))
  lw("")
  lw("return M")
  outputs[lua_dir .. "/" .. class.lua .. ".lua"] = table.concat(l, "\n") .. "\n"
end
outputs[out_c] = c_text

-- lua/purecloud/api.lua: the API classes a client binds at first use
-- (client.<class>: purecloud.operations.bind) and the seed operations gone
-- from today's API, by class: their name -> the call that keeps its promise
-- (with an empty body).
do
  local a = {}
  a[#a + 1] = "--- The API classes of `client.<class>`, and the seed's operations gone from today's API."
  a[#a + 1] = "-- GENERATED by tools/gen-models.lua from api/today/selection.lua — do not edit."
  a[#a + 1] = "-- @module purecloud.api"
  a[#a + 1] = "return {"
  a[#a + 1] = "  classes = {"
  for _, cl in ipairs(selection.classes) do a[#a + 1] = ("    %s = true,"):format(cl.lua) end
  a[#a + 1] = "  },"
  a[#a + 1] = "  seed_gone = {"
  local by_class = {}
  for _, name in ipairs(sorted_keys(selection.seed_gone)) do
    local g = selection.seed_gone[name]
    for _, op in ipairs(ops) do
      if op.js == g.via then
        by_class[op.class] = by_class[op.class] or {}
        table.insert(by_class[op.class], ("      %s = %q,"):format(name, op.name))
      end
    end
  end
  for _, cl in ipairs(selection.classes) do
    if by_class[cl.lua] then
      a[#a + 1] = ("    %s = {"):format(cl.lua)
      for _, line in ipairs(by_class[cl.lua]) do a[#a + 1] = line end
      a[#a + 1] = "    },"
    end
  end
  a[#a + 1] = "  },"
  a[#a + 1] = "}"
  outputs[lua_dir .. "/api.lua"] = table.concat(a, "\n") .. "\n"
end

-- lua/purecloud/api_help.lua: what `purecloud call OPERATION --help` says
-- of each operation (summary, what each argument and option is, required
-- permissions), loaded only then.
do
  local h = {}
  local function q(v) return ("%q"):format(v) end
  h[#h + 1] = "--- What `purecloud call OPERATION --help` prints of each operation, from the contract."
  h[#h + 1] = "-- GENERATED by tools/gen-models.lua from api/today/swagger.json (" .. SOURCE .. ") — do not edit."
  h[#h + 1] = "-- @module purecloud.api_help"
  h[#h + 1] = "-- luacheck: no max line length"
  h[#h + 1] = "return {"
  for _, op in ipairs(ops) do
    h[#h + 1] = ("  %s = {"):format(op.name)
    h[#h + 1] = ("    summary = %s,"):format(q(one_line(op.summary ~= "" and op.summary or op.name)))
    if op.description and op.description ~= "" and op.description ~= op.summary then
      h[#h + 1] = ("    description = %s,"):format(q(one_line(op.description)))
    end
    if permission_text(op) then h[#h + 1] = ("    permissions = %s,"):format(q(permission_text(op))) end
    h[#h + 1] = "    params = {"
    for _, p in ipairs(op.params) do
      local extra = ""
      if p.enum then extra = " (one of " .. table.concat(p.enum, ", ") .. ")" end
      if p.default ~= nil then extra = extra .. " (server default " .. tostring(p.default) .. ")" end
      local ty = p.where == "body" and "body" or doc_type(p)
      h[#h + 1] = ("      { %s, %s },"):format(q(p.lua_name), q(ty .. ": " .. describe_param(p) .. extra))
    end
    h[#h + 1] = "    },"
    h[#h + 1] = "  },"
  end
  h[#h + 1] = "}"
  outputs[lua_dir .. "/api_help.lua"] = table.concat(h, "\n") .. "\n"
end

-- docs/operations.md --------------------------------------------------------
do
  local d = {}
  local function dw(s) d[#d + 1] = s end
  dw("# Operations")
  dw("")
  dw("GENERATED by tools/gen-models.lua from api/today/swagger.json (" .. SOURCE .. ") — do not edit.")
  dw("Each operation is on `client.<class>` (and `require \"purecloud.<class>\"` for the default client) under")
  dw("the official Python SDK's name; arguments in the official SDKs' order, then `opts`. A seed alias is the")
  dw("2016 Ruby SDK's name of the same operation. Permissions: what the official SDK's documents say the")
  dw("operation requires (api/today/facts.json).")
  dw("")
  dw("| class | operations | deprecated | preview | listings |")
  dw("|---|---|---|---|---|")
  local total = 0
  for _, class in ipairs(selection.classes) do
    local n, dep, pre, pag = 0, 0, 0, 0
    for _, op in ipairs(ops) do
      if op.class == class.lua then
        n = n + 1
        if op.deprecated then dep = dep + 1 end
        if op.preview then pre = pre + 1 end
        if op.paging then pag = pag + 1 end
      end
    end
    total = total + n
    dw(("| `%s` (%s) | %d | %d | %d | %d |"):format(class.lua, class.name, n, dep, pre, pag))
  end
  dw(("| all | %d | | | |"):format(total))
  for _, class in ipairs(selection.classes) do
    dw("")
    dw(("## `%s` — %s"):format(class.lua, class.name))
    dw("")
    dw("| name | seed alias | method | path | arguments | options | pages | permissions |")
    dw("|---|---|---|---|---|---|---|---|")
    for _, op in ipairs(ops) do
      if op.class == class.lua then
        local args, opts = {}, {}
        for _, p in ipairs(op.positional) do args[#args + 1] = p.lua_name end
        for _, p in ipairs(op.optional) do opts[#opts + 1] = p.lua_name end
        local mark = (op.deprecated and " (deprecated)" or "") .. (op.preview and " (preview)" or "")
        dw(("| `%s`%s | %s | %s | `%s` | %s | %s | %s | %s |"):format(op.name, mark,
          op.alias and ("`" .. op.alias .. "`") or "", op.method, op.path, table.concat(args, ", "),
          table.concat(opts, ", "), op.paging and ("`" .. op.paging.pages .. "`, `" .. op.paging.each .. "`") or "",
          permission_text(op) or ""))
      end
    end
  end
  local gone = sorted_keys(selection.seed_gone)
  if #gone > 0 then
    dw("")
    dw("## Seed operations gone from today's API")
    dw("")
    for _, name in ipairs(gone) do
      local g = selection.seed_gone[name]
      dw(("- `users.%s` (`%s %s`): %s."):format(name, g.method, g.path, g.why))
    end
  end
  outputs[out_doc] = table.concat(d, "\n") .. "\n"
end

-- Write or check ------------------------------------------------------------
local function exists_same(path, text)
  local f = io.open(path, "rb")
  if not f then return false end
  local s = f:read("a")
  f:close()
  return s == text
end

local paths = sorted_keys(outputs)
if check then
  local drift = {}
  for _, path in ipairs(paths) do
    if not exists_same(path, outputs[path]) then drift[#drift + 1] = path end
  end
  if #drift > 0 then
    io.stderr:write("generated files drift from the contract: ", table.concat(drift, ", "),
      " — run `make generate` and commit\n")
    os.exit(1)
  end
  print("generated files match the contract")
else
  for _, path in ipairs(paths) do
    local f = assert(io.open(path, "wb"))
    f:write(outputs[path])
    f:close()
  end
  print(("generated %d schemas and %d operations"):format(#schemas, #ops))
end
