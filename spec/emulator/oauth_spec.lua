-- The emulator's OAuth endpoints, over HTTP with the curl CLI.
local emu = require "support.emulator"
local cjson = require "cjson"

local BASIC = { emu.client_id, emu.client_secret }

local function token(form, basic)
  return emu.request("POST", "/oauth/token", { basic = basic or BASIC, form = form })
end

local function b64url_sha256(s)
  local core = require "purecloud.core"
  return core.base64(core.sha256(s), true)
end

local function authorize(q)
  local query = { client_id = emu.client_id, response_type = "code", redirect_uri = "http://localhost/cb",
                  state = "xyz" }
  for k, v in pairs(q or {}) do query[k] = v end
  local r = emu.request("GET", "/oauth/authorize", { query = query })
  return r, (r.headers.location or ""):match("code=([^&]+)")
end

describe("emulator OAuth", function()
  before_each(function() emu.reset{ users = 5 } end)

  it("issues client-credentials tokens on /oauth/token and the legacy /token", function()
    for _, path in ipairs({ "/oauth/token", "/token" }) do
      local r = emu.request("POST", path, { basic = BASIC, form = { grant_type = "client_credentials" } })
      assert.are.equal(200, r.status)
      assert.are.equal("bearer", r.json.token_type)
      assert.is_string(r.json.access_token)
      assert.are.equal(86400, r.json.expires_in)
      assert.is_nil(r.json.refresh_token)
    end
    assert.are.equal(2, emu.stats().tokens.client_credentials)
  end)

  it("answers invalid_client in the real shape", function()
    local r = token({ grant_type = "client_credentials" }, { emu.client_id, "wrong" })
    assert.are.equal(401, r.status)
    assert.are.same({ error = "invalid_client", description = "authentication failed",
                      error_description = "authentication failed" }, r.json)
    r = token({ grant_type = "password" })
    assert.are.equal(400, r.status)
    assert.are.equal("unsupported_grant_type", r.json.error)
    r = token({})
    assert.are.equal("invalid_request", r.json.error)
  end)

  it("runs the code grant with PKCE, single-use codes and refresh rotation", function()
    local users = emu.users(3)
    local verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
    local r, code = authorize{ user_id = users[2].id, code_challenge = b64url_sha256(verifier),
                               code_challenge_method = "S256" }
    assert.are.equal(302, r.status)
    assert.matches("state=xyz", r.headers.location)
    -- Wrong verifier fails, and burns the code.
    local bad = token{ grant_type = "authorization_code", code = code, redirect_uri = "http://localhost/cb",
                       code_verifier = "wrong" }
    assert.are.equal(400, bad.status)
    assert.are.equal("invalid_grant", bad.json.error)
    code = select(2, authorize{ user_id = users[2].id, code_challenge = b64url_sha256(verifier),
                                code_challenge_method = "S256" })
    local ok = token{ grant_type = "authorization_code", code = code, redirect_uri = "http://localhost/cb",
                      code_verifier = verifier }
    assert.are.equal(200, ok.status)
    assert.is_string(ok.json.refresh_token)
    local again = token{ grant_type = "authorization_code", code = code, redirect_uri = "http://localhost/cb",
                         code_verifier = verifier }
    assert.are.equal(400, again.status)
    local me = emu.request("GET", "/api/v2/users/me", { bearer = ok.json.access_token })
    assert.are.equal(200, me.status)
    assert.are.equal(users[2].id, me.json.id)
    -- Rotation: the old refresh token works once.
    local r1 = token{ grant_type = "refresh_token", refresh_token = ok.json.refresh_token }
    assert.are.equal(200, r1.status)
    assert.are_not.equal(ok.json.refresh_token, r1.json.refresh_token)
    local r2 = token{ grant_type = "refresh_token", refresh_token = ok.json.refresh_token }
    assert.are.equal(400, r2.status)
  end)

  it("accepts a SAML2 bearer assertion naming a user's email", function()
    local u = emu.users(1)[1]
    local xml = '<saml:Assertion><saml:Subject><saml:NameID Format="email">' .. u.email ..
                '</saml:NameID></saml:Subject></saml:Assertion>'
    local core = require "purecloud.core"
    local r = token{ grant_type = "urn:ietf:params:oauth:grant-type:saml2-bearer", orgName = "org",
                     assertion = core.base64(xml) }
    assert.are.equal(200, r.status)
    local me = emu.request("GET", "/api/v2/users/me", { bearer = r.json.access_token })
    assert.are.equal(u.id, me.json.id)
    r = token{ grant_type = "urn:ietf:params:oauth:grant-type:saml2-bearer", assertion = core.base64("<x/>") }
    assert.are.equal(400, r.status)
  end)

  it("checks bearer tokens: missing, unknown, expired and revoked", function()
    local r = emu.request("GET", "/api/v2/users")
    assert.are.equal(401, r.status)
    assert.are.equal("authentication.required", r.json.code)
    r = emu.request("GET", "/api/v2/users", { bearer = "nope" })
    assert.are.equal("bad.credentials", r.json.code)
    emu.config{ token_ttl = 1 }
    local t = token{ grant_type = "client_credentials" }.json.access_token
    assert.are.equal(200, emu.request("GET", "/api/v2/users", { bearer = t }).status)
    os.execute("sleep 1.2")
    assert.are.equal(401, emu.request("GET", "/api/v2/users", { bearer = t }).status)
    emu.config{ token_ttl = 3600 }
    t = token{ grant_type = "client_credentials" }.json.access_token
    emu.revoke()
    assert.are.equal(401, emu.request("GET", "/api/v2/users", { bearer = t }).status)
  end)

  it("answers not.a.user for /users/me with a client-credentials token", function()
    local r = emu.api("GET", "/api/v2/users/me")
    assert.are.equal(400, r.status)
    assert.are.equal("not.a.user", r.json.code)
    assert.are.equal("This request requires a user context. Client credentials cannot be used for requests to " ..
      "this resource.", r.json.message)
    assert.is_table(cjson.decode(r.body))
  end)
end)
