-- The sans-I/O protocol functions of the C core: no network needed.
local core = require "purecloud.core"

describe("core.build_url #hermetic", function()
  it("percent-encodes each path parameter as one opaque segment", function()
    assert.are.equal("http://h/api/v2/users/..%2F..%2Foauth%2Ftoken",
      core.build_url("http://h", "/api/v2/users/{userId}", { userId = "../../oauth/token" }))
    assert.are.equal("http://h/api/v2/users/a%2Fb%3Fc%23d/roles",
      core.build_url("http://h/", "/api/v2/users/{userId}/roles", { userId = "a/b?c#d" }))
    assert.are.equal("http://h/api/v2/users/%2E%2E",
      core.build_url("http://h", "/api/v2/users/{userId}", { userId = ".." }))
  end)

  it("encodes query arrays as repeated keys, booleans and integers plainly, in key order", function()
    assert.are.equal("http://h/x?expand=a&expand=b%20c&joined=false&pageNumber=7&pageSize=25",
      core.build_url("http://h", "/x", nil, { pageSize = 25, pageNumber = 7.0, expand = { "a", "b c" },
                                             joined = false }))
  end)

  it("builds long URLs whose buffer grows while values are read (found by libFuzzer)", function()
    local id, long = ("../\224"):rep(256), ("../\224"):rep(400) -- (a path parameter is at most 1 KiB)
    local url = core.build_url("http://h", "/api/v2/users/{userId}", { userId = id }, { q = { long, long } })
    local enc, lenc = ("..%2F%E0"):rep(256), ("..%2F%E0"):rep(400)
    assert.are.equal("http://h/api/v2/users/" .. enc .. "?q=" .. lenc .. "&q=" .. lenc, url)
    assert.has_error(function() core.build_url("http://h", "/u/{id}", { id = id .. "x" }) end,
      "purecloud: path parameter 'id' is 1025 bytes long (at most 1024): not an id")
  end)

  it("refuses missing path parameters and bad values", function()
    assert.has_error(function() core.build_url("http://h", "/u/{userId}", {}) end)
    assert.has_error(function() core.build_url("http://h", "/u/{userId}", { userId = "" }) end)
    assert.has_error(function() core.build_url("http://h", "/u", nil, { a = { {} } }) end)
    assert.has_error(function() core.build_url("http://h", "/u", nil, { a = 0 / 0 }) end)
  end)
end)

describe("compiled path templates #hermetic", function()
  -- An operation's URL comes from its compiled template (the generator's
  -- pc_segment list): by handle it must be exactly what the template text
  -- gives, for every operation; and the prepared calls' fill_url must say
  -- exactly what build_url says, and refuse (nil, never a raise) whatever
  -- build_url refuses.
  local OPS = core.operations()
  local one, two = OPS.get_user_routingskills, OPS.delete_user_routingskill
  local values = { "47d05bf2-7df8-4e03-ada2-2addb2574d2b", "..", ".", "...", "a/b?c#d", "../../oauth/token",
    "%00", "é ü", "~-._", ("x"):rep(1024), "a\r\nX-Injected: 1", "\255\254" }

  it("gives every operation's URL as its template text does", function()
    local n = 0
    for _, op in pairs(OPS) do
      local params = {}
      for name in op.path:gmatch("{(.-)}") do params[name] = "v-" .. name end
      assert.are.equal(core.build_url("http://h/", op.path, params, { q = 1 }),
        core.build_url("http://h/", op.handle, params, { q = 1 }), op.name)
      n = n + 1
    end
    assert.is_true(n >= 163)
  end)

  it("names a missing parameter by the contract's name", function()
    assert.has_error(function() core.build_url("http://h", two.handle, { userId = "u" }) end,
      "purecloud: path parameter 'skillId' is missing or empty")
    assert.has_error(function() core.build_url("http://h", two.handle) end, "purecloud: path parameter 'userId' is missing")
    assert.has_error(function() core.fill_url("http://h", "/api/v2/users/{userId}", "x") end)
    assert.has_error(function() core.build_url("http://h", 100000) end)
  end)

  it("fill_url fills in order, each value escaped as build_url escapes it", function()
    for _, a in ipairs(values) do
      assert.are.equal(core.build_url("http://h//", one.path, { userId = a }), core.fill_url("http://h//", one.handle, a))
      for _, b in ipairs(values) do
        assert.are.equal(core.build_url("http://h", two.path, { userId = a, skillId = b }),
          core.fill_url("http://h", two.handle, a, b))
      end
    end
    assert.are.equal("http://h/api/v2/users/A/routingskills/B", core.fill_url("http://h", two.handle, "A", "B"))
    assert.are.equal("http://h/api/v2/users/me", core.fill_url("http://h/", OPS.get_users_me.handle))
  end)

  it("fill_url answers nil for every value build_url refuses", function()
    for _, bad in ipairs({ "", "a\0b", ("x"):rep(1025), 1.5, 0 / 0, true, {} }) do
      assert.has_error(function() core.build_url("http://h", one.handle, { userId = bad }) end)
      assert.is_nil(core.fill_url("http://h", one.handle, bad))
      assert.is_nil(core.fill_url("http://h", two.handle, "ok", bad))
    end
    assert.is_nil(core.fill_url("http://h", two.handle, "only one"))
    assert.is_nil(core.fill_url("http://h\0", one.handle, "x"))
  end)
end)

describe("core.interpret #hermetic", function()
  it("decodes JSON, drops nulls in objects and keeps integers integral", function()
    local v = core.interpret{ status = 200, headers = {}, body = '{"a":null,"v":3,"f":2.5,"l":[1,null]}' }
    assert.is_nil(v.a)
    if math.type then assert.are.equal(math.type(v.v), "integer") else assert.are.equal(3, v.v) end
    assert.are.equal(2.5, v.f)
    assert.are.equal(core.null, v.l[2])
  end)

  it("answers true for an empty 2xx and a Lua string for a JSON string", function()
    assert.is_true(core.interpret{ status = 202, headers = {}, body = "" })
    assert.are.equal("deleted", core.interpret{ status = 200, headers = {}, body = '"deleted"' })
  end)

  it("builds an api error object from an ErrorBody", function()
    local v, err = core.interpret{ status = 404, headers = { ["inin-correlation-id"] = "hdr" },
      body = '{"status":404,"code":"not.found","message":"The user does not exist","contextId":"ctx",'
          .. '"messageWithParams":"x {a}","messageParams":{"a":"b"},"details":[{"errorCode":"e"}],"errors":[]}' }
    assert.is_nil(v)
    assert.are.same({ "api", 404, "not.found", "The user does not exist", "ctx", "x {a}", "b", "e" },
      { err.kind, err.status, err.code, err.message, err.context_id, err.message_with_params,
        err.message_params.a, err.details[1].errorCode })
    assert.are.equal("purecloud: 404 not.found: The user does not exist (context ctx)", tostring(err))
    assert.is_true(core.is_error(err))
  end)

  it("falls back to the correlation header and reads Retry-After", function()
    local _, err = core.interpret{ status = 429, headers = { ["inin-correlation-id"] = "c1", ["retry-after"] = "3" },
      body = '{"code":"too.many.requests.retry.after","message":"slow down"}' }
    assert.are.equal("c1", err.context_id)
    assert.are.equal(3, err.retry_after)
  end)

  it("reports malformed JSON on a 2xx as kind decode, keeping the status", function()
    local v, err = core.interpret{ status = 200, headers = {}, body = '{"a":' }
    assert.is_nil(v)
    assert.are.equal("decode", err.kind)
    assert.are.equal(200, err.status)
    assert.are.equal('{"a":', err.body)
  end)

  it("reads OAuth-shaped errors", function()
    local _, err = core.interpret{ status = 401, headers = {},
      body = '{"error":"invalid_client","description":"authentication failed","error_description":"authentication failed"}' }
    assert.are.equal("auth", err.kind)
    assert.are.equal("invalid_client", err.code)
  end)
end)

describe("digests #hermetic", function()
  local function hex(s) return (s:gsub(".", function(c) return ("%02x"):format(c:byte()) end)) end

  it("computes SHA-256 test vectors", function()
    assert.are.equal("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", hex(core.sha256("")))
    assert.are.equal("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", hex(core.sha256("abc")))
    assert.are.equal("248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
      hex(core.sha256("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")))
  end)

  it("encodes base64 and base64url", function()
    assert.are.same({ "", "Zg==", "Zm8=", "Zm9v", "+/8=" },
      { core.base64(""), core.base64("f"), core.base64("fo"), core.base64("foo"), core.base64("\251\255") })
    assert.are.equal("-_8", core.base64("\251\255", true))
  end)

  it("makes PKCE pairs whose challenge is the S256 of the verifier (RFC 7636 appendix B)", function()
    assert.are.equal("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
      core.base64(core.sha256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"), true))
    local v, c = core.pkce()
    assert.are.equal(43, #v)
    assert.are.equal(core.base64(core.sha256(v), true), c)
    assert.are_not.equal(v, (core.pkce()))
  end)
end)

describe("the auth state #hermetic", function()
  it("keeps the secrets and answers without a policy: the token, its expiry, its header", function()
    local a = core.auth_new{ client_id = "id", client_secret = "s3cr3t" }
    assert.is_nil(a:token())
    assert.is_nil(a:header())
    local form, basic = a:grant_request("client_credentials")
    assert.are.equal("grant_type=client_credentials", form)
    assert.are.equal("Basic " .. core.base64("id:s3cr3t"), basic)
    local gen = a:accept({ access_token = "tok", expires_in = 100 }, 5)
    assert.are.same({ gen, 105 }, { a:token() })
    assert.are.same({ "Bearer tok", gen }, { a:header() })
    -- No lifetime said: the expiry is not known (0); when to renew is token.lua's.
    local gen2 = a:accept({ access_token = "tok2" }, 5)
    assert.are.same({ gen2, 0 }, { a:token() })
    assert.is_false(a:invalidate(gen))
    assert.is_true(a:invalidate(gen2))
    assert.is_nil(a:token())
    assert.is_nil(a.current)
    assert.is_nil(a.can_refresh)
  end)

  it("never shows secrets in tostring", function()
    local a = core.auth_new{ client_id = "id", client_secret = "s3cr3t", refresh_token = "R-9f2x" }
    a:accept({ access_token = "A-77qz", refresh_token = "R-8k1y" }, 0)
    local s = tostring(a)
    for _, secret in ipairs({ "s3cr3t", "R-9f2x", "A-77qz", "R-8k1y" }) do assert.is_nil(s:find(secret, 1, true)) end
  end)

  it("rotates refresh tokens", function()
    local a = core.auth_new{ client_id = "id", client_secret = "s", refresh_token = "r1" }
    assert.are.equal("grant_type=refresh_token&refresh_token=r1", (a:grant_request("refresh_token")))
    a:accept({ access_token = "x", refresh_token = "r2", expires_in = 10 }, 0)
    assert.are.equal("grant_type=refresh_token&refresh_token=r2", (a:grant_request("refresh_token")))
  end)

  it("never renews a fixed access token", function()
    local a = core.auth_new{ access_token = "fixed" }
    assert.are.equal("access_token", a:kind())
    assert.is_nil(require("purecloud.token").grant_for(a:kind()))
    assert.are.same({ "Bearer fixed", 0 }, { a:header(), select(2, a:token()) })
  end)
end)
