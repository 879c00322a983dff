-- The purecloud command line, run as a process against the emulator: help
-- and usage, errors printed once, waits visible, hosts as the library
-- resolves them, output formats, the generic `call`, export/import.
local cjson = require "cjson"
local emu = require "support.emulator"

local function slurp(p)
  local f = io.open(p)
  if not f then return nil end
  local s = f:read("*a")
  f:close()
  return s
end

-- run(args, env, stdin) → exit code, stdout, stderr
local function run(args, env, stdin)
  local out, err = os.tmpname(), os.tmpname()
  local input = ""
  if stdin then
    input = os.tmpname()
    local f = assert(io.open(input, "w"))
    f:write(stdin)
    f:close()
  end
  local cmd = ("%s PURECLOUD_BASE_URL=%s PURECLOUD_CLIENT_ID=emulator-client PURECLOUD_SECRET=emulator-secret "
    .. "PURECLOUD_LOG= %s LUA_PATH='./lua/?.lua;./lua/?/init.lua;;' LUA_CPATH='./build/lua5.4/?.so;;' "
    .. "lua5.4 bin/purecloud %s >%s 2>%s %s")
    :format(require("cli.helper").ISOLATED, emu.url, env or "", args, out, err,
      stdin and ("<" .. input) or "</dev/null")
  local ok, _, code = os.execute(cmd)
  local o, e = slurp(out), slurp(err)
  os.remove(out); os.remove(err)
  if stdin then os.remove(input) end
  if type(ok) == "number" then code = math.floor(ok / 256) end -- Lua 5.1: the wait status
  return (ok == true or ok == 0) and 0 or code, o, e
end

local function lines(s)
  local t = {}
  for l in s:gmatch("[^\n]+") do t[#t + 1] = l end
  return t
end

local function count(s, plain)
  local n, i = 0, 1
  while true do
    local a, b = s:find(plain, i, true)
    if not a then return n end
    n, i = n + 1, b + 1
  end
end

local function no_traceback(err)
  assert.is_nil(err:find("stack traceback", 1, true), err)
  assert.is_nil(err:find("%.lua:%d+:"), err)
end

describe("bin/purecloud", function()
  local file
  before_each(function()
    file = os.tmpname()
    os.remove(file)
  end)
  after_each(function()
    os.remove(file)
    emu.clear_faults()
  end)

  describe("help and usage", function()
    it("prints usage on stdout and exits 0 for --help, help, and per-command help", function()
      for _, a in ipairs({ "--help", "help", "-h" }) do
        local code, out, err = run(a)
        assert.are.equal(0, code, a)
        assert.matches("^Usage: purecloud", out)
        assert.matches("users", out)
        assert.matches("call", out)
        assert.are.equal("", err)
      end
      local code, out = run("users list --help")
      assert.are.equal(0, code)
      assert.matches("Usage: purecloud users list", out)
      assert.matches("%-%-page%-size", out)
      assert.matches("%-%-fields", out)
      code, out = run("help users")
      assert.are.equal(0, code)
      assert.matches("Usage: purecloud users", out)
      code, out = run("call --help")
      assert.are.equal(0, code)
      assert.matches("%-%-body", out)
    end)

    it("prints the version from the VERSION file", function()
      local version = assert(slurp("VERSION")):match("^%s*(.-)%s*$")
      local code, out = run("--version")
      assert.are.equal(0, code)
      assert.are.equal("purecloud " .. version .. "\n", out)
    end)

    it("explains a usage mistake once, on stderr, with exit status 2", function()
      local code, out, err = run("users frobnicate")
      assert.are.equal(2, code)
      assert.are.equal("", out)
      assert.matches("Usage: purecloud users", err)
      assert.are.equal(1, count(err, "purecloud: unknown command 'frobnicate'"))
      code, out, err = run("users list --page-size 0")
      assert.are.equal("", out)
      assert.are.equal(2, code)
      assert.matches("%-%-page%-size must be an integer from 1 to 500, got '0'", err)
      code, out, err = run("")
      assert.are.equal("", out)
      assert.are.equal(2, code)
      assert.matches("a command is required", err)
    end)
  end)

  describe("errors", function()
    it("prints a setup error once, without a code position", function()
      local code, _, err = run("token", "PURECLOUD_SECRET=")
      assert.are.equal(2, code)
      -- (an empty variable counts as unset, as gc reads it)
      assert.are.equal("purecloud: a client id (from env PURECLOUD_CLIENT_ID) but no secret: set PURECLOUD_SECRET "
        .. "or GENESYSCLOUD_OAUTHCLIENT_SECRET, or give the profile client_secret or secret_command\n", err)
    end)

    it("prints an API error once, with one prefix, and never the secret", function()
      local code, out, err = run("token", "PURECLOUD_SECRET=wrong-secret-123")
      assert.are.equal(1, code)
      assert.are.equal("", out)
      assert.are.equal(1, #lines(err), err)
      assert.are.equal(1, count(err, "invalid_client"))
      assert.is_nil(err:find("purecloud: purecloud:", 1, true))
      assert.is_nil(err:find("wrong-secret-123", 1, true))
      local id = emu.users(1)[1].id
      code, out, err = run("users get " .. id .. "-gone")
      assert.are.equal("", out)
      assert.are.equal(1, code)
      assert.are.equal(1, #lines(err), err)
      assert.matches("^purecloud: 404 not%.found", err)
    end)
  end)

  describe("waits", function()
    it("shows API retries at the default level", function()
      emu.reset{ users = 3 }
      local id = emu.users(1)[1].id
      emu.fault{ method = "GET", path = "/api/v2/users/" .. id:gsub("%-", "%%-"), count = 1, status = 503 }
      local code, out, err = run("users get " .. id)
      assert.are.equal(0, code, err)
      assert.are.equal(id, cjson.decode(out).id)
      assert.matches("^purecloud: get_user_id: retrying in %d+%.%d+ s after .*503", err)
      assert.are.equal(1, #lines(err), err)
    end)

    it("shows the token request's waits at the default level, and nothing with --log none", function()
      -- Nothing listens on port 1: the token request fails to connect, waits, retries once, fails.
      local code, out, err = run("--max-retries 1 token", "PURECLOUD_BASE_URL=http://api.localhost:1")
      assert.are.equal(1, code)
      assert.are.equal("", out)
      local ls = lines(err)
      assert.are.equal(2, #ls, err)
      assert.matches("^purecloud: waiting %d+%.%d s before retrying", ls[1])
      assert.matches("^purecloud: transport: .*%(login host login%.localhost:1%)", ls[2])
      code, out, err = run("--log none --max-retries 1 token", "PURECLOUD_BASE_URL=http://api.localhost:1")
      assert.are.equal("", out)
      assert.are.equal(1, code)
      assert.are.equal(1, #lines(err), err)
    end)
  end)

  it("resolves hosts as the library does: an api.* base URL asks login.* for the token", function()
    local port = assert(emu.url:match(":(%d+)$"))
    local code, _, err = run("--log debug token", "PURECLOUD_BASE_URL=http://api.localhost:" .. port)
    assert.are.equal(0, code, err)
    assert.truthy(err:find("POST http://login.localhost:" .. port .. "/oauth/token", 1, true), err)
    assert.is_nil(err:find("api.localhost:" .. port .. "/oauth/token", 1, true), err)
  end)

  describe("output", function()
    it("writes JSON lines with '/' unescaped", function()
      emu.reset{ users = 5 }
      local code, out = run("users list --page-size 2")
      assert.are.equal(0, code)
      local ls = lines(out)
      assert.are.equal(5, #ls)
      for _, l in ipairs(ls) do
        local u = cjson.decode(l)
        assert.truthy(l:find('"selfUri":"/api/v2/users/' .. u.id .. '"', 1, true), l)
        assert.is_nil(l:find("\\/", 1, true))
      end
    end)

    it("writes CSV with the chosen fields, quoted where needed", function()
      emu.reset{ users = 0 }
      local c, o, e = run("call post_users --body -", nil,
        cjson.encode({ name = 'Quote "Q", Esq.', email = "q@example.com", password = "Pw12345!", department = "R&D" }))
      assert.are.equal(0, c, e)
      local id = cjson.decode(o).id
      local code, out = run("users list --format csv --fields id,name,email,department")
      assert.are.equal(0, code)
      assert.are.equal("id,name,email,department\r\n" .. id .. ',"Quote ""Q"", Esq.",q@example.com,R&D\r\n', out)
      code, out = run("users get " .. id .. " --fields email,name")
      assert.are.equal(0, code)
      assert.are.same({ email = "q@example.com", name = 'Quote "Q", Esq.' }, cjson.decode(out))
    end)
  end)

  it("run from a checkout, uses its modules and build with no LUA_PATH, from any folder", function()
    local version = assert(io.open("VERSION")):read("l")
    local dir = os.getenv("PWD") or "."
    local p = assert(io.popen(("cd /tmp && env -u LUA_PATH -u LUA_CPATH -u LUA_PATH_5_4 -u LUA_CPATH_5_4 "
      .. "lua5.4 '%s/bin/purecloud' --version 2>&1"):format(dir)))
    local out = p:read("a")
    p:close()
    assert.are.equal("purecloud " .. version .. "\n", out)
  end)

  describe("call", function()
    it("lists every operation by API class, with its arguments and seed name", function()
      local code, out = run("call --list")
      assert.are.equal(0, code)
      local n, classes = 0, {}
      for line in out:gmatch("[^\n]+") do
        local class, ops_in_class = line:match("^(%a+) %((%d+)%):$")
        if class then classes[#classes + 1] = class .. "=" .. ops_in_class else n = n + 1 end
      end
      local ops = require("purecloud.operations").all()
      local want = 0
      for name, op in pairs(ops) do if name == op.name then want = want + 1 end end
      assert.are.equal(want, n)
      assert.are.same({ "users=130", "authorization=8", "groups=8", "presence=12", "routing=5" }, classes)
      assert.matches("^  get_user USER_ID %[%-%-opts '{[^}]*expand[^}]*}'%]%s+GET /api/v2/users/{userId} %(seed: get_user_id%)$",
        out:match("\n(  get_user USER[^\n]*)"))
      assert.truthy(out:find("patch_user USER_ID --body JSON", 1, true))
      assert.truthy(out:find("delete_group_members GROUP_ID IDS ", 1, true))
      assert.truthy(out:find("get_user_customattributes_bulk USER_ID SCHEMA_IDS,...", 1, true))
      code, out = run("call --help")
      assert.are.equal(0, code)
      assert.truthy(out:find(("The %d operations, by API class"):format(want), 1, true))
      assert.truthy(out:find("presence (12):", 1, true))
    end)

    it("OPERATION --help says what the contract says of it: usage, summary, path, permissions, arguments", function()
      local code, out = run("call patch_user_routingskills_bulk --help")
      assert.are.equal(0, code, out)
      local want = {
        "^usage: purecloud call patch_user_routingskills_bulk USER_ID %-%-body JSON\n",
        "\nPATCH /api/v2/users/{userId}/routingskills/bulk — client%.users%.patch_user_routingskills_bulk\n",
        "\nRequires [al][ln]y? of routing:skill:assign[^\n]*%.\n",
        "\nArguments:\n  USER_ID +string: User ID\n  %-%-body JSON +body: ",
      }
      for _, w in ipairs(want) do assert.matches(w, out) end
      code, out = run("call get_user_id --help") -- (by its seed name)
      assert.are.equal(0, code, out)
      assert.matches("client%.users%.get_user %(seed name: get_user_id%)", out)
      assert.matches("\n  expand +{string,...}: .*%(one of routingStatus, presence,", out)
      local err
      code, out, err = run("call no_such_op --help")
      assert.are.equal(2, code, out)
      assert.matches("unknown operation 'no_such_op'", err)
    end)

    it("calls operations with positional arguments, --opts, and --body from a file or stdin", function()
      emu.reset{ users = 2 }
      local u = emu.users(1)[1]
      local code, out, err = run("call get_user_id " .. u.id .. [[ --opts '{"expand":["routingStatus"]}']])
      assert.are.equal(0, code, err)
      local got = cjson.decode(out)
      assert.are.equal(u.id, got.id)
      assert.is_table(got.routingStatus)

      local f = assert(io.open(file, "w"))
      f:write(cjson.encode({ title = "Via CLI", version = got.version }))
      f:close()
      code, out, err = run("call patch_user_id " .. u.id .. " --body @" .. file)
      assert.are.equal(0, code, err)
      assert.are.equal("Via CLI", cjson.decode(out).title)
      assert.are.equal("Via CLI", emu.api("GET", "/api/v2/users/" .. u.id).json.title)

      code, out, err = run("call put_user_id_routingstatus " .. u.id .. " --body -", nil, '{"status":"IDLE"}')
      assert.are.equal(0, code, err)
      assert.are.equal("IDLE", cjson.decode(out).status)

      code, out = run("call get_users --opts '{\"page_size\": 1}' --format csv --fields id")
      assert.are.equal(0, code)
      assert.are.equal(2, #lines(out)) -- header + the page's one entity
    end)

    it("refuses a wrong call before sending anything (exit 2)", function()
      emu.clear_log()
      local cases = {
        { "call nope_op", "unknown operation 'nope_op'" },
        { "call get_user_id", "get_user_id needs USER_ID" },
        { "call get_user_id a b", "takes 1 argument%(s%), got 2" },
        { "call patch_user_id x", "patch_user_id needs %-%-body" },
        { "call patch_user_id x --body '{nope'", "%-%-body is not valid JSON" },
        { "call get_user_id x --opts '[1'", "%-%-opts is not valid JSON" },
      }
      for _, c in ipairs(cases) do
        local code, _, err = run(c[1])
        assert.are.equal(2, code, c[1] .. ": " .. err)
        assert.matches(c[2], err)
        no_traceback(err)
      end
      for _, e in ipairs(emu.log()) do assert.are_not.equal("/api/v2/users/x", e.path) end
    end)
  end)

  describe("users export and import", function()
    it("exports every user and imports them into an empty org", function()
      emu.reset{ users = 130 }
      local code, _, err = run("users export " .. file .. " --page-size 25 --concurrency 4")
      assert.are.equal(0, code, err)
      assert.matches("export: 130 done, 0 failed", err)
      local exported = lines(assert(slurp(file)))
      assert.are.equal(130, #exported)

      emu.reset{ users = 0 }
      local out
      code, out, err = run("users import " .. file .. " --concurrency 8", "PURECLOUD_IMPORT_PASSWORD=Imp0rt!pw")
      assert.are.equal(0, code, err)
      assert.matches("import: 130 done, 0 failed", err)
      assert.are.equal(130, #lines(out))
      assert.are.equal(130, emu.stats().users_created)
      local listed
      code, listed = run("users list --page-size 50")
      assert.are.equal(0, code)
      local emails = {}
      for _, l in ipairs(lines(listed)) do emails[cjson.decode(l).email] = true end
      for _, l in ipairs(exported) do assert.is_true(emails[cjson.decode(l).email]) end
    end)

    it("leaves no file behind when an export fails part-way", function()
      emu.reset{ users = 100 }
      -- (an export pages by cursor: the third page fails)
      emu.fault{ method = "GET", path = "/api/v2/users/query", skip = 2, count = 100, status = 500 }
      local code, _, err = run("users export " .. file .. " --page-size 20 --concurrency 1")
      assert.are.equal(1, code)
      assert.matches("purecloud: export stopped: 500", err)
      assert.is_nil(io.open(file))
      assert.is_nil(io.open(file .. ".partial"))
    end)

    it("reports each bad or refused line with its number, imports the others, exits 1", function()
      emu.reset{ users = 1 }
      local taken = emu.users(1)[1].email
      local f = assert(io.open(file, "w"))
      f:write(cjson.encode({ name = "A", email = "a@example.com" }), "\n")
      f:write(cjson.encode({ name = "B", email = taken }), "\n")
      f:write("{\"name\": \"broken\n")
      f:write("\n")
      f:write("[1, 2]\n")
      f:write(cjson.encode({ name = "C", email = "c@example.com" }), "\n")
      f:close()
      local code, out, err = run("users import " .. file, "PURECLOUD_IMPORT_PASSWORD=x1")
      assert.are.equal(1, code)
      no_traceback(err)
      local created = lines(out)
      assert.are.equal(2, #created)
      assert.are.equal(1, cjson.decode(created[1]).line)
      assert.are.equal(6, cjson.decode(created[2]).line)
      assert.matches(":2: 400", err)
      assert.matches(":3: not valid JSON %(", err)
      assert.matches(":5: not a JSON object", err)
      assert.matches("import: 2 done, 3 failed", err)
      assert.are.equal(2, emu.stats().users_created)
    end)
  end)
end)
