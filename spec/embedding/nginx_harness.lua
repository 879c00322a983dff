-- Start a real nginx (two workers, LuaJIT build) from the recipe's template
-- examples/nginx/nginx.conf.in, with the spec locations of ngx_probe.lua
-- added, on a free port picked at run time. Used by the embedding and the
-- hostile-transport specs.
local emu = require "support.emulator"
local nginx = require "support.nginx"
local core = require "purecloud.core"

local M = {}

local EXTRA = [[
    location = /t/basic { content_by_lua_block { require("ngx_probe").basic() } }
    location = /t/batch { content_by_lua_block { require("ngx_probe").batch() } }
    location = /t/each { content_by_lua_block { require("ngx_probe").each() } }
    location = /t/bounds { content_by_lua_block { require("ngx_probe").bounds() } }
    location = /t/compose { content_by_lua_block { require("ngx_probe").compose() } }
    location = /t/on_result_io { content_by_lua_block { require("ngx_probe").on_result_io() } }
    location = /t/raise { content_by_lua_block { require("ngx_probe").raise() } }
    location = /t/write_once { content_by_lua_block { require("ngx_probe").write_once() } }
    location = /t/auto { content_by_lua_block { require("ngx_probe").auto() } }
    location = /t/default { content_by_lua_block { require("ngx_probe").default_client() } }
    location = /t/probe { content_by_lua_block { require("ngx_probe").probe() } }
    location = /t/framing { content_by_lua_block { require("ngx_probe").framing() } }
    location = /t/client_probe { content_by_lua_block { require("ngx_probe").client_probe() } }
    location = /t/mtls { content_by_lua_block { require("ngx_probe").mtls() } }
    location ~ ^/hostile/raw/(.+)$ { content_by_lua_block { require("ngx_probe").raw(ngx.var[1]) } }
    location ~ ^/hostile/(ok|drop|dropfirst|host|count|reset|hits)$ {
      content_by_lua_block { require("ngx_probe").plain(ngx.var[1]) }
    }
]]

local function sh_quote(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

--- Start nginx (opts: workers, cpath); returns { port, url, prefix, stop = function }.
function M.start(opts)
  opts = opts or {}
  local root = io.popen("pwd"):read("l")
  if not os.execute("make -s luajit >/dev/null 2>&1") then
    -- A tree mid-edit may not build; an existing LuaJIT build still proves the embedding.
    assert(io.open(root .. "/build/luajit/purecloud/core.so"), "make luajit failed and there is no LuaJIT build")
    io.stderr:write("nginx_harness: make luajit failed; using the existing build/luajit/purecloud/core.so\n")
  end
  local tpl = assert(io.open(root .. "/examples/nginx/nginx.conf.in")):read("a")
  local prefix = os.tmpname()
  os.remove(prefix)
  assert(os.execute("mkdir -p " .. prefix))
  math.randomseed(os.time() + math.floor(core.now() * 1000) % 100000)
  for _ = 1, 8 do
    local port = math.random(20000, 60000)
    local conf = tpl:gsub("@EXTRA@", function() return EXTRA end)
      :gsub("@ROOT@", root):gsub("@PREFIX@", prefix):gsub("@PORT@", tostring(port))
      :gsub("@WORKERS@", tostring(opts.workers or 2))
      :gsub("examples/nginx/%?%.lua;", "examples/nginx/?.lua;" .. root .. "/spec/embedding/?.lua;" .. root .. "/spec/?.lua;")
      :gsub('require%("purecloud_app"%).init_worker%(%)',
            'require("purecloud_app").init_worker() require("ngx_probe").init_worker()')
      :gsub("lua_shared_dict purecloud_tokens 1m;", "lua_shared_dict purecloud_tokens 1m;\n  lua_shared_dict probe 1m;")
    if opts.cpath then -- where the C modules come from (default: the LuaJIT build)
      conf = conf:gsub('lua_package_cpath "[^"]*";', function() return 'lua_package_cpath "' .. opts.cpath .. '";' end)
    end
    -- Started as root, nginx runs its workers as `nobody`, who cannot read a
    -- checkout under a 0700 home (root's, mktemp -d): keep them as root.
    if io.popen("id -u"):read("l") == "0" then conf = "user root root;\n" .. conf end
    local f = assert(io.open(prefix .. "/nginx.conf", "w"))
    f:write(conf)
    f:close()
    local cmd = ("PURECLOUD_BASE_URL=%s PURECLOUD_CLIENT_ID=emulator-client PURECLOUD_SECRET=emulator-secret "
      .. "nginx -p %s -c %s/nginx.conf -e %s/error.log 2>>%s/start.log")
      :format(sh_quote(emu.url), prefix, prefix, prefix, prefix)
    if os.execute(cmd) then
      local url = "http://127.0.0.1:" .. port
      for _ = 1, 100 do
        if emu.request("GET", "/health", { base = url, max_time = 1 }).status == 200 then
          return {
            port = port, url = url, prefix = prefix,
            stop = function()
              nginx.stop(prefix .. "/nginx.pid")
              os.execute("cp " .. prefix .. "/error.log build/nginx-spec-error.log 2>/dev/null; rm -rf " .. prefix)
            end,
          }
        end
        core.sleep(0.1)
      end
      error("nginx started but does not answer; see " .. prefix .. "/error.log")
    end
    -- Most likely the port was taken: try another.
  end
  error("nginx did not start; see " .. prefix .. "/start.log")
end

--- GET url → status, decoded JSON (or raw body), seconds taken (curl's time_total).
function M.get(base, path, query)
  local r = emu.request("GET", path, { base = base, query = query, max_time = 60 })
  return r.status, r.json or r.body
end

--- Run `n` GETs of `url` with `parallel` at a time, from one curl process
-- (-Z); returns the list of "status time_total" lines.
function M.parallel(url, n, parallel)
  local args = {}
  for i = 1, n do
    args[#args + 1] = "-o /dev/null " .. sh_quote(url .. (url:find("?", 1, true) and "&" or "?") .. "_n=" .. i)
  end
  local p = io.popen(("curl -s -Z --parallel-max %d -w '%%{http_code} %%{time_total}\\n' %s 2>/dev/null")
    :format(parallel, table.concat(args, " ")))
  local out = {}
  for line in p:lines() do out[#out + 1] = line end
  p:close()
  return out
end

return M
