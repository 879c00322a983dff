-- The emulator's request pipeline: admin routes, OAuth, then for the API:
-- stats/log, faults, latency, bearer check, rate limit, body checks, route.
-- Routes validate before they mutate; as a second line, a write that raises
-- a Lua error is rolled back (see snapshot/rollback) and answered as a 500.
local json = require "emu.json"
local errors = require "emu.errors"
local state = require "emu.state"
local validate = require "emu.validate"

local M = {}

local routes = {} -- method -> array of { parts, handler, pattern }

--- Whether a route for exactly this method and pattern is registered.
function M.has(method, pattern)
  for _, r in ipairs(routes[method] or {}) do
    if r.pattern == pattern then return true end
  end
  return false
end

function M.add(method, pattern, handler)
  local parts = {}
  for seg in pattern:gmatch("[^/]+") do parts[#parts + 1] = seg end
  routes[method] = routes[method] or {}
  table.insert(routes[method], { parts = parts, handler = handler, pattern = pattern })
end

local function unescape(s)
  return (s:gsub("%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end))
end

-- Literal segments beat {params}: try routes with more literal segments first.
local function literal_count(r)
  local n = 0
  for _, p in ipairs(r.parts) do if not p:find("^{") then n = n + 1 end end
  return n
end

local function match(method, raw_path)
  local segs = {}
  for seg in raw_path:gmatch("[^/]+") do segs[#segs + 1] = seg end
  local known_path = false
  for m, list in pairs(routes) do
    for _, r in ipairs(list) do
      if #r.parts == #segs then
        local params, ok = {}, true
        for i, p in ipairs(r.parts) do
          local name = p:match("^{(.+)}$")
          if name then params[name] = unescape(segs[i]) elseif p ~= segs[i] then ok = false break end
        end
        if ok then
          if m == method then return r, params end
          known_path = true
        end
      end
    end
  end
  return nil, known_path
end

local function sort_routes()
  for _, list in pairs(routes) do
    table.sort(list, function(a, b) return literal_count(a) > literal_count(b) end)
  end
end

-- Today's service: 300 requests per 60 s per token (ctl --rate N/min
-- changes it, --rate none passes 0: an unlimited service).
M.DEFAULT_RATE_PER_MIN = 300

function M.init(opts)
  if opts.rate_per_min == nil then opts.rate_per_min = M.DEFAULT_RATE_PER_MIN end
  state.init(opts)
  require("emu.routes.oauth").register(M)
  require("emu.routes.users").register(M)
  require("emu.routes.search").register(M)
  require("emu.routes.subresources").register(M)
  require("emu.routes.analytics").register(M)
  -- today's surface (api/today/swagger.json): behaviours automation relies on,
  -- then a route for every other operation of the contract (generic, last:
  -- it registers only what no module above did)
  require("emu.routes.routing").register(M)
  require("emu.routes.lifecycle").register(M)
  require("emu.routes.authorization").register(M)
  require("emu.routes.groups").register(M)
  require("emu.routes.presence").register(M)
  require("emu.routes.orgchart").register(M)
  require("emu.routes.generic").register(M)
  require("emu.routes.admin").register(M)
  sort_routes()
end

local function send(status, body, headers, ctx, extra)
  ngx.status = status
  ngx.header["ININ-Correlation-Id"] = ctx
  for k, v in pairs(extra or {}) do ngx.header[k] = v end
  for k, v in pairs(headers or {}) do ngx.header[k] = v end
  if body == nil then return ngx.exit(status) end
  local text
  if type(body) == "string" and headers and headers["Content-Type"] then
    text = body
  else
    text = json.encode(body)
    ngx.header["Content-Type"] = "application/json"
  end
  ngx.header["Content-Length"] = #text
  ngx.print(text)
  return ngx.exit(ngx.HTTP_OK)
end
M.send = send

local function parse_query()
  local q = {}
  local args = ngx.req.get_uri_args(1000)
  for k, v in pairs(args) do
    if type(v) == "table" then
      local list = {}
      for i, x in ipairs(v) do list[i] = type(x) == "string" and x or "" end
      q[k] = list
    else
      q[k] = { type(v) == "string" and v or "" }
    end
  end
  return q
end

local WRITES = { POST = true, PUT = true, PATCH = true, DELETE = true }
-- POSTs that only read (not counted in stats.applied).
local QUERIES = { ["/api/v2/users/search"] = true, ["/api/v2/analytics/users/aggregates/query"] = true,
                  ["/api/v2/analytics/users/observations/query"] = true, ["/api/v2/groups/search"] = true,
                  ["/api/v2/analytics/users/details/query"] = true, ["/api/v2/analytics/users/activity/query"] = true,
                  ["/api/v2/users/search/conversation/target"] = true, ["/api/v2/users/search/queuemembers/manage"] = true,
                  ["/api/v2/users/search/teams/assign"] = true,
                  ["/api/v2/users/development/activities/aggregates/query"] = true }

-- Requests being answered now, and the most at once since the last reset:
-- counted up when a request arrives (M.handle) and down when it is recorded
-- (every answered request is, once), so specs can check a client's bound.
local function arrived()
  local s = state.stats
  s.in_flight = (s.in_flight or 0) + 1
  if s.in_flight > (s.max_in_flight or 0) then s.max_in_flight = s.in_flight end
end

local function record(req, status)
  local s = state.stats
  if s.in_flight and s.in_flight > 0 then s.in_flight = s.in_flight - 1 end
  local key = req.method .. " " .. (req.route or req.path)
  state.stats.requests[key] = (state.stats.requests[key] or 0) + 1
  if WRITES[req.method] and req.route and not QUERIES[req.route] and status >= 200 and status < 300 then
    -- Writes the emulator applied (answered 2xx), per route: proves how often a write took effect.
    local applied = state.stats.applied or {}
    state.stats.applied = applied
    applied[key] = (applied[key] or 0) + 1
  end
  local log = state.log
  if #log >= 10000 then table.remove(log, 1) end
  -- Every Accept-Encoding line the request carried, joined (a repeated
  -- header would otherwise show as its first line only).
  local ae = ngx.req.get_headers()["accept-encoding"]
  if type(ae) == "table" then ae = table.concat(ae, ", ") end
  log[#log + 1] = { method = req.method, path = req.path, query = req.args or "", status = status,
                    route = req.route or req.path, t = state.now(), accept_encoding = ae }
end
M.record = record

-- Faults: the first matching one whose skip is spent and count not.
local function fault_for(req)
  for _, f in ipairs(state.faults) do
    if (not f.method or f.method == req.method) and req.path:match("^" .. f.path .. "$") then
      local qok = true
      for k, v in pairs(f.query or {}) do
        local have = req.query[k]
        if not have or have[#have] ~= tostring(v) then qok = false break end
      end
      if qok then
        f.seen = f.seen + 1
        if f.seen > f.skip and f.fired < f.count then
          f.fired = f.fired + 1
          return f
        end
      end
    end
  end
end

local function apply_fault(f, req, ctx)
  state.stats.faults_fired = state.stats.faults_fired + 1
  if f.delay_ms and f.delay_ms > 0 then ngx.sleep(f.delay_ms / 1000) end
  local action = f.action
  if action == "reset" then
    record(req, 0)
    return ngx.exit(444)
  elseif action == "close" or action == "truncate" then
    record(req, 200)
    local body = '{"entities":[' .. string.rep('{"id":"x","name":"partial"},', 200)
    local sock = ngx.req.socket(true)
    sock:send("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " .. (#body + 5000)
      .. "\r\nININ-Correlation-Id: " .. ctx .. "\r\n\r\n" .. body)
    return ngx.exit(444)
  elseif action == "raw" then
    -- The fault's bytes as they are (any framing, broken on purpose), then close.
    record(req, 0)
    local sock = ngx.req.socket(true)
    sock:send(f.raw)
    return ngx.exit(444)
  elseif action == "malformed" then
    record(req, 200)
    return send(200, '{"entities": [ {"id": "x", ', { ["Content-Type"] = "application/json" }, ctx)
  elseif action == "large" then
    record(req, 200)
    local mb = f.size_mb or 1
    local item = '{"id":"' .. string.rep("a", 36) .. '","name":"' .. string.rep("n", 60) .. '"},'
    local n = math.floor(mb * 1048576 / #item)
    local text = '{"entities":[' .. string.rep(item, n) .. '{"id":"end"}],"total":' .. (n + 1) .. '}'
    return send(200, text, { ["Content-Type"] = "application/json" }, ctx)
  end
  local status = f.status or 500
  record(req, status)
  local headers = {}
  if f.retry_after then
    headers["Retry-After"] = tostring(f.retry_after)
  elseif status == 429 or status == 503 then
    headers["Retry-After"] = "1" -- as the message below says: a 429 always tells the client when to retry
  end
  if f.body then
    headers["Content-Type"] = "application/json"
    return send(status, f.body, headers, ctx)
  end
  local code = ({ [429] = "too.many.requests.retry.after", [500] = "internal.server.error",
                  [502] = "bad.gateway", [503] = "service.unavailable", [504] = "gateway.timeout",
                  [401] = "bad.credentials", [404] = "not.found", [409] = "conflict" })[status] or "injected.fault"
  local message = status == 429 and ("Rate limit exceeded the maximum. Retry the request in [" ..
    tostring(f.retry_after or 1) .. "] seconds") or ("Injected fault " .. status)
  return send(status, errors.body(errors.new(status, code, message), ctx), headers, ctx)
end

local function bearer(req)
  local h = ngx.var.http_authorization
  if not h or h == "" then
    errors.raise(401, "authentication.required", "No authentication bearer token specified in authorization header.")
  end
  local tok = h:match("^[Bb]earer%s+(%S+)$")
  local rec = tok and state.tokens[tok]
  if not rec or rec.revoked or rec.expires < state.now() then
    errors.raise(401, "bad.credentials", "Invalid login credentials.")
  end
  return rec
end

-- Rate limits as the service sends them: every API response carries
-- inin-ratelimit-count (requests used in the current window),
-- inin-ratelimit-allowed (the budget) and inin-ratelimit-reset (seconds until
-- the window resets), per access token, and the budget is enforced. The
-- default is today's service's, 300 requests per 60 s (M.DEFAULT_RATE_PER_MIN);
-- ctl --rate N/min, config rate_per_min or rate = {allowed, window_s} change
-- it. Only with the budget turned off (ctl --rate none, config rate = false:
-- what the project's own specs use, whose paced clients would otherwise wait
-- through the suite) is the emulator an unlimited service without the headers.
local function rate_config()
  local c = state.config
  if c.rate_allowed and c.rate_allowed > 0 then return c.rate_allowed, c.rate_window_s or 60, true end
  if c.rate_per_min and c.rate_per_min > 0 then return c.rate_per_min, 60, true end
  return nil
end

local function rate_limit(req)
  local allowed, window, enforce = rate_config()
  if not allowed then return end
  local key = req.auth.token or req.auth.client_id
  local now = state.now()
  local w = state.rate[key]
  if not w or now >= w.start + window or w.window ~= window then
    w = { start = now, n = 0, window = window }
    state.rate[key] = w
  end
  local reset = math.max(1, math.ceil(w.start + window - now))
  local refuse = enforce and w.n >= allowed
  if not refuse then w.n = w.n + 1 end
  req.rate_headers = { ["inin-ratelimit-count"] = tostring(w.n), ["inin-ratelimit-allowed"] = tostring(allowed),
                       ["inin-ratelimit-reset"] = tostring(reset) }
  if refuse then
    state.stats.rate_limited = state.stats.rate_limited + 1
    errors.raise(429, "too.many.requests",
      "Rate limit exceeded the maximum. Retry the request in [" .. reset .. "] seconds",
      { params = {}, headers = { ["Retry-After"] = tostring(reset) } })
  end
end

-- Rollback of a write whose handler raised a Lua error: the user it names
-- (record and sub-resources), and users it created, are put back as they were.
local function deepcopy(v, seen)
  if type(v) ~= "table" then return v end
  seen = seen or {}
  if seen[v] then return seen[v] end
  local c = {}
  seen[v] = c
  for k, x in pairs(v) do c[k] = deepcopy(x, seen) end
  return setmetatable(c, getmetatable(v))
end

local function restore_into(t, copy)
  for k in pairs(t) do t[k] = nil end
  for k, x in pairs(copy) do t[k] = x end
end

local function snapshot(req)
  local snap = { n = #state.users, live = state.live, next_index = state.next_index,
                 users_created = state.stats.users_created }
  local id = req.params and req.params.userId
  local u = id and state.by_id[id]
  if u then
    snap.user, snap.user_copy = u, deepcopy(u)
    local e = state.exts[id]
    snap.ext_id, snap.ext, snap.ext_copy = id, e, e and deepcopy(e)
  end
  return snap
end

local function rollback(snap)
  for i = #state.users, snap.n + 1, -1 do
    local u = state.users[i]
    state.users[i] = nil
    if state.by_id[u.id] == u then state.by_id[u.id] = nil end
    for k, x in pairs(state.by_email) do if x == u then state.by_email[k] = nil end end
    state.exts[u.id] = nil
  end
  local u = snap.user
  if u then
    for k, x in pairs(state.by_email) do if x == u then state.by_email[k] = nil end end
    restore_into(u, snap.user_copy)
    state.user_changed(u)
    if not state.user_deleted(u) then
      state.by_id[u.id] = u
      state.by_email[u.email:lower()] = u
    end
    if snap.ext then restore_into(snap.ext, snap.ext_copy) else state.exts[snap.ext_id] = nil end
  end
  state.live, state.next_index, state.stats.users_created = snap.live, snap.next_index, snap.users_created
  state.sorted = nil
end

local function read_body()
  ngx.req.read_body()
  local raw = ngx.req.get_body_data()
  if not raw then
    local file = ngx.req.get_body_file()
    if file then
      local fh = io.open(file, "rb")
      if fh then
        raw = fh:read("*a")
        fh:close()
      end
    end
  end
  return raw
end

local function api(req, ctx)
  local f = fault_for(req)
  local after -- a fault that acts once the route has run
  if f and (f.action == "apply_then_close" or f.action == "error_after_apply") then
    state.stats.faults_fired = state.stats.faults_fired + 1
    after = f.action
    if after == "apply_then_close" then req.close_after = true end
  elseif f and not f.status and not f.action then
    -- A pure delay: slow this request down, then answer it normally.
    state.stats.faults_fired = state.stats.faults_fired + 1
    ngx.sleep((f.delay_ms or 0) / 1000)
  elseif f then
    return apply_fault(f, req, ctx)
  end
  if state.config.latency_ms > 0 then ngx.sleep(state.config.latency_ms / 1000) end
  local route, params_or_known = match(req.method, req.path)
  if route then req.route = route.pattern end
  req.auth = bearer(req)
  rate_limit(req)
  if not route then
    if params_or_known then errors.raise(405, "method.not.allowed", "HTTP method not allowed for this resource") end
    errors.not_found("The requested resource was not found.")
  end
  req.params = params_or_known
  if req.method == "POST" or req.method == "PUT" or req.method == "PATCH" then
    local raw = read_body()
    if raw and raw ~= "" then
      local ctype = (ngx.var.http_content_type or ""):lower()
      if not ctype:find("^application/json") then
        errors.raise(415, "unsupported.media.type", "Unsupported Media Type - Unsupported or incorrect media type, such as an incorrect encoding.")
      end
      if not validate.utf8_ok(raw) then
        errors.bad_request("invalid.value", "The request body is not valid UTF-8.",
          { details = { { errorCode = "invalid.value", fieldName = "body" } } })
      end
      local body, why = json.decode(raw)
      if body == nil then
        errors.bad_request("bad.request", "The request could not be understood by the server due to malformed syntax: " .. tostring(why))
      end
      -- cjson decodes [] and {} alike: keep a top-level [] an array, so that it is refused where an object is required.
      if type(body) == "table" and next(body) == nil and raw:find("^%s*%[") then json.array(body) end
      validate.scan(body)
      req.body, req.raw_body = body, raw
    end
  end
  local snap = WRITES[req.method] and snapshot(req)
  local ok, status, body, headers = pcall(route.handler, req)
  if ok and after == "error_after_apply" then
    ok, status = false, "emulator: injected failure after the route applied its write (fault error_after_apply)"
  end
  if not ok then
    if snap and not errors.is(status) then
      rollback(snap)
      ngx.log(ngx.ERR, "emulator route ", req.method, " ", req.route, " failed; its write was rolled back: ",
        tostring(status))
    end
    error(status, 0)
  end
  record(req, status)
  if req.close_after then return ngx.exit(444) end
  return send(status, body, headers, ctx, req.rate_headers)
end

function M.handle()
  local ctx = state.context_id()
  -- The raw path: nginx's $uri is percent-decoded and dot-normalised, which
  -- would turn an encoded "..%2F..%2Foauth%2Ftoken" segment into another route.
  local raw = (ngx.var.request_uri or ngx.var.uri):gsub("%?.*$", "")
  local req = { method = ngx.req.get_method(), path = raw, args = ngx.var.args, correlation_id = ctx }
  req.query = parse_query()
  local admin = req.path:match("^/__emulator/") ~= nil
  if not admin then arrived() end
  local ok, err = pcall(function()
    if admin or req.path == "/oauth/token" or req.path == "/token" or req.path == "/oauth/authorize" then
      local route, params = match(req.method, req.path)
      if not route then errors.not_found() end
      req.params = params
      local status, body, headers = route.handler(req)
      if not admin then record(req, status) end
      return send(status, body, headers, ctx)
    end
    return api(req, ctx)
  end)
  if ok then return end
  if errors.is(err) then
    if not admin then record(req, err.status) end
    if req.close_after then return ngx.exit(444) end
    return send(err.status, errors.body(err, ctx), err.headers, ctx, req.rate_headers)
  end
  ngx.log(ngx.ERR, "emulator handler failed: ", tostring(err))
  record(req, 500)
  if req.close_after then return ngx.exit(444) end
  return send(500, errors.body(errors.new(500, "internal.server.error",
    "The server encountered an unexpected condition; the request changed nothing. See the emulator's error.log."), ctx),
    nil, ctx, req.rate_headers)
end

-- nginx's own refusals (error_page in emulator/ctl: 400 malformed HTTP, 413
-- body too large, 405, 414, …) answered as ErrorBody JSON, never HTML.
local NGINX_ERRORS = {
  [400] = { "bad.request", "The request could not be understood by the server due to malformed syntax." },
  [403] = { "forbidden", "Forbidden." },
  [404] = { "not.found", "The requested resource was not found." },
  [405] = { "method.not.allowed", "HTTP method not allowed for this resource" },
  [408] = { "request.timeout", "The client did not send the whole request in time." },
  [411] = { "length.required", "A Content-Length header is required." },
  [413] = { "request.entity.too.large", "The request body is too large: send at most 16 MB." },
  [414] = { "request.uri.too.long", "The request URI is too long." },
  [494] = { "request.header.too.large", "A request header is too large." },
  [500] = { "internal.server.error", "The server encountered an unexpected condition." },
  [501] = { "not.implemented", "The server does not support this request." },
  [502] = { "bad.gateway", "Bad gateway." },
  [503] = { "service.unavailable", "Service unavailable." },
  [504] = { "gateway.timeout", "Gateway timeout." },
}

function M.nginx_error()
  local status = tonumber(ngx.var.status) or ngx.status or 500
  if status < 400 then status = 500 end
  local e = NGINX_ERRORS[status] or { "bad.request", "The request was refused." }
  local ctx = state.context_id()
  local wire = status == 494 and 400 or status
  local text = json.encode(errors.body(errors.new(wire, e[1], e[2]), ctx))
  ngx.status = wire
  ngx.header["ININ-Correlation-Id"] = ctx
  ngx.header["Content-Type"] = "application/json"
  ngx.header["Content-Length"] = #text
  ngx.print(text)
  return ngx.exit(ngx.HTTP_OK)
end

return M
