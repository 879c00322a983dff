-- The client engine against the emulator: auth, retries, errors, logging.
local emu = require "support.emulator"
local support = require "support.client"
local purecloud = require "purecloud"
local core = require "purecloud.core"

local function count_log(pred)
  local n = 0
  for _, r in ipairs(emu.log()) do if pred(r) then n = n + 1 end end
  return n
end

describe("client auth", function()
  before_each(function() emu.reset{ users = 5 } end)

  it("makes 1000 sequential calls with exactly one token request", function()
    local c = support.direct()
    local id = emu.users(1)[1].id
    local before = emu.stats().tokens.client_credentials or 0 -- the spec helper's own token
    for _ = 1, 1000 do assert(c.users.get_user_id(id)) end
    assert.are.equal(1, emu.stats().tokens.client_credentials - before)
    c:close()
  end)

  it("replaces a revoked token once, transparently", function()
    local c = support.direct()
    assert(c.users.get_users())
    emu.revoke()
    emu.clear_log()
    assert(c.users.get_users())
    assert.are.equal(2, emu.stats().tokens.client_credentials)
    assert.are.equal(1, count_log(function(r) return r.status == 401 end))
    c:close()
  end)

  it("renews once per call: each of two calls in a row answered 401 renews and succeeds", function()
    local c = support.direct()
    assert(c.users.get_users())
    for round = 1, 2 do
      emu.revoke()
      emu.clear_log()
      assert(c.users.get_users())
      assert.are.equal(1 + round, emu.stats().tokens.client_credentials)
      assert.are.equal(1, count_log(function(r) return r.status == 401 end))
    end
    c:close()
  end)

  it("returns a second 401 instead of looping", function()
    local c = support.direct()
    assert(c.users.get_users())
    emu.fault{ method = "GET", path = "/api/v2/users", count = 5, status = 401 }
    local v, err = c.users.get_users()
    assert.is_nil(v)
    assert.are.equal(401, err.status)
    assert.are.equal("auth", err.kind)
    assert.are.equal(2, emu.stats().requests["GET /api/v2/users"] - 1)
    c:close()
  end)

  it("renews a short-lived token before it expires", function()
    emu.config{ token_ttl = 2 }
    local c = support.direct()
    local t0 = c.io.now()
    emu.clear_log()
    while c.io.now() - t0 < 3 do
      assert(c.users.get_users{ page_size = 1 })
      core.sleep(0.05)
    end
    assert.is_true(emu.stats().tokens.client_credentials >= 2)
    assert.are.equal(0, count_log(function(r) return r.status == 401 end))
    c:close()
  end)

  it("never renews a fixed access token: a 401 is returned", function()
    local c = support.direct()
    local tok = c:token()
    c:close()
    local fixed = purecloud.new{ base_url = emu.url, access_token = tok }
    assert(fixed.users.get_users())
    emu.revoke()
    local v, err = fixed.users.get_users()
    assert.is_nil(v)
    assert.are.equal(401, err.status)
    assert.are.equal(1, emu.stats().tokens.client_credentials)
    fixed:close()
  end)

  it("names the login host when the login fails", function()
    local c = support.direct{ client_secret = "wrong-secret" }
    local v, err = c.users.get_users()
    assert.is_nil(v)
    assert.are.equal("auth", err.kind)
    assert.are.equal("invalid_client", err.code)
    assert.matches("127.0.0.1", err.message, 1, true)
    assert.is_nil(tostring(err):find("wrong-secret", 1, true))
    c:close()
  end)

  it("runs the code grant with PKCE and refresh, then /users/me is that user", function()
    local u = emu.users(3)[3]
    local c = support.direct()
    local verifier, challenge = purecloud.pkce()
    local url = c:authorize_url{ redirect_uri = "http://localhost/cb", state = "s1", code_challenge = challenge }
    assert.matches("code_challenge_method=S256", url)
    local r = emu.request("GET", url:sub(#emu.url + 1) .. "&user_id=" .. u.id)
    local code = r.headers.location:match("code=([^&]+)")
    assert(c:exchange_code(code, "http://localhost/cb", verifier))
    local me = assert(c.users.get_me())
    assert.are.equal(u.id, me.id)
    -- A revoked access token is renewed with the refresh token.
    emu.revoke()
    assert.are.equal(u.id, assert(c.users.get_me()).id)
    assert.are.equal(1, emu.stats().tokens.refresh_token)
    c:close()
  end)

  it("refuses a wrong PKCE verifier", function()
    local c = support.direct()
    local _, challenge = purecloud.pkce()
    local url = c:authorize_url{ redirect_uri = "http://localhost/cb", code_challenge = challenge }
    local code = emu.request("GET", url:sub(#emu.url + 1)).headers.location:match("code=([^&]+)")
    local ok, err = c:exchange_code(code, "http://localhost/cb", "not-the-verifier")
    assert.is_nil(ok)
    assert.are.equal("invalid_grant", err.code)
    c:close()
  end)

  it("gets a user token with a SAML2 bearer assertion", function()
    local u = emu.users(1)[1]
    local c = support.direct()
    assert(c:saml2_bearer(core.base64("<saml:NameID>" .. u.email .. "</saml:NameID>"), "org"))
    assert.are.equal(u.id, assert(c.users.get_me()).id)
    c:close()
  end)

  it("keeps the seed's entry point", function()
    local tok = assert(purecloud.authenticate_with_client_credentials("emulator-client", "emulator-secret",
      { base_url = emu.url }))
    assert.are.equal(200, emu.request("GET", "/api/v2/users", { bearer = tok }).status)
  end)
end)

describe("client retries", function()
  local c
  before_each(function()
    emu.reset{ users = 5 }
    c = support.direct()
  end)
  after_each(function() c:close() end)

  it("waits Retry-After on a 429, then succeeds", function()
    assert(c:token())
    emu.fault{ method = "GET", path = "/api/v2/users", count = 1, status = 429, retry_after = 1 }
    local t0 = c.io.now()
    assert(c.users.get_users())
    local waited = c.io.now() - t0
    assert.is_true(waited >= 0.95 and waited < 2.5, "waited " .. waited)
  end)

  it("gives up at once when Retry-After exceeds max_retry_after", function()
    local short = support.direct{ retry = { max_retry_after = 5 } }
    emu.fault{ method = "GET", path = "/api/v2/users", count = 1, status = 429, retry_after = 60 }
    local t0 = short.io.now()
    local v, err = short.users.get_users()
    assert.is_nil(v)
    assert.are.equal(429, err.status)
    assert.are.equal(60, err.retry_after)
    assert.is_true(short.io.now() - t0 < 1)
    short:close()
  end)

  it("retries 503 twice then succeeds for a GET", function()
    emu.fault{ method = "GET", path = "/api/v2/users", count = 2, status = 503 }
    assert(c.users.get_users())
    assert.are.equal(3, emu.stats().requests["GET /api/v2/users"])
  end)

  it("never repeats a POST answered 502", function()
    emu.fault{ method = "POST", path = "/api/v2/users", count = 1, status = 502 }
    local v, err = c.users.post_users{ name = "Once", email = "once@example.com", password = "p4ss!" }
    assert.is_nil(v)
    assert.are.equal(502, err.status)
    assert.are.equal(1, emu.stats().requests["POST /api/v2/users"])
    assert.are.equal(0, emu.stats().users_created)
  end)

  it("retries a POST refused with 429 (the server did not act)", function()
    emu.fault{ method = "POST", path = "/api/v2/users", count = 1, status = 429, retry_after = 0 }
    assert(c.users.post_users{ name = "Twice", email = "twice@example.com", password = "p4ss!" })
    assert.are.equal(1, emu.stats().users_created)
  end)

  it("reports a connection reset as a transport error, within the time budget", function()
    local quick = support.direct{ retry = { max_retries = 1 } }
    emu.fault{ method = "GET", path = "/api/v2/users", count = 5, action = "reset" }
    local t0 = quick.io.now()
    local v, err = quick.users.get_users()
    assert.is_nil(v)
    assert.are.equal("transport", err.kind)
    assert.is_true(quick.io.now() - t0 < 3)
    quick:close()
  end)

  it("times out within the configured time", function()
    local quick = support.direct{ timeout = 1, retry = false }
    emu.fault{ method = "GET", path = "/api/v2/users", count = 1, delay_ms = 3000 }
    assert(quick:token())
    local t0 = quick.io.now()
    local v, err = quick.users.get_users()
    local took = quick.io.now() - t0
    assert.is_nil(v)
    assert.are.equal("timeout", err.kind)
    assert.is_true(took >= 0.9 and took < 1.6, "took " .. took)
    quick:close()
  end)

  it("reports malformed JSON as a decode error keeping the status", function()
    emu.fault{ method = "GET", path = "/api/v2/users", count = 1, action = "malformed" }
    local v, err = c.users.get_users()
    assert.is_nil(v)
    assert.are.equal("decode", err.kind)
    assert.are.equal(200, err.status)
  end)

  it("turns API errors into one-line error objects", function()
    local v, err = c.users.get_user_id("nobody")
    assert.is_nil(v)
    assert.are.same({ "api", 404, "not.found" }, { err.kind, err.status, err.code })
    assert.is_string(err.context_id)
    assert.are.equal(err.context_id, err.headers["inin-correlation-id"])
    assert.are.equal("purecloud: 404 not.found: The user does not exist: nobody (context " .. err.context_id .. ")",
      tostring(err))
  end)
end)

describe("client configuration and hosts", function()
  it("maps environments and regions to hosts", function()
    local c = purecloud.new{ environment = "eu_west_1", client_id = "a", client_secret = "b" }
    assert.are.equal("https://api.mypurecloud.ie", c.base_url)
    assert.are.equal("https://login.mypurecloud.ie", c.login_url)
    c:close()
    c = purecloud.new{ environment = "usw2.pure.cloud", client_id = "a", client_secret = "b" }
    assert.are.equal("https://api.usw2.pure.cloud", c.base_url)
    c:close()
    c = purecloud.new{ base_url = "https://api.mypurecloud.de/", client_id = "a", client_secret = "b" }
    assert.are.same({ "https://api.mypurecloud.de", "https://login.mypurecloud.de" }, { c.base_url, c.login_url })
    c:close()
    c = purecloud.new{ base_url = "http://gateway.internal:8080", client_id = "a", client_secret = "b" }
    assert.are.equal("http://gateway.internal:8080", c.login_url)
    c:close()
    -- Every region name resolves to its own api./login. pair (and a typo is refused).
    local hosts = {}
    for name, host in pairs(require "purecloud.regions") do
      local r = purecloud.new{ environment = name, client_id = "a", client_secret = "b" }
      assert.are.same({ "https://api." .. host, "https://login." .. host }, { r.base_url, r.login_url })
      hosts[host] = true
      r:close()
    end
    assert.is_true(hosts["mypurecloud.com"] and hosts["mypurecloud.ie"] and hosts["mypurecloud.jp"])
    assert.has_error(function() purecloud.new{ environment = "eu west 1" } end)
  end)

  it("raises on malformed configuration, naming the option", function()
    assert.has_error(function() purecloud.new{ bogus = 1 } end, "purecloud: unknown option 'bogus'")
    assert.has_error(function() purecloud.new{ timeout = "fast" } end)
    assert.has_error(function() purecloud.new{ client_secret = "s" } end)
    assert.has_error(function() purecloud.new{ headers = { ["X-A"] = "a\r\nInjected: 1" } } end)
    assert.has_error(function() purecloud.new{ retry = { max_tries = 3 } } end)
    assert.has_error(function() purecloud.new{ base_url = "ftp://x" } end)
  end)

  it("refuses header values with CR or LF per request, sending nothing", function()
    emu.reset{ users = 1 }
    local c = support.direct()
    emu.clear_log()
    assert.has_error(function()
      c:request("GET", "/api/v2/users", { headers = { ["X-Test"] = "a\nb" } })
    end, "purecloud: request headers: header X-Test contains a LF byte at position 2; refused (nothing was sent)")
    assert.are.equal(0, #emu.log())
    c:close()
  end)

  it("shows no secret in tostring", function()
    local c = purecloud.new{ base_url = emu.url, client_id = "id-1", client_secret = "TOPSECRET" }
    assert.is_nil(tostring(c):find("TOPSECRET", 1, true))
    assert.matches("id%-1", tostring(c))
    c:close()
  end)

  it("uses a host-supplied transport, sleep and clock", function()
    emu.reset{ users = 2 }
    local calls, slept = {}, {}
    local base = support.direct()
    local transport = function(req)
      calls[#calls + 1] = req.method .. " " .. req.url
      return base.io.transport(req)
    end
    local c = purecloud.new{ base_url = emu.url, client_id = "emulator-client", client_secret = "emulator-secret",
      transport = transport, sleep = function(s) slept[#slept + 1] = s end, now = core.now }
    emu.fault{ method = "GET", path = "/api/v2/users", count = 1, status = 503 }
    assert(c.users.get_users())
    assert.are.equal(3, #calls) -- token, 503, 200
    assert.matches("/oauth/token$", calls[1])
    assert.are.equal(1, #slept)
    assert.is_nil(c.io_owner:multi()) -- a host transport: no libcurl multi for the scheduler
    base:close()
  end)

  it("uses the default client set by configure", function()
    emu.reset{ users = 2 }
    purecloud.configure{ base_url = emu.url, client_id = "emulator-client", client_secret = "emulator-secret" }
    local users = require "purecloud.users"
    assert.are.equal(2, assert(users.get_users()).total)
  end)
end)

describe("logging", function()
  it("never prints a secret, even at trace level", function()
    emu.reset{ users = 3 }
    local lines = {}
    local sink = function(level, msg) lines[#lines + 1] = level .. " " .. msg end
    local c = support.direct{ log = { level = "trace", sink = sink } }
    assert(c.users.get_users())
    emu.revoke()
    assert(c.users.get_users())
    emu.fault{ method = "GET", path = "/api/v2/users", count = 1, status = 503 }
    assert(c.users.get_users())
    local u = emu.users(1)[1]
    local assertion = core.base64("<saml:NameID>" .. u.email .. "</saml:NameID>")
    assert(c:saml2_bearer(assertion))
    local verifier, challenge = purecloud.pkce()
    local url = c:authorize_url{ redirect_uri = "http://localhost/cb", code_challenge = challenge }
    local code = emu.request("GET", url:sub(#emu.url + 1)).headers.location:match("code=([^&]+)")
    assert(c:exchange_code(code, "http://localhost/cb", verifier))
    assert(c.users.get_me())
    assert(c.users.post_users{ name = "Pat", email = "pat@example.com", password = "Us3r-Passw0rd!" })
    local bad = support.direct{ client_secret = "emulator-secret-WRONG", log = { level = "trace", sink = sink } }
    bad.users.get_users()
    local text = table.concat(lines, "\n")
    assert.is_true(#lines > 5)
    assert.matches("trace", text)
    local token = c:token()
    assert.matches("pat@example.com", text) -- bodies are logged at trace…
    for _, secret in ipairs({ "emulator-secret", token, assertion, verifier, code, core.base64("emulator-client:"),
                              "Us3r-Passw0rd!" }) do -- …but never a secret
      assert.is_nil(text:find(secret, 1, true), "leaked: " .. secret:sub(1, 12))
    end
    assert.is_nil(text:find("Bearer ", 1, true))
    assert.is_nil(text:find("Basic ", 1, true))
    c:close()
    bad:close()
  end)
end)

describe("TLS", function()
  local url, ca, https
  lazy_setup(function()
    local out
    url, out = emu.start{ users = 3, tls = true }
    https = out:match("https_url=(%S+)")
    ca = out:match("ca_file=(%S+)")
  end)
  lazy_teardown(function() emu.stop(url) end)

  it("verifies the server against ca_file, and refuses an unknown CA by default", function()
    assert.matches("^http://", url)
    local ok = purecloud.new{ base_url = https, client_id = "emulator-client", client_secret = "emulator-secret",
                              ca_file = ca, log = "none" }
    assert.are.equal(3, assert(ok.users.get_users()).total)
    ok:close()
    local strict = purecloud.new{ base_url = https, client_id = "emulator-client", client_secret = "emulator-secret",
                                  retry = false, log = "none" }
    local v, err = strict.users.get_users()
    assert.is_nil(v)
    assert.are.equal("transport", err.kind) -- the token request failed: certificate not trusted
    assert.matches("certificate", err.message)
    strict:close()
  end)
end)

describe("host transports that fail loosely", function()
  it("turn a plain-string failure into a transport error and never retry a write", function()
    local calls = 0
    local c = purecloud.new{ base_url = "http://127.0.0.1:9", access_token = "t", log = "none",
      sleep = function() end,
      transport = function() calls = calls + 1 return nil, "socket closed" end }
    local v, err = c:request("POST", "/api/v2/users", { body = { name = "x" } })
    assert.is_nil(v)
    assert.are.same({ "transport", true }, { err.kind, err.sent })
    assert.matches("socket closed", tostring(err))
    assert.are.equal(1, calls)
    v, err = c:request("GET", "/api/v2/users")
    assert.is_nil(v)
    assert.are.equal("transport", err.kind)
    assert.is_true(calls > 2) -- a GET is retried
  end)
end)

describe("a shared token store", function()
  it("lets many clients use one client-credentials token, and renew it once after a revocation", function()
    emu.reset{ users = 3 }
    local before = emu.stats().tokens.client_credentials or 0
    local store = require("purecloud.token_store").memory()
    local clients = {}
    for i = 1, 5 do clients[i] = support.direct{ token_store = store } end
    for _, c in ipairs(clients) do assert(c.users.get_users()) end
    assert.are.equal(1, emu.stats().tokens.client_credentials - before)
    emu.revoke()
    for _, c in ipairs(clients) do assert(c.users.get_users()) end
    assert.are.equal(2, emu.stats().tokens.client_credentials - before)
    for _, c in ipairs(clients) do c:close() end
  end)

  it("is checked when the client is made", function()
    assert.has_error(function() purecloud.new{ token_store = { get = function() end } } end)
  end)
end)
