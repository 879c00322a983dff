-- luacheck: std luajit+ngx_lua
--- The recipe's listing endpoint written by hand, for bench/nginx/run: a
-- plain cosocket HTTP/1.1 client (keep-alive, a token cached per worker), no
-- purecloud. GET /hand?page_size=100 → the first page's users as JSON lines.
local cjson = require "cjson.safe"

local M = {}
local token, token_expires = nil, 0

local function parse_base()
  local host, port = os.getenv("PURECLOUD_BASE_URL"):match("^http://([^:/]+):?(%d*)")
  return host, tonumber(port) or 80
end

local function exchange(method, path, headers, body)
  local host, port = parse_base()
  local sock = ngx.socket.tcp()
  sock:settimeouts(10000, 30000, 30000)
  assert(sock:connect(host, port))
  local lines = { method .. " " .. path .. " HTTP/1.1", "Host: " .. host .. ":" .. port }
  for k, v in pairs(headers) do lines[#lines + 1] = k .. ": " .. v end
  lines[#lines + 1] = "Content-Length: " .. #(body or "")
  lines[#lines + 1] = ""
  lines[#lines + 1] = body or ""
  assert(sock:send(table.concat(lines, "\r\n")))
  local status = tonumber(assert(sock:receive("*l")):match("^HTTP/1%.%d (%d+)"))
  local len, chunked, close
  while true do
    local line = assert(sock:receive("*l"))
    if line == "" then break end
    local k, v = line:match("^([^:]+):%s*(.-)%s*$")
    k = k:lower()
    if k == "content-length" then len = tonumber(v) end
    if k == "transfer-encoding" and v:lower():find("chunked") then chunked = true end
    if k == "connection" and v:lower() == "close" then close = true end
  end
  local out
  if chunked then
    local parts = {}
    while true do
      local size = tonumber(assert(sock:receive("*l")):match("^%x+"), 16)
      if size == 0 then assert(sock:receive("*l")) break end
      parts[#parts + 1] = assert(sock:receive(size))
      assert(sock:receive(2))
    end
    out = table.concat(parts)
  else
    out = len and len > 0 and assert(sock:receive(len)) or ""
  end
  if close then sock:close() else sock:setkeepalive(60000, 16) end
  return status, out
end

local function bearer()
  if token and ngx.now() < token_expires then return token end
  local basic = ngx.encode_base64(os.getenv("PURECLOUD_CLIENT_ID") .. ":" .. os.getenv("PURECLOUD_SECRET"))
  local status, body = exchange("POST", "/oauth/token", { Authorization = "Basic " .. basic,
    ["Content-Type"] = "application/x-www-form-urlencoded" }, "grant_type=client_credentials")
  assert(status == 200, "token request failed")
  local t = cjson.decode(body)
  token, token_expires = t.access_token, ngx.now() + (t.expires_in or 3600) - 60
  return token
end

function M.list()
  local size = tonumber(ngx.var.arg_page_size) or 100
  local status, body = exchange("GET", "/api/v2/users?pageSize=" .. size .. "&pageNumber=1",
    { Authorization = "Bearer " .. bearer(), Accept = "application/json" })
  if status ~= 200 then ngx.status = 502 return ngx.say('{"error":"upstream ', status, '"}') end
  for _, u in ipairs(cjson.decode(body).entities) do
    ngx.print(cjson.encode{ id = u.id, name = u.name, email = u.email }, "\n")
  end
end

return M
