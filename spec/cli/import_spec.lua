-- purecloud users import as a process against the emulator: ids printed as
-- each user is created, SIGINT (summary, unknown lines, exit 130), resuming
-- with --journal, --skip-existing, 2xx answers without a user, usage errors
-- (exit 2, never 70).
local cjson = require "cjson"
local emu = require "support.emulator"
local h = require "cli.helper"

local PW = "PURECLOUD_IMPORT_PASSWORD=Imp0rt!pw"

local function decoded(out)
  local t = {}
  for _, l in ipairs(h.lines(out)) do t[#t + 1] = cjson.decode(l) end
  return t
end

-- Emails of every user the emulator holds, with how many times each is held.
local function emulator_emails()
  local seen = {}
  for _, u in ipairs(emu.all_users()) do seen[u.email] = (seen[u.email] or 0) + 1 end
  return seen
end

local function no_internal_error(err)
  assert.is_nil(err:find("internal error", 1, true), err)
  assert.is_nil(err:find("stack traceback", 1, true), err)
end

describe("purecloud users import", function()
  local file, journal, procs
  before_each(function()
    file, journal = os.tmpname(), os.tmpname()
    os.remove(journal)
    procs = {}
    emu.reset{ users = 0 }
  end)
  after_each(function()
    for _, p in ipairs(procs) do p.clean() end
    os.remove(file)
    os.remove(journal)
    emu.clear_faults()
    emu.config{ latency_ms = 0 }
  end)
  local function start(args, env)
    local p = h.start(args, env)
    procs[#procs + 1] = p
    return p
  end

  it("prints each created user's id as it is created, not at the end", function()
    h.users_file(file, 12, "asap")
    emu.config{ latency_ms = 150 }
    local p = start("users import " .. file .. " --concurrency 1", PW)
    -- Two lines on stdout while the import still runs (12 creates take ~2 s).
    local early = h.until_true(function()
      local ls = h.lines(p.stdout())
      return #ls >= 2 and ls
    end, 20)
    assert.is_table(early, "no line on stdout while the import ran: " .. p.stderr())
    assert.is_nil(p.done(), "the import had already ended: the lines were not printed as created")
    local first = cjson.decode(early[1])
    assert.are.equal(1, first.line)
    assert.are.equal("asap-1@example.com", first.email)
    assert.are.equal(200, emu.api("GET", "/api/v2/users/" .. first.id).status)
    assert.are.equal(0, p:wait(30), p.stderr())
    local all = decoded(p.stdout())
    assert.are.equal(12, #all)
    for i, r in ipairs(all) do assert.are.equal(i, r.line) end -- concurrency 1: in order
  end)

  it("on SIGINT prints a summary and every unknown line, exits 130; a re-run with the journal "
    .. "finishes the rest without a duplicate", function()
    local n = 40
    h.users_file(file, n, "sigint")
    emu.config{ latency_ms = 200 }
    local p = start("users import " .. file .. " --concurrency 4 --journal " .. journal, PW)
    assert.truthy(h.until_true(function() return emu.stats().users_created >= 6 end, 30), p.stderr())
    p.interrupt()
    local code = p:wait(30)
    local out, err = p.stdout(), p.stderr()
    assert.are.equal(130, code, err)
    no_internal_error(err)
    local d, f, u, ns = err:match("import: interrupted: (%d+) done, (%d+) failed, (%d+) unknown, (%d+) not started\n")
    assert.truthy(d, err)
    d, f, u, ns = tonumber(d), tonumber(f), tonumber(u), tonumber(ns)
    assert.are.equal(n, d + f + u + ns)
    assert.are.equal(0, f)
    assert.is_true(ns > 0, "the interruption came too late to test anything: " .. err)
    -- Every user the emulator created is on stdout (with its id) or in the unknown list.
    local printed, unknown = {}, {}
    for _, r in ipairs(decoded(out)) do printed[r.email] = r end
    for line, email in err:gmatch("import: unknown: [^\n]-:(%d+): (%S+): ") do unknown[email] = tonumber(line) end
    local listed = 0
    for _ in pairs(unknown) do listed = listed + 1 end
    assert.are.equal(u, listed, err)
    assert.are.equal(d, #h.lines(out))
    local held = emulator_emails()
    for email in pairs(held) do
      assert.is_true(printed[email] ~= nil or unknown[email] ~= nil, email .. " created but not reported: " .. err)
    end
    for email, r in pairs(printed) do
      assert.are.equal(1, held[email], email)
      assert.are.equal(200, emu.api("GET", "/api/v2/users/" .. r.id).status)
    end
    if u > 0 then assert.matches("purecloud users search %-%-email", err) end

    -- The re-run: what never started is created, nothing twice.
    emu.config{ latency_ms = 0 }
    local code2, out2, err2 = h.run("users import " .. file .. " --journal " .. journal .. " --skip-existing", PW)
    assert.are.equal(0, code2, err2)
    no_internal_error(err2)
    assert.matches("import: " .. n .. " done, 0 failed\n", err2)
    local lines = {}
    for _, r in ipairs(decoded(out2)) do
      assert.is_nil(lines[r.line], "line " .. r.line .. " reported twice")
      lines[r.line] = r
    end
    for i = 1, n do assert.is_table(lines[i], "line " .. i .. " not reported by the re-run") end
    held = emulator_emails()
    for i = 1, n do assert.are.equal(1, held[("sigint-%d@example.com"):format(i)], "sigint-" .. i) end
    assert.are.equal(n, emu.stats().users_created)
    -- Lines done in the first run come back from the journal, not sent again.
    for email, r in pairs(printed) do assert.is_true(lines[r.line].journaled, email) end
  end)

  it("lists a create whose answer never came as unknown; --journal FILE --skip-existing settles it", function()
    h.users_file(file, 3, "lost")
    -- The second create is applied, then its connection closes: sent, no answer.
    emu.fault{ method = "POST", path = "/api/v2/users", action = "apply_then_close", skip = 1, count = 1 }
    local code, out, err = h.run("users import " .. file .. " --concurrency 1 --journal " .. journal, PW)
    assert.are.equal(1, code, err)
    no_internal_error(err)
    assert.matches("import: 2 done, 0 failed, 1 unknown\n", err)
    assert.matches("import: unknown: [^\n]*:2: lost%-2@example%.com: ", err)
    assert.matches("purecloud users search %-%-email EMAIL", err)
    assert.truthy(err:find("--journal " .. journal .. " --skip-existing", 1, true), err)
    assert.are.same({ 1, 3 }, { decoded(out)[1].line, decoded(out)[2].line })
    assert.are.equal(3, emu.stats().users_created)
    -- Without --skip-existing the journal never sends it again: still unknown.
    code, out, err = h.run("users import " .. file .. " --journal " .. journal, PW)
    assert.are.equal(1, code, err)
    assert.matches("1 unknown", err)
    assert.are.equal(2, #h.lines(out))
    -- --skip-existing looks it up by its email: found, with its id; not sent again.
    local posts = emu.stats().requests["POST /api/v2/users"]
    code, out, err = h.run("users import " .. file .. " --journal " .. journal .. " --skip-existing", PW)
    assert.are.equal(0, code, err)
    assert.matches("import: 3 done, 0 failed\n", err)
    local byline = {}
    for _, r in ipairs(decoded(out)) do byline[r.line] = r end
    assert.is_true(byline[1].journaled)
    assert.is_true(byline[3].journaled)
    assert.is_true(byline[2].existing)
    assert.are.equal("lost-2@example.com", byline[2].email)
    local held
    for _, u in ipairs(emu.all_users()) do if u.email == "lost-2@example.com" then held = u end end
    assert.are.equal(held.id, byline[2].id)
    assert.are.equal(posts, emu.stats().requests["POST /api/v2/users"])
    assert.are.equal(3, emu.stats().users_created)
  end)

  it("--skip-existing sends again an unknown create the server did not apply", function()
    h.users_file(file, 2, "reset")
    -- The first create's connection is reset before the route runs: sent (maybe), not applied.
    emu.fault{ method = "POST", path = "/api/v2/users", action = "reset", count = 1 }
    local code, out, err = h.run("users import " .. file .. " --concurrency 1 --journal " .. journal, PW)
    assert.are.equal(1, code, err)
    assert.matches("import: unknown: [^\n]*:1: reset%-1@example%.com: ", err)
    assert.are.equal(1, #h.lines(out))
    assert.are.equal(1, emu.stats().users_created)
    code, out, err = h.run("users import " .. file .. " --journal " .. journal .. " --skip-existing", PW)
    assert.are.equal(0, code, err)
    local byline = {}
    for _, r in ipairs(decoded(out)) do byline[r.line] = r end
    assert.is_string(byline[1].id)
    assert.is_nil(byline[1].existing)
    assert.is_true(byline[2].journaled)
    assert.are.equal(2, emu.stats().users_created)
    assert.are.equal(1, emulator_emails()["reset-1@example.com"])
  end)

  it("--skip-existing counts an email that exists as done", function()
    emu.reset{ users = 1 }
    local taken = emu.users(1)[1].email
    local f = assert(io.open(file, "w"))
    f:write(cjson.encode({ name = "Taken", email = taken }), "\n")
    f:write(cjson.encode({ name = "New", email = "new-one@example.com" }), "\n")
    f:close()
    local code, out, err = h.run("users import " .. file, PW)
    assert.are.equal(1, code, err)
    assert.matches(":1: 400", err)
    assert.are.equal(1, #h.lines(out))
    emu.reset{ users = 1 }
    code, out, err = h.run("users import " .. file .. " --skip-existing", PW)
    assert.are.equal(0, code, err)
    assert.matches("import: 2 done, 0 failed\n", err)
    local rs = decoded(out)
    table.sort(rs, function(a, b) return a.line < b.line end)
    assert.are.same({ line = 1, email = taken, existing = true }, rs[1])
    assert.are.equal("new-one@example.com", rs[2].email)
    assert.is_string(rs[2].id)
    assert.are.equal(1, emu.stats().users_created)
  end)

  it("reports a user whose 2xx answer is empty, null or not an object as created, id null", function()
    h.users_file(file, 5, "body")
    for _, body in ipairs({ "", "null", "[]", '"text"' }) do
      emu.fault{ method = "POST", path = "/api/v2/users", status = 201, body = body, count = 1 }
    end
    local code, out, err = h.run("users import " .. file .. " --concurrency 1", PW)
    assert.are.equal(0, code, err)
    no_internal_error(err)
    assert.matches("import: 5 done, 0 failed\n", err)
    local rs = decoded(out)
    assert.are.equal(5, #rs)
    for i = 1, 4 do
      assert.are.equal(i, rs[i].line)
      assert.are.equal(cjson.null, rs[i].id, h.lines(out)[i])
      assert.are.equal(("body-%d@example.com"):format(i), rs[i].email)
    end
    assert.is_string(rs[5].id)
  end)

  describe("usage errors exit 2 with one line, never 70", function()
    local function usage(args, env, pattern)
      emu.clear_log()
      local code, out, err = h.run(args, env)
      assert.are.equal(2, code, args .. ": " .. err)
      assert.are.equal("", out)
      no_internal_error(err)
      if pattern then assert.matches(pattern, err) end
      local last = h.lines(err)[#h.lines(err)] or ""
      assert.is_true(#last < 1200, "a message of " .. #last .. " bytes")
      for _, e in ipairs(emu.log()) do assert.are_not.equal("POST", e.method, "sent: " .. e.path) end
      return err
    end

    it("a 100 000-character PURECLOUD_ENVIRONMENT", function()
      h.users_file(file, 2, "env")
      local big = ("a"):rep(100000)
      local err = usage("users import " .. file, PW .. " PURECLOUD_BASE_URL= PURECLOUD_ENVIRONMENT=" .. big,
        "PURECLOUD_ENVIRONMENT is 100000 characters long")
      assert.are.equal(1, #h.lines(err), err)
      usage("token", "PURECLOUD_BASE_URL= PURECLOUD_ENVIRONMENT=" .. big, "at most 253")
      usage("users list", "PURECLOUD_BASE_URL=http://" .. big, "PURECLOUD_BASE_URL is")
    end)

    it("bad options and arguments", function()
      h.users_file(file, 2, "opt")
      usage("users import " .. file .. " --concurrency 0", PW, "%-%-concurrency must be an integer from 1 to 64")
      usage("users import " .. file .. " --concurrency 1.5", PW, "%-%-concurrency must be")
      usage("users import " .. file .. " --concurrency " .. ("9"):rep(5000), PW, "%-%-concurrency must be")
      usage("users import " .. file .. " --journal-sync", PW, "%-%-journal%-sync needs %-%-journal")
      usage("users import " .. file .. " --retry-failed", PW, "%-%-retry%-failed needs %-%-journal")
      usage("users get ''", nil, "user_id")
      usage("users get " .. ("x"):rep(5000), nil, "not an id")
      usage("call get_user_id ''", nil, "user_id")
      usage("users search", nil, "%-%-email")
    end)

    it("a journal written for other calls", function()
      h.users_file(file, 2, "first")
      local code, _, err = h.run("users import " .. file .. " --journal " .. journal, PW)
      assert.are.equal(0, code, err)
      h.users_file(file, 3, "other")
      usage("users import " .. file .. " --journal " .. journal, PW, "belongs to other calls")
      local f = assert(io.open(journal, "w"))
      f:write("not a journal\n")
      f:close()
      usage("users import " .. file .. " --journal " .. journal, PW, "journal")
    end)
  end)
end)
