-- Batches and pagers compose over libcurl multi against the emulator: a
-- batch inside a prefetching pager, a pager inside on_result, a pager and a
-- batch inside a batch's calls; the bounds of each are honoured, and one
-- refused call never takes the others down.
local emu = require "support.emulator"
local support = require "support.client"

describe("batches and pagers nest (one scheduler per client)", function()
  local client
  before_each(function()
    client = support.new()
    emu.reset{ users = 120 }
    emu.config{ latency_ms = 20, rate_per_min = 1000000 }
  end)
  after_each(function()
    client:close()
    emu.config{ latency_ms = 0 }
  end)

  it("runs a batch inside a prefetching pager, concurrency 4 each: every page and call, in order", function()
    local seen, pages = 0, 0
    for page in client.users.user_pages{ page_size = 20, concurrency = 4 } do
      pages = pages + 1
      assert.are.equal(pages, page.pageNumber)
      local calls = {}
      for i, u in ipairs(page.entities) do calls[i] = { "get_user_id", u.id } end
      local results, failed = client:batch(calls, { concurrency = 4 })
      assert.are.equal(0, failed)
      assert.are.equal(#calls, #results)
      for i, r in ipairs(results) do assert.are.equal(page.entities[i].id, r.value.id) end
      seen = seen + #results
    end
    assert.are.equal(6, pages)
    assert.are.equal(120, seen)
    -- Rule: each group bounds what it starts; the pager (4 prefetches) and
    -- the batch its consumer runs (4) are in flight together: at most 8.
    local peak = emu.stats().max_in_flight
    assert.is_true(peak <= 8, "peak in flight " .. peak)
    assert.is_true(peak >= 4, "peak in flight " .. peak)
  end)

  it("runs a pager inside on_result at concurrency 4", function()
    local ids = {}
    for i, u in ipairs(emu.users(6)) do ids[i] = u.id end
    local calls = {}
    for i, id in ipairs(ids) do calls[i] = { "get_user_id", id } end
    local listed = {}
    local results, failed = client:batch(calls, { concurrency = 4, on_result = function(i, entry)
      assert.is_true(entry.ok)
      local n = 0
      for _ in client.users.each_user{ page_size = 25, concurrency = 4 } do n = n + 1 end
      listed[i] = n
    end })
    assert.are.equal(0, failed)
    assert.are.equal(6, #results)
    for i = 1, 6 do assert.are.equal(120, listed[i]) end
  end)

  it("runs a pager and a batch inside a batch's calls; in flight at most the product of the bounds", function()
    local calls = {}
    for c = 1, 4 do
      calls[c] = function()
        local n = 0
        if _VERSION == "Lua 5.1" and not jit then -- luacheck: ignore 113
          -- (PUC 5.1 cannot yield from a generic for's iterator: pager:next() in a loop)
          local pages = client.users.user_pages{ page_size = 10, concurrency = 4 }
          local page = pages:next()
          while page do n = n + #page.entities; page = pages:next() end
        else
          for _ in client.users.each_user{ page_size = 10, concurrency = 4 } do n = n + 1 end
        end
        local page = assert(client.users.get_users{ page_size = 8, page_number = c })
        local inner = {}
        for i, u in ipairs(page.entities) do inner[i] = { "get_user_id", u.id } end
        local r, f = client:batch(inner, { concurrency = 4 })
        assert(f == 0 and #r == 8)
        return n
      end
    end
    local results, failed = client:batch(calls, { concurrency = 4 })
    assert.are.equal(0, failed, tostring(results[1].err))
    for c = 1, 4 do assert.are.equal(120, results[c].value) end
    local peak = emu.stats().max_in_flight
    assert.is_true(peak <= 16, "peak in flight " .. peak)
    assert.is_true(peak > 4, "nested work ran in parallel: peak " .. peak)
  end)

  it("keeps one result per call when a token store hands out a token the transport refuses", function()
    local bad = support.new{ token_store = {
      get = function() return "t0\r\nX-Evil: 1", 3600 end,
      set = function() end, delete = function() end,
    } }
    local calls = {}
    for i, u in ipairs(emu.users(5)) do calls[i] = { "get_user_id", u.id } end
    local results, failed = bad:batch(calls, { concurrency = 4 })
    assert.are.equal(5, #results)
    assert.are.equal(5, failed)
    for _, r in ipairs(results) do
      assert.is_false(r.ok)
      assert.are.equal("failed", r.outcome)
      assert.is_truthy(r.err.kind)
    end
    local page, err = bad.users.user_pages{ page_size = 10, concurrency = 4 }:next()
    assert.is_nil(page)
    assert.is_truthy(err.kind)
    bad:close()
  end)

  it("refuses a typo in its options with the nearest known name, and sends nothing", function()
    emu.clear_log()
    local calls = { { "get_users" } }
    assert.has_error(function() client:batch(calls, { jurnal = "x.jsonl" }) end,
      "purecloud: client:batch: unknown option 'jurnal' (did you mean 'journal'?)")
    assert.has_error(function() client:batch(calls, { concurency = 8 }) end,
      "purecloud: client:batch: unknown option 'concurency' (did you mean 'concurrency'?)")
    assert.has_error(function() client.users.user_pages{ concurency = 8 } end,
      "purecloud: users.user_pages: unknown option 'concurency' (did you mean 'concurrency'?)")
    assert.has_error(function() client.users.each_user{ concurrancy = 8 } end,
      "purecloud: users.each_user: unknown option 'concurrancy' (did you mean 'concurrency'?)")
    assert.are.equal(0, #emu.log())
  end)
end)

describe("every option table refuses a typo with the nearest known name #hermetic", function()
  local purecloud = require "purecloud"
  local function message_of(f)
    local ok, err = pcall(f)
    assert.is_false(ok)
    return tostring(err)
  end
  it("purecloud.new, its retry and log tables, client:request's args", function()
    assert.matches("unknown option 'client_secert' %(did you mean 'client_secret'%?%)",
      message_of(function() purecloud.new{ client_id = "a", client_secert = "b" } end))
    assert.matches("unknown retry option 'max_retrys' %(did you mean 'max_retries'%?%)",
      message_of(function() purecloud.new{ retry = { max_retrys = 1 } } end))
    assert.matches("unknown field \"levle\" %(did you mean 'level'%?%)",
      message_of(function() purecloud.new{ log = { levle = "info" } } end))
    local c = purecloud.new{ access_token = "t", base_url = "http://127.0.0.1:9", transport = function()
      error("nothing may be sent") end }
    assert.matches("client:request: unknown option 'heders' %(did you mean 'headers'%?%)",
      message_of(function() c:request("GET", "/api/v2/users", { heders = {} }) end))
    assert.matches("unknown option 'bogus'$", message_of(function() purecloud.new{ bogus = 1 } end))
    -- An oversized environment or URL is refused at new, without being quoted.
    local m = message_of(function() purecloud.new{ environment = ("a"):rep(100000) } end)
    assert.matches("'environment' is 100000 bytes long", m)
    assert.is_true(#m < 200)
    assert.matches("'base_url' is %d+ bytes long",
      message_of(function() purecloud.new{ base_url = "http://h/" .. ("a"):rep(20000) } end))
  end)

  it("purecloud.new and the Redis store name a wrong type and a typo alike, at the caller's line", function()
    local redis = require "purecloud.store.redis"
    assert.matches("^[^:]+:%d+: purecloud: option 'timeout' must be a number, got string$",
      message_of(function() local c = purecloud.new{ timeout = "5" } return c end))
    assert.matches("^[^:]+:%d+: purecloud.store.redis: option 'port' must be a number, got string$",
      message_of(function() local s = redis.new{ port = "6379" } return s end))
    assert.matches("^[^:]+:%d+: purecloud.store.redis: unknown option 'pasword' %(did you mean 'password'%?%)$",
      message_of(function() local s = redis.new{ pasword = "x" } return s end))
    local m = message_of(function() local s = redis.new{ port = 0 } return s end)
    assert.matches("compose_spec%.lua:%d+: purecloud.store.redis: option 'port' must be an integer", m)
  end)
end)
