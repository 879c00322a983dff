-- Spec locations loaded inside the nginx that nginx_harness.lua starts (not a
-- spec itself): measurements of the library inside nginx, and a small hostile
-- HTTP server writing raw bytes to test the cosocket transport against.
-- luacheck: globals ngx jit
local cjson = require "cjson.safe"
local purecloud = require "purecloud"
local ngx_io = require "purecloud.transport.ngx"

local M = {}

local function reply(t)
  ngx.header["Content-Type"] = "application/json"
  ngx.say(cjson.encode(t))
end

local function arg(name, default)
  local v = ngx.var["arg_" .. name]
  if v == nil then return default end
  return tonumber(v) or ngx.unescape_uri(v)
end

local function now()
  ngx.update_time()
  return ngx.now()
end

-- A client of its own over the cosocket transport; `wrap(transport)` may
-- wrap the transport (to count calls in flight).
local function new_client(wrap)
  local io = ngx_io.new()
  local transport = io.transport
  if wrap then transport = wrap(transport) end
  local base = os.getenv("PURECLOUD_BASE_URL")
  local c = purecloud.new{ base_url = base, login_url = base, client_id = "emulator-client",
    client_secret = "emulator-secret", transport = transport, sleep = io.sleep, now = io.now, log = "none",
    token_store = require("purecloud.token_store").ngx_shared("purecloud_tokens") }
  if wrap then require("purecloud.scheduler").register_threads(transport, io.threads) end
  return c
end

-- The recipe's per-worker client.
local function app_client() return require("purecloud_app").client() end

function M.basic()
  local c = app_client()
  local n = 0
  for _ in c.users.each_user{ page_size = 50, concurrency = 4 } do n = n + 1 end
  local me, merr = c.users.get_user_id("no-such-user")
  local results, failed = c:batch({ { "get_users" }, { "get_user_id", "no-such-user" } }, { concurrency = 2 })
  reply{ n = n, me = me ~= nil, status = merr and merr.status, results = #results, failed = failed,
         core = package.searchpath("purecloud.core", package.cpath), jit = jit and jit.version }
end

-- A write whose answer is lost, through the recipe's client (cosocket
-- transport, keep-alive pool): a GET first so the POST/PATCH goes on a
-- reused connection; the spec has armed the emulator's apply_then_close.
function M.write_once()
  local c = app_client()
  assert(c.users.get_users{ page_size = 1 })
  local v, err
  if arg("method", "POST") == "POST" then
    v, err = c.users.post_users{ name = "Ngx Once", email = arg("email", "ngx-once@example.com"), password = "x-Secret-1" }
  else
    local u = assert(c.users.get_user_id(arg("id")))
    v, err = c.users.patch_user_id(u.id, { name = "Ngx Renamed", version = u.version })
  end
  reply{ ok = v ~= nil, kind = err and err.kind, outcome = err and err.outcome, sent = err and err.sent,
         text = err and tostring(err) }
end

-- n get_user_id calls with concurrency c, timed inside nginx.
function M.batch()
  local c = app_client()
  local n, conc = arg("n", 20), arg("c", 10)
  local page = assert(c.users.get_users{ page_size = n })
  local calls = {}
  for i, u in ipairs(page.entities) do calls[i] = { "get_user_id", u.id } end
  local t0 = now()
  local results, failed = c:batch(calls, { concurrency = conc })
  local ms = (now() - t0) * 1000
  local ordered = #results == #calls
  for i, r in ipairs(results) do
    if not r.ok or r.value.id ~= page.entities[i].id then ordered = false end
  end
  reply{ ms = ms, failed = failed, n = #results, ordered = ordered }
end

-- each_user with page size p and concurrency c, timed inside nginx.
function M.each()
  local c = app_client()
  local t0 = now()
  local n, last, sorted = 0, nil, true
  for u in c.users.each_user{ page_size = arg("p", 100), concurrency = arg("c", 8) } do
    n = n + 1
    if last and u.name < last then sorted = false end
    last = u.name
  end
  reply{ ms = (now() - t0) * 1000, n = n, sorted = sorted }
end

-- A client whose transport counts the calls in flight: returns the client
-- and a function that gives the most at once since its last call (and
-- starts counting again).
local function counting_client()
  local inflight, peak = 0, 0
  local c = new_client(function(t)
    return function(req)
      inflight = inflight + 1
      if inflight > peak then peak = inflight end
      local res, err = t(req)
      inflight = inflight - 1
      return res, err
    end
  end)
  return c, function()
    local p = peak
    peak = 0
    return p
  end
end

-- The most calls in flight at once, for a batch and for a pager.
function M.bounds()
  local c, peak_since = counting_client()
  local conc = arg("c", 3)
  assert(c:token())
  local page = assert(c.users.get_users{ page_size = 12 })
  local calls = {}
  for i, u in ipairs(page.entities) do calls[i] = { "get_user_id", u.id } end
  peak_since()
  local _, failed = c:batch(calls, { concurrency = conc })
  local batch_peak = peak_since()
  local n = 0
  for _ in c.users.each_user{ page_size = 5, concurrency = conc } do n = n + 1 end
  reply{ batch_peak = batch_peak, batch_failed = failed, pager_peak = peak_since(), n = n }
end

-- Batches and pagers nested over light threads: a batch inside a
-- prefetching pager, a pager inside on_result, a pager and a batch inside a
-- batch call; the most calls in flight at once for each.
-- I/O in on_result while the batch's other calls are in flight.
function M.on_result_io()
  local c = new_client()
  assert(c:token())
  local mode = arg("mode", "plain")
  local got = {}
  local ok, err = pcall(c.batch, c, { { "get_users" }, { "get_users" }, { "get_users" } }, { concurrency = 3,
    on_result = function(i)
      if mode == "plain" then
        local r = c.users.get_users{ page_size = 2 }
        got[i] = r and #r.entities or -1
      else
        local n = 0
        for _ in c.users.each_user{ page_size = 25, concurrency = 4 } do n = n + 1 end
        got[i] = n
      end
    end })
  reply{ ok = ok, err = not ok and tostring(err) or nil, got = got }
end

function M.compose()
  local c, peak_since = counting_client()
  assert(c:token())
  local out = { pages = 0, seen = 0, failed = 0 }
  peak_since()
  for page in c.users.user_pages{ page_size = 20, concurrency = 4 } do
    out.pages = out.pages + 1
    local calls = {}
    for i, u in ipairs(page.entities) do calls[i] = { "get_user_id", u.id } end
    local results, failed = c:batch(calls, { concurrency = 4 })
    out.seen, out.failed = out.seen + #results, out.failed + failed
  end
  out.pager_batch_peak = peak_since()
  local listed = {}
  local okb, results = pcall(c.batch, c, { { "get_users" }, { "get_users" }, { "get_users" } }, { concurrency = 3,
    on_result = function(i)
      local n = 0
      for _ in c.users.each_user{ page_size = 25, concurrency = 4 } do n = n + 1 end
      listed[i] = n
    end })
  if not okb then return reply{ error = tostring(results) } end
  out.on_result_listed, out.on_result_results = listed, #results
  peak_since()
  local calls = {}
  for k = 1, 3 do
    calls[k] = function()
      local n = 0
      for _ in c.users.each_user{ page_size = 10, concurrency = 4 } do n = n + 1 end
      local r, f = c:batch({ { "get_users" }, { "get_users" } }, { concurrency = 2 })
      assert(#r == 2 and f == 0)
      return n
    end
  end
  local nested, nfailed = c:batch(calls, { concurrency = 3 })
  out.nested_failed, out.nested_peak = nfailed, peak_since()
  out.nested = {}
  for k, r in ipairs(nested) do out.nested[k] = r.value or tostring(r.err) end
  reply(out)
end

-- An error on a page mid-way raises in the for form.
function M.raise()
  local c = app_client()
  local n = 0
  local ok, err = pcall(function()
    for _ in c.users.each_user{ page_size = 10, concurrency = 4 } do n = n + 1 end
  end)
  reply{ raised = not ok, status = type(err) == "table" and err.status or nil, n = n,
         message = tostring(err) }
end

-- Called from init_worker_by_lua: auto() must say "no cosockets here".
function M.init_worker()
  ngx.shared.probe:set("auto_in_init_worker", ngx_io.auto() == nil and "nil" or "io")
end

-- auto() by phase, and check_options.
function M.auto()
  local function msg(opts)
    local ok, e = pcall(ngx_io.check_options, opts)
    return ok and "ok" or tostring(e)
  end
  local io = ngx_io.auto()
  reply{ content = io ~= nil and type(io.transport) == "function", same = ngx_io.auto() == io,
         noverify = ngx_io.auto{ verify = false } ~= io,
         init_worker = ngx.shared.probe:get("auto_in_init_worker") or "unset",
         proxy = msg{ proxy = "http://p:3128" }, ca_path = msg{ ca_path = "/etc/ssl/certs" },
         ca_file = msg{ ca_file = "/x.pem" }, verify = msg{ verify = false } }
end

-- A client made without a transport inside a handler (safe by default: it
-- must not block the worker).
function M.default_client()
  local base = os.getenv("PURECLOUD_BASE_URL")
  local c = purecloud.new{ base_url = base, login_url = base, client_id = "emulator-client",
    client_secret = "emulator-secret", log = "none",
    token_store = require("purecloud.token_store").ngx_shared("purecloud_tokens") }
  local t0 = now()
  local u, err = c.users.get_users{ page_size = 1 }
  reply{ ok = u ~= nil, err = err and tostring(err), ms = (now() - t0) * 1000 }
end

local function err_table(res, err, t0)
  return { ok = res ~= nil, status = res and res.status, body = res and res.body,
           bodylen = res and #res.body, headers = res and res.headers,
           kind = err and err.kind, message = err and err.message, sent = err and err.sent,
           outcome = err and err.outcome, oversize = err and err.reason == "too_large", elapsed = now() - t0 }
end

-- One transport call: /t/probe?path=/hostile/raw/x&method=GET&once=1&timeout=1&max_body=N&hname=&hvalue=
-- &first=/hostile/ok (a GET sent first, so the call reuses its connection).
function M.probe()
  local io = ngx_io.new()
  local base = "http://127.0.0.1:" .. ngx.var.server_port
  local first = arg("first")
  if first then
    local res, err = io.transport{ method = "GET", url = base .. first, headers = {}, timeout = 5 }
    if not res then return reply{ first_failed = tostring(err) } end
  end
  local headers = { Accept = "application/json" }
  local hname = arg("hname")
  if hname then headers[hname] = arg("hvalue") end
  local method = arg("method", "GET")
  local safe -- once=1: the request is not safe (`safe = false`: never re-sent)
  if arg("once") == 1 then safe = false end
  local t0 = now()
  local res, err = io.transport{ method = method, url = base .. arg("path"), headers = headers,
    body = (method == "POST" or method == "PATCH") and "{}" or nil, timeout = arg("timeout", 5),
    max_body = arg("max_body"), safe = safe }
  reply(err_table(res, err, t0))
end

-- A whole client against the hostile server, with an option that must not
-- inject a header: /t/client_probe?option=user_agent|access_token&value=…
function M.client_probe()
  local io = ngx_io.new()
  local base = "http://127.0.0.1:" .. ngx.var.server_port .. "/hostile"
  local opts = { base_url = base, login_url = base, transport = io.transport, sleep = io.sleep, now = io.now,
                 log = "none", retry = false, access_token = "tok" }
  opts[arg("option")] = arg("value")
  local ok, c = pcall(purecloud.new, opts)
  if not ok then return reply{ raised = tostring(c) } end
  local res, err = c:request("GET", "/count")
  reply{ ok = res ~= nil, err = err and tostring(err), sent = err and err.sent }
end

-- Mutual TLS over cosockets: a client of the default (auto) nginx transport
-- against an nginx that requires a client certificate, given the PEM files
-- (or none): /t/mtls?base=…&id=…&secret=…[&cert=…&key=…]
function M.mtls()
  local opts = { base_url = arg("base"), client_id = arg("id"), client_secret = arg("secret"), verify = false,
                 retry = false, log = "none", client_cert = arg("cert"), client_key = arg("key") }
  local ok, c = pcall(purecloud.new, opts)
  if not ok then return reply{ raised = tostring(c) } end
  local page, err = c:request("GET", "/api/v2/users", { query = { pageSize = 2 } })
  reply{ ok = page ~= nil, users = page and #page.entities, status = err and err.status,
         err = err and tostring(err) }
end

-- Ordinary locations of the hostile server.
function M.plain(name)
  local d = ngx.shared.probe
  if name == "reset" then d:flush_all() return ngx.say("ok") end
  if name == "count" then
    d:incr("count", 1, 0)
    for k in pairs(ngx.req.get_headers()) do
      if k:lower():find("inject") then d:incr("injected", 1, 0) end
    end
    return ngx.say(cjson.encode{ count = d:get("count"), injected = d:get("injected") or 0 })
  end
  if name == "ok" then return ngx.say('{"ok":true}') end
  if name == "hits" then
    return ngx.say(cjson.encode{ drop = d:get("drop") or 0, dropfirst = d:get("dropfirst") or 0 })
  end
  if name == "host" then return ngx.print(ngx.var.http_host) end
  local hits = d:incr(name, 1, 0)
  if name == "drop" or (name == "dropfirst" and hits == 1) then
    ngx.req.read_body()
    return ngx.exit(444) -- close the connection, no response byte
  end
  ngx.say(cjson.encode{ hits = hits })
end

-- Raw responses: the hostile server proper.
local RAW = {}
function RAW.endless_headers(s)
  s:send("HTTP/1.1 200 OK\r\n")
  for i = 1, 200000 do
    if not s:send("X-Endless-" .. i .. ": yes\r\n") then return end
  end
end
function RAW.long_header(s)
  s:send("HTTP/1.1 200 OK\r\nX-Long: " .. ("a"):rep(200000) .. "\r\n\r\n")
end
function RAW.trickle(s)
  s:send("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n")
  for _ = 1, 100 do
    if not s:send("x") then return end
    ngx.sleep(0.1)
  end
end
function RAW.trickle_headers(s)
  local head = "HTTP/1.1 200 OK\r\nX-Slow: " .. ("s"):rep(100) .. "\r\n\r\n"
  for i = 1, #head do
    if not s:send(head:sub(i, i)) then return end
    ngx.sleep(0.1)
  end
end
function RAW.huge_length(s)
  s:send("HTTP/1.1 200 OK\r\nContent-Length: 200000000\r\n\r\n")
  s:send(("x"):rep(65536))
  ngx.sleep(2)
end
function RAW.huge_chunked(s)
  s:send("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
  local chunk = ("10000\r\n") .. ("y"):rep(65536) .. "\r\n"
  for _ = 1, 3200 do -- 200 MiB
    if not s:send(chunk) then return end
  end
  s:send("0\r\n\r\n")
end
function RAW.huge_close(s)
  s:send("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n")
  local block = ("z"):rep(65536)
  for _ = 1, 3200 do
    if not s:send(block) then return end
  end
end
function RAW.no_response(s)
  s:close()
end

-- The framing corpus (spec/support/framing_corpus.lua): /hostile/raw/<case>
-- writes the case's bytes; b2b_<case> adds an unasked-for response in the
-- same write, late_<case> sends it 0.1 s after, keep_<case> keeps the
-- connection and answers the next request on it with that response (as a
-- server that framed its answer otherwise would). Each records how many
-- requests its connection has carried (2: the connection was reused).
local corpus = require "support.framing_corpus"
local function corpus_writer(case)
  local how, name = case:match("^(%w+)_(.+)$")
  if not (how == "b2b" or how == "late" or how == "keep") then how, name = nil, case end
  local c = corpus.by_name[name]
  local wire = how and corpus.back_to_back[name] or (c and c.wire)
  if not wire then return nil end
  return function(s)
    ngx.shared.probe:set("conn_requests", tonumber(ngx.var.connection_requests))
    if how == "b2b" then return s:send(wire .. corpus.SMUGGLED) end
    s:send(wire)
    if how == "late" then
      ngx.sleep(0.1)
      s:send(corpus.SMUGGLED)
      ngx.sleep(0.5)
    elseif how == "keep" then
      s:settimeout(2000)
      repeat local line = s:receive("*l") until not line or line == ""
      s:send(corpus.SMUGGLED)
      ngx.sleep(0.2)
    end
  end
end

function M.raw(case)
  local fn = RAW[case] or corpus_writer(case)
  if not fn then return ngx.exit(404) end
  local s = assert(ngx.req.socket(true))
  fn(s)
end

-- Corpus cases through the cosocket transport, each I/O on a keep-alive pool
-- of its own: /t/framing?mode=fresh|reused[&cases=a,b][&pause=s] (reused: a
-- GET first, so the case's request goes on that connection). After each
-- case a GET of /hostile/ok through the same pool shows what answers next.
function M.framing()
  local base = "http://127.0.0.1:" .. ngx.var.server_port
  local mode = arg("mode", "fresh")
  local names = {}
  if arg("cases") then
    for n in tostring(arg("cases")):gmatch("[^,]+") do names[#names + 1] = n end
  else
    for _, c in ipairs(corpus.cases) do names[#names + 1] = c.name end
  end
  local out = {}
  for i, name in ipairs(names) do
    local c = corpus.by_name[name] or {}
    local io = ngx_io.new{ pool = ("%s:%d:%s:%s"):format(mode, i, name, tostring(now())) }
    local first_failed
    if mode == "reused" then
      local res, err = io.transport{ method = "GET", url = base .. "/hostile/ok", headers = {}, timeout = 3 }
      first_failed = not res and tostring(err) or nil
    end
    ngx.shared.probe:delete("conn_requests")
    local t0 = now()
    local res, err = io.transport{ method = c.method or "GET", url = base .. "/hostile/raw/" .. name,
                                   headers = {}, timeout = 3 }
    local r = err_table(res, err, t0)
    r.name, r.reason, r.conn_requests = name, err and err.reason, ngx.shared.probe:get("conn_requests")
    r.text, r.first_failed = err and tostring(err), first_failed
    if arg("pause") then ngx.sleep(arg("pause")) end
    local nres, nerr = io.transport{ method = "GET", url = base .. "/hostile/ok", headers = {}, timeout = 3 }
    r.next_body, r.next_err = nres and nres.body, nerr and tostring(nerr)
    out[#out + 1] = r
  end
  reply(out)
end

return M
