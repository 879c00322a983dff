-- HTTP/1.1 framing over real sockets (lua/purecloud/http1.lua's grammar):
-- a real nginx writes each case of spec/support/framing_corpus.lua as raw
-- bytes, the cosocket transport reads it on a fresh and on a reused
-- connection, and the next call through the same pool must get its own
-- answer. The same corpus goes through the libcurl transport for a printed
-- comparison (libcurl's choices are the reference where the RFC leaves room).
local harness = require "embedding.nginx_harness"
local corpus = require "support.framing_corpus"

local OK_BODY = '{"ok":true}\n'

describe("HTTP/1.1 framing over a socket", function()
  local srv
  local results = {} -- mode → name → what the probe saw
  lazy_setup(function() srv = harness.start{ workers = 1 } end)
  lazy_teardown(function() if srv then srv.stop() end end)

  local function run(mode, query)
    query = query or {}
    query.mode = mode
    local status, r = harness.get(srv.url, "/t/framing", query)
    assert.are.equal(200, status, tostring(r))
    local by = {}
    for _, x in ipairs(r) do by[x.name] = x end
    return by
  end
  local function seen(mode, name)
    if not results[mode] then results[mode] = run(mode) end
    return assert(results[mode][name], name .. " has no result")
  end

  for _, mode in ipairs({ "fresh", "reused" }) do
    for _, c in ipairs(corpus.cases) do
      local what = c.refused and ("refused (" .. c.refused .. ")") or "read"
      it(("%s connection, rule %d: %s is %s"):format(mode, c.rule, c.name, what), function()
        local r = seen(mode, c.name)
        assert.is_nil(r.first_failed)
        assert.are.equal(mode == "reused" and 2 or 1, r.conn_requests, "the case did not go on a "
          .. mode .. " connection")
        if c.refused then
          assert.is_false(r.ok, c.name .. " was accepted: " .. tostring(r.body))
          assert.is_true(r.sent)
          assert.are.equal("unknown", r.outcome)
          if c.refused == "framing" then
            assert.are.same({ "protocol", "framing" }, { r.kind, r.reason })
            assert.matches("malformed response", r.message)
            assert.is_nil(r.text:find("[\r\n]"), "one line")
          elseif c.refused == "too_large" then
            assert.are.same({ "transport", "too_large" }, { r.kind, r.reason })
          else
            assert.are.equal("transport", r.kind)
          end
        else
          assert.is_true(r.ok, c.name .. ": " .. tostring(r.message))
          assert.are.equal(c.body, r.body)
          for k, want in pairs(c.headers or {}) do assert.are.equal(want, r.headers[k]) end
        end
        -- Whatever happened, the next call through the same pool gets its own answer.
        assert.are.equal(OK_BODY, r.next_body, tostring(r.next_err))
      end)
    end
  end

  -- Every back-to-back pair with the server's way of sending the second
  -- response (`how`): the first of each is refused as a framing error, and
  -- the next call gets its own answer; trailing_bytes (well framed) is the
  -- control, whose connection `control_next` says what happens to.
  local function pairs_hold(how, control_next)
    local names = {}
    for name in pairs(corpus.back_to_back) do names[#names + 1] = how .. "_" .. name end
    table.sort(names)
    local by = run("reused", { cases = table.concat(names, ",") })
    for _, name in ipairs(names) do
      local r = assert(by[name], name)
      assert.are.equal(2, r.conn_requests, name)
      if name == how .. "_trailing_bytes" then
        assert.are.same({ true, "hi" }, { r.ok, r.body }, r.message)
        assert.are.equal(control_next, r.next_body, "the control's next call")
      else
        assert.are.same({ false, "protocol" }, { r.ok, r.kind }, name)
        assert.are.equal(OK_BODY, r.next_body, name .. ": the next call read " .. tostring(r.next_body))
      end
    end
  end

  it("never takes a second response in the same write as the answer to the next call", function()
    pairs_hold("b2b", OK_BODY) -- bytes after a response: its connection is not reused
  end)

  it("never sends the next call on a connection whose response broke the framing", function()
    -- The server answers the next request on the same connection; the
    -- control (exact framing) shows the connection is reused when it may be.
    pairs_hold("keep", '"SMUGGLED"')
  end)

  it("never takes a response sent later on an idle pooled connection as the next call's answer", function()
    local r = run("reused", { cases = "late_trailing_bytes", pause = 0.3 }).late_trailing_bytes
    assert.is_true(r.ok, r.message)
    assert.are.equal("hi", r.body)
    assert.are.equal(OK_BODY, r.next_body, "the next call read " .. tostring(r.next_body))
  end)

  it("prints libcurl's answers to the same corpus beside ours", function()
    local curl = require "purecloud.transport.curl"
    local function verdict(res, err)
      if res then return "read " .. ("%q"):format(res.body):sub(1, 24) end
      return "refused: " .. tostring(err and err.message):sub(1, 60)
    end
    local lines, differ = {}, 0
    local h = curl.new{}
    for _, c in ipairs(corpus.cases) do
      -- A handle per case would be a fresh connection; one handle with a GET
      -- before each case reuses it, as the cosocket spec above does.
      assert(h:perform{ method = "GET", url = srv.url .. "/hostile/ok", headers = {}, timeout = 3 })
      local res, err = h:perform{ method = c.method or "GET", url = srv.url .. "/hostile/raw/" .. c.name,
                                  headers = {}, timeout = 3 }
      local nres = h:perform{ method = "GET", url = srv.url .. "/hostile/ok", headers = {}, timeout = 3 }
      local ours = seen("reused", c.name)
      local same = (res ~= nil) == (ours.ok == true)
      if not same then differ = differ + 1 end
      lines[#lines + 1] = ("%-24s rule %d  ours: %-8s libcurl: %s%s%s"):format(c.name, c.rule,
        ours.ok and "read" or "refused", verdict(res, err), same and "" or "   <- differs",
        (nres and nres.body == OK_BODY) and "" or "   (libcurl's next call: " .. tostring(nres and nres.body) .. ")")
    end
    h:close()
    local p = io.popen("curl --version 2>/dev/null")
    local version = p and (p:read("a") or ""):match("libcurl/([%d%.]+)") or "?"
    if p then p:close() end
    local text = ("HTTP/1.1 framing corpus: %d cases, libcurl %s decides %d differently\n%s\n")
      :format(#corpus.cases, version, differ, table.concat(lines, "\n"))
    local f = io.open("build/framing-comparison.txt", "w")
    if f then f:write(text) f:close() end
    io.stdout:write("\n", text)
    assert.are.equal(#corpus.cases, #lines)
  end)
end)
