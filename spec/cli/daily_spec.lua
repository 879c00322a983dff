-- The daily jobs over the emulator: users list/get/export with --expand,
-- --state, --id, --sort-order, --filter and checked --fields; every --output
-- format parsed back; the nightly export with --with (streaming: peak RSS
-- flat from 2 000 to 20 000 users); the progress line on a terminal only;
-- a pacing wait said as such; shell completion.
local cjson = require "cjson"
local lyaml = require "lyaml"
local emu = require "support.emulator"
local h = require "cli.helper"

local function jsonl(text)
  local t = {}
  for l in (text or ""):gmatch("[^\n]+") do t[#t + 1] = cjson.decode(l) end
  return t
end

local parse_csv = require("support.csv").parse

local function one_line_error(code, out, err)
  assert.are.equal(2, code, err)
  assert.are.equal("", out)
  assert.are.equal(1, #h.lines(err), err)
  assert.is_nil(err:find("traceback", 1, true), err)
end

describe("CLI daily jobs", function()
  before_each(function() emu.reset{ users = 12 } end)

  describe("--output", function()
    it("json is one array document; --format json stays JSON lines (documented alias)", function()
      local code, out, err = h.run("users list --output json --fields id,name,skills --expand skills")
      assert.are.equal(0, code, err)
      local v = cjson.decode(out)
      assert.are.equal(12, #v)
      assert.is_table(v[1].skills)
      local code2, out2 = h.run("users list --format json --fields id")
      assert.are.equal(0, code2)
      assert.are.equal(12, #jsonl(out2))
      local code3, out3 = h.run("users list --output jsonl --fields id")
      assert.are.equal(0, code3)
      assert.are.equal(out2, out3)
    end)

    it("yaml loads back with lyaml, csv parses back, table is aligned", function()
      local _, want = h.run("users list --output json")
      want = cjson.decode(want)
      local code, out, err = h.run("users list --output yaml")
      assert.are.equal(0, code, err)
      local y = lyaml.load(out)
      assert.are.equal(#want, #y)
      assert.are.equal(want[3].email, y[3].email)
      assert.are.equal(want[3].id, y[3].id)
      code, out, err = h.run("users list --output csv --fields id,email,manager.id")
      assert.are.equal(0, code, err)
      local rows = parse_csv(out)
      assert.are.same({ "id", "email", "manager.id" }, rows[1])
      assert.are.equal(want[5].email, rows[6][2])
      code, out, err = h.run("users list --output table --fields id,email", "COLUMNS=50")
      assert.are.equal(0, code, err)
      local lines = h.lines(out)
      assert.are.equal(13, #lines)
      for _, l in ipairs(lines) do assert.is_true(utf8.len(l) <= 50, l) end
      assert.truthy(out:find("…", 1, true), out)
      -- the email column starts at the same character on every line
      local at = utf8.len(lines[1]:sub(1, lines[1]:find("email", 1, true) - 1)) + 1
      for i = 2, 13 do
        local from = utf8.offset(lines[i], at)
        assert.are.equal(want[i - 1].email:sub(1, 5), lines[i]:sub(from, from + 4), lines[i])
      end
    end)

    it("search and call: json and yaml are whole documents", function()
      local u = emu.users(1)[1]
      local code, out, err = h.run("users search --email " .. u.email .. " --output json --fields id")
      assert.are.equal(0, code, err)
      assert.are.same({ { id = u.id } }, cjson.decode(out))
      code, out, err = h.run("call get_user_id " .. u.id .. " --output json")
      assert.are.equal(0, code, err)
      assert.are.equal(u.id, cjson.decode(out).id)
      code, out, err = h.run("call get_users --opts '{\"page_size\": 3}' --output yaml")
      assert.are.equal(0, code, err)
      assert.are.equal(3, #lyaml.load(out).entities)
      code, out, err = h.run("call get_users --opts '{\"page_size\": 3}' --output csv --fields id")
      assert.are.equal(0, code, err)
      assert.are.equal(4, #parse_csv(out))
    end)

    it("an empty list: [] for json and yaml, nothing for jsonl, the header for csv and table", function()
      local want = { json = "[]\n", yaml = "[]\n", jsonl = "", csv = "id,name,email\r\n", table = "id  name  email\n" }
      for format, text in pairs(want) do
        local code, out, err = h.run("users list --filter name=nobody --output " .. format)
        assert.are.equal(0, code, err)
        assert.are.equal(text, out, format)
      end
    end)
  end)

  describe("users options", function()
    it("--fields: an unknown name is a usage error with did-you-mean, nothing sent", function()
      emu.clear_log()
      local code, out, err = h.run("users list --fields id,nmae")
      one_line_error(code, out, err)
      assert.truthy(err:find("unknown field 'nmae'", 1, true), err)
      assert.truthy(err:find("did you mean 'name'", 1, true), err)
      code, out, err = h.run("users get x --fields managr.id")
      one_line_error(code, out, err)
      assert.truthy(err:find("did you mean 'manager.id'", 1, true), err)
      code = h.run("users list --fields manager.id,addresses.1.address")
      assert.are.equal(0, code)
    end)

    it("--expand: checked against today's enum; expanded fields come back", function()
      local code, out, err = h.run("users list --expand skils")
      one_line_error(code, out, err)
      assert.truthy(err:find("did you mean 'skills'", 1, true), err)
      code, out, err = h.run("users list --expand skills --expand languages,routingStatus --output json")
      assert.are.equal(0, code, err)
      local v = cjson.decode(out)
      assert.is_table(v[1].skills)
      assert.is_table(v[1].languages)
      assert.is_table(v[1].routingStatus)
      local _, plain = h.run("users list --output json")
      assert.is_nil(cjson.decode(plain)[1].routingStatus)
    end)

    it("--id lists those users; get takes several; --sort-order and --state reach the service", function()
      local all = emu.users(12)
      local code, out, err = h.run(("users list --id %s --id %s,%s --fields id"):format(all[2].id, all[5].id,
        all[7].id))
      assert.are.equal(0, code, err)
      local got = {}
      for _, r in ipairs(jsonl(out)) do got[r.id] = true end
      assert.are.same({ [all[2].id] = true, [all[5].id] = true, [all[7].id] = true }, got)
      code, out, err = h.run(("users get %s %s --output json --fields id"):format(all[1].id, all[3].id))
      assert.are.equal(0, code, err)
      assert.are.same({ { id = all[1].id }, { id = all[3].id } }, cjson.decode(out))
      code, out, err = h.run(("users get %s --id %s --state active --output json --fields id"):format(all[1].id,
        all[3].id))
      assert.are.equal(0, code, err)
      assert.are.same({ { id = all[1].id }, { id = all[3].id } }, cjson.decode(out))
      code, out, err = h.run("users get")
      one_line_error(code, out, err)
      emu.clear_log()
      local _
      code, _, err = h.run("users list --sort-order descending --state any --fields id")
      assert.are.equal(0, code, err)
      local seen = false
      for _, e in ipairs(emu.log()) do
        local uri = tostring(e.query)
        if uri:find("sortOrder=descending", 1, true) and uri:find("state=any", 1, true) then seen = true end
      end
      assert.is_true(seen, cjson.encode(emu.log()))
      _, _, err = h.run("users list --state sleeping")
      assert.truthy(err:find("must be one of", 1, true), err)
      code, _, err = h.run("users list --sort-order sideways")
      assert.are.equal(2, code, err)
      assert.truthy(err:find("must be one of 'ascending', 'descending'", 1, true), err)
    end)

    it("--filter FIELD=VALUE: exact, dotted, repeatable (AND); a bad one is a usage error", function()
      local all = emu.users(12)
      local target = all[4]
      local code, out, err = h.run("users list --filter email=" .. target.email .. " --fields id")
      assert.are.equal(0, code, err)
      assert.are.same({ { id = target.id } }, jsonl(out))
      code, out = h.run(("users list --filter email=%s --filter name=%s --fields id"):format(target.email,
        h.quote(target.name)))
      assert.are.equal(0, code)
      assert.are.same({ { id = target.id } }, jsonl(out))
      code, out = h.run(("users list --filter email=%s --filter name=other --fields id"):format(target.email))
      assert.are.equal(0, code)
      assert.are.equal("", out)
      code, out = h.run("users list --filter email=" .. target.email:sub(1, 5) .. " --fields id")
      assert.are.equal(0, code)
      assert.are.equal("", out) -- exact, not a prefix
      code, out = h.run("users list --filter chat.jabberId=" .. target.chat.jabberId .. " --fields id")
      assert.are.equal(0, code)
      assert.are.same({ { id = target.id } }, jsonl(out))
      code, out, err = h.run("users list --filter emial=x")
      one_line_error(code, out, err)
      assert.truthy(err:find("did you mean 'email'", 1, true), err)
      code, out, err = h.run("users list --filter email")
      one_line_error(code, out, err)
    end)
  end)

  describe("export --with", function()
    local dir
    before_each(function()
      dir = os.tmpname()
      os.remove(dir)
      os.execute("mkdir " .. dir)
    end)
    after_each(function() os.execute("rm -rf " .. dir) end)

    it("skills, languages and routing status per user, as JSON lines and CSV, one request a page", function()
      emu.clear_log()
      local code, _, err = h.run("users export " .. dir .. "/u.jsonl --with skills,languages,routingstatus "
        .. "--page-size 5")
      assert.are.equal(0, code, err)
      local users = jsonl(h.slurp(dir .. "/u.jsonl"))
      assert.are.equal(12, #users)
      for _, u in ipairs(users) do
        assert.is_table(u.skills)
        assert.is_table(u.languages)
        assert.is_table(u.routingStatus)
      end
      local gets = 0
      for _, e in ipairs(emu.log()) do
        local line = cjson.encode(e)
        if line:find("/api/v2/users/", 1, true) then gets = gets + 1 end
      end
      assert.are.equal(0, gets) -- no request per user: the list's expand brings them
      code, _, err = h.run("users export " .. dir .. "/u.csv --with skills,languages,routingstatus --output csv "
        .. "--fields id,skills,languages,routingStatus.status")
      assert.are.equal(0, code, err)
      local rows = parse_csv(h.slurp(dir .. "/u.csv"))
      assert.are.equal(13, #rows)
      assert.are.same({ "id", "skills", "languages", "routingStatus.status" }, rows[1])
      for i = 2, 13 do assert.is_table(cjson.decode(rows[i][2])) end
      code, _, err = h.run("users export " .. dir .. "/x --with skils")
      assert.are.equal(2, code, err)
      assert.truthy(err:find("did you mean 'skills'", 1, true), err)
    end)

    -- The CLI's peak RSS (VmHWM, sampled from /proc while it runs).
    local function peak(n)
      emu.reset{ users = n }
      local p = h.start(("users export %s/big.jsonl --with skills,languages,routingstatus --page-size 500 "
        .. "--concurrency 4"):format(dir))
      local hwm = 0
      while not p.done() do
        local status = h.slurp("/proc/" .. p.pid .. "/status") or ""
        local kb = tonumber(status:match("VmHWM:%s*(%d+)"))
        if kb and kb > hwm then hwm = kb end
        h.sleep(0.02)
      end
      local rc, err = p.done(), p.stderr()
      p.clean()
      assert.are.equal(0, rc, err)
      local lines = 0
      for _ in io.lines(dir .. "/big.jsonl") do lines = lines + 1 end
      assert.are.equal(n, lines)
      return hwm
    end

    it("streams: the peak RSS at 20 000 users is at most 1.3x the one at 2 000", function()
      local small = peak(2000)
      local large = peak(20000)
      io.stderr:write(("\nexport peak RSS: 2 000 users %d kB, 20 000 users %d kB (%.2fx)\n"):format(small, large,
        large / small))
      assert.is_true(small > 0)
      assert.is_true(large <= 1.3 * small, ("%d kB at 20 000 vs %d kB at 2 000"):format(large, small))
    end)
  end)

  describe("progress", function()
    it("a line with count, rate and ETA on a terminal; none when stderr is not one", function()
      emu.reset{ users = 300 }
      local dir = os.tmpname()
      local code, _, err = h.run("users export " .. dir .. " --page-size 10 --concurrency 1")
      assert.are.equal(0, code, err)
      assert.are.equal("export: 300 done, 0 failed\n", err)
      if not h.have_pty() then pending("script(1) cannot give a pseudo-terminal here") return end
      emu.config{ latency_ms = 20 }
      local shown
      code, shown = h.on_tty("users export " .. dir .. " --page-size 10 --concurrency 1")
      emu.config{ latency_ms = 0 }
      os.remove(dir)
      assert.are.equal(0, code, shown)
      assert.truthy(shown:find("export 300/300 (100 %)", 1, true), shown)
      assert.matches("export %d+/300 %(%d+ %%%) %d+/s ETA %d+ s", shown)
      assert.truthy(shown:find("\r\27[K", 1, true), shown)
    end)
  end)

  describe("pacing", function()
    it("a full rate-limit window is said as such, not as a retry", function()
      emu.config{ rate = { allowed = 4, window_s = 2 } }
      local code, out, err = h.run("users list --page-size 1 --concurrency 2 --fields id")
      emu.config{ rate = false }
      assert.are.equal(0, code, err)
      assert.are.equal(12, #jsonl(out))
      assert.matches("rate%-limit window full %(%d+ of 4 requests%): holding %d+ calls? for %d+%.%d s", err)
      assert.is_nil(err:find("retrying", 1, true), err)
    end)
  end)

  describe("completion", function()
    it("bash: the script loads and completes call operations; zsh and fish name them", function()
      local cmd = h.command("completion bash")
      local p = io.popen(("bash -c %s 2>&1"):format(h.quote("source <(" .. cmd .. "); complete -p purecloud; "
        .. "COMP_WORDS=(purecloud call get_user_); COMP_CWORD=2; _purecloud; printf '%s\\n' \"${COMPREPLY[@]}\"")))
      local out = p:read("a")
      p:close()
      assert.truthy(out:find("complete %-.*%-F _purecloud.* purecloud"), out)
      assert.truthy(out:find("\nget_user_routingskills\n", 1, true), out)
      assert.truthy(out:find("\nget_user_id\n", 1, true), out) -- a seed alias
      assert.is_nil(out:find("\npost_users\n", 1, true), out)
      for _, shell in ipairs({ "zsh", "fish" }) do
        local code, script = h.run("completion " .. shell)
        assert.are.equal(0, code)
        assert.truthy(script:find("get_user_routingskills", 1, true), shell)
      end
      local code, out2, err = h.run("completion tcsh")
      assert.are.equal(2, code, err)
      assert.are.equal("", out2)
    end)
  end)

  it("every command has a description in --help", function()
    for _, c in ipairs({ "", "users", "users list", "users get", "users export", "users import", "users search",
      "call", "completion", "profiles", "profiles add", "token", "logout" }) do
      local code, out = h.run(c .. " --help")
      assert.are.equal(0, code, c)
      -- the usage lines, a blank line, then the description (not a section)
      local desc = out:match("^Usage: .-\n\n([^\n]+)")
      assert.truthy(desc, c .. "\n" .. out)
      assert.is_nil(desc:find("^%a+:$"), c .. "\n" .. out)
    end
  end)
end)
