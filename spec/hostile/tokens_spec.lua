-- Tokens are checked when accepted, and a token store that raises fails one
-- call (issue 20, points 5 and 6a). A scripted transport records every
-- request, so "nothing sent" is counted, not assumed.
local fake = require "support.fakeio"
local core = require "purecloud.core"
local purecloud = require "purecloud"

local ok_body = { id = "u1" }

-- A client whose token endpoint answers `token_body` (a table or text).
local function client_with_token(token_body, extra)
  local io = fake.new(function() return fake.res(200, ok_body) end, {
    token = function() return fake.res(200, token_body) end,
  })
  return fake.client(io, extra), io
end

local function one_line_auth(err)
  assert.are.equal("auth", err.kind)
  assert.are.equal("not_sent", err.outcome)
  local line = tostring(err)
  assert.is_nil(line:find("[%c]"), line)
  return line
end

describe("tokens are checked when accepted #hostile #hermetic", function()
  local bad_tokens = {
    { "a NUL inside", "t0\0EVIL", "0x00 at position 3" },
    { "a number", 12345, "must be a string, got number" },
    { "empty", "", "is empty" },
    { "a space", "t0 EVIL", "0x20 at position 3" },
    { "CR LF", "t0\r\nX-Evil: 1", "0x0D at position 3" },
    { "DEL", "t0\127", "0x7F at position 3" },
    { "non-ASCII", "t0\195\169", "0xC3 at position 3" },
    { "over 8 KiB", ("t"):rep(8193), "longer than 8192 bytes" },
    { "a table", { "t0" }, "must be a string, got table" },
  }
  for _, case in ipairs(bad_tokens) do
    it("refuses a token endpoint's access_token with " .. case[1] .. ", sending nothing", function()
      local c, io = client_with_token{ access_token = case[2], expires_in = 3600 }
      local v, err = c:request("GET", "/api/v2/users/u1")
      assert.is_nil(v)
      local line = one_line_auth(err)
      assert.matches(case[3], line, 1, true)
      assert.matches("access_token", line, 1, true)
      assert.are.equal(0, #io.api) -- no API request went out with any credential
      if type(case[2]) == "string" and #case[2] > 3 then
        assert.is_nil(line:find(case[2], 1, true))
      end
    end)
  end

  it("accepts 8192 bytes of visible ASCII, sent exactly as given", function()
    local tok = ("!~"):rep(4096)
    local c, io = client_with_token{ access_token = tok, expires_in = 3600 }
    assert(c:request("GET", "/api/v2/users/u1"))
    assert.are.equal("Bearer " .. tok, io.api[1].headers.Authorization)
  end)

  it("refuses a refresh_token in a token response that is not a visible-ASCII string", function()
    local c, io = client_with_token{ access_token = "good-token", refresh_token = "r\0x", expires_in = 3600 }
    local v, err = c:request("GET", "/api/v2/users/u1")
    assert.is_nil(v)
    assert.matches("refresh_token", one_line_auth(err), 1, true)
    assert.are.equal(0, #io.api)
  end)

  for _, case in ipairs{ { "0", 0 }, { "negative", -5 }, { "missing", nil }, { "a string", "3600" },
                         { "NaN-like huge", 1e300 } } do
    it("renews before its next use a token whose expires_in is " .. case[1], function()
      local lines = {}
      local io = fake.new(function() return fake.res(200, ok_body) end, {
        token = function(_, n) return fake.res(200, { access_token = "tok-" .. n, expires_in = case[2] }) end,
      })
      local c = fake.client(io, { log = { level = "debug", sink = function(_, m) lines[#lines + 1] = m end } })
      for _ = 1, 3 do assert(c:request("GET", "/api/v2/users/u1")) end
      assert.are.equal(3, #io.tokens) -- one token per use: never a token that never expires
      assert.are.equal("Bearer tok-1", io.api[1].headers.Authorization)
      assert.are.equal("Bearer tok-3", io.api[3].headers.Authorization)
      assert.matches("no positive expires_in", table.concat(lines, "\n"), 1, true)
    end)
  end

  it("still lets a token with a lifetime serve many calls", function()
    local c, io = client_with_token{ access_token = "long-lived", expires_in = 3600 }
    for _ = 1, 5 do assert(c:request("GET", "/api/v2/users/u1")) end
    assert.are.equal(1, #io.tokens)
  end)

  it("refuses a token store's token that is not a visible-ASCII string, sending nothing", function()
    for _, bad in ipairs{ "t0\0EVIL", 42, "", "a b" } do
      local io = fake.new(function() return fake.res(200, ok_body) end)
      local store = { get = function() return bad, 600 end, set = function() end, delete = function() end }
      local c = fake.client(io, { token_store = store })
      local v, err = c:request("GET", "/api/v2/users/u1")
      assert.is_nil(v)
      assert.matches("token store's get returned an unusable token", one_line_auth(err), 1, true)
      assert.are.equal(0, #io.requests)
    end
  end)

  it("refuses access_token and refresh_token options that are not visible-ASCII strings, at new", function()
    for _, k in ipairs{ "access_token", "refresh_token" } do
      for _, bad in ipairs{ "t0\0EVIL", 7, "", "a b", "t\127", ("x"):rep(8193) } do
        local o = { base_url = "http://api.test", [k] = bad, log = "none" }
        if k == "refresh_token" then o.client_id, o.client_secret = "id", "secret" end
        local ok, msg = pcall(purecloud.new, o)
        assert.is_false(ok)
        assert.matches("option '" .. k .. "'", msg, 1, true)
        assert.is_nil(msg:find("\n", 1, true))
        if type(bad) == "string" and #bad > 3 then assert.is_nil(msg:find(bad, 1, true)) end
      end
    end
    assert(purecloud.new{ base_url = "http://api.test", access_token = "ok-token", log = "none" })
    assert.is_nil(core.check_token("Aa0-._~+/=!"))
  end)
end)

describe("a token store that raises #hostile #hermetic", function()
  local function store_raising(name, what)
    local memory = require("purecloud.token_store").memory()
    local store = {}
    for k, f in pairs(memory) do store[k] = f end
    store[name] = function() error(what, 0) end
    return store
  end

  for _, name in ipairs{ "get", "lock", "set", "unlock" } do
    it("fails that one call with an auth error when " .. name .. " raises", function()
      local io = fake.new(function() return fake.res(200, ok_body) end)
      local c = fake.client(io, { token_store = store_raising(name, "redis: connection refused\nat line 2") })
      local v, err = c:request("GET", "/api/v2/users/u1")
      assert.is_nil(v)
      local line = one_line_auth(err)
      assert.matches("the token store raised in " .. name .. ": redis: connection refused\\nat line 2", line, 1, true)
      if name == "get" or name == "lock" then assert.are.equal(0, #io.requests) end
      assert.are.equal(0, #io.api)
    end)
  end

  it("does not fail the client: the next call asks the store again", function()
    local io = fake.new(function() return fake.res(200, ok_body) end)
    local fail = true
    local memory = require("purecloud.token_store").memory()
    local store = setmetatable({ get = function(k) if fail then error({ code = 1 }) end return memory.get(k) end },
      { __index = memory })
    store.set, store.delete, store.lock, store.unlock = memory.set, memory.delete, memory.lock, memory.unlock
    local c = fake.client(io, { token_store = store })
    local v, err = c:request("GET", "/api/v2/users/u1")
    assert.is_nil(v)
    assert.matches("the token store raised in get: table", tostring(err), 1, true)
    fail = false
    assert(c:request("GET", "/api/v2/users/u1"))
  end)

  it("scrubs the client secret and the token from what the store said", function()
    local io = fake.new(function() return fake.res(200, ok_body) end)
    local seen
    local memory = require("purecloud.token_store").memory()
    local store = { get = memory.get, delete = memory.delete, lock = memory.lock, unlock = memory.unlock,
      set = function(_, token) seen = token; error("cannot store " .. token .. " with S3cret-Xyz", 0) end }
    local c = fake.client(io, { client_secret = "S3cret-Xyz", token_store = store })
    local v, err = c:request("GET", "/api/v2/users/u1")
    assert.is_nil(v)
    local everything = tostring(err) .. "\n" .. tostring(err.message)
    assert.is_nil(everything:find("S3cret-Xyz", 1, true))
    assert.is_nil(everything:find(seen, 1, true))
    assert.matches("cannot store [REDACTED] with [REDACTED]", everything, 1, true)
  end)

  it("logs a delete that raises after a 401 and still renews and replays", function()
    local lines = {}
    local io = fake.new(function(_, n)
      if n == 1 then return fake.res(401, { code = "bad.credentials", message = "expired" }) end
      return fake.res(200, ok_body)
    end)
    local c = fake.client(io, { token_store = store_raising("delete", "delete failed"),
      log = { level = "warn", sink = function(_, m) lines[#lines + 1] = m end } })
    assert(c:request("GET", "/api/v2/users/u1"))
    assert.are.equal(2, #io.api)
    assert.matches("the token store raised in delete: delete failed", table.concat(lines, "\n"), 1, true)
  end)
end)
