-- "A write is sent at most once", and its two stated exceptions (issue 20,
-- point 2; README "Retries and auth"; lua/purecloud/loop.lua rules 3 and 4):
-- a 401 and a 429 are the service refusing before it acts, so a POST or
-- PATCH answered 401 is sent again once after the token is renewed, and one
-- answered 429 after its Retry-After. Every other status and every
-- transport failure after the send leaves it sent exactly once. Counted
-- over real HTTP in the emulator's request log.
local emu = require "support.emulator"
local support = require "support.client"

local USERS, USER = "/api/v2/users", "/api/v2/users/[^/]+"

-- How many times the emulator saw `method` on a path matching `pattern`.
local function sent(method, pattern)
  local n = 0
  for _, r in ipairs(emu.log()) do
    if r.method == method and r.path:match("^" .. pattern .. "$") then n = n + 1 end
  end
  return n
end

local serial = 0
local function new_user()
  serial = serial + 1
  return { name = "W" .. serial, email = ("w401-%d-%d@example.com"):format(os.time(), serial), password = "x-Secret-1" }
end

-- The two writes: each returns (value, err) and the route pattern it hits.
local WRITES = {
  POST = function(c) return c.users.post_users(new_user()) end,
  PATCH = function(c, u) return c.users.patch_user_id(u.id, { name = "P" .. serial, version = u.version }) end,
}

local function setup()
  emu.reset{ users = 2 }
  local c = support.direct{ timeout = 5 }
  local u = assert(c.users.get_user_id(emu.users(1)[1].id))
  emu.clear_log()
  return c, u
end

describe("a write answered 401 #hostile", function()
  for method, write in pairs(WRITES) do
    local path = method == "POST" and USERS or USER
    it("is sent again exactly once after the token is renewed (" .. method .. ")", function()
      local c, u = setup()
      local tokens = c.stats.token_requests
      emu.fault{ method = method, path = path, status = 401, count = 1 }
      assert(write(c, u))
      assert.are.equal(2, sent(method, path))
      assert.are.equal(tokens + 1, c.stats.token_requests)
      c:close()
    end)

    it("is returned on a second 401, sent twice in all (" .. method .. ")", function()
      local c, u = setup()
      emu.fault{ method = method, path = path, status = 401, count = 5 }
      local v, err = write(c, u)
      assert.is_nil(v)
      assert.are.equal(401, err.status)
      assert.are.equal("rejected", err.outcome)
      assert.are.equal(2, sent(method, path))
      c:close()
    end)

    it("answered 429 is sent again after Retry-After (" .. method .. ")", function()
      local c, u = setup()
      emu.fault{ method = method, path = path, status = 429, retry_after = 0, count = 1 }
      assert(write(c, u))
      assert.are.equal(2, sent(method, path))
      c:close()
    end)
  end
end)

describe("a write answered with any other status #hostile", function()
  for _, status in ipairs{ 400, 403, 404, 409, 500, 502, 503, 504 } do
    for method, write in pairs(WRITES) do
      local path = method == "POST" and USERS or USER
      it(("is sent exactly once: %d (%s)"):format(status, method), function()
        local c, u = setup()
        emu.fault{ method = method, path = path, status = status, retry_after = 0, count = 1 }
        local v, err = write(c, u)
        assert.is_nil(v)
        assert.are.equal(status, err.status)
        assert.are.equal(status >= 500 and "unknown" or "rejected", err.outcome)
        assert.are.equal(1, sent(method, path))
        assert.are.equal(0, c.stats.retries)
        c:close()
      end)
    end
  end
end)

describe("a write whose connection fails after it was sent #hostile", function()
  for method, write in pairs(WRITES) do
    local path = method == "POST" and USERS or USER
    it("is sent exactly once: connection reset after the request was read (" .. method .. ")", function()
      local c, u = setup()
      emu.fault{ method = method, path = path, action = "reset", count = 1 }
      local v, err = write(c, u)
      assert.is_nil(v)
      assert.are.equal("transport", err.kind)
      assert.are.equal("unknown", err.outcome)
      assert.are.equal(1, sent(method, path))
      assert.are.equal(0, c.stats.retries)
      c:close()
    end)

    it("is sent exactly once: timeout waiting for the answer (" .. method .. ")", function()
      local c, u = setup()
      local slow = support.direct{ timeout = 0.3 }
      emu.fault{ method = method, path = path, delay_ms = 900, count = 1 }
      local v, err = write(slow, u)
      assert.is_nil(v)
      assert.are.equal("timeout", err.kind)
      assert.are.equal("unknown", err.outcome)
      require("purecloud.core").sleep(1.2) -- the emulator logs the request once its delay is over
      assert.are.equal(1, sent(method, path))
      assert.are.equal(0, slow.stats.retries)
      slow:close()
      c:close()
    end)
  end
end)
