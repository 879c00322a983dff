-- Underscore fields stay inside their file: no module reads or writes
-- another's `x._foo` / `x:_foo()` / `x["_foo"]` / `{ _foo = … }`. Scanned
-- with tools/require-graph.lua's lexer (comments and strings are no access)
-- over the library, the command line and the emulator.
local lex = assert(loadfile("tools/require-graph.lua"))({}).lex

local function files()
  local list = {}
  for _, root in ipairs({ "lua/purecloud", "emulator/lua" }) do
    local p = assert(io.popen(("find '%s' -type f -name '*.lua' | LC_ALL=C sort"):format(root)))
    for path in p:lines() do list[#list + 1] = path end
    p:close()
  end
  list[#list + 1] = "bin/purecloud"
  return list
end

-- What a file owns besides what it reaches through `self`: the underscore
-- fields of its own tables and records, which no other file may name.
local OWN = {
  ["lua/purecloud/pager.lua"] = { "_spawn", "_prefetch", "_finish" },                        -- Pager methods
  ["lua/purecloud/scheduler/coroutines.lua"] = { "_wake", "_step", "_drain", "_wake_sleepers", "_drive" }, -- Engine methods
  ["emulator/lua/emu/state.lua"] = { "_index", "_created", "_deleted", "_json", "_state_reason", "_state_date" }, -- a user record's bookkeeping
}
-- Lua's module conventions, public by design.
local PUBLIC = { _VERSION = true, _NAME = true }

-- Every underscore-field access of `src`: `{ { field, line, how } }` where how
-- is "self" (through the standalone name `self`), "key" (a table
-- constructor's key: a field of a table the file makes) or "other".
local function accesses(src)
  local t, out, brackets = lex(src), {}, {}
  local function is(k, kind, value)
    local x = t[k]
    return x and x.kind == kind and (value == nil or x.value == value)
  end
  local function private(name) return name:match("^_%a") ~= nil end
  for k, x in ipairs(t) do
    if x.kind == "op" and (x.value == "(" or x.value == "[" or x.value == "{") then
      brackets[#brackets + 1] = x.value
    elseif x.kind == "op" and (x.value == ")" or x.value == "]" or x.value == "}") then
      brackets[#brackets] = nil
    end
    if x.kind == "name" and private(x.value) then
      if is(k - 1, "op", ".") or is(k - 1, "op", ":") then
        local through_self = is(k - 2, "name", "self") and not is(k - 3, "op", ".") and not is(k - 3, "op", ":")
        out[#out + 1] = { field = x.value, line = x.line, how = through_self and "self" or "other" }
      elseif brackets[#brackets] == "{" and is(k + 1, "op", "=")
             and (is(k - 1, "op", "{") or is(k - 1, "op", ",") or is(k - 1, "op", ";")) then
        out[#out + 1] = { field = x.value, line = x.line, how = "key" }
      end
    elseif x.kind == "string" and private(x.value) and is(k - 1, "op", "[") and is(k + 1, "op", "]") then
      out[#out + 1] = { field = x.value, line = x.line, how = "other" }
    end
  end
  return out
end

-- Every problem of `sources` (`{ { path, src }, … }`) against `own`, one line
-- each. Through `self` a file reaches its own objects; a constructor's key
-- is the file's own unless another file owns that field (a record made for
-- it); any other access needs the field in the file's OWN.
local function violations(sources, own)
  local out, owner, seen, paths = {}, {}, {}, {}
  for path in pairs(own) do paths[#paths + 1] = path end
  table.sort(paths)
  for _, path in ipairs(paths) do
    for _, f in ipairs(own[path]) do
      if owner[f] then
        out[#out + 1] = ("%s is owned by both %s and %s"):format(f, owner[f], path)
      else
        owner[f] = path
      end
    end
  end
  for _, s in ipairs(sources) do
    for _, a in ipairs(accesses(s.src)) do
      seen[s.path .. " " .. a.field] = true
      local mine = a.how == "self" or PUBLIC[a.field] or owner[a.field] == s.path
        or a.how == "key" and owner[a.field] == nil
      if not mine then
        out[#out + 1] = ("%s:%d: %s is %s"):format(s.path, a.line, a.field,
          owner[a.field] and "a private field of " .. owner[a.field] or "a private field of another file")
      end
    end
  end
  for path, fields in pairs(own) do
    for _, f in ipairs(fields) do
      if not seen[path .. " " .. f] then
        out[#out + 1] = ("%s owns %s but never names it: remove it from OWN"):format(path, f)
      end
    end
  end
  table.sort(out)
  return out
end

local read = require("support.files").read

local function sources(plants)
  local list = {}
  for _, path in ipairs(files()) do
    list[#list + 1] = { path = path, src = read(path) .. (plants and plants[path] or "") }
  end
  return list
end

-- What a plant added: the violations of `list` the tree itself has not (so a
-- real violation fails the first spec only), one line per pattern.
local function added(patterns, list)
  local real, new = {}, {}
  for _, v in ipairs(violations(sources(), OWN)) do real[v] = true end
  for _, v in ipairs(list) do if not real[v] then new[#new + 1] = v end end
  assert.equal(#patterns, #new, table.concat(new, "\n"))
  for i, p in ipairs(patterns) do assert.matches(p, new[i]) end
end

describe("underscore fields stay in their file #hermetic", function()
  it("lua/purecloud, bin/purecloud and emulator/lua read no other file's underscore fields", function()
    assert.same({}, violations(sources(), OWN))
  end)

  it("tells accesses from comments, strings and `self`", function()
    local got = {}
    for _, a in ipairs(accesses(table.concat({
      "local a = u._json",                 -- 1: other
      "-- b = u._json",                    -- comment
      'local c = "u._json"',               -- string
      "local d = self._token",             -- 4: self
      "local e = self.x._token",           -- 5: other (self.x is not self)
      "local f = m:_decide(1)",            -- 6: other
      'local g = u["_deleted"]',           -- 7: other
      "local h = { _index = 1, x = 2 }",   -- 8: a constructor key
      "local i = f(a, _j == 1)",           -- a variable, not a key
    }, "\n"))) do
      got[#got + 1] = ("%d %s %s"):format(a.line, a.field, a.how)
    end
    assert.same({ "1 _json other", "4 _token self", "5 _token other", "6 _decide other", "7 _deleted other",
      "8 _index key" }, got)
  end)

  it("fails on a planted read of an emulator record's field and of another module's method", function()
    added({
      "^emulator/lua/emu/app%.lua:%d+: _deleted is a private field of emulator/lua/emu/state%.lua$",
      "^lua/purecloud/batch%.lua:%d+: _drive is a private field of lua/purecloud/scheduler/coroutines%.lua$",
      "^lua/purecloud/client%.lua:%d+: _busy is a private field of another file$",
    }, violations(sources{
      ["emulator/lua/emu/app.lua"] = "\nlocal function gone(u) return u._deleted end\n",
      ["lua/purecloud/batch.lua"] = "\nlocal function drive(s) return s:_drive() end\n",
      ["lua/purecloud/client.lua"] = "\nlocal function busy(self) return self._token._busy end\n",
    }, OWN))
  end)

  it("fails when two files claim a field or a claim is stale", function()
    added({
      "^_x is owned by both a%.lua and b%.lua$",
      "^a%.lua owns _x but never names it: remove it from OWN$",
      "^b%.lua owns _x but never names it: remove it from OWN$",
    }, violations({}, { ["a.lua"] = { "_x" }, ["b.lua"] = { "_x" } }))
    local own = { ["lua/purecloud/gate.lua"] = { "_nowhere" } }
    for k, v in pairs(OWN) do own[k] = v end
    local list = violations(sources(), own)
    assert.truthy(#list > 0)
    assert.equal("lua/purecloud/gate.lua owns _nowhere but never names it: remove it from OWN", list[#list])
  end)
end)
