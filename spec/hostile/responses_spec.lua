-- Hostile responses (hardening §4): non-strict JSON, forged log lines, huge
-- and compressed bodies, and Retry-After values that must not poison the
-- client. Every case is served by the emulator's fault injection over HTTP.
local emu = require "support.emulator"
local support = require "support.client"

local function rss_kb()
  local f = io.open("/proc/self/status")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return tonumber(s:match("VmRSS:%s*(%d+)"))
end

describe("a hostile server #hostile", function()
  local c
  before_each(function()
    emu.reset{ users = 3 }
    c = support.direct{ retry = { max_retries = 3 } }
    assert(c:token())
  end)
  after_each(function() c:close() end)

  it("cannot pass NaN, Infinity or hex numbers as JSON", function()
    for _, body in ipairs({ '{"entities":[],"pageCount":NaN}', '{"total":Infinity}', '{"total":-Infinity}',
                            '{"total":0x10}', '{"total":1,}', "{'a':1}" }) do
      emu.fault{ method = "GET", path = "/api/v2/users", count = 1, status = 200, body = body }
      local v, err = c.users.get_users()
      assert.is_nil(v, body)
      assert.are.equal("decode", err.kind)
      assert.are.equal(200, err.status)
    end
  end)

  it("cannot forge log lines through code, message or context id", function()
    emu.fault{ method = "GET", path = "/api/v2/users", count = 1, status = 400,
      body = '{"code":"bad\\r\\nINFO forged","message":"line1\\nline2\\u0000\\u001b[31m","status":400,'
          .. '"contextId":"ctx\\ninjected"}' }
    local lines = {}
    local logged = support.direct{ log = { level = "debug", sink = function(_, m) lines[#lines + 1] = m end } }
    local _, err = logged.users.get_users()
    local text = tostring(err)
    assert.is_nil(text:find("[%c]"), text)
    assert.matches("bad\\r\\nINFO forged", text, 1, true)
    assert.matches("line1\\nline2\\x00\\x1b[31m", text, 1, true)
    for _, l in ipairs(lines) do assert.is_nil(l:find("[\r\n]"), l) end
    logged:close()
  end)

  it("does not retry a body over the cap, and does not keep its memory", function()
    local capped = support.direct{ max_body = 8 * 1024 * 1024 }
    assert(capped:token())
    emu.clear_log()
    emu.fault{ method = "GET", path = "/api/v2/users", count = 5, action = "large", size_mb = 20 }
    local v, err = capped.users.get_users()
    assert.is_nil(v)
    assert.are.equal("transport", err.kind)
    assert.are.equal("too_large", err.reason)
    local n = 0
    for _, e in ipairs(emu.log()) do if e.path == "/api/v2/users" then n = n + 1 end end
    assert.are.equal(1, n) -- one download, not one per retry
    capped:close()
  end)

  it("gives back a large response's buffer after use", function()
    emu.fault{ method = "GET", path = "/api/v2/users", count = 1, action = "large", size_mb = 40 }
    assert(c.users.get_users())
    collectgarbage()
    collectgarbage()
    local after_big = rss_kb()
    for _ = 1, 3 do assert(c.users.get_users()) end
    collectgarbage()
    collectgarbage()
    local later = rss_kb()
    if after_big and later then
      -- The 40 MB text and its decoded table are garbage now; the connection's
      -- buffer must not hold another 40 MB (it did: 187 MB after a 60 MB page).
      assert.is_true(later < 120 * 1024, ("RSS %d kB after the large page"):format(later))
    end
  end)

  it("reads Retry-After as delta-seconds only", function()
    for _, ra in ipairs({ "1e3", "0x10", "-1", "1.5", "soon", "Wed, 21 Oct 2015 07:28:00 GMT" }) do
      emu.fault{ method = "GET", path = "/api/v2/users", count = 1, status = 429, retry_after = ra }
      local t0 = c.io.now()
      assert(c.users.get_users()) -- treated as absent: a short backoff, then success
      assert.is_true(c.io.now() - t0 < 2, ra)
    end
  end)

  it("fails only the call whose Retry-After is too long, even with retries off", function()
    for _, retry in ipairs({ { max_retries = 3 }, false }) do
      local cl = support.direct{ retry = retry }
      assert(cl:token())
      emu.fault{ method = "GET", path = "/api/v2/users", count = 1, status = 429, retry_after = 100000 }
      local t0 = cl.io.now()
      local v, err = cl.users.get_users()
      assert.is_nil(v)
      assert.are.equal(429, err.status)
      assert(cl.users.get_users()) -- the next call goes at once
      assert(cl.users.get_user_id(emu.users(1)[1].id))
      assert.is_true(cl.io.now() - t0 < 1)
      cl:close()
    end
  end)

  it("cannot make the pager loop forever with a bogus pageCount", function()
    for _, body in ipairs({ '{"entities":[{"id":"a"}],"pageNumber":1,"pageCount":1e300,"total":1}',
                            '{"entities":[{"id":"a"}],"pageNumber":1,"pageCount":-3,"total":1}',
                            '{"entities":[{"id":"a"}],"pageNumber":1,"pageCount":"lots","total":1}' }) do
      emu.fault{ method = "GET", path = "/api/v2/users", count = 1000, status = 200, body = body }
      local n = 0
      local ok, err = pcall(function()
        for _ in c.users.each_user{ page_size = 1, concurrency = 1 } do
          n = n + 1
          if n > 20 then error("runaway pager") end
        end
      end)
      emu.clear_faults()
      -- Either the bogus page count is refused, or the listing ends after the page it holds.
      assert.is_true(n <= 1, body .. ": " .. n .. " users")
      if not ok then assert.is_nil(tostring(err):find("runaway", 1, true), body) end
    end
  end)
end)
