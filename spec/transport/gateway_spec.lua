-- A gateway: an nginx that serves the API under /pc/api/ and the login
-- under /pc/login/ (each proxied to the emulator's root), anything else 404.
-- The client's base_url and login_url carry the prefixes; the links the
-- service returns (nextUri, selfUri: relative to its API host) are resolved
-- against them, and the proxy's access log shows no request outside them.
local emu = require "support.emulator"
local tls = require "support.tls_nginx"
local purecloud = require "purecloud"
local pager = require "purecloud.pager"
local request = require "purecloud.request"

describe("a gateway with a path prefix", function()
  local server, gw

  lazy_setup(function()
    emu.reset{ users = 60 }
    server = tls.start(([[
    listen 127.0.0.1:@PORT@;
    location /pc/api/ { proxy_pass %s/; }
    location /pc/login/ { proxy_pass %s/; }
    location / { return 404; }
]]):format(emu.url, emu.url))
    gw = "http://127.0.0.1:" .. server.port
  end)
  lazy_teardown(function() if server then server.stop() end end)

  local function client()
    return purecloud.new{ base_url = gw .. "/pc/api", login_url = gw .. "/pc/login",
                          client_id = emu.client_id, client_secret = emu.client_secret }
  end

  local function settled()
    local before = -1
    local log = server.access()
    -- (nginx writes a line after its response: wait until none is added)
    for _ = 1, 20 do
      if #log == before then break end
      before = #log
      require("purecloud.core").sleep(0.05)
      log = server.access()
    end
    return log
  end

  it("resolves the service's links against the prefix, and refuses other hosts", function()
    local cfg = { base_url = "https://gw.example/pc/api" }
    assert.are.equal("https://gw.example/pc/api/api/v2/users?pageNumber=2",
      request.resolve(cfg, "/api/v2/users?pageNumber=2"))
    assert.are.equal("https://gw.example/pc/api/api/v2/users?pageNumber=2",
      request.resolve(cfg, "https://gw.example/api/v2/users?pageNumber=2"))
    assert.are.equal("https://gw.example/pc/api/api/v2/users/x", request.resolve(cfg, "/pc/api/api/v2/users/x"))
    assert.are.equal("https://api.mypurecloud.com/api/v2/users",
      request.resolve({ base_url = "https://api.mypurecloud.com" }, "/api/v2/users"))
    -- A base whose prefix is /api itself: the service's /api/v2 links still go under it.
    assert.are.equal("https://gw.example/api/api/v2/users", request.resolve({ base_url = "https://gw.example/api" },
      "/api/v2/users"))
    local url, why = request.resolve(cfg, "https://evil.example/api/v2/users")
    assert.is_nil(url)
    assert.matches("outside the client's API", why, 1, true)
    assert.is_nil((request.resolve(cfg, "//evil.example/api/v2/users")))
    assert.is_nil((request.resolve(cfg, "/api/v2/users\r\nX: 1")))
  end)

  it("grants the token, calls, and pages every way through the prefix; nothing escapes it", function()
    local c = client()
    -- a call (its token grant first, at /pc/login/oauth/token)
    local first = assert(c:request("GET", "/api/v2/users", { query = { pageSize = 7 } }))
    assert.are.equal(7, #first.entities)
    assert.matches("^/api/v2/users%?", first.nextUri)
    -- a page's links, followed
    local second = assert(c:follow(first.nextUri))
    assert.are.equal(2, second.pageNumber)
    assert.are.equal(first.entities[1].id, assert(c:follow(first.entities[1].selfUri)).id)
    -- every page by nextUri
    local seen, pages = {}, 0
    local p = pager.links(c, "/api/v2/users?pageSize=7")
    for page in p do
      pages = pages + 1
      for _, u in ipairs(page.entities) do
        assert.is_nil(seen[u.id]); seen[u.id] = true
      end
    end
    assert.are.equal(9, pages) -- 60 users, 7 a page
    local n = 0
    for _ in pairs(seen) do n = n + 1 end
    assert.are.equal(60, n)
    -- the numbered, the next_page and the cursor pagers
    local count = 0
    for _ in c.users.each_user{ page_size = 10, concurrency = 3 } do count = count + 1 end
    assert.are.equal(60, count)
    count = 0
    local body = { pageSize = 25, query = { { type = "CONTAINS", fields = { "email" }, value = "@" } } }
    for _ in c.users.each_search_result(body) do count = count + 1 end
    assert.are.equal(60, count)
    count = 0
    for _ in c.users.each_user_by_cursor{ page_size = 25 } do count = count + 1 end
    assert.are.equal(60, count)
    -- a link to another host is refused and not sent
    local v, err = c:follow("http://127.0.0.1:1/api/v2/users")
    assert.is_nil(v)
    assert.are.same({ "validation", "not_sent" }, { err.kind, err.outcome })
    c:close()

    local log = settled()
    local token, api = 0, 0
    for _, e in ipairs(log) do
      assert.matches("^/pc/(%a+)/", e.uri)
      assert.are_not.equal(404, e.status, e.uri)
      if e.uri:find("^/pc/login/oauth/token") then token = token + 1 end
      if e.uri:find("^/pc/api/api/v2/") then api = api + 1 end
    end
    assert.are.equal(1, token)
    assert.is_true(api >= 9 + 2 + 1 + 6 + 3 + 3)
  end)
end)
