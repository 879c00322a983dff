-- The transport keeps a transfer's header list between requests while the
-- header lines stay the same (the lean call path): a change of any header —
-- a renewed token, a per-call header — must still be sent as given, on the
-- blocking handle and on the multi pool's reused transfers.
local emu = require "support.emulator"

describe("purecloud.transport.curl header lists", function()
  local h, token, url
  before_each(function()
    emu.reset{ users = 5 }
    h = require("purecloud.transport.curl").new{}
    token = emu.token(true)
    url = emu.url .. "/api/v2/users/" .. emu.users(1)[1].id
  end)
  after_each(function() h:close() end)

  local function req(bearer, extra)
    local headers = { Authorization = "Bearer " .. bearer, Accept = "application/json" }
    for k, v in pairs(extra or {}) do headers[k] = v end
    return { method = "GET", url = url, headers = headers }
  end

  it("sends the current Authorization on every perform, also when it changes back and forth", function()
    local statuses = {}
    for _, bearer in ipairs({ token, token, "not-a-token", "not-a-token", token, "x" .. token, token }) do
      statuses[#statuses + 1] = assert(h:perform(req(bearer))).status
    end
    assert.are.same({ 200, 200, 401, 401, 200, 401, 200 }, statuses)
  end)

  it("sends a header added or removed between calls", function()
    assert.are.equal(200, assert(h:perform(req(token, { ["X-Trace"] = "1" }))).status)
    assert.are.equal(401, assert(h:perform(req("bad", { ["X-Trace"] = "1" }))).status)
    assert.are.equal(200, assert(h:perform(req(token))).status)
    assert.are.equal(401, assert(h:perform(req("bad"))).status)
  end)

  it("sends each submitted request's own headers over the multi pool", function()
    local want = {}
    for round = 1, 3 do
      for i = 1, 4 do
        local good = (i + round) % 2 == 0
        want[h:submit(req(good and token or "bad"))] = good and 200 or 401
      end
      local got = 0
      while h:pending() > 0 do
        for _, done in ipairs(h:poll(1)) do
          assert.are.equal(want[done.id], assert(done.res, done.err and tostring(done.err)).status)
          got = got + 1
        end
      end
      assert.are.equal(4, got)
    end
  end)
end)
