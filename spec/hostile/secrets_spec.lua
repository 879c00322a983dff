-- Secrets never reach an error, a log line or a traceback (hardening §6).
local emu = require "support.emulator"
local support = require "support.client"
local redact = require "purecloud.redact"

describe("secrets #hostile", function()
  before_each(function() emu.reset{ users = 2 } end)

  it("never show a proxy's credentials", function()
    local lines = {}
    local c = support.direct{ proxy = "http://proxyuser:Pr0xy-Secret@127.0.0.1:9", connect_timeout = 2,
      retry = { max_retries = 1 }, log = { level = "trace", sink = function(_, m) lines[#lines + 1] = m end } }
    local v, err = c.users.get_users()
    assert.is_nil(v)
    local everything = tostring(err) .. "\n" .. table.concat(lines, "\n")
    for k, x in pairs(err) do everything = everything .. "\n" .. tostring(k) .. "=" .. tostring(x) end
    assert.is_nil(everything:find("Pr0xy-Secret", 1, true))
    assert.is_nil(tostring(c):find("Pr0xy-Secret", 1, true))
    c:close()
  end)

  it("are redacted from trace bodies by key, whatever the spelling or the value's type", function()
    local shown = redact.body('{"pass\\u0077ord":"hunter2","nested":{"clientSecret":12345,"list":[{"token":true}]},'
      .. '"name":"Pat"}')
    assert.is_nil(shown:find("hunter2", 1, true))
    assert.is_nil(shown:find("12345", 1, true))
    assert.is_nil(shown:find("true", 1, true))
    assert.matches("Pat", shown)
    assert.are.equal("grant_type=client_credentials&client_secret=[REDACTED]",
      redact.body("grant_type=client_credentials&client_secret=abc%20def"))
    assert.are.equal("(12 bytes, not shown)", redact.body("\0\1binary\2\3!!"))
  end)

  it("never appear in a trace of a create-user call with an escaped password key", function()
    local lines = {}
    local c = support.direct{ log = { level = "trace", sink = function(_, m) lines[#lines + 1] = m end } }
    assert(c:request("POST", "/api/v2/users",
      { json = '{"name":"Esc","email":"esc@example.com","pass\\u0077ord":"Esc-Secret-9"}' }))
    local text = table.concat(lines, "\n")
    assert.matches("esc@example.com", text)
    assert.is_nil(text:find("Esc-Secret-9", 1, true))
    c:close()
  end)
end)

-- Issue 20, points 6b and 7: no userinfo in URLs, one scrub for every
-- outside text, one-line output.
local function everything_of(err, lines)
  local t = { tostring(err), table.concat(lines or {}, "\n") }
  local function walk(v, depth)
    if type(v) == "table" and depth < 4 then
      for k, x in pairs(v) do t[#t + 1] = tostring(k); walk(x, depth + 1) end
    else
      t[#t + 1] = tostring(v)
    end
  end
  walk(err, 0)
  return table.concat(t, "\n")
end

local function sink(lines) return { level = "trace", sink = function(_, m) lines[#lines + 1] = m end } end

describe("URL options #hostile #hermetic", function()
  local purecloud = require "purecloud"
  local base = { client_id = "id", client_secret = "secret", log = "none" }
  local function new(extra)
    local o = {}
    for k, v in pairs(base) do o[k] = v end
    for k, v in pairs(extra) do o[k] = v end
    return pcall(purecloud.new, o)
  end

  it("refuse userinfo in base_url, login_url and environment, naming the option, never the password", function()
    for name, value in pairs{ base_url = "http://user:Url-Pa55word@api.example.com",
                              login_url = "https://user:Url-Pa55word@login.example.com/",
                              environment = "user:Url-Pa55word@mypurecloud.ie" } do
      local ok, msg = new{ [name] = value }
      assert.is_false(ok, name)
      assert.matches("option '" .. name .. "'", msg, 1, true)
      assert.is_nil(msg:find("Url-Pa55word", 1, true), msg)
    end
    -- An '@' in a path is not userinfo.
    assert(new{ base_url = "http://api.example.com/gw/@team" })
  end)

  it("check proxy at new: scheme, host, port, no spaces; credentials allowed and never shown", function()
    local c = select(2, assert(new{ proxy = "http://proxyuser:Pr0xy-Secret@proxy.example.com:3128" }))
    assert.is_nil(tostring(c):find("Pr0xy-Secret", 1, true))
    for _, ok_proxy in ipairs{ "https://proxy:443", "socks5://10.0.0.1:1080", "socks5h://[::1]:1080", "http://proxy" } do
      assert(new{ proxy = ok_proxy }, ok_proxy)
    end
    for _, bad in ipairs{ "ftp://u:Pr0xy-Secret@proxy:21", "http://u:Pr0xy-Secret@proxy:0",
                          "http://u:Pr0xy-Secret@proxy:65536", "http://u:Pr0xy-Secret@pro xy:3128",
                          "http://u:Pr0xy-Secret@proxy:3128/path", "u:Pr0xy-Secret@proxy:3128",
                          "http://u:Pr0xy-Secret@:3128", "http://u:Pr0xy-Secret@proxy:31\t28" } do
      local ok, msg = new{ proxy = bad }
      assert.is_false(ok, bad)
      assert.matches("option 'proxy'", msg, 1, true)
      assert.is_nil(msg:find("Pr0xy-Secret", 1, true), msg)
    end
  end)
end)

describe("one line #hostile #hermetic", function()
  local core = require "purecloud.core"
  it("escapes C0, C1, U+2028 and U+2029 and bytes that are not UTF-8, in errors and log lines alike", function()
    local hostile = "a\nb\rc\0d\194\133e\194\159f\226\128\168g\226\128\169h\255i\127j"
    local want = "a\\nb\\rc\\x00d\\u0085e\\u009ff\\u2028g\\u2029h\\xffi\\x7fj"
    local e = core.error{ kind = "api", status = 400, code = "x\194\133y", message = hostile, context_id = "c\226\128\168d" }
    assert.are.equal("purecloud: 400 x\\u0085y: " .. want .. " (context c\\u2028d)", tostring(e))
    local lines = {}
    local log = require("purecloud.log").new(sink(lines))
    log("warn", "%s", hostile)
    log("warn", "%s", hostile)
    assert.are.equal(want, lines[1])
    local json = {}
    require("purecloud.log").new{ level = "warn", format = "json", sink = function(_, m) json[#json + 1] = m end }("warn", "%s", hostile)
    assert.is_nil(json[1]:find("[\r\n]"))
    assert.is_nil(json[1]:find("\194\133", 1, true))
    assert.is_nil(json[1]:find("\226\128\168", 1, true))
    -- Other UTF-8 passes as it is.
    assert.are.equal("purecloud: api: Zoë 日本 €", tostring(core.error{ kind = "api", message = "Zoë 日本 €" }))
  end)
end)

describe("secrets from outside text #hostile", function()
  before_each(function() emu.reset{ users = 2 } end)

  it("are scrubbed from libcurl's error text, which quotes the proxy string", function()
    local h = require("purecloud.transport.curl").new{ proxy = "http://proxyuser:Pr0xy-Secret@bad proxy:3128" }
    local res, err = h:perform{ method = "GET", url = emu.url .. "/api/v2/users" }
    assert.is_nil(res)
    local text = everything_of(err)
    assert.matches("proxy", text)
    assert.matches("[REDACTED]", text, 1, true)
    assert.is_nil(text:find("Pr0xy-Secret", 1, true))
    h:close()
  end)

  it("are scrubbed when the API echoes the bearer token, in the error and every log line", function()
    local lines = {}
    local c = support.direct{ log = sink(lines) }
    local token = assert(c:token())
    emu.fault{ method = "GET", path = "/api/v2/users", count = 1, status = 400,
      body = '{"code":"bad.request","message":"token ' .. token .. ' is odd","contextId":"ctx-' .. token .. '"}' }
    local v, err = c.users.get_users()
    assert.is_nil(v)
    local text = everything_of(err, lines)
    assert.matches("token [REDACTED] is odd", text, 1, true)
    assert.is_nil(text:find(token, 1, true))
    c:close()
  end)

end)

describe("secrets a token endpoint echoes #hostile #hermetic", function()
  local fake = require "support.fakeio"
  -- A login service that refuses every grant, quoting what it was sent.
  local function echoing(text)
    return fake.new(function() return fake.res(200, {}) end, {
      token = function() return fake.res(400, { error = "invalid_client", error_description = text }) end })
  end

  it("are scrubbed: the client secret (raw, form-encoded or as Basic credentials)", function()
    local secret = "Client-S3cret/x"
    for _, echo in ipairs{ secret, "Client-S3cret%2Fx", "aWQ6Q2xpZW50LVMzY3JldC94" } do -- base64("id:Client-S3cret/x")
      local lines = {}
      local io = echoing("bad client credential " .. echo)
      local c = fake.client(io, { client_secret = secret, log = sink(lines) })
      local v, err = c.users.get_users()
      assert.is_nil(v)
      assert.are.equal("auth", err.kind)
      local text = everything_of(err, lines)
      assert.matches("bad client credential [REDACTED]", text, 1, true)
      assert.is_nil(text:find(echo, 1, true), echo)
      assert.is_nil(text:find(secret, 1, true))
    end
  end)

  it("are scrubbed: an authorization code, a PKCE verifier, a SAML assertion, a refresh token", function()
    local lines = {}
    local code, verifier, assertion = "Auth-Code-123456", "Verifier-abcdefghijklmnop", "PHNhbWw+QXNzZXJ0aW9u"
    local refresh = "Refresh-Tok-987654"
    local c = fake.client(echoing(("code %s verifier %s"):format(code, verifier)), { log = sink(lines) })
    local ok1, err1 = c:exchange_code(code, "http://localhost/cb", verifier)
    local s = fake.client(echoing(("assertion %s as sent PHNhbWw%%2BQXNzZXJ0aW9u"):format(assertion)),
      { log = sink(lines) })
    local ok2, err2 = s:saml2_bearer(assertion)
    assert.is_nil(ok1)
    assert.is_nil(ok2)
    local r = fake.client(echoing("refresh " .. refresh), { refresh_token = refresh, log = sink(lines) })
    local v, err3 = r.users.get_users()
    assert.is_nil(v)
    local text = everything_of(err1, lines) .. everything_of(err2) .. everything_of(err3)
    for _, x in ipairs{ code, verifier, assertion, refresh } do assert.is_nil(text:find(x, 1, true), x) end
    assert.matches("code [REDACTED] verifier [REDACTED]", text, 1, true)
    -- (and the form-encoded assertion: '+' goes out as %2B)
    assert.is_nil(text:find("PHNhbWw%2BQXNzZXJ0aW9u", 1, true))
  end)
end)
