-- Rate limits as the service sends them: by default today's budget (300
-- requests per 60 s per token), inin-ratelimit-count/-allowed/-reset on every
-- API response, and 429s with Retry-After and the service's ErrorBody. With
-- the budget off (--rate none, as the specs' emulators run, or rate = false)
-- the emulator is unlimited and sends no rate-limit headers.
local emu = require "support.emulator"
local shell = require "support.shell"

local function new_token()
  local r = emu.request("POST", "/oauth/token", { basic = { emu.client_id, emu.client_secret },
                                                 form = { grant_type = "client_credentials" } })
  assert.are.equal(200, r.status, r.body)
  return r.json.access_token
end

local function get(token, path)
  return emu.request("GET", path or "/api/v2/users", { bearer = token, query = { pageSize = 1 } })
end

local function sleep(s) os.execute("sleep " .. s) end

describe("emulator rate limits", function()
  before_each(function() emu.reset{ users = 5 } end)
  after_each(function() emu.clear_faults() end)

  it("sends inin-ratelimit-count/allowed/reset on every API response, counted per token", function()
    assert.is_nil(get(new_token()).headers["inin-ratelimit-allowed"]) -- no budget: unlimited, no headers
    emu.config{ rate = { allowed = 300, window_s = 60 } }
    local a, b = new_token(), new_token()
    local u = emu.users(1)[1]
    local seen = {}
    for i, path in ipairs({ "/api/v2/users", "/api/v2/users/" .. u.id, "/api/v2/users/nope" }) do
      local r = get(a, path)
      assert.are.equal(tostring(i), r.headers["inin-ratelimit-count"], path)
      assert.are.equal("300", r.headers["inin-ratelimit-allowed"]) -- the service's documented default
      local reset = tonumber(r.headers["inin-ratelimit-reset"])
      assert.is_true(reset >= 1 and reset <= 60 and reset % 1 == 0, tostring(reset))
      seen[#seen + 1] = r.status
    end
    assert.are.same({ 200, 200, 404 }, seen) -- errors carry them too
    local w = emu.request("PUT", "/api/v2/users/" .. u.id .. "/routingstatus", { bearer = a, body = { status = "IDLE" } })
    assert.are.equal("4", w.headers["inin-ratelimit-count"])
    assert.are.equal("1", get(b).headers["inin-ratelimit-count"]) -- another token, another budget
    assert.is_nil(emu.request("GET", "/__emulator/health").headers["inin-ratelimit-count"])
  end)

  it("enforces a budget set at run time, per token, with 429, Retry-After and the service's ErrorBody", function()
    local cfg = emu.config{ rate = { allowed = 4, window_s = 2 } }
    assert.are.same({ 4, 2 }, { cfg.rate_allowed, cfg.rate_window_s })
    local a, b = new_token(), new_token()
    for i = 1, 4 do
      local r = get(a)
      assert.are.equal(200, r.status)
      assert.are.same({ tostring(i), "4" }, { r.headers["inin-ratelimit-count"], r.headers["inin-ratelimit-allowed"] })
    end
    local r = get(a)
    assert.are.equal(429, r.status)
    local wait = tonumber(r.headers["retry-after"])
    assert.is_true(wait and wait % 1 == 0 and wait >= 1 and wait <= 2, r.headers["retry-after"])
    assert.are.same({ 429, "too.many.requests" }, { r.json.status, r.json.code })
    assert.are.equal("Rate limit exceeded the maximum. Retry the request in [" .. wait .. "] seconds", r.json.message)
    assert.are.equal(r.headers["inin-correlation-id"], r.json.contextId)
    assert.are.same({ "4", "4" }, { r.headers["inin-ratelimit-count"], r.headers["inin-ratelimit-allowed"] })
    assert.are.equal(200, get(b).status) -- the other token still has its budget
    assert.are.equal(1, emu.stats().rate_limited)
    sleep(wait + 0.2)
    local again = get(a)
    assert.are.equal(200, again.status)
    assert.are.equal("1", again.headers["inin-ratelimit-count"])
    -- Writes count against the same budget, and a refused write is not applied.
    emu.config{ rate = { allowed = 1, window_s = 60 } }
    local c = new_token()
    assert.are.equal(200, get(c).status)
    local w = emu.request("POST", "/api/v2/users", { bearer = c, body = { name = "N", email = "n@example.com", password = "p" } })
    assert.are.equal(429, w.status)
    assert.is_true(tonumber(w.headers["retry-after"]) >= 1)
    assert.are.equal(0, emu.stats().users_created)
    -- rate = false turns the budget off: unlimited again, no headers.
    emu.config{ rate = false }
    local off = get(c)
    assert.are.equal(200, off.status)
    assert.is_nil(off.headers["inin-ratelimit-allowed"])
  end)

  it("refuses a malformed rate config without changing anything", function()
    emu.config{ rate = { allowed = 300, window_s = 60 } }
    for _, bad in ipairs({ { rate = "fast" }, { rate = { allowed = -1 } }, { rate = { allowed = 2.5 } },
                           { rate = { allowed = 3, window_s = 0 } }, { rate = { window_s = 2 } } }) do
      local r = emu.request("POST", "/__emulator/config", { body = bad })
      assert.are.equal(400, r.status, r.body)
    end
    assert.are.equal("300", get(new_token()).headers["inin-ratelimit-allowed"])
  end)

  it("sends Retry-After on an injected 429 without retry_after, matching its message", function()
    emu.fault{ method = "GET", path = "/api/v2/users", count = 1, status = 429 }
    local r = emu.api("GET", "/api/v2/users")
    assert.are.equal(429, r.status)
    local wait = r.headers["retry-after"]
    assert.are.equal("1", wait)
    assert.are.equal("Rate limit exceeded the maximum. Retry the request in [" .. wait .. "] seconds", r.json.message)
  end)

  it("emulator/ctl start without --rate: today's 300 requests per 60 s; --rate none: unlimited, no headers", function()
    local code, out = shell.run("emulator/ctl start --port 0 --users 3")
    assert.are.equal(0, code, out)
    local url = out:match("(http://[^\n]+)\n?$")
    local none_url
    local ok, err = pcall(function()
      local t = emu.request("POST", "/oauth/token", { base = url, basic = { emu.client_id, emu.client_secret },
                                                     form = { grant_type = "client_credentials" } }).json.access_token
      for i = 1, 2 do
        local r = emu.request("GET", "/api/v2/users", { base = url, bearer = t })
        assert.are.equal(200, r.status)
        assert.are.same({ tostring(i), "300" }, { r.headers["inin-ratelimit-count"], r.headers["inin-ratelimit-allowed"] })
        local reset = tonumber(r.headers["inin-ratelimit-reset"])
        assert.is_true(reset >= 59 and reset <= 60, tostring(reset))
      end
      none_url = emu.start{ users = 3 } -- support.emulator starts it with --rate none
      local t2 = emu.request("POST", "/oauth/token", { base = none_url, basic = { emu.client_id, emu.client_secret },
                                                      form = { grant_type = "client_credentials" } }).json.access_token
      local r = emu.request("GET", "/api/v2/users", { base = none_url, bearer = t2 })
      assert.are.equal(200, r.status)
      assert.is_nil(r.headers["inin-ratelimit-allowed"])
    end)
    shell.run("emulator/ctl stop --url " .. url)
    emu.stop(none_url)
    assert(ok, err)
  end)

  it("enforces emulator/ctl start --rate N/min", function()
    local url = emu.start{ users = 3, rate = "3/min" }
    local ok, err = pcall(function()
      local t = emu.request("POST", "/oauth/token", { base = url, basic = { emu.client_id, emu.client_secret },
                                                     form = { grant_type = "client_credentials" } }).json.access_token
      local s = {}
      for i = 1, 4 do s[i] = emu.request("GET", "/api/v2/users", { base = url, bearer = t }) end
      assert.are.same({ 200, 200, 200, 429 }, { s[1].status, s[2].status, s[3].status, s[4].status })
      assert.are.same({ "3", "3" }, { s[3].headers["inin-ratelimit-count"], s[3].headers["inin-ratelimit-allowed"] })
      local wait = tonumber(s[4].headers["retry-after"])
      assert.is_true(wait >= 1 and wait <= 60)
      -- reset restores the start-up budget after a run-time change
      emu.request("POST", "/__emulator/config", { base = url, body = { rate = { allowed = 50, window_s = 1 } } })
      emu.request("POST", "/__emulator/reset", { base = url, body = {} })
      assert.are.equal("3", emu.request("GET", "/api/v2/users", { base = url, bearer = t }).headers["inin-ratelimit-allowed"])
    end)
    emu.stop(url)
    assert(ok, err)
  end)
end)
