-- api/today/facts.json: the official enum values, integer fields, read-only
-- fields and required permissions of today's contract, collected by
-- tools/collect-facts.lua from the SDK repositories. Its shape, checked
-- against api/today/swagger.json: every entry names an operation, query
-- parameter, definition and field the contract has, of a type the fact fits;
-- every source is a pinned commit and every file read a sha256; the layout is
-- the stable one the tool writes.
local cjson = require "cjson"

local function read(path)
  local f = assert(io.open(path, "rb"))
  local text = f:read("a")
  f:close()
  return text
end

local function sorted_keys(t)
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = k end
  table.sort(keys)
  return keys
end

local function is_array(t)
  if type(t) ~= "table" then return false end
  local n = 0
  for _ in pairs(t) do n = n + 1 end
  return n == #t
end

-- nil when `list` is a non-empty array of distinct strings, else why not.
local function enum_problem(list)
  if not is_array(list) or #list == 0 then return "not a non-empty array" end
  local seen = {}
  for i, v in ipairs(list) do
    if type(v) ~= "string" or v == "" then return ("element %d is not a string"):format(i) end
    if seen[v] then return ("%q twice"):format(v) end
    seen[v] = true
  end
end

local function only_keys(t, allowed)
  for k in pairs(t) do
    if not allowed[k] then return false, k end
  end
  return true
end

local TEXT = read("api/today/facts.json")
local facts = cjson.decode(TEXT)
local contract = cjson.decode(read("api/today/swagger.json"))

local selection = dofile("api/today/selection.lua")
local class_of = {} -- the contract's x-purecloud-class -> JS class
for _, c in ipairs(selection.classes) do class_of[c.lua] = c.name end

-- A permission as the JS SDK's docs write it: domain:entity:action (each a
-- camelCase word), or the one legacy bare "admin" (DELETE /users/{userId} and
-- two more list it beside directory:organization:admin).
local function permission_problem(p)
  if type(p) ~= "string" then return "not a string" end
  if p == "admin" or p:match("^%l%w*:%l%w*:%l%w*$") then return nil end
  return ("%q is not domain:entity:action"):format(p)
end

local operations = {} -- operationId -> operation
for _, methods in pairs(contract.paths) do
  for _, op in pairs(methods) do
    if type(op) == "table" and op.operationId then operations[op.operationId] = op end
  end
end

describe("api/today/facts.json #hermetic", function()
  it("has sources, query, models and permissions, nothing else", function()
    assert.is_true(only_keys(facts, { sources = true, query = true, models = true, permissions = true }))
    assert.is_true(is_array(facts.sources))
    assert.are.equal("table", type(facts.query))
    assert.are.equal("table", type(facts.models))
    assert.are.equal("table", type(facts.permissions))
  end)

  it("names each source by repository, commit and version, each file read by its sha256", function()
    local repos = {}
    for _, s in ipairs(facts.sources) do
      assert.is_true(only_keys(s, { repository = true, commit = true, version = true, files = true }))
      assert.is_truthy(s.repository:match("^MyPureCloud/platform%-client%-sdk%-[%w%-]+$"), s.repository)
      assert.is_truthy(s.commit:match("^" .. ("%x"):rep(40) .. "$"), s.commit)
      assert.is_truthy(s.version:match("^%d+%.%d+%.%d+$"), s.version)
      assert.is_nil(repos[s.repository], "one entry per repository")
      repos[s.repository] = s
      assert.is_truthy(next(s.files), s.repository .. " names no file")
      for path, sum in pairs(s.files) do
        assert.is_truthy(path:match("^[%w_%-%./]+$") and not path:match("%.%."), path)
        assert.is_truthy(sum:match("^" .. ("[0-9a-f]"):rep(64) .. "$"), path .. ": " .. tostring(sum))
      end
    end
    assert.is_truthy(repos["MyPureCloud/platform-client-sdk-python"])
    assert.is_truthy(repos["MyPureCloud/platform-client-sdk-javascript"])
    assert.is_truthy(repos["MyPureCloud/platform-client-sdk-dotnet"])
  end)

  it("is pinned to the commits tools/collect-facts.lua reads", function()
    local tool = read("tools/collect-facts.lua")
    for _, s in ipairs(facts.sources) do
      local pin = tool:match('repository = "' .. s.repository:gsub("%-", "%%-") .. '",%s*commit = "(%x+)"')
      assert.are.equal(s.commit, pin, s.repository)
    end
  end)

  it("gives enums only for query parameters the contract's operations have, typed string or array of string",
    function()
      local n = 0
      for id, params in pairs(facts.query) do
        local op = operations[id]
        assert.is_truthy(op, "no operation " .. id)
        assert.is_truthy(next(params), id .. ": no parameter")
        for name, fact in pairs(params) do
          local param
          for _, p in ipairs(op.parameters or {}) do
            if p.name == name and p["in"] == "query" then param = p end
          end
          assert.is_truthy(param, id .. ": no query parameter " .. name)
          assert.is_true(only_keys(fact, { enum = true }), id .. " " .. name)
          assert.is_nil(enum_problem(fact.enum), id .. " " .. name)
          assert.is_true(param.type == "string" or (param.type == "array" and param.items.type == "string"),
            id .. " " .. name .. " is a " .. tostring(param.type))
          n = n + 1
        end
      end
      assert.is_true(n > 0)
    end)

  it("gives facts only for fields the contract's definitions have, fitting their type", function()
    local counts = { enum = 0, items_enum = 0, integer = 0, readOnly = 0 }
    for model, fields in pairs(facts.models) do
      local def = contract.definitions[model]
      assert.is_truthy(def, "no definition " .. model)
      assert.is_truthy(next(fields), model .. ": no field")
      for field, fact in pairs(fields) do
        local where = model .. "." .. field
        local prop = def.properties and def.properties[field]
        assert.is_truthy(prop, "no field " .. where)
        local keys, kind = sorted_keys(fact), nil
        assert.is_truthy(#keys > 0, where .. ": no fact")
        for _, k in ipairs(keys) do
          assert.is_truthy(counts[k], where .. ": unknown fact " .. k)
          counts[k] = counts[k] + 1
          if k ~= "readOnly" then
            assert.is_nil(kind, where .. ": " .. tostring(kind) .. " and " .. k)
            kind = k
          end
        end
        if fact.readOnly ~= nil then
          assert.are.equal(true, fact.readOnly, where .. ": readOnly is true or absent")
        end
        if kind == "integer" then
          assert.are.equal(true, fact.integer, where)
          assert.is_true(prop.type == "number" or prop.type == "integer", where .. " is a " .. tostring(prop.type))
        elseif kind == "enum" then
          assert.is_nil(enum_problem(fact.enum), where)
          assert.are.equal("string", prop.type, where)
        elseif kind == "items_enum" then
          assert.is_nil(enum_problem(fact.items_enum), where)
          assert.is_true(prop.type == "array" and prop.items.type == "string", where)
        end
      end
    end
    assert.is_true(counts.enum > 0 and counts.integer > 0 and counts.readOnly > 0)
  end)

  it("takes each readOnly from the .NET model file it names", function()
    local dotnet
    for _, s in ipairs(facts.sources) do
      if s.repository == "MyPureCloud/platform-client-sdk-dotnet" then dotnet = s end
    end
    assert.is_truthy(dotnet.files["build/src/PureCloudPlatform.Client.V2/Properties/AssemblyInfo.cs"])
    local n = 0
    for model, fields in pairs(facts.models) do
      for field, fact in pairs(fields) do
        if fact.readOnly then
          n = n + 1
          assert.is_truthy(dotnet.files["build/src/PureCloudPlatform.Client.V2/Model/" .. model .. ".cs"],
            model .. "." .. field .. ": its model file is not named")
        end
      end
    end
    assert.is_true(n > 0)
  end)

  it("gives permissions only for the contract's operations: all or any, a non-empty list of distinct permissions",
    function()
      local js
      for _, s in ipairs(facts.sources) do
        if s.repository == "MyPureCloud/platform-client-sdk-javascript" then js = s end
      end
      local counts = { all = 0, any = 0 }
      for id, fact in pairs(facts.permissions) do
        local op = operations[id]
        assert.is_truthy(op, "no operation " .. id)
        assert.are.equal("table", type(fact), id)
        local keys = sorted_keys(fact)
        assert.are.equal(1, #keys, id .. ": exactly one of all, any")
        local kind = keys[1]
        assert.is_truthy(counts[kind], id .. ": unknown key " .. tostring(kind))
        counts[kind] = counts[kind] + 1
        assert.is_nil(enum_problem(fact[kind]), id)
        for _, p in ipairs(fact[kind]) do
          assert.is_nil(permission_problem(p), id)
        end
        local class = class_of[op["x-purecloud-class"]]
        assert.is_truthy(class and js.files["build/docs/" .. class .. ".md"], id .. ": its docs file is not named")
      end
      assert.is_true(counts.all > 0 and counts.any > 0)
    end)

  it("is laid out as the tool writes it: keys sorted, one member or element a line", function()
    local encode = require "tools.sorted_json"
    assert.is_true(encode(facts) .. "\n" == TEXT, "api/today/facts.json: run tools/collect-facts.lua")
  end)
end)
