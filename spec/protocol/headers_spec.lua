-- Response headers kept as the raw block (`res.head`, as the libcurl
-- transport answers): `core.header` reads single headers from it, and the
-- response metatable builds `headers`, `context_id` and `rate_limit` at their
-- first use. No network: the blocks are written here.
local core = require "purecloud.core"

local function response(head, fields)
  local res = fields or { status = 200 }
  res.head = head
  return setmetatable(res, core.response_mt)
end

local BLOCK = table.concat({
  "HTTP/1.1 200 OK",
  "Content-Type: application/json",
  "X-Twice: one",
  "ININ-Correlation-Id:   7c1e-42  ",
  "x-twice:\ttwo",
  "no colon on this line",
  ": no name",
  "inin-ratelimit-allowed: 300",
  "Inin-RateLimit-Count: 12",
  "inin-ratelimit-reset: 41",
  "", "",
}, "\r\n")

describe("response headers #hermetic", function()
  it("reads single headers from the raw block, any case, repeats joined, white space trimmed", function()
    local res = response(BLOCK)
    assert.are.same({ "application/json", "one, two", "7c1e-42", nil },
      { core.header(res, "content-type", "x-twice", "inin-correlation-id", "x-absent") })
    assert.is_nil(rawget(res, "headers")) -- nothing built to answer that
  end)

  it("builds res.headers at its first use: every header, lower-case names, the status line left out", function()
    local res = response(BLOCK)
    assert.are.same({
      ["content-type"] = "application/json", ["x-twice"] = "one, two", ["inin-correlation-id"] = "7c1e-42",
      ["inin-ratelimit-allowed"] = "300", ["inin-ratelimit-count"] = "12", ["inin-ratelimit-reset"] = "41",
    }, res.headers)
    assert.are.equal(res.headers, rawget(res, "headers")) -- built once, then a plain field
    -- From then on single reads answer from the table (a caller may have changed it).
    res.headers["x-twice"] = "changed"
    assert.are.equal("changed", (core.header(res, "x-twice")))
  end)

  it("answers context_id and rate_limit (integers) at first use, nil when absent", function()
    local res = response(BLOCK)
    assert.are.equal("7c1e-42", res.context_id)
    assert.are.same({ allowed = 300, count = 12, reset = 41 }, res.rate_limit)
    assert.are.equal(math.type and "integer" or "number", (math.type or type)(res.rate_limit.count))
    local bare = response("HTTP/1.1 204 No Content\r\n\r\n", { status = 204 })
    assert.is_nil(bare.context_id)
    assert.is_nil(bare.rate_limit)
    assert.are.same({}, bare.headers)
    assert.is_nil(bare.anything_else)
  end)

  it("gives the rate-limit numbers as tonumber would: text that is not a number is nil", function()
    local res = response("HTTP/1.1 200 OK\r\ninin-ratelimit-allowed: lots\r\ninin-ratelimit-count: 1.5\r\n\r\n")
    assert.are.same({ count = 1.5 }, res.rate_limit)
  end)

  it("reads a host transport's plain headers table the same way", function()
    local res = { status = 200, headers = { ["content-type"] = "text/plain" } }
    assert.are.same({ "text/plain", nil }, { core.header(res, "content-type", "x-absent") })
    assert.is_nil((core.header({ status = 200 }, "content-type")))
  end)

  it("gives a host transport's call the same info: status, headers, context_id, integer rate_limit", function()
    local seen = {}
    local client = require("purecloud").new{
      base_url = "http://127.0.0.1:1", access_token = "t", log = "error",
      transport = function(req)
        seen[#seen + 1] = req.url
        return { status = 200, body = '{"id":"u1"}', headers = {
          ["content-type"] = "application/json", ["inin-correlation-id"] = "c-9",
          ["inin-ratelimit-allowed"] = "300", ["inin-ratelimit-count"] = "4", ["inin-ratelimit-reset"] = "60" } }
      end,
    }
    local user, err, info = client.users.get_user_id("u1")
    assert(user, err)
    assert.are.equal(1, #seen)
    assert.are.same({ 200, "c-9", "application/json" }, { info.status, info.context_id, info.headers["content-type"] })
    assert.are.same({ allowed = 300, count = 4, reset = 60 }, info.rate_limit)
    assert.are.equal(math.type and "integer" or "number", (math.type or type)(info.rate_limit.reset))
  end)

  it("refuses more than eight names at once", function()
    assert.has_error(function() core.header(response(BLOCK), "a", "b", "c", "d", "e", "f", "g", "h", "i") end)
  end)
end)
