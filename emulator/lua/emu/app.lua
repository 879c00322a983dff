-- The emulator's request pipeline: admin routes, OAuth, then for the API:
-- stats/log, faults, latency, bearer check, rate limit, body checks, route.
local json = require "emu.json"
local errors = require "emu.errors"
local state = require "emu.state"

local M = {}

local routes = {} -- method -> array of { parts, handler, pattern }

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

function M.init(opts)
  state.init(opts)
  require("emu.routes.oauth").register(M)
  require("emu.routes.users").register(M)
  require("emu.routes.search").register(M)
  require("emu.routes.subresources").register(M)
  require("emu.routes.analytics").register(M)
  require("emu.routes.admin").register(M)
  sort_routes()
end

local function send(status, body, headers, ctx)
  ngx.status = status
  ngx.header["ININ-Correlation-Id"] = ctx
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

local function record(req, status)
  local key = req.method .. " " .. (req.route or req.path)
  state.stats.requests[key] = (state.stats.requests[key] or 0) + 1
  local log = state.log
  if #log >= 10000 then table.remove(log, 1) end
  log[#log + 1] = { method = req.method, path = req.path, query = req.args or "", status = status,
                    route = req.route or req.path, t = state.now() }
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
  if f.retry_after then headers["Retry-After"] = tostring(f.retry_after) end
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

local function rate_limit(req)
  local limit = state.config.rate_per_min
  if not limit or limit <= 0 then return end
  local who = req.auth.client_id
  local now = state.now()
  local w = state.rate[who]
  if not w or now - w.start >= 60 then
    w = { start = now, n = 0 }
    state.rate[who] = w
  end
  w.n = w.n + 1
  if w.n > limit then
    local wait = math.max(1, math.ceil(60 - (now - w.start)))
    state.stats.rate_limited = state.stats.rate_limited + 1
    errors.raise(429, "too.many.requests.retry.after",
      "Rate limit exceeded the maximum. Retry the request in [" .. wait .. "] seconds",
      { params = {}, headers = { ["Retry-After"] = tostring(wait) } })
  end
end

local function api(req, ctx)
  local f = fault_for(req)
  if f and not f.status and not f.action then
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
    ngx.req.read_body()
    local raw = ngx.req.get_body_data()
    if not raw then
      local file = ngx.req.get_body_file()
      if file then
        local fh = io.open(file, "rb")
        raw = fh:read("*a")
        fh:close()
      end
    end
    if raw and raw ~= "" then
      local ctype = (ngx.var.http_content_type or ""):lower()
      if not ctype:find("^application/json") then
        errors.raise(415, "unsupported.media.type", "Unsupported Media Type - Unsupported or incorrect media type, such as an incorrect encoding.")
      end
      local body, why = json.decode(raw)
      if body == nil then
        errors.bad_request("bad.request", "The request could not be understood by the server due to malformed syntax: " .. tostring(why))
      end
      req.body, req.raw_body = body, raw
    end
  end
  local status, body, headers = route.handler(req)
  record(req, status)
  return send(status, body, headers, ctx)
end

function M.handle()
  local ctx = state.context_id()
  -- The raw path: nginx's $uri is percent-decoded and dot-normalised, which
  -- would turn an encoded "..%2F..%2Foauth%2Ftoken" segment into another route.
  local raw = (ngx.var.request_uri or ngx.var.uri):gsub("%?.*$", "")
  local req = { method = ngx.req.get_method(), path = raw, args = ngx.var.args, correlation_id = ctx }
  req.query = parse_query()
  local admin = req.path:match("^/__emulator/") ~= nil
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
    return send(err.status, errors.body(err, ctx), err.headers, ctx)
  end
  ngx.log(ngx.ERR, "emulator handler failed: ", tostring(err))
  record(req, 500)
  return send(500, errors.body(errors.new(500, "internal.server.error", "The server encountered an unexpected condition."), ctx), nil, ctx)
end

return M
