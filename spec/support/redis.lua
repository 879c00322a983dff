-- A throwaway redis-server for the specs: its own port (picked at random
-- and retried when taken: redis has no --port 0), a password, no
-- persistence (--save "" --appendonly no), its own folder; stop() ends it.
local core = require "purecloud.core"

local M = {}

local function sh(cmd)
  local p = assert(io.popen(cmd .. " 2>/dev/null"))
  local out = p:read("a")
  p:close()
  return out
end

-- Running (a zombie is not: where nobody reaps the orphans, kill -0 still finds it).
local function alive(pid)
  local f = io.open("/proc/" .. pid .. "/stat")
  if not f then return os.execute("kill -0 " .. pid .. " 2>/dev/null") == true end
  local stat = f:read("a") or ""
  f:close()
  local state = stat:match("^%d+ %b() (%a)")
  return state ~= nil and state ~= "Z" and state ~= "X"
end

--- Start one: returns { port, password, dir, pid, cli(args) → output, stop(), kill(), restart() }.
function M.start(opts)
  opts = opts or {}
  local password = opts.password or ("spec-" .. core.random_hex(12))
  local dir = sh("mktemp -d"):gsub("%s+$", "")
  math.randomseed(os.time() + math.floor(core.now() * 1e6) % 1000003)
  local r = { password = password, dir = dir }

  local function launch(port)
    local f = assert(io.open(dir .. "/redis.conf", "w"))
    f:write(("port %d\nbind 127.0.0.1\nrequirepass %s\nsave \"\"\nappendonly no\ndir %s\nlogfile %s/redis.log\n")
      :format(port, password, dir, dir))
    f:close()
    local pid = tonumber(sh(("env -u LD_PRELOAD redis-server %s/redis.conf >/dev/null 2>&1 & echo $!"):format(dir)))
    for _ = 1, 100 do
      core.sleep(0.02)
      if not alive(pid) then return nil end
      if sh(("env -u LD_PRELOAD redis-cli -p %d --no-auth-warning -a %s ping"):format(port, password)):find("PONG") then
        return pid
      end
    end
    os.execute("kill -9 " .. pid .. " 2>/dev/null")
    return nil
  end

  for _ = 1, 10 do
    local port = opts.port or math.random(20000, 60000)
    local pid = launch(port)
    if pid then
      r.port, r.pid = port, pid
      break
    end
    if opts.port then break end
  end
  assert(r.pid, "redis-server did not start (is it installed? tools/bootstrap); see " .. dir .. "/redis.log")

  function r.cli(args)
    return sh(("env -u LD_PRELOAD redis-cli -p %d --no-auth-warning -a %s %s"):format(r.port, password, args))
  end
  --- End it at once (SIGKILL: a crash, nothing saved).
  function r.kill()
    if r.pid then os.execute("kill -9 " .. r.pid .. " 2>/dev/null") end
    for _ = 1, 100 do
      if not (r.pid and alive(r.pid)) then break end
      core.sleep(0.01)
    end
    r.pid = nil
  end
  --- Start it again on the same port (empty: nothing was saved).
  function r.restart()
    r.kill()
    for _ = 1, 50 do
      r.pid = launch(r.port)
      if r.pid then return r end
      core.sleep(0.1)
    end
    error("redis-server did not restart on port " .. r.port)
  end
  function r.stop()
    r.kill()
    os.execute("rm -rf " .. dir)
  end
  return r
end

return M
