-- HTTP/2 through the libcurl transport: the emulator's --tls listener speaks
-- h2; a batch multiplexes on one connection, counted in the emulator's TLS
-- access log (emulator/ctl: logs/tls_access.log, one line per request with
-- nginx's $connection). Writes on streams a GOAWAY refuses are applied at
-- most once (the emulator's stats), never sent twice.
local emu = require "support.emulator"
local tls = require "support.tls_nginx"
local purecloud = require "purecloud"

local function dirname(p) return (p:gsub("/[^/]*$", "")) end

local entries = tls.access

describe("HTTP/2 (libcurl transport)", function()
  local url, https, ca, log_path

  lazy_setup(function()
    -- (emulator/ctl directly, without the sanitizer runtime: tls_nginx.CLEAN)
    local p = io.popen(tls.CLEAN .. "emulator/ctl start --port 0 --tls --latency-ms 50 --rate none 2>&1")
    local out = p:read("a")
    p:close()
    url = assert(out:match("(http://[^\n]+)\n?$"), out)
    https = assert(out:match("https_url=(%S+)"))
    ca = assert(out:match("ca_file=(%S+)"))
    log_path = dirname(ca) .. "/logs/tls_access.log"
  end)
  lazy_teardown(function()
    if url then os.execute(tls.CLEAN .. "emulator/ctl stop --url " .. url .. " >/dev/null 2>&1") end
  end)

  it("a batch at concurrency 32 goes over one HTTP/2 connection", function()
    local c = purecloud.new{ base_url = https, client_id = emu.client_id, client_secret = emu.client_secret,
                             ca_file = ca }
    local users = assert(c:request("GET", "/api/v2/users", { query = { pageSize = 64 } })).entities
    assert.are.equal(64, #users)
    local before = #entries(log_path)
    local calls = {}
    for i = 1, 64 do calls[i] = { "get_user", users[i].id } end
    local t0 = require("purecloud.core").now()
    local results, failed = c:batch(calls, { concurrency = 32 })
    local took = require("purecloud.core").now() - t0
    c:close()
    assert.are.equal(0, failed)
    assert.are.equal(64, #results)
    local conns, n = {}, 0
    local batch
    -- (nginx writes a request's log line after its response: wait for the last ones)
    for _ = 1, 40 do
      batch = {}
      for i, e in ipairs(entries(log_path)) do
        if i > before and e.uri:find("^/api/v2/users/") then batch[#batch + 1] = e end
      end
      if #batch >= 64 then break end
      require("purecloud.core").sleep(0.05)
    end
    assert.are.equal(64, #batch)
    for _, e in ipairs(batch) do
      assert.are.equal("HTTP/2.0", e.protocol)
      if not conns[e.connection] then conns[e.connection], n = true, n + 1 end
    end
    assert.are.equal(1, n)
    -- 64 calls of 50 ms each, 32 at a time: two rounds, not 64 in a row.
    assert.is_true(took < 1.5, ("took %.2f s"):format(took))
  end)

  it("writes on streams refused past a GOAWAY are applied at most once and never sent twice", function()
    -- A front nginx that ends each HTTP/2 connection after 5 requests
    -- (keepalive_requests: GOAWAY with the last stream it took; the streams
    -- above it were not processed) in front of the emulator's plain port.
    local dir = tls.tmpdir()
    local certs = tls.certs(dir, "unused")
    local front = tls.start(([[
    listen 127.0.0.1:@PORT@ ssl http2;
    ssl_certificate %s;
    ssl_certificate_key %s;
    keepalive_requests 5;
    location / { proxy_pass %s; proxy_set_header Host $host; }
]]):format(certs.server_cert, certs.server_key, url))
    local ok, why = pcall(function()
      local c = purecloud.new{ base_url = "https://127.0.0.1:" .. front.port, client_id = emu.client_id,
                               client_secret = emu.client_secret, ca_file = certs.ca }
      local admin = require("purecloud.testing").attach{ url = url }
      local before = admin:stats().applied["POST /api/v2/users"] or 0
      local calls, tag = {}, tostring(os.time())
      for i = 1, 40 do
        calls[i] = { "post_users", { name = "Goaway " .. i, email = ("goaway%d.%s@example.com"):format(i, tag),
                                     password = "p4ss!Word-" .. i } }
      end
      local results = c:batch(calls, { concurrency = 32 })
      c:close()
      local okn = 0
      for _, r in ipairs(results) do
        if r.ok then
          okn = okn + 1
        else
          -- Rule 6 of purecloud.loop: a write whose answer never came is "unknown", not retried.
          assert.are.equal("unknown", r.err.outcome)
          assert.are.equal("transport", r.err.kind)
        end
      end
      assert.is_true(okn >= 5)
      -- Each create reached the emulator at most once, and only the answered ones were applied.
      assert.are.equal(okn, (admin:stats().applied["POST /api/v2/users"] or 0) - before)
      local arrived
      for _ = 1, 40 do
        arrived = {}
        for _, e in ipairs(front.access()) do
          if e.method == "POST" and e.uri == "/api/v2/users" then arrived[#arrived + 1] = e end
        end
        if #arrived >= okn then break end
        require("purecloud.core").sleep(0.05)
      end
      assert.are.equal(okn, #arrived)
      -- More than one connection was used: the GOAWAYs happened.
      local conns, n = {}, 0
      for _, e in ipairs(arrived) do
        if not conns[e.connection] then conns[e.connection], n = true, n + 1 end
        assert.is_true(e.requests <= 5)
      end
      assert.is_true(n > 1)
    end)
    front.stop()
    tls.remove(dir)
    if not ok then error(why, 0) end
  end)
end)
