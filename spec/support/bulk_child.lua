-- A bulk job run as its own process by spec/pagination/journal_spec.lua, so
-- that it can be interrupted (SIGINT) or killed (SIGKILL) for real:
--   lua5.4 spec/support/bulk_child.lua JOURNAL N CONCURRENCY [PREFIX]
-- creates users PREFIX1..PREFIXN through client:batch with the journal, and
-- prints one line "created <i> <id>" as each create ends, then one JSON line
-- of the outcome: { complete, counts, unknown = [i…], done = [i…] }.
package.path = "./lua/?.lua;./lua/?/init.lua;./spec/?.lua;" .. package.path
package.cpath = "./build/lua5.4/?.so;" .. package.cpath
local cjson = require "cjson"
local support = require "support.client"

local journal, n, concurrency, prefix = arg[1], tonumber(arg[2]), tonumber(arg[3]), arg[4] or "bulk"
local client = support.direct{ retry = { max_retries = 2 } }
local calls = {}
for i = 1, n do
  calls[i] = { "post_users", { name = prefix .. " " .. i, email = ("%s%d@example.com"):format(prefix, i),
                               password = "Secret-Pass-1" } }
end
io.stdout:setvbuf("line")
local ok, results = pcall(client.batch, client, calls, { concurrency = concurrency, journal = journal,
  on_result = function(i, e) if e.ok and not e.journaled then print("created " .. i .. " " .. tostring(e.value.id)) end end })
local summary = { complete = ok, counts = { done = 0, failed = 0, unknown = 0, not_started = 0 }, unknown = {}, done = {} }
if not ok then
  local e = results
  if type(e) ~= "table" or e.kind ~= "interrupted" then io.stderr:write(tostring(e), "\n") os.exit(70) end
  summary.cause = tostring(e.cause)
  results = e.results
end
for i, r in ipairs(results) do
  summary.counts[r.outcome] = summary.counts[r.outcome] + 1
  if r.outcome == "unknown" then summary.unknown[#summary.unknown + 1] = i end
  if r.outcome == "done" then summary.done[#summary.done + 1] = i end
  if r.outcome == "failed" then io.stderr:write(("call %d failed: %s\n"):format(i, tostring(r.err))) end
end
print(cjson.encode(summary))
os.exit(ok and 0 or 130)
