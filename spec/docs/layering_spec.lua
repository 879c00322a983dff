-- Dependencies point one way: every require between the modules of
-- lua/purecloud (top-level or lazy, found by tools/require-graph.lua's lexer,
-- so a require in a comment or a string is no edge) goes down the layers
-- below, or sideways within one layer without a cycle. docs/DESIGN.md
-- ("Layers", "Who calls whom") is this table in prose and the tool's output.
local graph = assert(loadfile("tools/require-graph.lua"))({})

-- The layers, lowest first. A module may require those of its own layer
-- (no cycle) and of the layers below it; every module of lua/purecloud has
-- exactly one layer, and `*` marks the C modules (csrc/, no Lua file).
local LAYERS = {
  { "base", "core*", "keys", "regions", "errors", "gate", "threads", "secret_file" },
  { "rules", "request", "loop", "log", "redact", "journal", "token_store", "http1", "profile",
    "store.redis", "store.resp", "store.hiredis*" },
  { "auth/io", "token", "options", "transport.curl*", "transport.ngx", "io" },
  { "scheduling", "scheduler", "scheduler.coroutines", "scheduler.host_threads" },
  { "groups", "pager", "batch" },
  { "operations", "default", "operations", "users", "presence", "authorization", "routing", "groups", "api",
    "api_help" },
  { "client", "client" },
  { "top", "purecloud", "testing" },
  { "cli", "cli.output", "cli.contract" }, -- bin/purecloud's modules: they may require the library, never the reverse
}

-- The known exceptions, each `from → to`: none today (an entry here must name a real edge).
local EXCEPTIONS = {
}

local function full(name) return name == "purecloud" and name or "purecloud." .. name end

-- module → { layer = index, name = layer name, c = true for a C module }
local function layer_of(layers)
  local at = {}
  for i, l in ipairs(layers) do
    for k = 2, #l do
      local name, c = l[k]:gsub("%*$", "")
      assert(not at[full(name)], name .. " is in two layers")
      at[full(name)] = { layer = i, name = l[1], c = c > 0 }
    end
  end
  return at
end

-- Every problem of graph `g` against `layers` and `exceptions`, one line each.
local function violations(g, layers, exceptions)
  local at, out, used = layer_of(layers), {}, {}
  for _, name in ipairs(g.names) do
    local m = g.modules[name]
    local from = at[name]
    if not from then
      out[#out + 1] = ("%s (%s) has no layer: add it to LAYERS"):format(name, m.file)
    elseif from.c then
      out[#out + 1] = ("%s is listed as a C module but is %s"):format(name, m.file)
    end
    if not m.balanced then out[#out + 1] = ("%s: the lexer lost its blocks"):format(m.file) end
    for _, d in ipairs(m.dynamic) do
      out[#out + 1] = ("%s:%d: a require of a computed name (%s): the layers cannot be checked"):format(
        m.file, d.line, d.text)
    end
    for _, e in ipairs(m.edges) do
      local to, key = at[e.to], name .. " -> " .. e.to
      if not to then
        out[#out + 1] = ("%s:%d: %s requires %s, which has no layer"):format(m.file, e.line, name, e.to)
      elseif from and to.layer > from.layer then
        if exceptions[key] then
          used[key] = true
        else
          out[#out + 1] = ("%s:%d: %s (%s) requires %s (%s), a layer above%s"):format(m.file, e.line, name,
            from.name, e.to, to.name, e.lazy and " (lazily)" or "")
        end
      end
    end
  end
  for _, cycle in ipairs(graph.cycles(g)) do
    out[#out + 1] = "a cycle: " .. table.concat(cycle, ", ")
  end
  for name, l in pairs(at) do
    if not l.c and not g.modules[name] then
      out[#out + 1] = ("%s is in LAYERS but no such module exists"):format(name)
    end
  end
  for key in pairs(exceptions) do
    if not used[key] then out[#out + 1] = ("the exception %s no longer occurs: remove it"):format(key) end
  end
  table.sort(out)
  return out
end

-- A copy of lua/purecloud with `plants[file]` appended to each file (a
-- planted violation), and its graph.
local function planted(plants)
  local dir = os.tmpname()
  os.remove(dir)
  assert(os.execute(("mkdir -p '%s' && cp -R lua/purecloud/. '%s'"):format(dir, dir)))
  for rel, extra in pairs(plants) do
    local f = assert(io.open(dir .. "/" .. rel, "ab"))
    f:write(extra)
    f:close()
  end
  local g = graph.graph(dir)
  assert(os.execute(("rm -rf '%s'"):format(dir)))
  for _, name in ipairs(g.names) do
    g.modules[name].file = "lua/purecloud/" .. g.modules[name].file:sub(#dir + 2)
  end
  return g
end

-- What the plant added: the violations of `g` that the tree itself has not
-- (so a real violation fails the first spec only), one line per pattern.
local function added(patterns, g)
  local real, list = {}, {}
  for _, v in ipairs(violations(graph.graph("lua/purecloud"), LAYERS, EXCEPTIONS)) do real[v] = true end
  for _, v in ipairs(violations(g, LAYERS, EXCEPTIONS)) do
    if not real[v] then list[#list + 1] = v end
  end
  assert.equal(#patterns, #list, table.concat(list, "\n"))
  for i, p in ipairs(patterns) do assert.matches(p, list[i]) end
end

describe("the layers of lua/purecloud #hermetic", function()
  it("every require points down a layer or sideways without a cycle (one listed exception)", function()
    assert.same({}, violations(graph.graph("lua/purecloud"), LAYERS, EXCEPTIONS))
  end)

  it("docs/DESIGN.md's \"Who calls whom\" is the graph as the code has it", function()
    local f = assert(io.open("docs/DESIGN.md", "rb"))
    local design = f:read("*a")
    f:close()
    local pasted = design:match("## Who calls whom.-```\n(.-)```")
    assert.equal(graph.text(graph.graph("lua/purecloud")), pasted,
      "paste the output of `lua5.4 tools/require-graph.lua` into docs/DESIGN.md")
  end)

  it("has no exception", function()
    assert.same({}, EXCEPTIONS)
  end)

  it("finds requires in every form and none in comments or strings", function()
    local reqs, dynamic = graph.requires(table.concat({
      'local a = require "purecloud.a"',
      'local b = require("purecloud.b")',
      "local c = require 'purecloud.c'",
      'local NAME = "purecloud.d"',
      'local function f() return pcall(require, NAME), require [[purecloud.e]] end',
      'local ok = pcall(require, "purecloud.f")',
      '-- require "purecloud.comment"',
      '--[==[ require("purecloud.long_comment") ]==]',
      'local s = "require \\"purecloud.string\\""',
      'local t = [[ require "purecloud.long_string" ]]',
      'local x = obj.require "purecloud.method"',
      'local other = require "cjson"',
      'local computed = require(prefix .. "x")',
    }, "\n"))
    local got = {}
    for _, r in ipairs(reqs) do got[#got + 1] = r.name .. (r.lazy and " lazy" or "") end
    assert.same({ "purecloud.a", "purecloud.b", "purecloud.c", "purecloud.d lazy", "purecloud.e lazy",
      "purecloud.f" }, got)
    assert.equal(1, #dynamic)
    assert.equal(13, dynamic[1].line)
  end)

  it("fails on a planted upward require (keys requires client, lazily)", function()
    local g = planted{ ["keys.lua"] = '\nlocal function late() return require("purecloud.client") end\n' }
    added({
      "^a cycle: .*purecloud%.client, .*purecloud%.keys",
      "^lua/purecloud/keys%.lua:%d+: purecloud%.keys %(base%) requires purecloud%.client %(client%), "
        .. "a layer above %(lazily%)$",
    }, g)
  end)

  it("fails on a planted sideways cycle and on a module without a layer", function()
    local g = planted{
      ["request.lua"] = '\nlocal _ = require "purecloud.loop"\n',
      ["loop.lua"] = '\nlocal _ = require("purecloud.request")\n',
      ["extra.lua"] = "return {}\n",
    }
    added({
      "^a cycle: purecloud%.loop, purecloud%.request$",
      "^purecloud%.extra %(lua/purecloud/extra%.lua%) has no layer: add it to LAYERS$",
    }, g)
  end)

  it("fails when a listed exception does not occur", function()
    local list = violations(graph.graph("lua/purecloud"), LAYERS, { ["purecloud.keys -> purecloud.client"] = true })
    assert.equal(1, #list, table.concat(list, "\n"))
    assert.matches("^the exception purecloud%.keys %-> purecloud%.client no longer occurs: remove it$", list[1])
  end)
end)
