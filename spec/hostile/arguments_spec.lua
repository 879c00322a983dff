-- Bad arguments are refused at the boundary, before anything is sent
-- (hardening §2): every refusal raises with a clear message, and the
-- emulator's log shows that no request left.
local emu = require "support.emulator"
local support = require "support.client"
local purecloud = require "purecloud"

describe("a careless caller #hostile", function()
  local c, u
  before_each(function()
    emu.reset{ users = 2 }
    c = support.direct()
    u = emu.users(1)[1]
    assert(c:token())
    emu.clear_log()
  end)
  after_each(function() c:close() end)

  local function refused(pattern, f)
    local ok, msg = pcall(f)
    assert.is_false(ok, "not refused")
    assert.matches(pattern, tostring(msg))
    assert.are.equal(0, #emu.log(), "something was sent")
  end

  it("cannot make a NUL byte cut a path short (the DELETE meant for /roles never hits the user)", function()
    refused("NUL", function() c:request("DELETE", "/api/v2/users/" .. u.id .. "\0/roles") end)
    refused("NUL", function() c:request("DELETE", "/api/v2/users/{userId}/roles", { path = { userId = u.id .. "\0" } }) end)
    refused("NUL", function() c.users.delete_user_id_roles(u.id .. "\0") end)
    refused("NUL", function() c:request("GET", "/api/v2/users", { query = { id = "a\0b" } }) end)
    assert(c.users.get_user_id(u.id)) -- the user is still there
  end)

  it("refuses NUL, CR and LF in every option that reaches a URL, a header or a credential", function()
    for _, o in ipairs({
      { base_url = emu.url .. "\0.evil" }, { login_url = emu.url .. "\n" }, { client_id = "id\0x" },
      { client_secret = "s\r\nX: 1" }, { access_token = "t\0" }, { refresh_token = "r\n" },
      { user_agent = "ua\r\nX-Injected: 1" }, { proxy = "http://p\0" }, { headers = { ["X-A"] = "a\0" } },
    }) do
      local ok, msg = pcall(purecloud.new, o)
      assert.is_false(ok)
      assert.matches("contains a %u+ byte", msg)
    end
  end)

  it("refuses path parameters that are not a non-empty string or integer", function()
    for _, v in ipairs({ 0 / 0, math.huge, -math.huge, 1.5, "", true }) do
      refused("path parameter 'userId'", function()
        c:request("GET", "/api/v2/users/{userId}", { path = { userId = v } })
      end)
    end
    refused("1048576 bytes long", function() c.users.get_user_id(("x"):rep(1024 * 1024)) end)
    refused("bytes long", function() c:request("GET", "/api/v2/users/{userId}", { path = { userId = ("x"):rep(5000) } }) end)
  end)

  it("refuses numbers that cannot be options", function()
    for _, bad in ipairs({ 0 / 0, math.huge, 2.5 }) do
      local v, err = c.users.get_users{ page_number = bad }
      assert.is_nil(v)
      assert.are.equal("validation", err.kind)
    end
    for _, o in ipairs({ { timeout = 0.0001 }, { timeout = 0 / 0 }, { connect_timeout = 0 },
                         { retry = { max_retries = 0 / 0 } }, { retry = { max_retry_time = math.huge } },
                         { retry = { max_retry_after = -1 } }, { max_connections = 0.5 } }) do
      assert.has_error(function() support.direct(o) end)
    end
    assert.are.equal(0, #emu.log())
  end)

  it("merges headers case-insensitively and never sends two of the library's own", function()
    local seen
    local base = support.direct()
    local spy = support.direct{ transport = function(req)
      seen = req.headers
      return base.io.transport(req)
    end }
    assert(spy:request("POST", "/api/v2/users/search",
      { body = { query = { { type = "EXACT", fields = { "email" }, value = u.email } } },
        headers = { ["content-type"] = "application/json; charset=utf-8", ["x-trace"] = "1" } }))
    local ctype = {}
    for k, v in pairs(seen) do if k:lower() == "content-type" then ctype[#ctype + 1] = v end end
    assert.are.same({ "application/json; charset=utf-8" }, ctype)
    emu.clear_log()
    for _, h in ipairs({ "Authorization", "authorization", "Content-Length", "Transfer-Encoding", "Host",
                         "Connection" }) do
      refused("cannot be set", function() spy:request("GET", "/api/v2/users", { headers = { [h] = "x" } }) end)
      assert.has_error(function() support.direct{ headers = { [h] = "x" } } end)
    end
    refused("not a valid HTTP token", function()
      spy:request("GET", "/api/v2/users", { headers = { ["Bad Name"] = "x" } })
    end)
    base:close()
    spy:close()
  end)

  it("refuses a method that is not HTTP's", function()
    refused("method must be one of", function() c:request("get", "/api/v2/users") end)
    refused("method must be one of", function() c:request("BREW", "/api/v2/users") end)
  end)
end)
