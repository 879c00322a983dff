-- purecloud.store.redis inside nginx (LuaJIT, cosockets: lua-resty-redis is
-- not installed here, so the library's own RESP client): the same scripts
-- and the same answers as over hiredis, the password refused clearly, and
-- an unreachable Redis falling back within the timeout. One nginx with 2
-- workers of its own, on a free port.
local redis_server = require "support.redis"
local nginx = require "support.nginx"
local emu = require "support.emulator"
local core = require "purecloud.core"

local CONF = [[
load_module /usr/lib/nginx/modules/ndk_http_module.so;
load_module /usr/lib/nginx/modules/ngx_http_lua_module.so;
worker_processes 2;
daemon on;
pid @PREFIX@/nginx.pid;
error_log @PREFIX@/error.log warn;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path @PREFIX@;
  lua_package_path "@ROOT@/lua/?.lua;@ROOT@/lua/?/init.lua;;";
  lua_package_cpath "@ROOT@/build/luajit/?.so;;";
  server {
    listen 127.0.0.1:@PORT@;
    location = /t {
      content_by_lua_block {
        local redis = require "purecloud.store.redis"
        local a = ngx.req.get_uri_args()
        local s = redis.new{ port = tonumber(a.port), password = a.pw, timeout = 0.2, log = "none" }
        local K = "purecloud:http://login.example:ngx-client"
        local out = { via = s.via }
        out.miss = s.get(K) == nil
        s.set(K, "tok-ngx", 30)
        local tok, left = s.get(K)
        out.tok, out.left_ok = tok, left > 29 and left <= 30
        out.lock1, out.lock2 = s.lock(K, 5), redis.new{ port = tonumber(a.port), password = a.pw }.lock(K, 5)
        s.unlock(K)
        out.probe = s.take(K, 1)
        out.report = s.report(K, 10, 1, 1)
        local n = 1
        for _ = 1, 20 do n = n + s.take(K, 3) end
        out.total = n
        local ok, err = pcall(redis.new{ port = tonumber(a.port), password = "wrong-" .. a.pw, log = "none" }.get, K)
        out.wrong_ok, out.wrong_named = ok, err:find("purecloud.store.redis(127.0.0.1:", 1, true) ~= nil
        out.wrong_leaks = err:find(a.pw, 1, true) ~= nil
        local dead = redis.new{ port = 9, timeout = 0.2, log = "none" }
        local t0 = ngx.now()
        out.dead_get = dead.get(K) == nil
        out.dead_lock = dead.lock(K, 5)
        ngx.update_time()
        out.dead_fast = ngx.now() - t0 < 0.5
        out.scrubbed = require("purecloud.core").scrub("x " .. a.pw) == "x [REDACTED]"
        ngx.say(require("cjson").encode(out))
      }
    }
  }
}
]]

describe("purecloud.store.redis inside nginx (cosockets)", function()
  local r, prefix, port
  lazy_setup(function()
    r = redis_server.start()
    assert(os.execute("make -s luajit >/dev/null 2>&1"), "make luajit failed")
    local root = io.popen("pwd"):read("l")
    prefix = os.tmpname()
    os.remove(prefix)
    os.execute("mkdir -p " .. prefix)
    for _ = 1, 8 do
      port = math.random(20000, 60000)
      local conf = CONF:gsub("@ROOT@", root):gsub("@PREFIX@", prefix):gsub("@PORT@", tostring(port))
      if io.popen("id -u"):read("l") == "0" then conf = "user root root;\n" .. conf end
      local f = assert(io.open(prefix .. "/nginx.conf", "w"))
      f:write(conf)
      f:close()
      if os.execute(("nginx -p %s -c %s/nginx.conf -e %s/error.log 2>/dev/null"):format(prefix, prefix, prefix)) then
        break
      end
      port = nil
    end
    assert(port, "nginx did not start")
    core.sleep(0.3)
  end)
  lazy_teardown(function()
    if prefix then
      nginx.stop(prefix .. "/nginx.pid")
      os.execute("cp " .. prefix .. "/error.log build/ngx-store-error.log 2>/dev/null; rm -rf " .. prefix)
    end
    if r then r.stop() end
  end)

  it("runs the same scripts over the RESP client: token store, permits, wrong password, fallback", function()
    r.cli("FLUSHALL")
    local res = emu.request("GET", "/t", { base = "http://127.0.0.1:" .. port,
      query = { port = r.port, pw = r.password }, max_time = 10 })
    assert.are.equal(200, res.status, res.body)
    local o = res.json
    assert.are.equal("cosocket", o.via)
    assert.is_true(o.miss)
    assert.are.equal("tok-ngx", o.tok)
    assert.is_true(o.left_ok)
    assert.is_true(o.lock1)
    assert.is_false(o.lock2)
    assert.are.equal(1, o.probe)
    assert.is_true(o.report)
    assert.are.equal(10, o.total)
    assert.is_false(o.wrong_ok)
    assert.is_true(o.wrong_named)
    assert.is_false(o.wrong_leaks)
    assert.is_true(o.dead_get)
    assert.is_true(o.dead_lock)
    assert.is_true(o.dead_fast)
    assert.is_true(o.scrubbed)
  end)
end)
