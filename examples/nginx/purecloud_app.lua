--- The handlers of the nginx recipe (examples/nginx/nginx.conf.in).
--
-- One client per worker, made in init_worker_by_lua* with the cosocket I/O
-- (`purecloud.transport.ngx`) and the shared-dict token store; handlers use
-- it from content_by_lua*: every API call yields to nginx, and `client:batch`
-- and the pagers run up to `concurrency` calls at once as light threads.
local cjson = require "cjson.safe"

local M = {}
local client

local NGX_LEVEL = { error = ngx.ERR, warn = ngx.WARN, info = ngx.INFO, debug = ngx.DEBUG, trace = ngx.DEBUG }

--- init_worker_by_lua*: make this worker's client.
function M.init_worker()
  local purecloud = require "purecloud"
  local io = require("purecloud.transport.ngx").new()
  local base_url = os.getenv("PURECLOUD_BASE_URL")
  client = purecloud.new{
    client_id = os.getenv("PURECLOUD_CLIENT_ID"),
    client_secret = os.getenv("PURECLOUD_SECRET"),
    environment = os.getenv("PURECLOUD_ENVIRONMENT"),
    base_url = base_url, login_url = base_url,
    transport = io.transport, sleep = io.sleep, now = io.now,
    token_store = require("purecloud.token_store").ngx_shared("purecloud_tokens"),
    log = function(level, message) ngx.log(NGX_LEVEL[level] or ngx.WARN, "purecloud: ", message) end,
  }
end

--- The worker's client (for other handlers).
function M.client() return client end

local function int_arg(name, default, min, max)
  local v = tonumber(ngx.var["arg_" .. name])
  if v == nil then return default end
  if v % 1 ~= 0 or v < min or v > max then
    ngx.status = 400
    ngx.say(cjson.encode{ error = name .. " must be an integer from " .. min .. " to " .. max })
    return ngx.exit(400)
  end
  return v
end

--- GET /users?page_size=100&concurrency=8&limit=N → JSON lines {id, name, email}.
function M.list_users()
  local page_size = int_arg("page_size", 100, 1, 500)
  local concurrency = int_arg("concurrency", 8, 1, 64)
  local limit = int_arg("limit", math.huge, 1, 1e9)
  local n = 0
  local ok, err = pcall(function()
    for u in client.users.each_user{ page_size = page_size, concurrency = concurrency } do
      n = n + 1
      ngx.print(cjson.encode{ id = u.id, name = u.name, email = u.email }, "\n")
      if n >= limit then break end
    end
  end)
  if not ok then
    -- Headers may be out already; the error ends the stream as a last line.
    ngx.log(ngx.ERR, "purecloud: listing failed: ", tostring(err))
    if ngx.headers_sent then ngx.print(cjson.encode{ error = tostring(err) }, "\n") return end
    ngx.status = 502
    ngx.say(cjson.encode{ error = tostring(err) })
  end
end

--- POST /routingstatus {"ids": [...], "status": "IDLE", "concurrency": 8}
-- → {"failed": n, "results": [{"id", "ok", "error"}…]} (in input order).
function M.batch_routingstatus()
  ngx.req.read_body()
  local req = cjson.decode(ngx.req.get_body_data() or "")
  if type(req) ~= "table" or type(req.ids) ~= "table" or type(req.status) ~= "string" then
    ngx.status = 400
    return ngx.say(cjson.encode{ error = 'body must be {"ids": [...], "status": "IDLE"}' })
  end
  local calls = {}
  for i, id in ipairs(req.ids) do
    calls[i] = { "put_user_id_routingstatus", tostring(id), { status = req.status } }
  end
  local results, failed = client:batch(calls, { concurrency = tonumber(req.concurrency) or 8 })
  local out = {}
  for i, r in ipairs(results) do
    out[i] = { id = req.ids[i], ok = r.ok, error = not r.ok and tostring(r.err) or nil }
  end
  ngx.status = failed == 0 and 200 or 207
  ngx.say(cjson.encode{ failed = failed, results = out })
end

--- GET /health.
function M.health()
  ngx.say('{"ok":true}')
end

return M
