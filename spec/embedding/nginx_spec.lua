-- Embedding in nginx (lua-nginx-module, LuaJIT): the LuaJIT build of the C
-- core loads, and with the cosocket transport the request loop yields to the
-- event loop instead of blocking the worker — four slow calls served by ONE
-- worker overlap instead of queueing.
local emu = require "support.emulator"
local core = require "purecloud.core"

local PORT = 18160
local prefix, root

local function start_nginx(workers)
  root = io.popen("pwd"):read("l")
  prefix = os.tmpname()
  os.remove(prefix)
  os.execute("mkdir -p " .. prefix .. "/logs")
  local conf = ([[
load_module /usr/lib/nginx/modules/ndk_http_module.so;
load_module /usr/lib/nginx/modules/ngx_http_lua_module.so;
worker_processes WORKERS;
daemon on;
pid PREFIX/logs/nginx.pid;
error_log PREFIX/logs/error.log warn;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path PREFIX/logs;
  lua_package_path "ROOT/lua/?.lua;ROOT/lua/?/init.lua;;";
  lua_package_cpath "ROOT/build/luajit/?.so;;";
  lua_shared_dict purecloud_tokens 1m;
  server {
    listen 127.0.0.1:PORT;
    location /users {
      content_by_lua_block {
        local purecloud = require "purecloud"
        local io = require("purecloud.transport.ngx").new()
        local c = purecloud.new{ base_url = ngx.unescape_uri(ngx.var.arg_base), client_id = "emulator-client",
          client_secret = "emulator-secret", transport = io.transport, sleep = io.sleep, now = io.now, log = "none",
          token_store = require("purecloud.token_store").ngx_shared("purecloud_tokens") }
        local n = 0
        local ok, err = pcall(function()
          for _ in c.users.each_user{ page_size = 50, concurrency = 4 } do n = n + 1 end
        end)
        if not ok then ngx.status = 500 ngx.say(tostring(err)) return end
        local me, merr = c.users.get_user_id("no-such-user")
        local results, failed = c:batch({ { "get_users" }, { "get_user_id", "no-such-user" } }, { concurrency = 2 })
        ngx.say(n, " ", tostring(me), " ", merr and merr.status, " ", tostring(c:multi_transport()), " ",
                #results, "/", failed, " ",
                package.searchpath("purecloud.core", package.cpath), " ", jit and jit.version or "?")
      }
    }
  }
}
]]):gsub("PREFIX", prefix):gsub("ROOT", root):gsub("PORT", tostring(PORT)):gsub("WORKERS", tostring(workers))
  local f = assert(io.open(prefix .. "/nginx.conf", "w"))
  f:write(conf)
  f:close()
  assert(os.execute(("nginx -p %s -c %s/nginx.conf -e %s/logs/error.log"):format(prefix, prefix, prefix)))
  for _ = 1, 50 do
    if emu.request("GET", "/", { base = "http://127.0.0.1:" .. PORT, max_time = 1 }).status > 0 then return end
    core.sleep(0.1)
  end
  error("nginx did not start")
end

describe("inside nginx with LuaJIT", function()
  setup(function()
    assert(os.execute("make -s luajit >/dev/null"))
    start_nginx(2) -- two workers: the token is shared through lua_shared_dict
  end)
  teardown(function()
    os.execute(("nginx -p %s -c %s/nginx.conf -s stop 2>/dev/null; rm -rf %s"):format(prefix, prefix, prefix))
  end)
  before_each(function() emu.reset{ users = 120 } end)

  it("runs operations and paging over cosockets with the LuaJIT build", function()
    local r = emu.request("GET", "/users", { base = "http://127.0.0.1:" .. PORT, query = { base = emu.url } })
    assert.are.equal(200, r.status, r.body)
    assert.matches("^120 nil 404 nil 2/1 .*/build/luajit/purecloud/core%.so LuaJIT", r.body)
  end)

  it("does not block the worker: slow calls from concurrent requests overlap", function()
    emu.config{ latency_ms = 400 }
    -- Each request makes a token call and three page calls: >= 1.6 s of emulator latency.
    local url = ("http://127.0.0.1:%d/users?base=%s"):format(PORT, emu.url)
    local t0 = core.now()
    local p = io.popen(("for i in 1 2 3 4; do curl -s -o /dev/null -w '%%{http_code}\\n' '%s' & done; wait"):format(url))
    local out = p:read("a")
    p:close()
    local took = core.now() - t0
    local oks = select(2, out:gsub("200", ""))
    assert.are.equal(4, oks)
    -- One blocking worker would need 4 x 1.6 s; overlapping requests need about 1.6 s.
    assert.is_true(took < 4, "four requests took " .. took .. " s: the worker blocked")
  end)

  it("shares one token between all requests and both workers", function()
    emu.reset{ users = 120, revoke = true } -- the stored token dies: exactly one renewal must follow
    local before = emu.stats().tokens.client_credentials or 0
    local url = ("http://127.0.0.1:%d/users?base=%s"):format(PORT, emu.url)
    assert.are.equal(200, emu.request("GET", "/users", { base = "http://127.0.0.1:" .. PORT,
      query = { base = emu.url } }).status)
    local p = io.popen(("for i in 1 2 3 4 5 6 7 8; do curl -s -o /dev/null -w '%%{http_code}\\n' '%s' & done; wait")
      :format(url))
    local out = p:read("a")
    p:close()
    assert.are.equal(8, select(2, out:gsub("200", "")))
    assert.are.equal(1, (emu.stats().tokens.client_credentials or 0) - before)
  end)
end)
