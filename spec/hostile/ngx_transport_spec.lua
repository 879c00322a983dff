-- The nginx cosocket transport against a hostile HTTP server (issue 8 §5),
-- over real sockets: a real nginx (spec/embedding/nginx_harness.lua) whose
-- /hostile/raw/* locations write raw bytes, and whose /t/probe location runs
-- one transport call and reports what came back.
local harness = require "embedding.nginx_harness"

describe("nginx transport against a hostile server", function()
  local srv
  lazy_setup(function() srv = harness.start{ workers = 1 } end)
  lazy_teardown(function() if srv then srv.stop() end end)
  before_each(function() harness.get(srv.url, "/hostile/reset") end)

  local function probe(q)
    local status, r = harness.get(srv.url, "/t/probe", q)
    assert.are.equal(200, status, tostring(r))
    assert.is_table(r, tostring(r))
    return r
  end
  local function hits()
    local _, r = harness.get(srv.url, "/t/probe", { path = "/hostile/count" })
    return assert(require("cjson").decode(r.body))
  end

  it("refuses a header value with CR/LF or NUL and sends nothing", function()
    for v, byte in pairs({ ["a\r\nX-Injected: 1"] = "CR", ["a\nX-Injected: 1"] = "LF", ["a\0b"] = "NUL" }) do
      local r = probe{ path = "/hostile/count", hname = "User-Agent", hvalue = v }
      assert.is_false(r.ok)
      assert.are.equal("validation", r.kind)
      assert.is_false(r.sent)
      -- The one header rule's kind and reason, as the libcurl transport gives them.
      assert.are.equal("request refused: header User-Agent contains a " .. byte .. " byte at position 2", r.message)
    end
    local r = probe{ path = "/hostile/count", hname = "X-Bad Name", hvalue = "v" }
    assert.is_false(r.ok)
    -- Only the counting request itself arrived, with no injected header.
    assert.are.same({ count = 1, injected = 0 }, hits())
  end)

  it("a token or user_agent with CR/LF never injects a header through a client", function()
    for _, option in ipairs({ "user_agent", "access_token" }) do
      local _, r = harness.get(srv.url, "/t/client_probe", { option = option, value = "x\r\nX-Injected: 1" })
      assert.is_true(r.raised ~= nil or r.ok == false, option)
    end
    assert.are.same({ count = 1, injected = 0 }, hits())
  end)

  it("sends Host with a non-default port", function()
    local r = probe{ path = "/hostile/host" }
    assert.are.equal("127.0.0.1:" .. srv.port, r.body)
  end)

  it("refuses a Content-Length over the default 64 MiB cap before reading it", function()
    local r = probe{ path = "/hostile/raw/huge_length" }
    assert.is_false(r.ok)
    assert.is_true(r.oversize)
    assert.matches("max_body", r.message)
    assert.is_true(r.elapsed < 1.5, "took " .. r.elapsed .. " s: the body was read")
  end)

  it("stops a chunked or read-to-close body as soon as it passes max_body", function()
    for _, case in ipairs({ "huge_chunked", "huge_close" }) do
      local r = probe{ path = "/hostile/raw/" .. case, max_body = 1048576 }
      assert.is_false(r.ok, case)
      assert.is_true(r.oversize, case)
      assert.are.equal("transport", r.kind)
    end
    -- And a 200 MiB chunked body with the default cap ends at 64 MiB.
    local r = probe{ path = "/hostile/raw/huge_chunked", timeout = 30 }
    assert.is_true(r.oversize, r.message)
  end)

  it("ends a 1 byte per 100 ms body or head at the request's one deadline", function()
    for _, case in ipairs({ "trickle", "trickle_headers" }) do
      local r = probe{ path = "/hostile/raw/" .. case, timeout = 1 }
      assert.is_false(r.ok, case)
      assert.are.equal("timeout", r.kind, case .. ": " .. tostring(r.message))
      assert.is_true(r.sent)
      assert.are.equal("unknown", r.outcome)
      assert.is_true(r.elapsed >= 0.9 and r.elapsed < 3, case .. " took " .. r.elapsed .. " s")
    end
  end)

  it("ends an endless header stream and a huge header line", function()
    for _, case in ipairs({ "endless_headers", "long_header" }) do
      local r = probe{ path = "/hostile/raw/" .. case, timeout = 10 }
      assert.is_false(r.ok, case)
      assert.are.equal("transport", r.kind)
      assert.matches("header", r.message)
      assert.is_true(r.elapsed < 5, case .. " took " .. r.elapsed .. " s")
    end
  end)

  local function drop_hits()
    local _, r = harness.get(srv.url, "/hostile/hits")
    return r
  end

  for _, method in ipairs({ "POST", "PATCH" }) do
    it(method .. " on a reused connection that gets no response: sent, outcome unknown, never re-sent", function()
      local r = probe{ first = "/hostile/ok", path = "/hostile/drop", method = method, once = 1 }
      assert.is_nil(r.first_failed)
      assert.is_false(r.ok)
      assert.are.equal("transport", r.kind)
      assert.is_true(r.sent)
      assert.are.equal("unknown", r.outcome)
      assert.matches("check before repeating", r.message)
      assert.are.equal(1, drop_hits().drop) -- the server saw it exactly once
    end)
  end

  it("a POST on a fresh connection that gets no response is not re-sent either", function()
    local r = probe{ path = "/hostile/drop", method = "POST", once = 1 }
    assert.is_false(r.ok)
    assert.are.same({ true, "unknown" }, { r.sent, r.outcome })
    assert.are.equal(1, drop_hits().drop)
  end)

  it("a GET whose reused connection died before any response byte is re-sent once on a fresh one", function()
    local r = probe{ first = "/hostile/ok", path = "/hostile/dropfirst" }
    assert.is_true(r.ok, r.message)
    assert.are.equal(200, r.status)
    assert.are.equal(2, drop_hits().dropfirst)
    -- ...but only once: a GET that is always dropped fails after two tries.
    harness.get(srv.url, "/hostile/reset")
    r = probe{ first = "/hostile/ok", path = "/hostile/drop" }
    assert.is_false(r.ok)
    assert.are.equal(2, drop_hits().drop)
  end)
end)
