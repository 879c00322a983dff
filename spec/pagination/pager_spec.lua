-- Pagination iterators against the emulator: exact counts and order at the
-- edges, prefetch that keeps order, retries inside a page, and errors that
-- never look like the end of the list.
local emu = require "support.emulator"
local support = require "support.client"

local function collect(iter)
  local out = {}
  for item in iter do out[#out + 1] = item end
  return out
end

-- The emulator lists users sorted by name, then id.
local function assert_sorted_unique(list)
  local seen = {}
  for i, u in ipairs(list) do
    assert.is_nil(seen[u.id], "duplicate entity " .. u.id .. " at " .. i)
    seen[u.id] = true
    if i > 1 then
      local a, b = list[i - 1], u
      assert.is_true(a.name < b.name or (a.name == b.name and a.id < b.id),
        ("out of order at %d: %s / %s"):format(i, a.name, b.name))
    end
  end
end

describe("users.each_user", function()
  local client
  before_each(function() client = support.new() end)
  after_each(function() client:close() end)

  for _, n in ipairs({ 0, 1, 25, 26, 2503 }) do
    it(("yields exactly %d users in order (page_size 25, concurrency 4)"):format(n), function()
      emu.reset{ users = n }
      local list = collect(client.users.each_user{ page_size = 25, concurrency = 4 })
      assert.are.equal(n, #list)
      assert_sorted_unique(list)
      -- Same entities as one sequential walk.
      local seq = collect(client.users.each_user{ page_size = 25, concurrency = 1 })
      assert.are.equal(#seq, #list)
      for i = 1, #seq do assert.are.equal(seq[i].id, list[i].id) end
    end)
  end

  it("fetches pages in parallel but hands them out in order", function()
    emu.reset{ users = 300 }
    emu.config{ latency_ms = 100 }
    local start = client.io.now()
    local list = collect(client.users.each_user{ page_size = 25, concurrency = 6 })
    local elapsed = client.io.now() - start
    assert.are.equal(300, #list)
    assert_sorted_unique(list)
    -- 12 pages at 100 ms each would take >= 1.2 s one after the other.
    assert.is_true(elapsed < 1.0, "expected parallel prefetch, took " .. elapsed .. " s")
  end)

  it("retries a failing page and loses or repeats nothing", function()
    client = support.direct() -- injected 502s are outside the contract
    emu.reset{ users = 300 }  -- 12 pages of 25
    emu.fault{ method = "GET", path = "/api/v2/users", query = { pageNumber = "7" }, count = 2, status = 502 }
    emu.clear_log()
    local list = collect(client.users.each_user{ page_size = 25, concurrency = 4 })
    assert.are.equal(300, #list)
    assert_sorted_unique(list)
    local asked = {}
    for _, r in ipairs(emu.log()) do
      if r.method == "GET" and r.route == "/api/v2/users" then
        local p = tonumber(r.query:match("pageNumber=(%d+)"))
        asked[p] = (asked[p] or 0) + 1
      end
    end
    assert.are.equal(3, asked[7]) -- two 502s, then the success
    for p = 1, 12 do
      if p ~= 7 then assert.are.equal(1, asked[p], "page " .. p .. " fetched " .. tostring(asked[p]) .. " times") end
    end
  end)

  it("raises after yielding pages 1-6 when page 7 keeps failing", function()
    client = support.direct()
    emu.reset{ users = 300 }
    emu.fault{ method = "GET", path = "/api/v2/users", query = { pageNumber = "7" }, count = 1000, status = 500 }
    local seen = 0
    local ok, err = pcall(function()
      for _ in client.users.each_user{ page_size = 25, concurrency = 4 } do seen = seen + 1 end
    end)
    assert.is_false(ok)
    assert.are.equal(150, seen)
    assert.are.equal("api", err.kind)
    assert.are.equal(500, err.status)
  end)

  it("holds at most concurrency + 1 pages: the one handed out and those fetched ahead", function()
    emu.reset{ users = 400 }
    assert(client:token())
    emu.clear_log()
    local pager = client.users.user_pages{ page_size = 10, concurrency = 3 }
    local pages, most = 0, 0
    while true do
      local page = pager:next()
      if not page then break end
      pages = pages + 1
      -- What the emulator has been asked for so far, against what was handed out:
      -- the page in hand plus at most `concurrency` fetched (or in flight) ahead.
      local asked = 0
      for _, e in ipairs(emu.log()) do if e.path == "/api/v2/users" then asked = asked + 1 end end
      most = math.max(most, asked - pages + 1)
    end
    assert.are.equal(40, pages)
    assert.is_true(most <= 4, "held " .. most .. " pages")
    assert.is_true(most >= 3, "the window was not used: " .. most) -- pages really were fetched ahead
  end)

  it("page-wise form returns the error instead of raising", function()
    emu.reset{ users = 300 }
    emu.fault{ method = "GET", path = "/api/v2/users", query = { pageNumber = "3" }, count = 1000, status = 404 }
    local pager = client.users.user_pages{ page_size = 25 }
    assert.are.equal(1, assert(pager:next()).pageNumber)
    assert.are.equal(2, assert(pager:next()).pageNumber)
    local page, err = pager:next()
    assert.is_nil(page)
    assert.are.equal(404, err.status)
    assert.is_nil(pager:next())
  end)
end)

describe("sub-resource pagers", function()
  local client
  before_each(function() emu.reset{ users = 5 }; client = support.new() end)
  after_each(function() client:close() end)

  it("each_routingskill walks every skill of a user", function()
    local u = emu.users(1)[1]
    local direct = emu.api("GET", "/api/v2/users/" .. u.id .. "/routingskills", nil, { pageSize = "500" }).json
    local list = collect(client.users.each_routingskill(u.id, { page_size = 1 }))
    assert.are.equal(direct.total, #list)
    for i, s in ipairs(direct.entities) do assert.are.equal(s.id, list[i].id) end
  end)

  it("each_queue walks joined queues", function()
    local u = emu.users(1)[1]
    local direct = emu.api("GET", "/api/v2/users/" .. u.id .. "/queues", nil, { pageSize = "500" }).json
    local list = collect(client.users.each_queue(u.id, { page_size = 1 }))
    assert.are.equal(direct.total, #list)
  end)
end)

describe("users.each_search_result", function()
  it("follows nextPage across many pages", function()
    emu.reset{ users = 260 }
    local client = support.new()
    local body = { pageSize = 25, query = { { type = "CONTAINS", fields = { "email" }, value = "@" } } }
    local first = assert(client.users.post_search(body))
    local list = collect(client.users.each_search_result(body))
    assert.are.equal(first.total, #list)
    assert.is_true(#list > 200)
    local seen = {}
    for _, u in ipairs(list) do
      assert.is_nil(seen[u.id]); seen[u.id] = true
    end
    client:close()
  end)
end)

describe("without a multi-capable transport", function()
  it("falls back to sequential paging and batching, still complete and in order", function()
    emu.reset{ users = 60 }
    local base = support.direct()
    local sent = 0
    local client = support.direct{ transport = function(req)
      sent = sent + 1
      return base.io.transport(req)
    end }
    assert.is_nil(client.io_owner:multi())
    local list = collect(client.users.each_user{ page_size = 7, concurrency = 4 })
    assert.are.equal(60, #list)
    assert_sorted_unique(list)
    local results, failed = client:batch({ { "get_user_id", list[1].id }, { "get_user_id", "nope" } },
      { concurrency = 4 })
    assert.are.equal(1, failed)
    assert.are.equal(list[1].id, results[1].value.id)
    assert.are.equal(404, results[2].err.status)
    assert.is_true(sent >= 9 + 2) -- every page and call went through the host transport
    client:close()
    base:close()
  end)
end)
