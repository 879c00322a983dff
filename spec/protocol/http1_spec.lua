-- The HTTP/1.1 reader without a socket: every case of the framing corpus,
-- fed whole and byte by byte (the answer may not depend on how the bytes
-- arrive), the reuse rule, the limits, and request serialisation.
local http1 = require "purecloud.http1"
local corpus = require "support.framing_corpus"

-- Feed `wire` in pieces of `step` bytes (all at once when nil); `eof`: end
-- the stream after it. Returns the event, its value and the reader.
local function read(wire, opts)
  opts = opts or {}
  local r = http1.reader{ method = opts.method, max_body = opts.max_body }
  local step = opts.step or #wire + 1
  local i = 1
  while true do
    local ev, v = r:next()
    if ev ~= "need_data" then return ev, v, r end
    if i > #wire then
      if opts.eof == false then return ev, v, r end
      r:feed_eof()
    else
      r:feed(wire:sub(i, i + step - 1))
      i = i + step
    end
  end
end

-- What a refusal names, by rule: each refusal is the rule's own, not a
-- later rule catching the bytes by chance.
local SAYS = {
  { "bare CR" },
  { "status line", "status code", "interim", "101" },
  { "field line", "field value", "before the first field" },
  { "Transfer%-Encoding" },
  { "Content%-Length" },
  { "chunk" },
  { "204" },
}
local function says(rule, message)
  for _, p in ipairs(SAYS[rule]) do if message:find(p) then return true end end
  return false
end

describe("purecloud.http1 reader #hermetic", function()
  for _, c in ipairs(corpus.cases) do
    it(("rule %d: %s is %s"):format(c.rule, c.name, c.refused and ("refused (" .. c.refused .. ")") or "read"), function()
      for _, step in ipairs({ false, 1, 3 }) do
        local ev, v = read(c.wire, { method = c.method, step = step or nil })
        local how = step and (" (fed " .. step .. " byte(s) at a time)") or ""
        if c.refused then
          assert.are.equal("error", ev, c.name .. how .. " was accepted")
          assert.are.equal(c.refused, v.reason, v.message)
          if c.refused == "framing" then
            assert.is_true(says(c.rule, v.message), "rule " .. c.rule .. " should refuse " .. c.name .. ": " .. v.message)
            if c.says then assert.matches(c.says, v.message) end
          end
          assert.is_nil(v.message:find("[%c]"), "the message is one line of escaped text: " .. v.message)
          assert.is_true(#v.message < 200)
        else
          assert.are.equal("response", ev, c.name .. how .. ": " .. tostring(v and v.message))
          assert.are.equal(c.body, v.body)
          for k, want in pairs(c.headers or {}) do assert.are.equal(want, v.headers[k]) end
        end
      end
    end)
  end

  it("says reusable only for an exact end with nothing after it and no close", function()
    local function reusable(wire) local _, _, r = read(wire, { eof = false }) return r.reusable end
    assert.is_true(reusable(corpus.by_name.length.wire))
    assert.is_true(reusable(corpus.by_name.chunked.wire))
    assert.is_true(reusable("HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 0\r\n\r\n"))
    assert.is_false(reusable(corpus.by_name.length.wire .. "H"), "bytes after the response")
    assert.is_false(reusable(corpus.by_name.length.wire .. corpus.SMUGGLED))
    assert.is_false(reusable("HTTP/1.1 200 OK\r\nConnection: keep-alive, Close\r\nContent-Length: 0\r\n\r\n"))
    assert.is_false(reusable("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n"), "HTTP/1.0 without keep-alive")
    local _, _, r = read(corpus.by_name.close_delimited.wire)
    assert.is_false(r.reusable, "read to the close")
    _, _, r = read(corpus.by_name.te_substring.wire)
    assert.is_false(r.reusable, "after a framing error")
    -- Connection is a list of whole tokens: "closed" is not "close".
    assert.is_true(reusable("HTTP/1.1 200 OK\r\nConnection: closed\r\nContent-Length: 0\r\n\r\n"))
  end)

  it("stops a body at max_body, whatever its framing", function()
    for _, wire in ipairs({ "HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\nhello world",
                            corpus.by_name.chunked.wire, corpus.by_name.close_delimited.wire }) do
      local ev, v = read(wire, { max_body = 4, step = 2 })
      assert.are.equal("error", ev)
      assert.are.equal("too_large", v.reason)
      assert.matches("max_body", v.message)
    end
    -- Exactly at the cap is fine.
    local ev, v = read(corpus.by_name.length.wire, { max_body = 5 })
    assert.are.same({ "response", "hello" }, { ev, v.body })
  end)

  it("refuses a Content-Length over the cap before reading the body", function()
    local ev, v = read("HTTP/1.1 200 OK\r\nContent-Length: 200000000\r\n\r\n", { eof = false })
    assert.are.equal("error", ev)
    assert.are.equal("too_large", v.reason)
  end)

  it("caps the head: lines, bytes, one line's length", function()
    local many = {}
    for i = 1, http1.MAX_HEADER_LINES + 1 do many[i] = "X-" .. i .. ": v\r\n" end
    local ev, v = read("HTTP/1.1 200 OK\r\n" .. table.concat(many) .. "\r\n")
    assert.are.same({ "error", "too_large" }, { ev, v.reason })
    ev, v = read("HTTP/1.1 200 OK\r\nX-Long: " .. ("a"):rep(http1.MAX_HEAD_BYTES + 1), { eof = false })
    assert.are.same({ "error", "too_large" }, { ev, v.reason })
    ev, v = read(("A"):rep(http1.MAX_STATUS_LINE + 10), { eof = false })
    assert.are.same({ "error", "too_large" }, { ev, v.reason })
  end)

  it("tells a close with no response byte from a close mid-response", function()
    local ev, v, r = read("")
    assert.are.same({ "error", "eof", 0 }, { ev, v.reason, r.got })
    assert.matches("no response", v.message)
    ev, v = read("HTTP/1.1 200 OK\r\n")
    assert.are.same({ "error", "eof" }, { ev, v.reason })
    assert.matches("before the response ended", v.message)
  end)

  it("shows the offending bytes escaped and cut short", function()
    local _, v = read(corpus.by_name.bare_cr_header.wire)
    assert.matches("Header1: a\\r", v.message, 1, true)
    _, v = read("HTTP/1.1 200 OK\r\nX: " .. ("\1"):rep(500) .. "\r\n\r\n")
    assert.matches("\\x01", v.message, 1, true)
    assert.is_true(#v.message < 300, #v.message)
  end)

  it("keeps a body as sent across many small reads (no copy of what it already took)", function()
    local big = ("0123456789"):rep(10000)
    local ev, v = read("HTTP/1.1 200 OK\r\nContent-Length: " .. #big .. "\r\n\r\n" .. big, { step = 1000 })
    assert.are.same({ "response", true }, { ev, v.body == big })
  end)
end)

describe("purecloud.http1 request #hermetic", function()
  it("writes the request line, Host, the caller's headers and Content-Length for a body", function()
    local wire = assert(http1.request("POST", "/api/v2/users?x=1", "h:8080", { Accept = "application/json" }, "{}"))
    assert.matches("^POST /api/v2/users%?x=1 HTTP/1%.1\r\nHost: h:8080\r\n", wire)
    assert.matches("\r\nAccept: application/json\r\n", wire)
    assert.are.equal("\r\nContent-Length: 2\r\n\r\n{}", wire:sub(-25))
  end)

  it("refuses header injection, bad names and the headers it writes itself (the one header rule)", function()
    for v, byte in pairs({ ["a\r\nX-Injected: 1"] = "CR", ["a\nb"] = "LF", ["a\0b"] = "NUL" }) do
      local wire, err = http1.request("GET", "/", "h", { ["User-Agent"] = v })
      assert.is_nil(wire)
      assert.are.equal("header User-Agent contains a " .. byte .. " byte at position 2", err)
    end
    assert.is_nil((http1.request("GET", "/", "h", { ["X Bad"] = "v" })))
    assert.is_nil((http1.request("get", "/", "h", {})))
    for _, h in ipairs({ "Host", "transfer-encoding", "Content-Length", "CONNECTION" }) do
      local wire, err = http1.request("GET", "/", "h", { [h] = "evil" })
      assert.is_nil(wire)
      assert.are.equal(1, err:find("header " .. h .. " cannot be set", 1, true))
    end
    -- Authorization is the client's to add: a transport sends it.
    assert.matches("\r\nAuthorization: Bearer t\r\n", assert(http1.request("GET", "/", "h", { Authorization = "Bearer t" })))
  end)
end)

describe("purecloud.http1 under fuzzing #hermetic", function()
  it("keeps its oracles over 20 000 mutated responses (fuzz/http1.lua, fixed seed)", function()
    local n, findings = require("fuzz.http1").run{ iterations = 20000, seed = 27 }
    assert.are.equal(20000, n)
    local shown = {}
    for i, f in ipairs(findings) do shown[i] = f.problem .. "\n  input: " .. ("%q"):format(f.input) end
    assert.are.same({}, shown)
  end)
end)
