-- Running bin/purecloud as a process against the spec emulator: to the end
-- (run), in the background (start: its stdout read while it runs, SIGINT
-- sent to it), or on a pseudo-terminal (on_tty, through script(1)).
local emu = require "support.emulator"

local M = {}

function M.slurp(p)
  local f = io.open(p, "rb")
  if not f then return nil end
  local s = f:read("*a")
  f:close()
  return s
end

function M.lines(s)
  local t = {}
  for l in (s or ""):gmatch("[^\n]+") do t[#t + 1] = l end
  return t
end

function M.sleep(s) os.execute("sleep " .. s) end

local function quote(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end
M.quote = quote

-- Every run is kept from the real HOME, the caller's config and profile
-- and the official tools' variables: a HOME of its own (one temporary
-- directory per spec process, removed at exit) and no token cache (each run
-- asks for its own token, as before the cache; spec/cli/profiles_spec.lua
-- turns it on).
local home = os.tmpname()
os.remove(home)
assert(os.execute("mkdir -m 700 " .. home))
M.home = home
setmetatable(M, { __gc = function() os.execute("rm -rf '" .. home .. "'") end })
M.ISOLATED = ("HOME=%s XDG_CONFIG_HOME= XDG_CACHE_HOME= PURECLOUD_CONFIG= PURECLOUD_PROFILE= "
  .. "PURECLOUD_TOKEN_CACHE=off GENESYSCLOUD_REGION= GENESYSCLOUD_OAUTHCLIENT_ID= "
  .. "GENESYSCLOUD_OAUTHCLIENT_SECRET= PURECLOUD_ENVIRONMENT= PURECLOUD_LOGIN_URL= PURECLOUD_PROXY= "
  .. "PURECLOUD_CA_FILE="):format(home)

-- The command line of the CLI with the emulator's credentials; `env` (sh
-- assignments) comes after them, so it can override them.
local function command(args, env)
  return ("%s PURECLOUD_BASE_URL=%s PURECLOUD_CLIENT_ID=emulator-client PURECLOUD_SECRET=emulator-secret "
    .. "PURECLOUD_LOG= %s LUA_PATH='./lua/?.lua;./lua/?/init.lua;;' LUA_CPATH='./build/lua5.4/?.so;;' "
    .. "lua5.4 bin/purecloud %s"):format(M.ISOLATED, emu.url, env or "", args)
end
M.command = command

local function status(ok, _, code)
  if type(ok) == "number" then return math.floor(ok / 256) end -- Lua 5.1: the wait status
  return (ok == true or ok == 0) and 0 or code
end

--- run(args, env, stdin) → exit code, stdout, stderr
function M.run(args, env, stdin)
  local out, err = os.tmpname(), os.tmpname()
  local input
  if stdin then
    input = os.tmpname()
    local f = assert(io.open(input, "wb"))
    f:write(stdin)
    f:close()
  end
  local code = status(os.execute(("%s >%s 2>%s <%s"):format(command(args, env), out, err, input or "/dev/null")))
  local o, e = M.slurp(out), M.slurp(err)
  os.remove(out); os.remove(err)
  if input then os.remove(input) end
  return code, o, e
end

--- start(args, env) → a process running in the background:
-- p.pid, p:stdout(), p:stderr(), p:done() (its exit code once it ended),
-- p:wait(seconds) → exit code (or nil), p:interrupt() (SIGINT), p:kill().
function M.start(args, env)
  local p = { out = os.tmpname(), err = os.tmpname(), rc = os.tmpname(), pidf = os.tmpname() }
  os.remove(p.rc)
  -- The inner sh writes its pid and becomes the CLI (exec): that pid is the CLI's.
  local inner = "echo $$ >" .. p.pidf .. "; exec env " .. command(args, env)
  os.execute(("(sh -c %s >%s 2>%s </dev/null; echo $? >%s) >/dev/null 2>&1 &"):format(
    quote(inner), p.out, p.err, p.rc))
  for _ = 1, 200 do
    p.pid = tonumber(M.slurp(p.pidf))
    if p.pid then break end
    M.sleep(0.02)
  end
  assert(p.pid, "the CLI did not start")
  function p.stdout() return M.slurp(p.out) or "" end
  function p.stderr() return M.slurp(p.err) or "" end
  function p.done() return tonumber(M.slurp(p.rc) or "") end
  function p.wait(_, seconds)
    for _ = 1, math.floor((seconds or 30) / 0.05) do
      local rc = p.done()
      if rc then return rc end
      M.sleep(0.05)
    end
  end
  function p.interrupt() os.execute("kill -INT " .. p.pid .. " 2>/dev/null") end
  function p.kill() if not p.done() then os.execute("kill -KILL " .. p.pid .. " 2>/dev/null") end end
  function p.clean()
    p.kill()
    p:wait(5)
    for _, f in ipairs({ p.out, p.err, p.rc, p.pidf }) do os.remove(f) end
  end
  return p
end

--- Poll `pred()` every 20 ms for up to `seconds`; its last value.
function M.until_true(pred, seconds)
  local v
  for _ = 1, math.floor((seconds or 10) / 0.02) do
    v = pred()
    if v then return v end
    M.sleep(0.02)
  end
  return v
end

--- True when script(1) can give a command a pseudo-terminal here.
function M.have_pty()
  return status(os.execute("script -qc true /dev/null >/dev/null 2>&1 </dev/null")) == 0
end

--- on_tty(args, env) → exit code, what the terminal showed (stdout and
-- stderr, with the terminal's \r\n line ends).
function M.on_tty(args, env)
  local out = os.tmpname()
  local rcf = os.tmpname()
  os.execute(("script -qec %s /dev/null >%s 2>&1 </dev/null; echo $? >%s"):format(
    quote(command(args, env)), out, rcf))
  local o = M.slurp(out)
  local rc = tonumber(M.slurp(rcf))
  os.remove(out); os.remove(rcf)
  return rc, o
end

--- A JSON-lines file of n users to import (emails `<tag>-<i>@example.com`).
function M.users_file(path, n, tag)
  local cjson = require "cjson"
  local f = assert(io.open(path, "w"))
  for i = 1, n do
    f:write(cjson.encode({ name = ("%s %d"):format(tag, i), email = ("%s-%d@example.com"):format(tag, i) }), "\n")
  end
  f:close()
end

return M
