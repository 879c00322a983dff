-- The purecloud command line against the emulator: export and import round
-- trip, progress on stderr, failures reported without losing anything.
local emu = require "support.emulator"

local function run(args, env)
  local out, err = os.tmpname(), os.tmpname()
  local cmd = ("PURECLOUD_BASE_URL=%s PURECLOUD_CLIENT_ID=emulator-client PURECLOUD_SECRET=emulator-secret %s "
    .. "LUA_PATH='./lua/?.lua;./lua/?/init.lua;;' LUA_CPATH='./build/lua54/?.so;;' lua5.4 bin/purecloud %s >%s 2>%s")
    :format(emu.url, env or "", args, out, err)
  local ok, _, code = os.execute(cmd)
  local function slurp(p)
    local f = io.open(p)
    local s = f:read("a")
    f:close()
    os.remove(p)
    return s
  end
  return ok and 0 or code, slurp(out), slurp(err)
end

local function lines(s)
  local t = {}
  for l in s:gmatch("[^\n]+") do t[#t + 1] = l end
  return t
end

describe("bin/purecloud", function()
  local file
  before_each(function()
    file = os.tmpname()
    os.remove(file)
  end)
  after_each(function() os.remove(file) end)

  it("exports every user and imports them into an empty org", function()
    emu.reset{ users = 130 }
    local code, _, err = run("users export " .. file .. " --page-size 25 --concurrency 4")
    assert.are.equal(0, code, err)
    assert.matches("export: 130 done, 0 failed", err)
    local f = assert(io.open(file))
    local exported = lines(f:read("a"))
    f:close()
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
    for _, l in ipairs(lines(listed)) do emails[require("cjson").decode(l).email] = true end
    for _, l in ipairs(exported) do assert.is_true(emails[require("cjson").decode(l).email]) end
  end)

  it("leaves no file behind when an export fails part-way", function()
    emu.reset{ users = 100 }
    emu.fault{ method = "GET", path = "/api/v2/users", query = { pageNumber = "3" }, count = 100, status = 500 }
    local code, _, err = run("users export " .. file .. " --page-size 20 --concurrency 1")
    assert.are.equal(1, code)
    assert.matches("export stopped: purecloud: 500", err)
    assert.is_nil(io.open(file))
    assert.is_nil(io.open(file .. ".partial"))
  end)

  it("reports each failed import line and still imports the others", function()
    emu.reset{ users = 1 }
    local taken = emu.users(1)[1].email
    local f = assert(io.open(file, "w"))
    f:write(require("cjson").encode({ name = "A", email = "a@example.com" }), "\n")
    f:write(require("cjson").encode({ name = "B", email = taken }), "\n")
    f:write(require("cjson").encode({ name = "C", email = "c@example.com" }), "\n")
    f:close()
    local code, out, err = run("users import " .. file, "PURECLOUD_IMPORT_PASSWORD=x1")
    assert.are.equal(1, code)
    assert.are.equal(2, #lines(out))
    assert.matches(":2: purecloud: 400", err)
    assert.are.equal(2, emu.stats().users_created)
  end)

  it("explains usage and bad options", function()
    local code, _, err = run("users frobnicate")
    assert.are.equal(2, code)
    assert.matches("usage:", err)
    code, _, err = run("users list --page-size 0")
    assert.are.equal(2, code)
    assert.matches("%-%-page%-size must be", err)
    code, _, err = run("token", "PURECLOUD_SECRET=")
    assert.are.equal(2, code)
    assert.matches("client_secret must not be empty", err)
    code, _, err = run("token", "PURECLOUD_SECRET=wrong-secret-123")
    assert.are.equal(1, code)
    assert.matches("invalid_client", err)
    assert.is_nil(err:find("wrong-secret-123", 1, true))
  end)
end)
