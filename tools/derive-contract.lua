-- Derives today's contract, api/today/swagger.json (Swagger 2.0), from the
-- pinned official JS SDK: the one machine-readable source of today's
-- operations and models every machine of this project reaches (npm).
--
-- Usage: lua5.4 tools/derive-contract.lua [--check] [--lock FILE] [--contract FILE]
--   --check     write nothing; exit 1 when the contract is not what the
--               pinned package derives (make check runs it)
--   --lock      the npm lock file naming the package (tools/package-lock.json)
--   --contract  the contract written or checked (api/today/swagger.json)
--
-- Sources, each named in the output's info.x-source with its sha256:
--   * tools/node_modules/purecloud-platform-client-v2 at the lock's exact
--     version: src/…/api/<Class>.js, one method per operation (JSDoc: the
--     summary, @param types and "(default to X)", @deprecated, "is a preview
--     method"; the callApi call: path, method, path/query parameters with
--     their collection format, the body); index.d.ts: the signatures' body
--     and return types, the options' query types, every model's fields
--     (a field without `?` is required).
--   * api/today/selection.lua: which classes and operations.
--   * what the package does not carry, for the same model field or
--     operation only, newest first: api/today/facts.json (enums and integers
--     from today's official SDK repositories, each file with its sha256),
--     api/today.lua, api/users-api.json (the 2016 contract: also readOnly,
--     the documented success status, the seed's Ruby method names, i.e. the
--     aliases). Every property filled from them says so (`x-facts`).
local cjson = require "cjson"
-- tools/sorted_json.lua, beside this file (make runs the tools from the repository root).
package.path = (arg[0]:match("^(.*)/[^/]*$") or ".") .. "/?.lua;" .. package.path
local sorted_json = require "sorted_json"

local PKG = "purecloud-platform-client-v2"
local check, lock_path, OUT = false, "tools/package-lock.json", "api/today/swagger.json"
do
  local i = 1
  while arg[i] do
    if arg[i] == "--check" then check = true
    elseif arg[i] == "--lock" then i = i + 1; lock_path = arg[i]
    elseif arg[i] == "--contract" then i = i + 1; OUT = arg[i]
    else error("usage: derive-contract.lua [--check] [--lock FILE] [--contract FILE]") end
    i = i + 1
  end
end
local ROOT = "tools/node_modules/" .. PKG .. "/"

local function read(path)
  local f, err = io.open(path, "rb")
  if not f then
    io.stderr:write("derive-contract: ", err, " — run tools/bootstrap (it installs the pinned SDK)\n")
    os.exit(2)
  end
  local s = f:read("a")
  f:close()
  return s
end
local function sha256(path)
  local p = assert(io.popen("sha256sum '" .. path .. "'"))
  local out = p:read("a")
  p:close()
  return (assert(out:match("^(%x+)"), "sha256sum failed on " .. path))
end

-- The pin: the lock's version and integrity, and the installed package must be that version.
local lock = cjson.decode(read(lock_path))
local pinned = assert((lock.packages or {})["node_modules/" .. PKG], lock_path .. " does not pin " .. PKG)
local installed = cjson.decode(read(ROOT .. "package.json")).version
if installed ~= pinned.version then
  io.stderr:write(("derive-contract: %s names %s %s but %s has %s — run `cd tools && npm ci`\n")
    :format(lock_path, PKG, pinned.version, ROOT, installed))
  os.exit(1)
end

local selection = dofile("api/today/selection.lua")
local seed = cjson.decode(read("api/users-api.json"))
local today = dofile("api/today.lua")

-- index.d.ts ----------------------------------------------------------------
local DTS_PATH = ROOT .. "index.d.ts"
local dts = read(DTS_PATH)
local models_text = assert(dts:match("\ndeclare namespace Models { \n(.*)"), "index.d.ts: no Models namespace")
local models = {}      -- name -> { order = {field...}, fields = {field -> {ts=, required=}} }
for name, body in models_text:gmatch("\n\texport interface ([%w_]+) { \n(.-)\n\t}") do
  local m = { order = {}, fields = {} }
  for field, opt, ts in (body .. "\n"):gmatch('\t\t"([^"]+)"(%??): ([^\n]-);\n') do
    m.order[#m.order + 1] = field
    m.fields[field] = { ts = ts, required = opt == "" }
  end
  models[name] = m
end

local blocks = {}
local function class_block(kind, name)
  local key = kind .. " " .. name
  if not blocks[key] then
    local b = dts:match("\ndeclare " .. key .. " { ?\n(.-\n)}\n")
    blocks[key] = assert(b, "index.d.ts: no " .. key)
  end
  return blocks[key]
end

-- A TypeScript type as a Swagger schema.
local function schema_of(ts)
  ts = ts:gsub("^%s+", ""):gsub("%s+$", "")
  local inner = ts:match("^Array<(.*)>$")
  if inner then return { type = "array", items = schema_of(inner) } end
  local map = ts:match("^{ %[key: string%]: (.*); }$") or ts:match("^Record<string, (.*)>$")
  if map then return { type = "object", additionalProperties = schema_of(map) } end
  local ref = ts:match("^Models%.([%w_]+)$")
  if ref then return { ["$ref"] = "#/definitions/" .. ref } end
  if ts == "string" or ts == "boolean" or ts == "number" then return { type = ts } end
  if ts == "object" then return { type = "object" } end
  error("index.d.ts: a type this tool does not know: " .. ts)
end

-- Facts the package lacks, from the 2016 contract and api/today.lua ---------
local function norm(path) return (path:gsub("{[^}]*}", "{}")) end
local seed_ops = {}     -- "METHOD {}path" -> 2016 operation (with its method)
for path, item in pairs(seed.paths) do
  for method, o in pairs(item) do seed_ops[method:upper() .. " " .. norm(path)] = o end
end
-- The service's error answers: every operation of the 2016 contract lists
-- the same ones (400, 401, 403, 404, 415, 429, 500, 503, 504, each an
-- ErrorBody); the JS package lists none. Every derived operation gets them.
local ERRORS = {}
do
  local common
  for _, item in pairs(seed.paths) do
    for _, o in pairs(item) do
      local here = {}
      for code, r in pairs(o.responses) do
        if code:match("^[45]") and r.schema and r.schema["$ref"] == "#/definitions/ErrorBody" then here[code] = r end
      end
      if not common then
        common = here
      else
        for code in pairs(common) do if not here[code] then common[code] = nil end end
      end
    end
  end
  for code, r in pairs(common) do
    ERRORS[code] = { description = r.description, schema = { ["$ref"] = "#/definitions/ErrorBody" },
                     ["x-facts"] = "api/users-api.json: every operation's error answer" }
  end
  assert(ERRORS["400"] and ERRORS["404"] and ERRORS["429"], "the 2016 contract's common error answers")
end
local seed_defs = seed.definitions
local today_defs = today.definitions or {}
local today_by_seed_op = today.operations or {}
local facts = cjson.decode(read("api/today/facts.json"))
-- Today's body model of a seed operation -> the 2016 body model of the same
-- operation (PATCH /users/{id}: UpdateUser -> User): the 2016 text's facts
-- about that body (readOnly id, integer version) hold for today's.
local body_was = {}

-- A facts.json entry as the older-text shape enrich() reads.
local function fact(entry, prop)
  if not entry then return nil end
  local old = { readOnly = entry.readOnly }
  if entry.integer then old.type = "integer" end
  if entry.enum and prop.type == "array" then old.items = { enum = entry.enum }
  elseif entry.enum then old.enum = entry.enum end
  if entry.items_enum then old.items = { enum = entry.items_enum } end
  return old
end

-- Fill a derived property from the same property in older text, naming it.
local function enrich(prop, old, source, no_read_only)
  if not old then return end
  local from = {}
  if old.readOnly and not no_read_only then prop.readOnly = true; from[#from + 1] = "readOnly" end
  if old.type == "integer" and prop.type == "number" then
    prop.type, prop.format = "integer", old.format
    from[#from + 1] = "integer"
  elseif old.format and prop.type == old.type and not prop.format then
    prop.format = old.format
    from[#from + 1] = "format"
  end
  if old.enum and prop.type == "string" and not prop.enum then
    prop.enum = old.enum
    from[#from + 1] = "enum"
  end
  if old.items and old.items.enum and prop.items and prop.items.type == "string" and not prop.items.enum then
    prop.items.enum = old.items.enum
    from[#from + 1] = "items.enum"
  end
  if #from > 0 then
    prop["x-facts"] = (prop["x-facts"] and prop["x-facts"] .. "; " or "") .. source .. ": " .. table.concat(from, ", ")
  end
end

-- The API classes -------------------------------------------------------------
local function snake(name)
  return (name:gsub("(%l)(%u)", "%1_%2"):gsub("(%d)(%u)", "%1_%2"):gsub("(%u)(%u%l)", "%1_%2"):lower())
end

local function parse_jsdoc(doc)
  local lines = {}
  for line in (doc .. "\n"):gmatch("\t %* ?([^\n]*)\n") do lines[#lines + 1] = line end
  local d = { params = {}, text = {} }
  for _, line in ipairs(lines) do
    local ty, pname, desc = line:match("^@param {(.-)} ([%w_%.]+) ?(.*)$")
    if ty then
      local default = desc:match("%(default to ([^)]*)%)$")
      d.params[pname] = { jsdoc = ty, description = desc:gsub("%s*%(default to [^)]*%)$", ""), default = default }
    elseif line:match("^@deprecated") then
      d.deprecated = true
    elseif not line:match("^@") then
      d.text[#d.text + 1] = line
    end
  end
  local text = table.concat(d.text, "\n"):gsub("^%s+", ""):gsub("%s+$", "")
  d.summary = text:match("^([^\n]*)")
  d.description = text:match("^[^\n]*\n%s*\n(.*)$") or ""
  d.preview = text:find("is a preview method", 1, true) ~= nil
  return d
end

-- The arguments of callApi(...): path, method, {path}, {query}, {header}, {form}, body, ...
local function parse_call(body)
  local args = assert(body:match("this%.apiClient%.callApi%(\n(.-)\n\t\t%);"), "no callApi")
  args = args:gsub("this%.apiClient%.buildCollectionParam%(([^,]+), '(%w+)'%)", "@%2@%1")
  local parts = {}
  for line in (args .. "\n"):gmatch("[^\n]*\n") do
    parts[#parts + 1] = line:gsub("^%s+", ""):gsub(",?%s*$", "")
  end
  local function entries(s)
    local list = {}
    for k, v in s:gmatch("'([^']+)': ([^,}]+)") do
      local fmt, expr = v:match("^@(%w+)@(.*)$")
      list[#list + 1] = { name = k, collection = fmt, expr = (expr or v):gsub("%s+$", "") }
    end
    return list
  end
  return { path = parts[1]:match("^'(.*)'$"), method = parts[2]:match("^'(.*)'$"), path_params = entries(parts[3]),
           query = entries(parts[4]), body = parts[7] }
end

local function signature(class, jsname)
  local line = class_block("class", class):match("\n%s*" .. jsname .. "%(([^\n]*)\n")
  local args_s, ret = assert(line, class .. "." .. jsname .. ": no signature"):match("^(.-)%): Promise<(.*)>;$")
  local types, order = {}, {}
  for aname, ts in (args_s .. ", "):gmatch("([%w_]+)%??: (.-), ") do
    order[#order + 1] = aname
    types[aname] = ts
  end
  return order, types, ret
end
local function option_types(class, jsname)
  local block = class_block("namespace", class)
  local body = block:match("export interface " .. jsname .. "Options { \n(.-)\n\t}")
  local t = {}
  for k, ts in (body or ""):gmatch('"([^"]+)"%?: ([^\n]-);') do t[k] = ts end
  return t
end

local function query_schema(ts, coll)
  local s = schema_of(ts)
  if s.type == "array" then s.collectionFormat = coll or "multi" end
  return s
end

local paths, op_names, reachable = {}, {}, { ErrorBody = true } -- (every operation's error answers)
local files = { { path = lock_path, role = "the pin (version, integrity)" } }
local counts = {}
local function mark(s)
  if not s then return end
  if s["$ref"] then reachable[s["$ref"]:match("[^/]+$")] = true end
  mark(s.items)
  if type(s.additionalProperties) == "table" then mark(s.additionalProperties) end
end

for _, class in ipairs(selection.classes) do
  local file = ROOT .. "src/" .. PKG .. "/api/" .. class.name .. ".js"
  files[#files + 1] = { path = file, role = class.name .. " operations" }
  local src = read(file)
  local only
  if class.only then
    only = {}
    for _, n in ipairs(class.only) do only[n] = true end
  end
  local taken = 0
  for doc, jsname, argl, body in src:gmatch("\n\t/%*%*\n(.-)\n\t %*/\n\t(%l[%w]*)%(([^)]*)%) { \n(.-)\n\t}\n") do
    if (not only or only[jsname]) and not op_names[jsname] then
      if only then only[jsname] = nil end
      op_names[jsname] = true
      taken = taken + 1
      local d = parse_jsdoc(doc)
      local call = parse_call(body)
      local order, types, ret = signature(class.name, jsname)
      local opt_types = option_types(class.name, jsname)
      local positional = {}
      for a in argl:gmatch("[%w_]+") do if a ~= "opts" then positional[#positional + 1] = a end end
      local params = {}
      for _, a in ipairs(positional) do
        assert(types[a], jsname .. ": no type for " .. a)
        local p = { name = a, required = true, description = (d.params[a] or {}).description }
        local where
        for _, pp in ipairs(call.path_params) do if pp.expr == a then where, p.name = "path", pp.name end end
        for _, q in ipairs(call.query) do
          if q.expr == a then where, p.name = "query", q.name; p.collection = q.collection end
        end
        if call.body == a then where = "body" end
        assert(where, jsname .. ": positional " .. a .. " is neither path, query nor body")
        p["in"] = where
        if where == "body" then
          p.name = "body"
          p.schema = schema_of(types[a])
          mark(p.schema)
        elseif where == "path" then
          p.type = "string"
        else
          for k, v in pairs(query_schema(types[a], p.collection)) do p[k] = v end
        end
        p.collection = nil
        params[#params + 1] = p
      end
      for _, q in ipairs(call.query) do
        local key = q.expr:match("^opts%['([^']+)'%]$")
        if key then
          local p = { name = q.name, ["in"] = "query", required = false }
          local jd = d.params["opts." .. key] or {}
          p.description = jd.description
          for k, v in pairs(query_schema(assert(opt_types[key], jsname .. ": no type for opts." .. key),
            q.collection)) do p[k] = v end
          if jd.default then
            local dv = jd.default
            if p.type == "number" then dv = tonumber(dv) or dv
            elseif p.type == "boolean" then dv = dv == "true" end
            p.default = dv
          end
          params[#params + 1] = p
        end
      end
      if call.body == "opts['body']" then
        local s = schema_of(assert(opt_types.body, jsname .. ": no type for opts.body"))
        mark(s)
        params[#params + 1] = { name = "body", ["in"] = "body", required = false, schema = s,
                                description = (d.params["opts.body"] or {}).description }
      end
      -- Facts the package lacks, newest source first (the first enum found
      -- wins; integer and readOnly from any): today's SDK documents
      -- (api/today/facts.json), api/today.lua, then the same operation of
      -- the 2016 contract.
      local old = seed_ops[call.method .. " " .. norm(call.path)]
      local old_today = old and old.operationId and today_by_seed_op[old.operationId]
      local qfacts = (facts.query or {})[jsname] or {}
      for _, p in ipairs(params) do
        if p["in"] == "query" then
          enrich(p, fact(qfacts[p.name], p), "api/today/facts.json")
          for _, tp in ipairs(old_today and old_today.query or {}) do
            if tp.name == p.name then enrich(p, tp, "api/today.lua") end
          end
          for _, op in ipairs(old and old.parameters or {}) do
            if op.name == p.name and op["in"] == "query" then enrich(p, op, "api/users-api.json") end
          end
        elseif p["in"] == "body" and old then
          local now_ref = p.schema["$ref"] or (p.schema.items and p.schema.items["$ref"])
          for _, op in ipairs(old.parameters or {}) do
            local was = op["in"] == "body" and op.schema and (op.schema["$ref"] or
              (op.schema.items and op.schema.items["$ref"]))
            if now_ref and was and was ~= now_ref then
              body_was[now_ref:match("[^/]+$")] = body_was[now_ref:match("[^/]+$")] or was:match("[^/]+$")
            end
          end
        end
      end
      -- The success status: the 2016 text's where it documents the same
      -- operation (202 for the station clears); else 200 with a body, 204 without.
      local responses = {}
      local status
      if old then
        for code in pairs(old.responses) do
          if code:match("^2") and (not status or code < status) then status = code end
        end
      end
      for code, r in pairs(ERRORS) do responses[code] = r end
      if ret == "void" then
        if status ~= "202" then status = "204" end
        responses[status] = { description = status == "202" and "Accepted" or "No Content" }
      else
        local s = schema_of(ret)
        mark(s)
        responses[status or "200"] = { description = "successful operation", schema = s }
      end
      -- A seed alias whose body was optional in 2016 (`opts.body`) and is a
      -- required argument today keeps the seed's call through an adapter.
      local seed_body_optional
      if old then
        local was_optional, now_required = false, false
        for _, op in ipairs(old.parameters or {}) do
          if op["in"] == "body" and not op.required then was_optional = true end
        end
        for _, p in ipairs(params) do if p["in"] == "body" and p.required then now_required = true end end
        seed_body_optional = (was_optional and now_required) or nil
      end
      local item = paths[call.path] or {}
      paths[call.path] = item
      item[call.method:lower()] = {
        operationId = jsname, ["x-purecloud-class"] = class.lua, ["x-python-name"] = snake(jsname),
        ["x-seed-ruby-method"] = old and old["x-seed-ruby-method"] or nil,
        ["x-seed-body-optional"] = seed_body_optional,
        ["x-permissions"] = (facts.permissions or {})[jsname],
        summary = d.summary, description = d.description ~= "" and d.description or nil,
        deprecated = d.deprecated or nil, ["x-preview"] = d.preview or nil,
        tags = { class.name }, parameters = params, responses = responses,
        ["x-positional"] = order,
      }
    end
  end
  if only and next(only) then error(class.name .. ": no such operation " .. next(only)) end
  counts[#counts + 1] = { class = class.name, lua = class.lua, operations = taken }
end

-- Models: everything reachable from the operations -------------------------
local definitions = {}
local pending = {}
for name in pairs(reachable) do pending[#pending + 1] = name end
while #pending > 0 do
  local name = table.remove(pending)
  if not definitions[name] then
    local m = assert(models[name], "index.d.ts: no model " .. name)
    local def = { type = "object", properties = {} }
    local required = {}
    local old = seed_defs[name]
    local td = today_defs[name]
    local renamed = (td and td.replaces and seed_defs[td.replaces]) or (body_was[name] and seed_defs[body_was[name]])
    local mfacts = (facts.models or {})[name] or {}
    for _, field in ipairs(m.order) do
      local f = m.fields[field]
      local s = schema_of(f.ts)
      enrich(s, fact(mfacts[field], s), "api/today/facts.json")
      if td then
        enrich(s, { enum = (td.enum or {})[field], items = (td.items_enum or {})[field] and
          { enum = td.items_enum[field] } }, "api/today.lua")
      end
      enrich(s, old and old.properties and old.properties[field], "api/users-api.json")
      -- (a renamed request model's types and enums only: what was read-only
      -- in the 2016 response model is writable in today's request model,
      -- such as UpdateUser.state; read-only marks come from facts.json)
      enrich(s, renamed and renamed.properties and renamed.properties[field], "api/users-api.json", true)
      def.properties[field] = s
      if f.required then required[#required + 1] = field end
      local refs = {}
      local function walk(x)
        if x["$ref"] then refs[#refs + 1] = x["$ref"]:match("[^/]+$") end
        if x.items then walk(x.items) end
        if type(x.additionalProperties) == "table" then walk(x.additionalProperties) end
      end
      walk(s)
      for _, r in ipairs(refs) do if not definitions[r] then pending[#pending + 1] = r end end
    end
    if #required > 0 then def.required = required end
    definitions[name] = def
  end
end
files[#files + 1] = { path = DTS_PATH, role = "signatures and models" }
files[#files + 1] = { path = "api/today/selection.lua", role = "which classes and operations" }
files[#files + 1] = { path = "api/users-api.json", role = "enums, integers, readOnly, statuses, seed names (2016)" }
files[#files + 1] = { path = "api/today.lua", role = "enums of today's SDK documents (2025)" }
files[#files + 1] = { path = "api/today/facts.json",
                      role = "enums and integers of today's SDK repositories (tools/collect-facts.lua)" }
for _, f in ipairs(files) do
  f.sha256 = sha256(f.path)
  f.path = f.path:gsub("^tools/node_modules/", "npm:")
end
local nmodels = 0
for _ in pairs(definitions) do nmodels = nmodels + 1 end

local contract = {
  swagger = "2.0",
  info = { title = "PureCloud Platform API v2 — the Users automation surface, today",
           version = pinned.version,
           description = "GENERATED by tools/derive-contract.lua — do not edit; `make derive` rebuilds it.",
           ["x-source"] = { package = PKG, version = pinned.version, integrity = pinned.integrity, files = files },
           ["x-counts"] = { classes = counts, models = nmodels } },
  host = "api.mypurecloud.com", basePath = "/", schemes = { "https" },
  consumes = { "application/json" }, produces = { "application/json" },
  paths = paths, definitions = definitions,
}

-- JSON with sorted keys and stable layout, so the file diffs line by line.
local text = sorted_json(contract, { inline = true }) .. "\n"

local nops = 0
for _, c in ipairs(counts) do nops = nops + c.operations end
if check then
  local f = io.open(OUT, "rb")
  local have = f and f:read("a")
  if f then f:close() end
  if have ~= text then
    io.stderr:write(("derive-contract: %s is not what %s %s derives — run `make derive` and commit\n")
      :format(OUT, PKG, pinned.version))
    os.exit(1)
  end
  print(("%s matches %s %s (%d operations, %d models)"):format(OUT, PKG, pinned.version, nops, nmodels))
else
  local f = assert(io.open(OUT, "wb"))
  f:write(text)
  f:close()
  print(("derived %s from %s %s: %d operations, %d models"):format(OUT, PKG, pinned.version, nops, nmodels))
end
