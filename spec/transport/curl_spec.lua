-- The libcurl transport on its own: compression, keep-alive, refusals,
-- failures before sending, and the multi interface.
local emu = require "support.emulator"
local core = require "purecloud.core"

describe("purecloud.transport.curl", function()
  local h, token
  before_each(function()
    emu.reset{ users = 300 }
    h = require("purecloud.transport.curl").new{}
    token = emu.token(true)
  end)
  after_each(function() h:close() end)

  local function get(path)
    return h:perform{ method = "GET", url = emu.url .. path, headers = { Authorization = "Bearer " .. token } }
  end

  it("asks for compression and hands back the decoded body", function()
    local res = assert(get("/api/v2/users?pageSize=200"))
    assert.are.equal(200, res.status)
    assert.are.equal("gzip", res.headers["content-encoding"])
    assert.are.equal(200, #assert(core.interpret(res)).entities)
  end)

  it("asks for gzip only (what the service compresses with)", function()
    emu.clear_log()
    assert(get("/api/v2/users?pageSize=2"))
    local log = emu.log()
    assert.are.equal("gzip", log[#log].accept_encoding)
  end)

  it("sends a caller's own Accept-Encoding instead of gzip, never both", function()
    emu.clear_log()
    local res = assert(h:perform{ method = "GET", url = emu.url .. "/api/v2/users?pageSize=200",
      headers = { Authorization = "Bearer " .. token, ["accept-encoding"] = "identity" } })
    assert.are.equal(200, res.status)
    local log = emu.log()
    assert.are.equal("identity", log[#log].accept_encoding)
    assert.is_nil(res.headers["content-encoding"])
  end)

  it("keeps the final response's header block and builds res.headers at its first use", function()
    local res = assert(get("/api/v2/users?pageSize=2"))
    assert.is_nil(rawget(res, "headers"))
    assert.matches("^HTTP/1%.1 200 [^\r\n]*\r\n", res.head)
    assert.are.equal("application/json", res.headers["content-type"]:match("^[^;]+"))
    assert.are.equal(res.headers, rawget(res, "headers"))
    assert.are.equal(res.headers["inin-correlation-id"], res.context_id)
    assert.are.equal(res.context_id, (core.header(res, "inin-correlation-id")))
  end)

  it("sends methods, bodies and headers as given, and an empty body with Content-Length 0", function()
    local u = emu.users(1)[1]
    local res = assert(h:perform{ method = "PUT", url = emu.url .. "/api/v2/users/" .. u.id .. "/routingstatus",
      headers = { Authorization = "Bearer " .. token, ["Content-Type"] = "application/json" },
      body = '{"status":"IDLE"}' })
    assert.are.equal("IDLE", core.interpret(res).status)
    res = assert(h:perform{ method = "DELETE", url = emu.url .. "/api/v2/users/" .. u.id .. "/station/defaultstation",
      headers = { Authorization = "Bearer " .. token } })
    assert.are.same({ 202, "" }, { res.status, res.body })
  end)

  it("refuses header values with CR or LF without sending anything", function()
    emu.clear_log()
    local res, err = h:perform{ method = "GET", url = emu.url .. "/api/v2/users",
      headers = { Authorization = "Bearer " .. token, ["X-Evil"] = "a\r\nX-Injected: 1" } }
    assert.is_nil(res)
    assert.are.same({ "validation", false }, { err.kind, err.sent })
    -- The one header rule's reason (csrc/text.h), as the cosocket transport gives it.
    assert.are.equal("request refused: header X-Evil contains a CR byte at position 2", err.message)
    -- The framing headers libcurl would otherwise send as given (a Content-Length
    -- that is not the body's, a second Host) are refused too, on both paths.
    for _, hd in ipairs({ "Host", "content-length", "Transfer-Encoding", "Connection", "Expect" }) do
      local req = { method = "POST", url = emu.url .. "/api/v2/users/search", body = "{}",
                    headers = { Authorization = "Bearer " .. token, [hd] = "5" } }
      res, err = h:perform(req)
      assert.is_nil(res)
      assert.are.equal(1, err.message:find("request refused: header " .. hd .. " cannot be set", 1, true))
      res, err = h:submit(req)
      assert.is_nil(res)
      assert.are.same({ "validation", false }, { err.kind, err.sent })
    end
    assert.are.equal(0, h:pending())
    assert.are.equal(0, #emu.log())
  end)

  it("says sent = false when nothing could be sent", function()
    local res, err = h:perform{ method = "POST", url = "http://127.0.0.1:9/x", body = "{}", connect_timeout = 2 }
    assert.is_nil(res)
    assert.are.same({ "transport", false }, { err.kind, err.sent })
    assert.is_number(err.curl_code)
  end)

  it("runs many transfers at once over the multi interface, each answer to its id", function()
    emu.config{ latency_ms = 200 }
    local users = emu.users(30)
    local want = {}
    local t0 = core.now()
    for _, u in ipairs(users) do
      local id = h:submit{ method = "GET", url = emu.url .. "/api/v2/users/" .. u.id,
                           headers = { Authorization = "Bearer " .. token } }
      want[id] = u.id
    end
    local got = 0
    while h:pending() > 0 do
      for _, done in ipairs(h:poll(1)) do
        got = got + 1
        assert.are.equal(want[done.id], core.interpret(done.res).id)
      end
    end
    assert.are.equal(30, got)
    assert.is_true(core.now() - t0 < 30 * 0.2 / 3, "transfers did not overlap")
  end)

  it("closes idempotently, also with transfers pending, and refuses use after close", function()
    h:submit{ method = "GET", url = emu.url .. "/api/v2/users", headers = { Authorization = "Bearer " .. token } }
    h:close()
    h:close()
    assert.has_error(function() h:pending() end, "purecloud: transport is closed")
  end)

  it("with req.decode, hands back a 2xx JSON body decoded (res.value) and everything else as text", function()
    local u = emu.users(1)[1]
    local auth = { Authorization = "Bearer " .. token }
    local res = assert(h:perform{ method = "GET", url = emu.url .. "/api/v2/users/" .. u.id, headers = auth,
      decode = true })
    assert.are.equal(200, res.status)
    assert.is_nil(res.body)
    assert.are.equal(u.id, res.value.id)
    assert.are.equal(res.value, core.interpret(res)) -- the same table, not decoded again
    -- Not asked: text.
    res = assert(h:perform{ method = "GET", url = emu.url .. "/api/v2/users/" .. u.id, headers = auth })
    assert.is_nil(res.value)
    assert.are.equal(u.id, core.interpret(res).id)
    -- An error status keeps its body as text (the error object is built from it).
    res = assert(h:perform{ method = "GET", url = emu.url .. "/api/v2/users/nobody", headers = auth,
      decode = true })
    assert.are.equal(404, res.status)
    assert.is_nil(res.value)
    assert.matches('"code"', res.body)
    -- A blank 2xx body is plain success.
    res = assert(h:perform{ method = "DELETE", url = emu.url .. "/api/v2/users/" .. u.id
      .. "/station/defaultstation", headers = auth, decode = true })
    assert.are.same({ 202, "", nil }, { res.status, res.body, res.value })
    assert.is_true(core.interpret(res))
    -- Invalid JSON on a 200 stays text, and interpret reports it with the body.
    emu.fault{ method = "GET", path = "/api/v2/users/" .. u.id:gsub("%p", "%%%0"), action = "malformed", count = 1 }
    res = assert(h:perform{ method = "GET", url = emu.url .. "/api/v2/users/" .. u.id, headers = auth,
      decode = true })
    assert.are.equal(200, res.status)
    assert.is_nil(res.value)
    local value, err = core.interpret(res)
    assert.is_nil(value)
    assert.are.equal("decode", err.kind)
    assert.are.equal(res.body, err.body)
  end)

  it("never lets a method, body or fresh-connect flag of one request reach the next GET", function()
    local u = emu.users(1)[1]
    local auth = { Authorization = "Bearer " .. token, ["Content-Type"] = "application/json" }
    local user_url = emu.url .. "/api/v2/users/" .. u.id
    emu.clear_log()
    local steps = {
      { method = "GET", url = user_url },
      { method = "GET", url = user_url },
      { method = "PUT", url = user_url .. "/routingstatus", body = '{"status":"IDLE"}' },
      { method = "GET", url = user_url },
      { method = "POST", url = emu.url .. "/api/v2/users/search", body = '{"query":[]}', safe = false },
      { method = "GET", url = user_url },
      { method = "HEAD", url = user_url },
      { method = "GET", url = user_url },
      { method = "DELETE", url = user_url .. "/station/defaultstation" },
      { method = "GET", url = user_url },
    }
    for _, s in ipairs(steps) do
      s.headers = auth
      local res = assert(h:perform(s))
      assert.is_true(res.status < 500, s.method .. " " .. res.status)
      if s.method == "GET" then assert.are.equal(u.id, core.interpret(res).id) end
    end
    local log = emu.log()
    assert.are.equal(#steps, #log)
    for i, s in ipairs(steps) do
      assert.are.equal(s.method, log[i].method, "request " .. i)
      assert.are.equal(s.url:sub(#emu.url + 1), log[i].path, "request " .. i)
    end
  end)

  it("rejects malformed requests as argument errors", function()
    assert.has_error(function() h:perform{ url = emu.url } end)
    assert.has_error(function() h:perform{ method = "FETCH", url = emu.url } end)
    assert.has_error(function() h:perform{ method = "GET", url = emu.url, body = 5 } end)
  end)

  -- libcurl 7.88 (Debian 12) kept a pointer to the previous response's last
  -- header in a reused easy handle after freeing it (curl#11101): a response
  -- whose first field line starts with a space and holds a colon made it
  -- unfold into freed memory. Under ASan (tools/asan-specs) the old code
  -- fails here with heap-use-after-free; without ASan it corrupted the heap.
  it("survives a folded first header line after earlier transfers, on both paths", function()
    local raw = "HTTP/1.1 200 OK\r\n X-Fold: a\r\nContent-Length: 2\r\n\r\n{}"
    local url = emu.url .. "/api/v2/users/fold"
    for round = 1, 3 do
      assert(get("/api/v2/users?pageSize=5"))
      emu.fault{ method = "GET", path = "/api/v2/users/fold", action = "raw", raw = raw }
      local res, err = h:perform{ method = "GET", url = url, headers = { Authorization = "Bearer " .. token } }
      assert.is_true(res ~= nil or err ~= nil, "round " .. round)
      assert.are.equal(200, assert(get("/api/v2/users?pageSize=5")).status)
      -- The multi path reuses its easy handles too.
      emu.fault{ method = "GET", path = "/api/v2/users/fold", action = "raw", raw = raw }
      for i = 1, 3 do
        h:submit{ method = "GET", url = i == 2 and url or (emu.url .. "/api/v2/users?pageSize=5"),
                           headers = { Authorization = "Bearer " .. token } }
      end
      local done = 0
      for _ = 1, 200 do
        done = done + #h:poll(0.05)
        if done == 3 then break end
      end
      assert.are.equal(3, done)
    end
  end)

  it("reports a response libcurl cannot frame as kind protocol, never retried", function()
    emu.clear_log()
    emu.fault{ method = "GET", path = "/api/v2/users/weird", action = "raw",
               raw = "HTTP/1.1 200 OK\r\nContent-Length 2\r\n\r\n{}" }
    local res, err = h:perform{ method = "GET", url = emu.url .. "/api/v2/users/weird",
                                headers = { Authorization = "Bearer " .. token } }
    assert.is_nil(res)
    assert.are.same({ "protocol", "framing", true }, { err.kind, err.reason, err.sent })
  end)

  -- One decoder and one string cache per Lua state: the transport decodes
  -- with core's decoder (registry, PC_JSON_API) instead of a copy of its own.
  it("decodes with the core's decoder, carrying no copy of it", function()
    local p = io.popen("nm " .. package.searchpath("purecloud.transport.curl", package.cpath) .. " 2>/dev/null")
    local syms = p:read("a")
    p:close()
    assert.is_truthy(syms:find("luaopen_purecloud_transport_curl", 1, true), "nm read the module")
    assert.is_nil(syms:find("pc_json_decode", 1, true))
    assert.is_nil(syms:find("parse_value", 1, true))
    local res = assert(h:perform{ method = "GET", url = emu.url .. "/api/v2/users?pageSize=3", decode = true,
                                  headers = { Authorization = "Bearer " .. token } })
    assert.are.equal(3, #res.value.entities)
  end)
end)

