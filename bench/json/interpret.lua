-- core.interpret on a saved response body, as the request loop calls it:
--   lua5.4 bench/json/interpret.lua [file] [runs]   (package.cpath picks the build)
-- Prints the median, min, p10, p90 and max of one call each run (full GC before, untimed).
local core = require "purecloud.core"
local path = arg[1] or "bench/fixtures/users-page-500.json"
local runs = tonumber(arg[2]) or 60
local f = assert(io.open(path, "rb"))
local body = f:read("a")
f:close()
local res = { status = 200, headers = { ["content-type"] = "application/json" }, body = body }
for _ = 1, 3 do assert(core.interpret(res)) end
local clock = core.now or os.clock
local t = {}
for i = 1, runs do
  collectgarbage("collect")
  local t0 = clock()
  core.interpret(res)
  t[i] = (clock() - t0) * 1000
end
table.sort(t)
print(("core.interpret %s (%d bytes), %d runs: median %.3f ms, min %.3f, p10 %.3f, p90 %.3f, max %.3f"):format(
  path, #body, runs, t[runs // 2 + 1], t[1], t[runs // 10 + 1], t[runs - runs // 10], t[runs]))
