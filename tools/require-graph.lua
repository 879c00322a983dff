-- The require graph of lua/purecloud, from the code: every `require "x"`,
-- `require("x")` and `pcall(require, "x")` naming a purecloud module (a
-- local string constant as the name is resolved), top-level or lazy (inside
-- a function), with comments and strings told apart by a Lua lexer.
--
-- Usage: lua5.4 tools/require-graph.lua [ROOT]   (ROOT: lua/purecloud)
-- prints one line per module, the modules that nothing above requires first
-- (docs/DESIGN.md, "Who calls whom", pastes it). spec/docs/layering_spec.lua
-- checks the same graph against the layers; spec/docs/privacy_spec.lua uses
-- the lexer. Loaded with a table argument (`loadfile(path)({})`) it returns
-- the functions instead of printing.
local M = {}

local sub, find = string.sub, string.find

-- Tokens of a Lua chunk (5.1–5.4): `{ kind = "name"|"string"|"number"|"op",
-- value, line }`. Comments and whitespace are dropped; a string's value is
-- its source text between the delimiters (escapes left as written).
function M.lex(src)
  local tokens, i, n, line = {}, 1, #src, 1
  local function push(kind, value) tokens[#tokens + 1] = { kind = kind, value = value, line = line } end
  local function count_lines(s) local _, k = s:gsub("\n", "") line = line + k end
  -- A long bracket at i (`[[`, `[==[`): its content and the index after it, or nil.
  local function long_bracket(at)
    local eq = src:match("^%[(=*)%[", at)
    if not eq then return nil end
    local open_end = at + #eq + 1
    local close = "]" .. eq .. "]"
    local s, e = find(src, close, open_end + 1, true)
    if not s then error(("unfinished long bracket at line %d"):format(line)) end
    return sub(src, open_end + 1, s - 1), e + 1
  end
  if sub(src, 1, 1) == "#" then i = (find(src, "\n", 1, true) or n + 1) end -- a shebang line
  while i <= n do
    local c = sub(src, i, i)
    if c == "\n" then
      line, i = line + 1, i + 1
    elseif find(c, "^%s") then
      i = i + 1
    elseif sub(src, i, i + 1) == "--" then
      local body, after = long_bracket(i + 2)
      if body then
        count_lines(body)
        i = after
      else
        i = find(src, "\n", i, true) or n + 1
      end
    elseif c == '"' or c == "'" then
      local j, start = i + 1, line
      while true do
        local b = sub(src, j, j)
        if b == "" or b == "\n" then error(("unfinished string at line %d"):format(start)) end
        if b == "\\" then
          if sub(src, j + 1, j + 1) == "\n" then line = line + 1 end
          j = j + 2
        elseif b == c then
          break
        else
          j = j + 1
        end
      end
      push("string", sub(src, i + 1, j - 1))
      i = j + 1
    elseif c == "[" and long_bracket(i) then
      local body, after = long_bracket(i)
      push("string", (body:gsub("^\n", "")))
      count_lines(body)
      i = after
    elseif find(c, "^[%a_]") then
      local s, e = find(src, "^[%w_]+", i)
      push("name", sub(src, s, e))
      i = e + 1
    elseif find(c, "^%d") or (c == "." and find(src, "^%.%d", i)) then
      local e = select(2, find(src, "^0[xX][%x%.]*[pP][+-]?%d+", i)) or select(2, find(src, "^0[xX][%x%.]*", i))
        or select(2, find(src, "^[%d%.]*[eE][+-]?%d+", i)) or select(2, find(src, "^[%d%.]+", i))
      push("number", sub(src, i, e))
      i = e + 1
    else
      local op = src:match("^%.%.%.", i) or src:match("^[=~<>]=", i) or src:match("^%.%.", i)
        or src:match("^::", i) or src:match("^//", i) or src:match("^<<", i) or src:match("^>>", i) or c
      push("op", op)
      i = i + #op
    end
  end
  return tokens
end

-- Block openers and closers, to tell a lazy require (inside a function).
local OPENS = { ["function"] = true, ["do"] = true, ["if"] = true, ["repeat"] = true }
local CLOSES = { ["end"] = true, ["until"] = true }

--- The purecloud modules a chunk requires: `{ { name, line, lazy }, … }`;
-- the requires whose module name is not a literal or a local constant
-- (`{ { line, text }, … }`); true when its blocks balance (a lexer check).
function M.requires(src)
  local t = M.lex(src)
  local out, dynamic, consts, blocks = {}, {}, {}, {}
  local function is(k, kind, value)
    local x = t[k]
    return x and x.kind == kind and (value == nil or x.value == value)
  end
  -- `local NAME = "string"` at any level: a constant a require may name.
  for k = 1, #t - 3 do
    if is(k, "name", "local") and is(k + 1, "name") and is(k + 2, "op", "=") and is(k + 3, "string")
       and not is(k + 4, "op", "..") then
      consts[t[k + 1].value] = t[k + 3].value
    end
  end
  local in_function = 0
  for k = 1, #t do
    local x = t[k]
    if x.kind == "name" and OPENS[x.value] then
      -- (`while … do` and `for … do` open their one block at the `do`.)
      blocks[#blocks + 1] = x.value
      if x.value == "function" then in_function = in_function + 1 end
    elseif x.kind == "name" and CLOSES[x.value] then
      if table.remove(blocks) == "function" then in_function = in_function - 1 end
    end
    if x.kind == "name" and x.value == "require" and not is(k - 1, "op", ".") and not is(k - 1, "op", ":") then
      -- The argument: `require "x"`, `require("x")` / `require(NAME)`,
      -- `pcall(require, "x")` / `pcall(require, NAME)`.
      local a, closed
      if is(k + 1, "string") then
        a, closed = t[k + 1], true
      elseif is(k + 1, "op", "(") then
        a, closed = t[k + 2], is(k + 3, "op", ")")
      elseif is(k + 1, "op", ",") and is(k - 1, "op", "(") and is(k - 2, "name", "pcall") then
        a, closed = t[k + 2], is(k + 3, "op", ")") or is(k + 3, "op", ",")
      end
      local name = a and closed and (a.kind == "string" and a.value or a.kind == "name" and consts[a.value])
      if name then
        if name == "purecloud" or name:match("^purecloud%.") then
          out[#out + 1] = { name = name, line = x.line, lazy = in_function > 0 }
        end
      else
        dynamic[#dynamic + 1] = { line = x.line, text = a and a.value or "require as a value" }
      end
    end
  end
  return out, dynamic, #blocks == 0
end

local function read(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("*a")
  f:close()
  return s
end

--- Every .lua file under `root`, sorted.
function M.files(root, pattern)
  local p = assert(io.popen(("find '%s' -type f -name '%s' | LC_ALL=C sort"):format(root, pattern or "*.lua")))
  local list = {}
  for path in p:lines() do list[#list + 1] = path end
  p:close()
  return list
end

--- The module name of a file under `root` (lua/purecloud/init.lua → purecloud).
function M.module_of(root, path)
  local rel = path:sub(#root + 2):gsub("%.lua$", ""):gsub("/", ".")
  if rel == "init" then return "purecloud" end
  return "purecloud." .. rel:gsub("%.init$", "")
end

--- The graph: `{ modules = { name = { file, edges = { { to, line, lazy }, … }, dynamic, balanced } },
-- names = sorted }`.
-- An edge to itself is left out; one module required twice keeps its first,
-- top-level one if there is one.
function M.graph(root)
  root = root or "lua/purecloud"
  local g = { modules = {}, names = {} }
  for _, path in ipairs(M.files(root)) do
    local name = M.module_of(root, path)
    local reqs, dynamic, balanced = M.requires(read(path))
    local edges, seen = {}, {}
    for _, r in ipairs(reqs) do
      if r.name ~= name then
        local e = seen[r.name]
        if not e then
          e = { to = r.name, line = r.line, lazy = r.lazy }
          seen[r.name] = e
          edges[#edges + 1] = e
        elseif e.lazy and not r.lazy then
          e.line, e.lazy = r.line, false
        end
      end
    end
    table.sort(edges, function(a, b) return a.to < b.to end)
    g.modules[name] = { file = path, edges = edges, dynamic = dynamic, balanced = balanced }
    g.names[#g.names + 1] = name
  end
  table.sort(g.names)
  return g
end

--- The cycles of a graph (its strongly connected components of more than
-- one module, or one that requires itself), each a sorted list of names.
function M.cycles(g)
  local index, low, on, stack, out, n = {}, {}, {}, {}, {}, 0
  local function visit(v)
    n = n + 1
    index[v], low[v] = n, n
    stack[#stack + 1], on[v] = v, true
    for _, e in ipairs(g.modules[v] and g.modules[v].edges or {}) do
      local w = e.to
      if g.modules[w] then
        if not index[w] then
          visit(w)
          low[v] = math.min(low[v], low[w])
        elseif on[w] then
          low[v] = math.min(low[v], index[w])
        end
      end
    end
    if low[v] == index[v] then
      local scc = {}
      repeat
        local w = table.remove(stack)
        on[w] = nil
        scc[#scc + 1] = w
      until w == v
      if #scc > 1 then
        table.sort(scc)
        out[#out + 1] = scc
      end
    end
  end
  for _, v in ipairs(g.names) do if not index[v] then visit(v) end end
  return out
end

--- Each module's height: 0 when it requires no Lua module of the graph,
-- else one more than the highest module it requires (cycles cut).
function M.heights(g)
  local h, busy = {}, {}
  local function height(v)
    if h[v] then return h[v] end
    if busy[v] then return 0 end
    busy[v] = true
    local best = 0
    for _, e in ipairs(g.modules[v].edges) do
      if g.modules[e.to] then best = math.max(best, height(e.to) + 1) end
    end
    busy[v] = nil
    h[v] = best
    return best
  end
  for _, v in ipairs(g.names) do height(v) end
  return h
end

local function short(name) return name == "purecloud" and "purecloud (init)" or name:gsub("^purecloud%.", "") end

--- The graph as text: the modules from the highest down, each with what it
-- requires; the modules of height 0 that require the same, on one line
-- (`{a b} x`: a and b each require x).
function M.text(g)
  local h = M.heights(g)
  local order = {}
  for _, v in ipairs(g.names) do order[#order + 1] = v end
  table.sort(order, function(a, b) if h[a] ~= h[b] then return h[a] > h[b] end return a < b end)
  local function requires(v)
    local req = {}
    for _, e in ipairs(g.modules[v].edges) do
      req[#req + 1] = (e.lazy and "~" or "") .. short(e.to) .. (g.modules[e.to] and "" or "*")
    end
    return #req > 0 and table.concat(req, " ") or "-"
  end
  local width = 18 -- the module column: as wide as the longest name of height > 0
  for _, v in ipairs(order) do
    if h[v] > 0 and #short(v) > width then width = #short(v) end
  end
  local row = "%4d    %-" .. width .. "s %s"
  local lines = { ("height  %-" .. width .. "s %s"):format("module", "requires (~ lazy: inside a function; * a C module)") }
  local leaves, leaf_order = {}, {}
  for _, v in ipairs(order) do
    local r = requires(v)
    if h[v] > 0 then
      lines[#lines + 1] = row:format(h[v], short(v), r)
    else
      if not leaves[r] then leaves[r], leaf_order[#leaf_order + 1] = {}, r end
      table.insert(leaves[r], short(v))
    end
  end
  for _, r in ipairs(leaf_order) do
    lines[#lines + 1] = ("%4d    {%s} %s"):format(0, table.concat(leaves[r], " "), r)
  end
  for _, c in ipairs(M.cycles(g)) do lines[#lines + 1] = "cycle: " .. table.concat(c, " <-> ") end
  return table.concat(lines, "\n") .. "\n"
end

if type((...)) == "table" then return M end

local root = (...) or "lua/purecloud"
io.write(M.text(M.graph(root)))
