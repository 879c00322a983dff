-- Fault injection, rate limiting, latency, stats and the control script.
local emu = require "support.emulator"

local function now()
  return require("purecloud.core").now()
end

describe("emulator faults and admin", function()
  before_each(function() emu.reset{ users = 10 } end)
  after_each(function() emu.clear_faults() end)

  it("answers a status with Retry-After for the next K matching requests after skip", function()
    emu.fault{ method = "GET", path = "/api/v2/users", skip = 1, count = 2, status = 429, retry_after = 7 }
    local s = {}
    for i = 1, 4 do s[i] = emu.api("GET", "/api/v2/users") end
    assert.are.same({ 200, 429, 429, 200 }, { s[1].status, s[2].status, s[3].status, s[4].status })
    assert.are.equal("7", s[2].headers["retry-after"])
    assert.are.equal("too.many.requests.retry.after", s[2].json.code)
    assert.are.equal(2, emu.stats().faults_fired)
  end)

  it("matches query parameters and path patterns", function()
    emu.fault{ method = "GET", path = "/api/v2/users", query = { pageNumber = "2" }, count = 1, status = 503 }
    assert.are.equal(200, emu.api("GET", "/api/v2/users", nil, { pageNumber = 1 }).status)
    assert.are.equal(503, emu.api("GET", "/api/v2/users", nil, { pageNumber = 2 }).status)
    emu.fault{ method = "PUT", path = "/api/v2/users/[^/]+/routingstatus", count = 1, status = 502 }
    local u = emu.users(1)[1]
    assert.are.equal(502, emu.api("PUT", "/api/v2/users/" .. u.id .. "/routingstatus", { status = "IDLE" }).status)
  end)

  it("delays, closes mid-body, resets, truncates, sends malformed or large bodies", function()
    emu.fault{ path = "/api/v2/users", count = 1, delay_ms = 400 }
    local t0 = now()
    assert.are.equal(200, emu.api("GET", "/api/v2/users").status)
    assert.is_true(now() - t0 >= 0.35)
    emu.fault{ path = "/api/v2/users", count = 1, action = "malformed" }
    local m = emu.api("GET", "/api/v2/users")
    assert.are.equal(200, m.status)
    assert.is_nil(m.json)
    emu.fault{ path = "/api/v2/users", count = 1, action = "close" }
    local c = emu.api("GET", "/api/v2/users")
    assert.is_nil(c.json) -- partial body
    emu.fault{ path = "/api/v2/users", count = 1, action = "reset" }
    assert.are.equal(0, emu.api("GET", "/api/v2/users").status)
    emu.fault{ path = "/api/v2/users", count = 1, action = "large", size_mb = 2 }
    local l = emu.api("GET", "/api/v2/users")
    assert.is_true(#l.body > 2 * 1000 * 1000)
    assert.is_table(l.json)
    assert.are.equal(200, emu.api("GET", "/api/v2/users").status)
  end)

  it("rate-limits per client with 429 and Retry-After", function()
    emu.config{ rate_per_min = 3 }
    local statuses = {}
    for i = 1, 4 do statuses[i] = emu.api("GET", "/api/v2/users") end
    assert.are.equal(200, statuses[3].status)
    assert.are.equal(429, statuses[4].status)
    assert.is_true(tonumber(statuses[4].headers["retry-after"]) >= 1)
    assert.matches("Retry the request in %[%d+%] seconds", statuses[4].json.message)
    assert.are.equal(1, emu.stats().rate_limited)
  end)

  it("adds global latency without serialising requests", function()
    emu.config{ latency_ms = 300 }
    local t0 = now()
    assert.are.equal(200, emu.api("GET", "/api/v2/users").status)
    assert.is_true(now() - t0 >= 0.28)
  end)

  it("counts requests per route and keeps a log", function()
    emu.clear_log()
    local u = emu.users(1)[1]
    emu.api("GET", "/api/v2/users/" .. u.id)
    emu.api("GET", "/api/v2/users/nope")
    local s = emu.stats()
    assert.is_true(s.requests["GET /api/v2/users/{userId}"] >= 2)
    local log = emu.log()
    local last = log[#log]
    assert.are.same({ "GET", "/api/v2/users/nope", 404, "/api/v2/users/{userId}" },
      { last.method, last.path, last.status, last.route })
  end)
end)

describe("emulator/ctl", function()
  it("starts 100 000 users in under 10 s and stops cleanly", function()
    local t0 = now()
    local url = emu.start{ users = 100000 }
    local elapsed = now() - t0
    local ok, err = pcall(function()
      assert.matches("^http://127%.0%.0%.1:%d+$", url)
      local r = emu.request("GET", "/__emulator/health", { base = url })
      assert.are.equal(100000, r.json.users)
    end)
    emu.stop(url)
    assert(ok, err)
    assert.is_true(elapsed < 10, "start took " .. elapsed .. " s")
    assert.are.equal(0, emu.request("GET", "/__emulator/health", { base = url, max_time = 2 }).status)
  end)

  it("serves HTTPS with a throwaway CA when asked", function()
    local url, out = emu.start{ users = 3, tls = true }
    local ok, err = pcall(function()
      local https = out:match("https_url=(%S+)")
      local ca = out:match("ca_file=(%S+)")
      assert.is_string(https)
      local p = io.popen(("curl -s -o /dev/null -w '%%{http_code}' --cacert %s %s/__emulator/health"):format(ca, https))
      local code = p:read("a")
      p:close()
      assert.are.equal("200", code)
      p = io.popen(("curl -s -o /dev/null -w '%%{http_code}' %s/__emulator/health"):format(https))
      code = p:read("a")
      p:close()
      assert.are.equal("000", code) -- not trusted without the CA
      assert.matches("^http://", url)
    end)
    emu.stop(url)
    assert(ok, err)
  end)
end)
