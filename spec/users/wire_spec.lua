-- Every operation of the generated tables, called the way a user calls it
-- (client.<class>.<name>(positional…, opts)), sends its contract's method,
-- path (each parameter in its place, escaped) and query parameters (each
-- option under its contract name, lists repeated). Read from the contract
-- here on its own, so a generator that drops or misplaces a parameter fails.
-- Hermetic: a transport that records each request.
local purecloud = require "purecloud"
local unpack = table.unpack or unpack -- luacheck: ignore 113 (Lua 5.1)

local CONTRACT = require("spec.support.schema").contract()

local function snake(name)
  return (name:gsub("(%l)(%u)", "%1_%2"):gsub("(%d)(%u)", "%1_%2"):gsub("(%u)(%u%l)", "%1_%2"):lower())
end

local function escape(s)
  return (s:gsub("[^%w%-%._~]", function(ch) return ("%%%02X"):format(ch:byte()) end))
end

-- A sample value of a query parameter's type, and how it shows on the wire.
local function sample(p)
  local t = p.type
  if t == "array" then
    local e = p.items and p.items.enum
    local a, b = e and e[1] or "x y", e and (e[2] or e[1]) or "z"
    return { a, b }, { escape(a), escape(b) }
  elseif t == "integer" then return 7, { "7" }
  elseif t == "number" then return 2, { "2" }
  elseif t == "boolean" then return true, { "true" }
  end
  local v = p.enum and p.enum[1] or "v/" .. p.name
  return v, { escape(v) }
end

local function query_of(url)
  local q = {}
  for k, v in (url:match("%?(.*)$") or ""):gmatch("([^&=]+)=([^&]*)") do
    q[k] = q[k] or {}
    table.insert(q[k], v)
  end
  return q
end

describe("every generated operation #hermetic", function()
  local sent
  local c = purecloud.new{
    base_url = "http://127.0.0.1:9", access_token = "tok", retry = false, validate = false, log = "none",
    transport = function(req)
      sent[#sent + 1] = req
      return { status = 200, headers = { ["content-type"] = "application/json" }, body = "{}" }
    end,
  }

  it("sends its method, path and query parameters", function()
    local n = 0
    for path, item in pairs(CONTRACT.paths) do
      for method, o in pairs(item) do
        n = n + 1
        local name, class = o["x-python-name"], o["x-purecloud-class"]
        local args, want_path, want_query = {}, path, {}
        for _, p in ipairs(o.parameters) do
          if p.required then
            if p["in"] == "path" then
              local v = "id/" .. p.name .. " ?"
              args[#args + 1] = v
              want_path = want_path:gsub("{" .. p.name .. "}", (escape(v):gsub("%%", "%%%%")))
            elseif p["in"] == "query" then
              local v, wire = sample(p)
              if p.type ~= "array" then v = tostring(v); wire = { escape(v) } end
              args[#args + 1] = v
              want_query[p.name] = wire
            else
              args[#args + 1] = {}
            end
          end
        end
        local opts = {}
        for _, p in ipairs(o.parameters) do
          if not p.required and p["in"] == "query" then
            local v, wire = sample(p)
            opts[snake(p.name)] = v
            want_query[p.name] = wire
          end
        end
        if next(opts) then args[#args + 1] = opts end
        sent = {}
        local fn = c[class][name]
        assert.is_function(fn, class .. "." .. name)
        assert(fn(unpack(args)))
        assert.are.equal(1, #sent, name)
        local req = sent[1]
        assert.are.equal(method:upper(), req.method, name)
        assert.are.equal("http://127.0.0.1:9" .. want_path, req.url:match("^[^?]*"), name)
        assert.are.same(want_query, query_of(req.url), name)
        assert.is_function(require("purecloud." .. class)[name], "purecloud." .. class .. "." .. name)
      end
    end
    assert.is_true(n >= 163)
  end)
end)

describe("a deprecated operation #hermetic", function()
  -- (once per process: its own process, whatever ran before in this one)
  it("logs one warning per process at its first call, and none for the others", function()
    local script = [[
      local purecloud = require "purecloud"
      local function client()
        return purecloud.new{ base_url = "http://127.0.0.1:9", access_token = "tok", retry = false,
          log = { level = "warn", sink = function(_, line) io.write(line, "\n") end },
          transport = function() return { status = 200, headers = { ["content-type"] = "application/json" },
                                           body = '{"entities":[]}' } end }
      end
      local c1, c2 = client(), client()
      assert(c1.users.get_profiles_users())
      assert(c1.users.get_profiles_users())
      assert(c2.users.get_profiles_users()) -- (another client, the same process)
      assert(require("purecloud.users").bind(c2).get_authorization_divisionspermitted_me("directory:user:view"))
      assert(c1.users.get_users())
      assert(c1.users.get_user("u-1"))]]
    local p = assert(io.popen("LUA_PATH='./lua/?.lua;./lua/?/init.lua;;' LUA_CPATH='./build/lua5.4/?.so;;' lua5.4 -e '"
      .. script:gsub("'", "'\\''") .. "' 2>&1"))
    local out = p:read("a")
    p:close()
    local lines = {}
    for l in out:gmatch("[^\n]+") do lines[#lines + 1] = l end
    assert.are.equal(2, #lines, out)
    assert.matches("purecloud%.users%.get_profiles_users is deprecated in the official SDK", lines[1])
    assert.matches("purecloud%.users%.get_authorization_divisionspermitted_me is deprecated", lines[2])
    local n = 0
    for _, item in pairs(CONTRACT.paths) do
      for _, o in pairs(item) do if o.deprecated then n = n + 1 end end
    end
    assert.are.equal(6, n)
  end)
end)
