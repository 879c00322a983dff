-- Talk to the spec emulator with the curl CLI, independently of the library
-- under test. emu.url: the emulator (OAuth, admin, deliberate contract
-- violations); emu.api_url: where conformant API traffic goes (Prism's
-- validating proxy under `make contract`, else the emulator).
local cjson = require "cjson.safe"

local M = {}

-- No default port: the emulator is started on a free port (tools/run-specs,
-- tools/with-emulator) and its URL handed over; a spec run without one fails
-- with that advice rather than talking to whatever listens on a fixed port.
M.url = os.getenv("PURECLOUD_EMULATOR_URL")
M.api_url = os.getenv("PURECLOUD_API_URL") or M.url
M.client_id, M.client_secret = "emulator-client", "emulator-secret"

local function shell_quote(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

local function urlencode(s)
  return (tostring(s):gsub("[^%w%-%._~]", function(c) return ("%%%02X"):format(c:byte()) end))
end
M.urlencode = urlencode

local function query_string(q)
  if not q then return "" end
  local keys = {}
  for k in pairs(q) do keys[#keys + 1] = k end
  table.sort(keys)
  local parts = {}
  for _, k in ipairs(keys) do
    local v = q[k]
    if type(v) == "table" then
      for _, x in ipairs(v) do parts[#parts + 1] = urlencode(k) .. "=" .. urlencode(x) end
    else
      parts[#parts + 1] = urlencode(k) .. "=" .. urlencode(v)
    end
  end
  return #parts > 0 and ("?" .. table.concat(parts, "&")) or ""
end

--- request(method, path, opts) → { status, headers, body, json }
-- opts: headers, body (string or table → JSON), query, form, basic = {user, pass}, bearer, base
function M.request(method, path, opts)
  opts = opts or {}
  local base = opts.base or M.url
  if not base then
    error("no emulator: run the specs with tools/run-specs (or tools/with-emulator), "
      .. "or set PURECLOUD_EMULATOR_URL to one started with `emulator/ctl start --port 0`", 2)
  end
  local hdr = os.tmpname()
  local bodyf = os.tmpname()
  -- env -u LD_PRELOAD: under tools/asan-specs the ASan runtime must not reach curl (it deadlocks there).
  local args = { "env", "-u", "LD_PRELOAD", "curl", "-s", "-g", "-X", method, "-D", hdr, "-o", bodyf, "-w", "'%{http_code}'",
                 "--max-time", tostring(opts.max_time or 30) }
  local headers = opts.headers or {}
  if opts.bearer then headers.Authorization = "Bearer " .. opts.bearer end
  if opts.basic then args[#args + 1] = "-u " .. shell_quote(opts.basic[1] .. ":" .. opts.basic[2]) end
  local payload
  if opts.form then
    local parts = {}
    for k, v in pairs(opts.form) do parts[#parts + 1] = urlencode(k) .. "=" .. urlencode(v) end
    payload = table.concat(parts, "&")
    headers["Content-Type"] = headers["Content-Type"] or "application/x-www-form-urlencoded"
  elseif opts.body ~= nil then
    payload = type(opts.body) == "string" and opts.body or assert(cjson.encode(opts.body))
    headers["Content-Type"] = headers["Content-Type"] or "application/json"
  end
  local inf
  if payload then
    inf = os.tmpname()
    local f = assert(io.open(inf, "wb"))
    f:write(payload)
    f:close()
    args[#args + 1] = "--data-binary @" .. inf
  end
  for k, v in pairs(headers) do args[#args + 1] = "-H " .. shell_quote(k .. ": " .. v) end
  args[#args + 1] = shell_quote(base .. path .. query_string(opts.query))
  local p = assert(io.popen(table.concat(args, " ")))
  local code = p:read("a")
  p:close()
  local res = { status = tonumber(code) or 0, headers = {} }
  local f = io.open(hdr, "rb")
  if f then
    for line in f:lines() do
      local k, v = line:match("^([^:]+):%s*(.-)%s*$")
      if k then res.headers[k:lower()] = v end
    end
    f:close()
  end
  f = io.open(bodyf, "rb")
  res.body = f and f:read("a") or ""
  if f then f:close() end
  os.remove(hdr); os.remove(bodyf)
  if inf then os.remove(inf) end
  res.json = cjson.decode(res.body)
  return res
end

local cached_token
--- A client-credentials access token (cached; `fresh` forces a new one).
function M.token(fresh)
  if cached_token and not fresh then return cached_token end
  local r = M.request("POST", "/oauth/token", { basic = { M.client_id, M.client_secret },
                                               form = { grant_type = "client_credentials" } })
  assert(r.status == 200, "emulator token request failed: " .. r.status .. " " .. r.body)
  cached_token = r.json.access_token
  return cached_token
end

--- A code-grant token for a user (the emulator auto-approves).
function M.user_token(user_id)
  local r = M.request("GET", "/oauth/authorize", { query = { client_id = M.client_id, response_type = "code",
    redirect_uri = "http://localhost/cb", user_id = user_id } })
  local code = assert((r.headers.location or ""):match("code=([^&]+)"), "no code in redirect")
  local t = M.request("POST", "/oauth/token", { basic = { M.client_id, M.client_secret },
    form = { grant_type = "authorization_code", code = code, redirect_uri = "http://localhost/cb" } })
  assert(t.status == 200, t.body)
  return t.json.access_token, t.json
end

--- An API call with a client-credentials token (renewed once on a 401 from revocation).
function M.api(method, path, body, query)
  local r = M.request(method, path, { bearer = M.token(), body = body, query = query })
  if r.status == 401 and r.json and r.json.code == "bad.credentials" then
    r = M.request(method, path, { bearer = M.token(true), body = body, query = query })
  end
  return r
end

--- M.api whose 2xx answer must be today's for the operation at op_path (its
-- status and schema: spec/support/schema.lua's conforms); → the answer, its JSON.
function M.checked(method, op_path, path, body, query)
  local r = M.api(method, path, body, query)
  if r.status < 300 then require("spec.support.schema").conforms(r, method, op_path) end
  return r, r.json
end

local function admin(method, path, body)
  local r = M.request(method, "/__emulator/" .. path, { body = body })
  assert(r.status == 200, "emulator admin " .. path .. " failed: " .. r.status .. " " .. r.body)
  return r.json
end

function M.reset(opts) return admin("POST", "reset", opts or {}) end
function M.config(opts) return admin("POST", "config", opts) end
function M.revoke() return admin("POST", "revoke", {}) end
function M.fault(spec) return admin("POST", "faults", spec) end
function M.clear_faults() return admin("DELETE", "faults") end
function M.stats() return admin("GET", "stats") end
function M.log() return admin("GET", "log") end
function M.clear_log() return admin("DELETE", "log") end

--- The first n users in listing order.
function M.users(n)
  local out, page = {}, 1
  while #out < n do
    local r = M.api("GET", "/api/v2/users", nil, { pageSize = 500, pageNumber = page })
    assert(r.status == 200, r.body)
    for _, u in ipairs(r.json.entities) do
      if #out < n then out[#out + 1] = u end
    end
    if not r.json.nextUri then break end
    page = page + 1
  end
  return out
end

function M.all_users() return M.users(math.huge) end

--- Start a separate emulator via emulator/ctl on a free port (unless opts.port);
-- returns its URL and the ctl output lines. Stop it with M.stop(url).
-- Unlimited (`--rate none`) unless opts.rate names a budget ("N/min"):
-- the service's default of 300 a minute would pace the specs' clients.
function M.start(opts)
  local args = { "emulator/ctl", "start" }
  if not (opts and opts.port) then args[#args + 1] = "--port 0" end
  if not (opts and opts.rate) then args[#args + 1] = "--rate none" end
  for k, v in pairs(opts or {}) do
    local flag = "--" .. k:gsub("_", "-")
    if v == true then args[#args + 1] = flag else args[#args + 1] = flag .. " " .. shell_quote(v) end
  end
  local p = assert(io.popen(table.concat(args, " ") .. " 2>&1"))
  local out = p:read("a")
  local ok = p:close()
  assert(ok, "emulator/ctl start failed: " .. out)
  local lines = {}
  for l in out:gmatch("[^\n]+") do lines[#lines + 1] = l end
  return lines[#lines], out
end

--- Stop an emulator started by M.start: give its URL (or its port).
function M.stop(url_or_port)
  if url_or_port == nil then return end -- its start failed: nothing to stop
  local port = tonumber(url_or_port) or tonumber(tostring(url_or_port):match("^https?://[^/]*:(%d+)/?$"))
  assert(port, "emu.stop: expected the URL (or port) M.start returned, got " .. tostring(url_or_port))
  os.execute("emulator/ctl stop --port " .. port .. " >/dev/null 2>&1")
end

return M
