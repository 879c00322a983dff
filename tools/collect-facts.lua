-- Collects the official enum values, the integer fields, the read-only
-- fields and each operation's required permissions of today's contract,
-- api/today/swagger.json, into api/today/facts.json: the facts the pinned
-- npm package (tools/derive-contract.lua's source) does not carry.
--
-- Usage (no network; the snapshots are local git directories, e.g. the ones
-- an agent's `fetch github:MyPureCloud/platform-client-sdk-python` leaves in
-- /work/.mirror, or a plain `git clone --bare` of each repository):
--
--   lua5.4 tools/collect-facts.lua \
--     --python /work/.mirror/MyPureCloud+platform-client-sdk-python/repo \
--     --js /work/.mirror/MyPureCloud+platform-client-sdk-javascript/repo \
--     --dotnet /work/.mirror/MyPureCloud+platform-client-sdk-dotnet/repo \
--     [--check] [--out FILE] [--python-commit SHA] [--js-commit SHA]
--     [--dotnet-commit SHA]
--
--   --check   write nothing; exit 1 when FILE is not what the sources give
--   --out     where to write (api/today/facts.json)
--   --python-commit, --js-commit, --dotnet-commit
--             read another commit than the pinned one below (to move the
--             pin: change PINS, run, review the diff)
--
-- Every file is read with `git show <commit>:<path>` at exactly the pinned
-- commit, and named in the output's `sources` with the sha256 of its bytes.
--
--   * query: MyPureCloud/platform-client-sdk-javascript build/docs/<Class>.md,
--     the operation's section (`## <operationId>`), its parameter table's
--     "**Values**: a, b" — for the query parameters of the contract whose type
--     is string or array of string (a Boolean's "Values: true, false" restates
--     its type and is left out). An array's values are its items' values.
--   * permissions: the same section's "Requires ALL permissions:" or
--     "Requires ANY permissions:" and the bullet list ("* a:b:c") under it,
--     up to the next "###": `{ all = [...] }` or `{ any = [...] }` keyed by the
--     operationId, in the docs' order. "Requires NO permissions:" records
--     nothing (the operations are listed on stderr).
--   * models: MyPureCloud/platform-client-sdk-python
--     build/PureCloudPlatformClientV2/models/__init__.py (which module holds
--     which model), models/<module>.py: `swagger_types` and `attribute_map`
--     (the Python name of each JSON field) and each setter's
--     `allowed_values = [...]`. A string field gets `enum`, an array of
--     strings `items_enum`; a number (or integer) field the SDK types `int`
--     gets `integer: true`. Nothing else of the SDK is copied (not its
--     "outdated_sdk_version" stand-in for an unknown value).
--   * readOnly: MyPureCloud/platform-client-sdk-dotnet
--     build/src/PureCloudPlatform.Client.V2/Model/<Model>.cs, each property's
--     `[DataMember(Name="<json name>", ...)]` and the accessors that follow:
--     `{ get; private set; }` (the generator's mark of a readOnly property,
--     which the constructor leaves out) gives `readOnly: true`; a writable
--     `{ get; set; }` gives nothing. The version is the one in
--     Properties/AssemblyInfo.cs. (The Java SDK carries the same mark, a
--     getter without setter, but its repository is too large to snapshot.)
--   A field's facts are merged: `readOnly` stands beside its `enum`,
--   `items_enum` or `integer`.
--
-- What the sources do not cover (a model or field the snapshot lacks, values
-- on a parameter the contract does not type string) is listed on stderr.
local cjson = require "cjson"
-- tools/sorted_json.lua, beside this file (run from the repository root).
package.path = (arg[0]:match("^(.*)/[^/]*$") or ".") .. "/?.lua;" .. package.path
local sorted_json = require "sorted_json"

local PINS = {
  python = { repository = "MyPureCloud/platform-client-sdk-python",
             commit = "f80f2db2c783b8d9500b54a9e7e8077e1fa87367" },
  js = { repository = "MyPureCloud/platform-client-sdk-javascript",
         commit = "e09e27aa2f5657f4aa76f526bb909e893199d384" },
  dotnet = { repository = "MyPureCloud/platform-client-sdk-dotnet",
             commit = "6e801ced7445926cade0b8b4adf129cdf79f1f79" },
}
local CONTRACT = "api/today/swagger.json"
local SELECTION = "api/today/selection.lua"
local MODELS = "build/PureCloudPlatformClientV2/models/"
local DOTNET = "build/src/PureCloudPlatform.Client.V2/"

local out_path, check = "api/today/facts.json", false
local gitdir = {}
do
  local usage = "usage: collect-facts.lua --python GITDIR --js GITDIR --dotnet GITDIR [--check]"
    .. " [--out FILE] [--python-commit SHA] [--js-commit SHA] [--dotnet-commit SHA]"
  local i = 1
  while arg[i] do
    local a = arg[i]
    if a == "--check" then check = true
    elseif a == "--out" then i = i + 1; out_path = arg[i]
    elseif a == "--python" then i = i + 1; gitdir.python = arg[i]
    elseif a == "--js" then i = i + 1; gitdir.js = arg[i]
    elseif a == "--dotnet" then i = i + 1; gitdir.dotnet = arg[i]
    elseif a == "--python-commit" then i = i + 1; PINS.python.commit = arg[i]
    elseif a == "--js-commit" then i = i + 1; PINS.js.commit = arg[i]
    elseif a == "--dotnet-commit" then i = i + 1; PINS.dotnet.commit = arg[i]
    else error(usage) end
    if not arg[i] then error(usage) end
    i = i + 1
  end
  if not (gitdir.python and gitdir.js and gitdir.dotnet and out_path) then error(usage) end
  for _, k in ipairs { "python", "js", "dotnet" } do
    assert(PINS[k].commit:match("^%x+$") and #PINS[k].commit == 40, "a commit is 40 hex digits")
  end
end

local function warn(fmt, ...) io.stderr:write("collect-facts: ", fmt:format(...), "\n") end

local function sh_quote(s) return "'" .. s:gsub("'", "'\\''") .. "'" end

local function run(cmd)
  local p = assert(io.popen(cmd, "r"))
  local text = p:read("a")
  local ok = p:close()
  return ok and text or nil
end

local function sha256(bytes)
  local tmp = os.tmpname()
  local f = assert(io.open(tmp, "wb"))
  f:write(bytes)
  f:close()
  local out = run("sha256sum " .. sh_quote(tmp))
  os.remove(tmp)
  return (assert(out and out:match("^(%x+)"), "sha256sum failed"))
end

-- One source: a git dir at one commit; every file read is recorded.
local function source(key)
  local pin, dir = PINS[key], gitdir[key]
  local got = run("git --git-dir=" .. sh_quote(dir) .. " rev-parse --verify --quiet "
    .. sh_quote(pin.commit .. "^{commit}"))
  assert(got and got:match("^" .. pin.commit), ("%s: commit %s not in %s"):format(pin.repository, pin.commit, dir))
  local s = { repository = pin.repository, commit = pin.commit, files = {} }
  function s.read(path, optional)
    local text = run("git --git-dir=" .. sh_quote(dir) .. " show " .. sh_quote(pin.commit .. ":" .. path)
      .. " 2>/dev/null")
    if not text then
      assert(optional, ("%s@%s has no %s"):format(pin.repository, pin.commit, path))
      return nil
    end
    s.files[path] = sha256(text)
    return text
  end
  return s
end

local function read_local(path)
  local f = assert(io.open(path, "rb"))
  local text = f:read("a")
  f:close()
  return text
end

local contract = cjson.decode(read_local(CONTRACT))
local selection = dofile(SELECTION)
local class_of = {} -- the contract's x-purecloud-class (Lua table) -> JS class
for _, c in ipairs(selection.classes) do class_of[c.lua] = c.name end

local function sorted_keys(t)
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = k end
  table.sort(keys)
  return keys
end

local function is_string_list(t)
  return type(t) == "table" and t.type == "array" and type(t.items) == "table" and t.items.type == "string"
end

------------------------------------------------------------------------------
-- Query parameters and permissions: the JS SDK's build/docs/<Class>.md.
local js = source("js")
js.version = assert(cjson.decode(js.read("build/package.json")).version)

-- docs[class][operation] = { params = { [param] = { values = {...} | nil } },
--   requires = "ALL" | "ANY" | "NO" | nil, permissions = { ... } }
local docs = {}
local function class_docs(class)
  if docs[class] then return docs[class] end
  local ops, op, opname, in_params, in_requires = {}, nil, nil, false, false
  for line in js.read("build/docs/" .. class .. ".md"):gmatch("[^\n]*") do
    local name = line:match("^## (%S+)%s*$")
    if name then
      op, opname, in_params, in_requires = { params = {}, permissions = {} }, name, false, false
      ops[name] = op
    elseif op and line:match("^### ") then
      in_params, in_requires = line:match("^### Parameters%s*$") ~= nil, false
    elseif op and line:match("^Requires ") then
      local kind = line:match("^Requires (%u+) permissions:%s*$")
      assert(kind == "ALL" or kind == "ANY" or kind == "NO", class .. ".md " .. opname .. ": " .. line)
      assert(not op.requires, class .. ".md " .. opname .. ": two permission lines")
      op.requires, in_requires = kind, true
    elseif op and in_requires then
      local perm = line:match("^%* (%S+)%s*$")
      if perm then
        op.permissions[#op.permissions + 1] = perm
      else
        assert(line:match("^%s*$"), class .. ".md " .. opname .. ": not a permission: " .. line)
      end
    elseif op and in_params then
      local pname = line:match("^%s*%*%*([%w_%-%.]+)%*%* |")
      if pname then
        local entry = {}
        local values = line:match("%*%*Values%*%*: (.-)%s*|%s*$")
        if values then
          entry.values = {}
          for v in (values .. ","):gmatch("%s*(.-)%s*,") do
            entry.values[#entry.values + 1] = v
          end
        end
        op.params[pname] = entry
      end
    end
  end
  docs[class] = ops
  return ops
end

local query, permissions = {}, {}
local no_permissions, no_requires, no_section = {}, {}, {}
for _, path in ipairs(sorted_keys(contract.paths)) do
  for _, method in ipairs(sorted_keys(contract.paths[path])) do
    local op = contract.paths[path][method]
    if type(op) == "table" and op.operationId then
      local class = assert(class_of[op["x-purecloud-class"]], "no class for " .. op.operationId)
      local section = class_docs(class)[op.operationId]
      if not section then
        warn("%s.md has no section %s", class, op.operationId)
        no_section[#no_section + 1] = op.operationId
      else
        local kind, list = section.requires, section.permissions
        if kind == "ALL" or kind == "ANY" then
          assert(#list > 0, class .. ".md " .. op.operationId .. ": Requires " .. kind .. " and no permission")
          permissions[op.operationId] = { [kind:lower()] = list }
        elseif kind == "NO" then
          assert(#list == 0, class .. ".md " .. op.operationId .. ": Requires NO and a permission")
          no_permissions[#no_permissions + 1] = op.operationId
        else
          warn("%s.md %s has no permissions line", class, op.operationId)
          no_requires[#no_requires + 1] = op.operationId
        end
        for _, p in ipairs(op.parameters or {}) do
          local doc = section.params[p.name]
          if p["in"] == "query" and doc and doc.values then
            if p.type == "string" or is_string_list(p) then
              query[op.operationId] = query[op.operationId] or {}
              query[op.operationId][p.name] = { enum = doc.values }
            elseif p.type ~= "boolean" then
              warn("%s %s: values on a %s parameter left out", op.operationId, p.name, tostring(p.type))
            end
          elseif p["in"] == "query" and not doc then
            warn("%s.md %s has no parameter %s", class, op.operationId, p.name)
          end
        end
      end
    end
  end
end

table.sort(no_permissions)
if #no_permissions > 0 then
  warn("%d operations require no permission (%s@%s docs): %s", #no_permissions, js.repository, js.commit,
    table.concat(no_permissions, ", "))
end
if #no_requires > 0 then warn("%d operations without a permissions line", #no_requires) end
if #no_section > 0 then warn("%d operations without a docs section", #no_section) end

------------------------------------------------------------------------------
-- Models: the Python SDK's models.
local py = source("python")
py.version = assert(py.read("build/pyproject.toml"):match('\n%s*version%s*=%s*"([^"]+)"'),
  "no version in pyproject.toml")

local module_of = {}
for mod, class in py.read(MODELS .. "__init__.py"):gmatch("\nfrom %.([%w_]+) import ([%w_]+)") do
  module_of[class] = mod
end

-- The entries of a Python dict literal `self.<name> = { 'k': 'v', ... }`.
local function py_dict(text, name)
  local body = assert(text:match("self%." .. name .. " = (%b{})"), "no " .. name)
  local t = {}
  for k, v in body:gmatch("'([^']+)'%s*:%s*'([^']*)'") do t[k] = v end
  return t
end

local function py_model(text)
  local types, json_key = py_dict(text, "swagger_types"), py_dict(text, "attribute_map")
  local allowed, setter = {}, nil
  for line in text:gmatch("[^\n]*") do
    local s = line:match("^%s*@([%w_]+)%.setter%s*$")
    if s then setter = s end
    local list = line:match("^%s*allowed_values = (%[.*%])%s*$")
    if list then
      assert(setter, "allowed_values outside a setter")
      allowed[setter] = cjson.decode(list)
    end
  end
  return types, json_key, allowed
end

local models = {}
local missing_models, missing_fields = {}, 0
for _, name in ipairs(sorted_keys(contract.definitions)) do
  local props = contract.definitions[name].properties or {}
  local mod = module_of[name]
  local text = mod and py.read(MODELS .. mod .. ".py", true)
  if not text then
    missing_models[#missing_models + 1] = name
  else
    local types, json_key, allowed = py_model(text)
    local by_json = {}
    for attr, key in pairs(json_key) do by_json[key] = attr end
    local facts = {}
    for _, field in ipairs(sorted_keys(props)) do
      local p, attr = props[field], by_json[field]
      if not attr then
        missing_fields = missing_fields + 1
        warn("%s.%s: not in %s.py", name, field, mod)
      else
        local values, ptype = allowed[attr], types[attr]
        if values then
          assert(#values > 0, name .. "." .. field .. ": empty allowed_values")
          if p.type == "string" then
            facts[field] = { enum = values }
          elseif is_string_list(p) then
            facts[field] = { items_enum = values }
          else
            warn("%s.%s: allowed values on a %s field left out", name, field, tostring(p.type))
          end
        elseif (p.type == "number" or p.type == "integer") and ptype == "int" then
          facts[field] = { integer = true }
        elseif p.type == "integer" and ptype ~= "int" then
          warn("%s.%s: the contract says integer, the SDK %s", name, field, tostring(ptype))
        elseif p.type == "array" and p.items and p.items.type == "number" and ptype == "list[int]" then
          warn("%s.%s: a list of int (not recorded)", name, field)
        end
      end
    end
    if next(facts) then models[name] = facts end
  end
end
if #missing_models > 0 then
  warn("%d models not in %s@%s: %s", #missing_models, py.repository, py.commit, table.concat(missing_models, ", "))
end
if missing_fields > 0 then warn("%d fields not in their Python model", missing_fields) end

------------------------------------------------------------------------------
-- Read-only fields: the .NET SDK's models.
local dotnet = source("dotnet")
dotnet.version = assert(dotnet.read(DOTNET .. "Properties/AssemblyInfo.cs")
  :match('\n%[assembly: AssemblyVersion%("([^"]+)"%)%]'), "no AssemblyVersion in AssemblyInfo.cs")

-- The accessors (" get; private set; ") of each `[DataMember(Name="x")]`.
local function cs_model(text, name)
  local accessors, pending = {}, nil
  for line in text:gmatch("[^\n]*") do
    local json = line:match('^%s*%[DataMember%(Name%s*=%s*"([^"]+)"')
    if json then
      assert(not pending, name .. ".cs: no property after DataMember " .. tostring(pending))
      pending = json
    elseif pending then
      local acc = line:match("^%s*public .-{(.-)}%s*$")
      if acc then
        assert(acc:match("^%s*get;%s*set;%s*$") or acc:match("^%s*get;%s*private set;%s*$"),
          name .. ".cs " .. pending .. ": accessors {" .. acc .. "}")
        accessors[pending], pending = acc, nil
      else
        assert(line:match("^%s*%[") or line:match("^%s*$"), name .. ".cs " .. pending .. ": " .. line)
      end
    end
  end
  assert(not pending, name .. ".cs: no property after DataMember " .. tostring(pending))
  return accessors
end

local missing_cs, missing_cs_fields = {}, 0
for _, name in ipairs(sorted_keys(contract.definitions)) do
  local text = dotnet.read(DOTNET .. "Model/" .. name .. ".cs", true)
  if not text then
    missing_cs[#missing_cs + 1] = name
  else
    local accessors = cs_model(text, name)
    for _, field in ipairs(sorted_keys(contract.definitions[name].properties or {})) do
      local acc = accessors[field]
      if not acc then
        missing_cs_fields = missing_cs_fields + 1
        warn("%s.%s: not in %s.cs", name, field, name)
      elseif acc:match("private set;") then
        models[name] = models[name] or {}
        models[name][field] = models[name][field] or {}
        models[name][field].readOnly = true
      end
    end
  end
end
if #missing_cs > 0 then
  warn("%d models not in %s@%s: %s", #missing_cs, dotnet.repository, dotnet.commit, table.concat(missing_cs, ", "))
end
if missing_cs_fields > 0 then warn("%d fields not in their .NET model", missing_cs_fields) end

------------------------------------------------------------------------------
local function source_entry(s)
  return { repository = s.repository, commit = s.commit, version = s.version, files = s.files }
end
local facts = {
  sources = { source_entry(py), source_entry(js), source_entry(dotnet) },
  query = query,
  models = models,
  permissions = permissions,
}

-- JSON with sorted keys, one array element or member a line: diffs line by line.
local text = sorted_json(facts) .. "\n"

local nq, nm, nf, ni, nrm, nr = 0, 0, 0, 0, 0, 0
for _, params in pairs(query) do for _ in pairs(params) do nq = nq + 1 end end
for _, fields in pairs(models) do
  local has_enum, has_ro = false, false
  for _, f in pairs(fields) do
    if f.integer then ni = ni + 1 end
    if f.enum or f.items_enum then nf = nf + 1; has_enum = true end
    if f.readOnly then nr = nr + 1; has_ro = true end
  end
  if has_enum then nm = nm + 1 end
  if has_ro then nrm = nrm + 1 end
end
local np, nall = 0, 0
for _, p in pairs(permissions) do
  np = np + 1
  if p.all then nall = nall + 1 end
end
local summary = ("%d query parameters with enums, %d models with %d enum fields, %d integer fields,"
  .. " %d models with %d readOnly fields, %d operations with permissions (%d all, %d any)")
  :format(nq, nm, nf, ni, nrm, nr, np, nall, np - nall)

if check then
  local f = io.open(out_path, "rb")
  local have = f and f:read("a")
  if f then f:close() end
  if have ~= text then
    warn("%s is not what the pinned sources give (%s)", out_path, summary)
    os.exit(1)
  end
  print("collect-facts: " .. out_path .. " is current: " .. summary)
else
  local f = assert(io.open(out_path, "wb"))
  f:write(text)
  f:close()
  print("collect-facts: wrote " .. out_path .. ": " .. summary)
end
