-- Mutual TLS through the libcurl transport: an nginx that requires a client
-- certificate (ssl_verify_client on) in front of the emulator, with
-- certificates made by openssl in a temporary folder for this run.
local emu = require "support.emulator"
local tls = require "support.tls_nginx"
local purecloud = require "purecloud"

local PASSWORD = "pass phrase of the spec client key 7f3a"

describe("mutual TLS (libcurl transport)", function()
  local dir, certs, server, base

  lazy_setup(function()
    dir = tls.tmpdir()
    certs = tls.certs(dir, PASSWORD)
    server = tls.start(([[
    listen 127.0.0.1:@PORT@ ssl;
    ssl_certificate %s;
    ssl_certificate_key %s;
    ssl_client_certificate %s;
    ssl_verify_client on;
    location / { proxy_pass %s; proxy_set_header Host $host; }
]]):format(certs.server_cert, certs.server_key, certs.ca, emu.url))
    base = "https://127.0.0.1:" .. server.port
  end)

  lazy_teardown(function()
    if server then server.stop() end
    tls.remove(dir)
  end)

  local function client(extra)
    local o = { base_url = base, client_id = emu.client_id, client_secret = emu.client_secret, ca_file = certs.ca,
                retry = false }
    for k, v in pairs(extra or {}) do o[k] = v end
    return purecloud.new(o)
  end

  it("without a client certificate the server refuses the call (its 400), named in the error", function()
    local c = client()
    local value, err = c:request("GET", "/api/v2/users", { query = { pageSize = 1 } })
    c:close()
    assert.is_nil(value)
    -- The token request is the first to meet the gateway: nginx answers 400
    -- "No required SSL certificate was sent".
    assert.are.equal(400, err.status)
    assert.matches("login host", err.message, 1, true)
  end)

  it("with the certificate and its key (clear PEM) the token grant and the call go through", function()
    local c = client{ client_cert = certs.client_cert, client_key = certs.client_key }
    local page = assert(c:request("GET", "/api/v2/users", { query = { pageSize = 2 } }))
    c:close()
    assert.are.equal(2, #page.entities)
    -- Both requests (token, users) passed the certificate check. (nginx
    -- writes a request's log line after its answer: wait for both lines.)
    local seen
    local deadline = os.time() + 5
    repeat
      seen = {}
      for _, e in ipairs(server.access()) do seen[#seen + 1] = e.status end
    until (#seen >= 3 and seen[#seen - 1] == 200 and seen[#seen] == 200) or os.time() > deadline
    assert.are.same({ 400, 200, 200 }, { seen[1], seen[#seen - 1], seen[#seen] })
  end)

  it("with an encrypted key and its password", function()
    local c = client{ client_cert = certs.client_cert, client_key = certs.client_key_encrypted,
                      client_key_password = PASSWORD }
    assert.is_nil(tostring(c):find(PASSWORD, 1, true))
    local page = assert(c:request("GET", "/api/v2/users", { query = { pageSize = 1 } }))
    c:close()
    assert.are.equal(1, #page.entities)
  end)

  it("a wrong key password is a clear transport error that does not hold the password", function()
    local wrong = "wrong pass phrase 0c9d1e"
    local c = client{ client_cert = certs.client_cert, client_key = certs.client_key_encrypted,
                      client_key_password = wrong }
    local value, err = c:request("GET", "/api/v2/users", { query = { pageSize = 1 } })
    c:close()
    assert.is_nil(value)
    assert.are.equal("transport", err.kind)
    assert.are.equal("not_sent", err.outcome)
    assert.matches("private key", err.message, 1, true)
    for _, text in ipairs({ err.message, tostring(err) }) do
      assert.is_nil(text:find(wrong, 1, true))
      assert.is_nil(text:find(PASSWORD, 1, true))
    end
  end)

  it("the key password is one of the secrets every error is scrubbed of, while the handle lives", function()
    local core = require "purecloud.core"
    local h = require("purecloud.transport.curl").new{ client_cert = certs.client_cert,
      client_key = certs.client_key_encrypted, client_key_password = PASSWORD }
    assert.is_nil(tostring(h):find(PASSWORD, 1, true))
    local e = core.error{ kind = "transport", message = "a library quoted " .. PASSWORD .. " here" }
    assert.are.equal("a library quoted [REDACTED] here", e.message)
    assert.is_nil(tostring(e):find(PASSWORD, 1, true))
    h:close()
  end)

  it("a certificate of another CA is refused by the server", function()
    local c = client{ client_cert = certs.other_cert, client_key = certs.other_key }
    local value, err = c:request("GET", "/api/v2/users", { query = { pageSize = 1 } })
    c:close()
    assert.is_nil(value)
    assert.are.equal(400, err.status)
  end)

  it("the nginx transport refuses a key pass phrase, and a certificate where it cannot set one", function()
    local ngx_transport = require "purecloud.transport.ngx"
    local ok, msg = pcall(ngx_transport.check_options, { client_cert = "/x.pem", client_key_password = PASSWORD })
    assert.is_false(ok)
    assert.matches("option 'client_key_password' is not supported by the nginx transport", msg, 1, true)
    assert.matches("lua_ssl_password_file", msg, 1, true)
    assert.is_nil(msg:find(PASSWORD, 1, true))
    -- (outside nginx: no tcpsock:setclientcert)
    ok, msg = pcall(ngx_transport.check_options, { client_cert = "/x.pem" })
    assert.is_false(ok)
    assert.matches("needs tcpsock:setclientcert", msg, 1, true)
    assert.matches("lua_ssl_certificate and lua_ssl_certificate_key", msg, 1, true)
    ok, msg = pcall(ngx_transport.check_options, { client_key = "/x.pem" })
    assert.is_false(ok)
    assert.matches("option 'client_key' needs 'client_cert'", msg, 1, true)
  end)

  describe("inside nginx (cosockets, tcpsock:setclientcert)", function()
    local harness = require "embedding.nginx_harness"
    local srv
    lazy_setup(function() srv = harness.start{ workers = 1 } end)
    lazy_teardown(function() if srv then srv.stop() end end)
    local function probe(extra)
      local q = { base = base, id = emu.client_id, secret = emu.client_secret }
      for k, v in pairs(extra or {}) do q[k] = v end
      local status, r = harness.get(srv.url, "/t/mtls", q)
      assert.are.equal(200, status, tostring(r))
      return r
    end

    it("with the certificate and its key the grant and the call go through; without, the server's 400", function()
      local r = probe{ cert = certs.client_cert, key = certs.client_key }
      assert.is_true(r.ok, r.err or r.raised)
      assert.are.equal(2, r.users)
      r = probe()
      assert.is_false(r.ok)
      assert.are.equal(400, r.status)
      -- A certificate of another CA: refused by the server, never pooled with the good one.
      r = probe{ cert = certs.other_cert, key = certs.other_key }
      assert.is_false(r.ok)
      assert.are.equal(400, r.status)
      r = probe{ cert = certs.client_cert, key = certs.client_key }
      assert.is_true(r.ok, r.err or r.raised)
    end)

    it("an unreadable or encrypted key is a clear error at new", function()
      local r = probe{ cert = certs.client_cert, key = dir .. "/missing.key" }
      assert.matches("option 'client_key': cannot read the PEM file", r.raised, 1, true)
      r = probe{ cert = certs.client_cert, key = certs.client_key_encrypted }
      assert.matches("option 'client_key': no PEM private key without a pass phrase", r.raised, 1, true)
    end)
  end)

  it("checks the options at new: readable files, a key needs its certificate", function()
    assert.has_error(function() client{ client_cert = dir .. "/missing.crt" } end)
    local ok, msg = pcall(client, { client_cert = dir .. "/missing.crt" })
    assert.is_false(ok)
    assert.matches("option 'client_cert': cannot read the PEM file", msg, 1, true)
    ok, msg = pcall(client, { client_key = certs.client_key })
    assert.is_false(ok)
    assert.matches("option 'client_key' needs 'client_cert'", msg, 1, true)
    ok, msg = pcall(client, { client_cert = certs.client_cert, client_key_password = 5 })
    assert.is_false(ok)
    assert.is_nil(msg:find(PASSWORD, 1, true))
  end)
end)
