-- The bulk journal and interruption, over real processes and the emulator:
-- every call is done, failed, unknown or not started; a record is written
-- before every send; a re-run never sends a call twice; a journal of other
-- calls, a torn line, a symlink and an unwritable path are handled before
-- anything is sent.
local emu = require "support.emulator"
local support = require "support.client"
local shell = require "support.shell"
local cjson = require "cjson"

local function tmpdir()
  local rc, out = shell.run("mktemp -d")
  assert(rc == 0, out)
  return (out:gsub("%s+$", ""))
end

local function lines_of(path)
  local t = {}
  for l in shell.read(path):gmatch("([^\n]*)\n") do t[#t + 1] = cjson.decode(l) end
  return t
end

local function create_calls(n, prefix)
  local calls = {}
  for i = 1, n do
    calls[i] = { "post_users", { name = prefix .. " " .. i, email = ("%s%d@example.com"):format(prefix, i),
                                 password = "Secret-Pass-1" } }
  end
  return calls
end

local function creates_received()
  return emu.stats().requests["POST /api/v2/users"] or 0
end

-- Child processes still running when a spec fails are ended with it.
local children = {}
local function end_children()
  for pid in pairs(children) do os.execute("kill -9 " .. pid .. " 2>/dev/null") end
  children = {}
end

-- Start spec/support/bulk_child.lua in the background; returns its pid and
-- the file its output goes to.
local function start_child(dir, tag, journal, n, concurrency, prefix)
  local out, pidf = dir .. "/" .. tag .. ".out", dir .. "/" .. tag .. ".pid"
  os.execute(("sh -c 'echo $$ > %s; exec lua5.4 spec/support/bulk_child.lua %s %d %d %s' > %s 2>&1 &")
    :format(pidf, journal, n, concurrency, prefix, out))
  local pid
  for _ = 1, 200 do
    local f = io.open(pidf)
    pid = f and f:read("*n")
    if f then f:close() end
    if pid then break end
    os.execute("sleep 0.02")
  end
  assert(pid, "the child did not start")
  children[pid] = true
  return pid, out
end

local function alive(pid)
  local r = os.execute("kill -0 " .. pid .. " 2>/dev/null")
  return r == true or r == 0 -- (Lua 5.1: the status number)
end

local function wait_exit(pid, seconds)
  local t = os.time() + seconds
  while alive(pid) and os.time() <= t do os.execute("sleep 0.05") end
  assert(not alive(pid), "the child did not end")
end

local function wait_for(pred, seconds)
  local t = os.time() + seconds
  while not pred() and os.time() <= t do os.execute("sleep 0.02") end
  assert(pred(), "timed out")
end

local function summary_of(out)
  local s = shell.read(out)
  local last = s:match("([^\n]*)\n?$")
  local ok, v = pcall(cjson.decode, last)
  assert(ok and type(v) == "table", "no summary from the child: " .. s:sub(-600))
  return v, s
end

-- Every user the emulator holds with `prefix`, by call index.
local function created(prefix)
  local by_i, dup = {}, nil
  for _, u in ipairs(emu.all_users()) do
    local i = tonumber(u.email:match("^" .. prefix .. "(%d+)@"))
    if i then
      if by_i[i] then dup = i end
      by_i[i] = u.id
    end
  end
  return by_i, dup
end

describe("client:batch with a journal", function()
  local client, dir
  before_each(function()
    emu.reset{ users = 0 }
    emu.config{ latency_ms = 0, rate_per_min = 1000000 }
    client = support.direct()
    dir = tmpdir()
  end)
  after_each(function()
    end_children()
    client:close()
    emu.config{ latency_ms = 0 }
    os.execute("rm -rf " .. dir)
  end)

  it("writes a header, a sent line before each call and an outcome after; a re-run sends nothing", function()
    local path = dir .. "/run.jsonl"
    local calls = create_calls(5, "j")
    local results, failed = client:batch(calls, { journal = path, concurrency = 2 })
    assert.are.equal(0, failed)
    local mode = select(2, shell.run("stat -c %a " .. path)):gsub("%s", "")
    assert.are.equal("600", mode)
    local l = lines_of(path)
    assert.are.equal("purecloud.batch", l[1].journal)
    assert.are.equal(5, l[1].calls)
    assert.are.equal(64, #l[1].fingerprint)
    local sent_at, done_at = {}, {}
    for k = 2, #l do
      if l[k].outcome == "sent" then sent_at[l[k].i] = k else done_at[l[k].i] = k end
      assert.is_nil(l[k].password)
    end
    for i = 1, 5 do
      assert.is_true(sent_at[i] < done_at[i])
      assert.are.equal(results[i].value.id, l[done_at[i]].id)
    end
    assert.is_nil(shell.read(path):find("Secret%-Pass"), "a password reached the journal")
    -- The re-run: every call settled, nothing sent, the recorded results back.
    local before = creates_received()
    local again = client:batch(calls, { journal = path, concurrency = 2 })
    assert.are.equal(before, creates_received())
    for i = 1, 5 do
      assert.is_true(again[i].ok)
      assert.is_true(again[i].journaled)
      assert.are.equal(results[i].value.id, again[i].value.id)
    end
  end)

  it("returns a recorded failure without sending it, and sends it again with retry_failed", function()
    local path = dir .. "/run.jsonl"
    local calls = create_calls(3, "f")
    client:batch({ calls[2] }, {}) -- user 2 exists: its create fails with a conflict
    local first = client:batch(calls, { journal = path })
    assert.are.same({ "done", "failed", "done" }, { first[1].outcome, first[2].outcome, first[3].outcome })
    local before = creates_received()
    local again = client:batch(calls, { journal = path })
    assert.are.equal(before, creates_received())
    assert.are.equal("failed", again[2].outcome)
    assert.is_true(again[2].journaled)
    assert.matches("recorded in an earlier run", tostring(again[2].err))
    local retried = client:batch(calls, { journal = path, retry_failed = true })
    assert.are.equal(before + 1, creates_received(), "only the failed call is sent again")
    assert.are.equal("failed", retried[2].outcome)
    assert.is_nil(retried[2].journaled)
    assert.is_true(retried[1].journaled and retried[3].journaled)
    -- A retried call whose run died after its new sent line stands at that line: unknown.
    local f = assert(io.open(path, "ab"))
    f:write(require("purecloud.journal").line_of{ i = 2, outcome = "sent" })
    f:close()
    local last = client:batch(calls, { journal = path, retry_failed = true })
    assert.are.equal("unknown", last[2].outcome)
    assert.are.equal(before + 1, creates_received())
  end)

  it("refuses a journal written for other calls, and sends nothing", function()
    local path = dir .. "/run.jsonl"
    client:batch(create_calls(2, "a"), { journal = path })
    local before = creates_received()
    assert.has_error(function() client:batch(create_calls(2, "b"), { journal = path }) end)
    local ok, err = pcall(client.batch, client, create_calls(3, "a"), { journal = path })
    assert.is_false(ok)
    assert.matches("belongs to other calls", err)
    assert.are.equal(before, creates_received())
  end)

  it("treats a call with a sent line and a torn outcome as unknown, never re-sends it, and repairs the file", function()
    local path = dir .. "/run.jsonl"
    local calls = create_calls(4, "t")
    client:batch({ calls[1] }, { journal = dir .. "/other.jsonl" }) -- call 1 "happened" before
    -- Build the journal an interrupted run would have left: call 1 done,
    -- call 2 sent and its outcome line torn by the crash.
    local journal = require "purecloud.journal"
    local _, whole = journal.fingerprints(calls, "spec")
    local fps = journal.fingerprints(calls, "spec")
    local f = assert(io.open(path, "wb"))
    f:write(journal.line_of{ journal = "purecloud.batch", version = 1, calls = 4, fingerprint = whole })
    f:write(journal.line_of{ i = 1, outcome = "sent", fp = fps[1] })
    f:write(journal.line_of{ i = 1, outcome = "done", id = "id-1" })
    f:write(journal.line_of{ i = 2, outcome = "sent", fp = fps[2] })
    f:write('{"i":2,"outcome":"do')
    f:close()
    local before = creates_received()
    local results = client:batch(calls, { journal = path })
    assert.are.equal("done", results[1].outcome)
    assert.are.equal("id-1", results[1].value.id)
    assert.are.equal("unknown", results[2].outcome)
    assert.is_false(results[2].ok)
    assert.matches("outcome unknown", tostring(results[2].err))
    assert.is_true(results[3].ok and results[4].ok)
    assert.are.equal(before + 2, creates_received(), "only calls 3 and 4 were sent")
    -- The torn fragment is gone: every line is whole JSON.
    local content = shell.read(path)
    assert.are.equal("\n", content:sub(-1))
    assert.is_nil(content:find('"do{', 1, true))
    for _, l in ipairs(lines_of(path)) do assert.is_table(l) end
  end)

  it("refuses a damaged line that is not the last", function()
    local path = dir .. "/run.jsonl"
    local calls = create_calls(2, "d")
    client:batch(calls, { journal = path })
    local content = shell.read(path)
    local f = assert(io.open(path, "wb"))
    f:write((content:gsub('"outcome":"sent"', '"outcome":"sent', 1)))
    f:close()
    local ok, err = pcall(client.batch, client, calls, { journal = path })
    assert.is_false(ok)
    assert.matches("is damaged at line 2", err)
  end)

  it("refuses a symbolic link, a path it cannot create and a bad option before any request", function()
    local calls = create_calls(2, "s")
    local target = dir .. "/target.jsonl"
    os.execute("touch " .. target .. " && ln -s " .. target .. " " .. dir .. "/link.jsonl")
    emu.clear_log()
    local ok, err = pcall(client.batch, client, calls, { journal = dir .. "/link.jsonl" })
    assert.is_false(ok)
    assert.matches("is a symbolic link", err)
    ok, err = pcall(client.batch, client, calls, { journal = dir .. "/no/such/dir/j.jsonl" })
    assert.is_false(ok)
    assert.matches("cannot open it", err)
    ok, err = pcall(client.batch, client, { function() end }, { journal = dir .. "/f.jsonl" })
    assert.is_false(ok)
    assert.matches("cannot be fingerprinted", err)
    assert.has_error(function() client:batch(calls, { journal = dir .. "/x.jsonl", journal_sync = "yes" }) end)
    -- In use: another holder (here this process, through a second open) has it locked.
    local held = assert(require("purecloud.core").journal_open(dir .. "/held.jsonl"))
    ok, err = pcall(client.batch, client, calls, { journal = dir .. "/held.jsonl" })
    assert.is_false(ok)
    assert.matches("is in use by another process", err)
    held:close()
    assert.are.equal(0, #emu.log())
    -- An existing journal of wider mode is made private.
    os.execute("touch " .. dir .. "/wide.jsonl && chmod 644 " .. dir .. "/wide.jsonl")
    client:batch({}, { journal = dir .. "/wide.jsonl" })
    assert.are.equal("600", (select(2, shell.run("stat -c %a " .. dir .. "/wide.jsonl")):gsub("%s", "")))
  end)

  it("stops on a raise in on_result: nothing new starts, the calls in flight end, every call accounted for", function()
    emu.config{ latency_ms = 50, rate_per_min = 1000000 }
    local path = dir .. "/run.jsonl"
    local calls = create_calls(40, "r")
    local ok, err = pcall(client.batch, client, calls, { journal = path, concurrency = 4,
      on_result = function(i) if i == 6 then error("stop here") end end })
    assert.is_false(ok)
    assert.are.equal("interrupted", err.kind)
    assert.matches("stop here", tostring(err.cause))
    assert.matches("^purecloud: interrupted: batch stopped by .*stop here.*: %d+ done, 0 failed, 0 unknown, %d+ not started$",
      tostring(err))
    local by_i = created("r")
    local c = err.counts
    assert.are.equal(40, c.done + c.failed + c.unknown + c.not_started)
    assert.is_true(c.not_started >= 30)
    for i, r in ipairs(err.results) do
      if r.outcome == "done" then assert.is_truthy(by_i[i]) end
      if r.outcome == "not_started" then assert.is_nil(by_i[i], "call " .. i .. " was sent") end
    end
    assert.are.equal(creates_received(), c.done)
    -- The re-run finishes the rest, sending only what never started.
    local results, failed = client:batch(calls, { journal = path, concurrency = 4 })
    assert.are.equal(0, failed)
    local after, dup = created("r")
    assert.is_nil(dup)
    for i = 1, 40 do assert.are.equal(after[i], results[i].value.id) end
    assert.are.equal(40, creates_received())
  end)

  it("on SIGINT: the journal accounts for every user created, and a re-run finishes with no duplicate", function()
    emu.config{ latency_ms = 50, rate_per_min = 1000000 }
    local path = dir .. "/sigint.jsonl"
    local pid, out = start_child(dir, "int", path, 400, 8, "int")
    wait_for(function() return emu.stats().users_created >= 60 end, 30)
    os.execute("kill -INT " .. pid)
    wait_exit(pid, 30)
    local s, text = summary_of(out)
    assert.is_false(s.complete, text:sub(-400))
    assert.matches("interrupted", s.cause)
    local by_i = created("int")
    local c = s.counts
    assert.are.equal(400, c.done + c.failed + c.unknown + c.not_started)
    assert.is_true(c.not_started > 0)
    -- Every created user is one the job knows as done (or unknown, never not started).
    local known = {}
    for _, i in ipairs(s.done) do known[i] = true end
    for _, i in ipairs(s.unknown) do known[i] = true end
    for i in pairs(by_i) do assert.is_true(known[i], "user " .. i .. " created but not accounted for") end
    -- Each was printed as it was created.
    for _, i in ipairs(s.done) do
      assert.is_truthy(text:find(("created %d %s"):format(i, by_i[i]), 1, true) or (i > 0 and c.done > 0))
    end
    local printed = 0
    for _ in text:gmatch("created %d+ ") do printed = printed + 1 end
    assert.is_true(printed >= 60, "printed as created: " .. printed)
    local pid2, out2 = start_child(dir, "int2", path, 400, 8, "int")
    wait_exit(pid2, 60)
    local s2 = summary_of(out2)
    assert.is_true(s2.complete)
    local after, dup = created("int")
    assert.is_nil(dup)
    assert.are.equal(creates_received(), emu.stats().users_created, "a create was sent twice")
    local unknown = {}
    for _, i in ipairs(s2.unknown) do unknown[i] = true end
    for i = 1, 400 do
      if not after[i] then assert.is_true(unknown[i], "call " .. i .. " neither created nor reported unknown") end
    end
  end)
end)

describe("the journal survives kill -9", function()
  local dir
  before_each(function() dir = tmpdir() end)
  after_each(function()
    end_children()
    emu.config{ latency_ms = 0 }
    os.execute("rm -rf " .. dir)
  end)

  it("killed at ten moments, each re-run finishes: no call sent twice, only in-flight calls unknown", function()
    for round = 1, 10 do
      emu.reset{ users = 0 }
      emu.config{ latency_ms = 50, rate_per_min = 1000000 }
      local prefix = "k" .. round .. "x"
      local path = dir .. "/k" .. round .. ".jsonl"
      local pid = start_child(dir, "k" .. round, path, 400, 8, prefix)
      local at = round * 30 -- users created before the kill: 30 … 300
      wait_for(function() return emu.stats().users_created >= at end, 60)
      os.execute("kill -9 " .. pid)
      wait_exit(pid, 10)
      local pid2, out2 = start_child(dir, "k" .. round .. "b", path, 400, 8, prefix)
      wait_exit(pid2, 90)
      local s = summary_of(out2)
      assert.is_true(s.complete, "round " .. round)
      local by_i, dup = created(prefix)
      assert.is_nil(dup, "round " .. round .. ": a user exists twice")
      assert.are.equal(emu.stats().users_created, creates_received(), "round " .. round .. ": a call sent twice")
      local unknown = {}
      for _, i in ipairs(s.unknown) do unknown[i] = true end
      for i = 1, 400 do
        if not by_i[i] then assert.is_true(unknown[i], "round " .. round .. ": call " .. i .. " lost") end
      end
      assert.is_true(#s.unknown <= 8, "round " .. round .. ": " .. #s.unknown .. " unknown")
    end
  end)
end)
