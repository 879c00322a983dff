-- The `log` option as the README's "Logging" section describes it: levels,
-- sinks, JSON lines, ngx.log inside nginx, and what the default prints.
local cjson = require "cjson"
local emu = require "support.emulator"
local logging = require "purecloud.log"

local function collect(option_fn)
  local got = {}
  local log, enabled = logging.new(option_fn(function(level, message) got[#got + 1] = { level, message } end))
  return log, enabled, got
end

local function emit_all(log)
  for _, l in ipairs({ "error", "warn", "info", "debug", "trace" }) do log(l, "%s line %d", l, 1) end
end

describe("purecloud.log", function()
  it("gives a plain function sink warn and above only, never trace bodies", function()
    local log, enabled, got = collect(function(sink) return sink end)
    emit_all(log)
    assert.are.same({ { "error", "error line 1" }, { "warn", "warn line 1" } }, got)
    assert.is_true(enabled("warn"))
    assert.is_false(enabled("info"))
    assert.is_false(enabled("trace"))
  end)

  it("takes a table { level, sink, format }", function()
    local log, _, got = collect(function(sink) return { level = "info", sink = sink } end)
    emit_all(log)
    assert.are.same({ "error", "warn", "info" }, { got[1][1], got[2][1], got[3][1] })
    assert.are.equal(3, #got)
    log, _, got = collect(function(sink) return { level = "trace", sink = sink } end)
    emit_all(log)
    assert.are.equal(5, #got)
    log, _, got = collect(function(sink) return { level = "none", sink = sink } end)
    emit_all(log)
    assert.are.equal(0, #got)
  end)

  it("formats JSON lines with format = \"json\"", function()
    local log, _, got = collect(function(sink) return { sink = sink, format = "json" } end)
    log("warn", "GET %s -> %d \"quoted\"\n", "https://api.example.com/api/v2/users", 503)
    assert.are.equal(1, #got)
    local line = got[1][2]
    assert.is_nil(line:find("\n", 1, true))
    assert.truthy(line:find("https://api.example.com/api/v2/users", 1, true), line)
    local rec = cjson.decode(line)
    assert.are.equal("warn", rec.level)
    assert.are.equal("purecloud", rec.logger)
    -- control bytes are escaped before formatting: one message, one line
    assert.are.equal('GET https://api.example.com/api/v2/users -> 503 "quoted"\\n', rec.message)
    assert.is_number(rec.time)
  end)

  it("keeps accepting a level name, and names what is wrong", function()
    local _, enabled = logging.new("debug")
    assert.is_true(enabled("debug"))
    assert.is_false(enabled("trace"))
    assert.has_error(function() logging.new("loud") end,
      "purecloud: option 'log' level must be one of none, error, warn, info, debug, trace, got loud")
    assert.has_error(function() logging.new({ level = "info", color = true }) end,
      "purecloud: option 'log' has an unknown field \"color\": use level, sink or format")
    assert.has_error(function() logging.new({ format = "xml" }) end,
      "purecloud: option 'log' format must be \"text\" or \"json\", got xml")
    assert.has_error(function() logging.new({ sink = "stderr" }) end,
      "purecloud: option 'log' sink must be a function(level, message), got string")
  end)

  it("a failing sink does not break the caller", function()
    local log = logging.new(function() error("disk full") end)
    assert.has_no_error(function() log("warn", "x") end)
  end)

  it("inside nginx logs through ngx.log with the matching level", function()
    local calls = {}
    local saved = rawget(_G, "ngx")
    rawset(_G, "ngx", { ERR = 4, WARN = 5, INFO = 7, DEBUG = 8,
      log = function(level, ...) calls[#calls + 1] = { level, table.concat({ ... }) } end })
    local ok, err = pcall(function()
      local log = logging.new({ level = "debug" })
      emit_all(log)
    end)
    rawset(_G, "ngx", saved)
    assert(ok, err)
    assert.are.same({
      { 4, "purecloud [error] error line 1" }, { 5, "purecloud [warn] warn line 1" },
      { 7, "purecloud [info] info line 1" }, { 8, "purecloud [debug] debug line 1" },
    }, calls)
  end)

  describe("the default (stderr, level warn), as a process against the emulator", function()
    local function run(script)
      local errf = os.tmpname()
      local cmd = ("PURECLOUD_EMULATOR_URL=%s LUA_PATH='./lua/?.lua;./lua/?/init.lua;./spec/?.lua;;' "
        .. "LUA_CPATH='./build/lua5.4/?.so;;' lua5.4 -e %q 2>%s"):format(emu.url, script, errf)
      local p = io.popen(cmd)
      local out = p:read("*a")
      p:close()
      local f = io.open(errf)
      local err = f:read("*a")
      f:close()
      os.remove(errf)
      return out, err
    end

    it("prints retries, and not the error it returns", function()
      emu.reset{ users = 2 }
      local id = emu.users(1)[1].id
      emu.fault{ method = "GET", path = "/api/v2/users/" .. id:gsub("%-", "%%-"), count = 1, status = 503 }
      local out, err = run(([[
        local c = require("purecloud").new{ base_url = os.getenv("PURECLOUD_EMULATOR_URL"),
          client_id = "emulator-client", client_secret = "emulator-secret" }
        local u = c.users.get_user_id("%s")
        local _, e = c.users.get_user_id("no-such-user")
        io.write(u.id, " ", e.status)
      ]]):format(id))
      emu.clear_faults()
      assert.are.equal(id .. " 404", out)
      assert.matches("^purecloud %[warn%] get_user_id: retrying in", err)
      -- (404 as a word: a correlation id may hold "404" inside, as in "...-404d-...")
      assert.is_nil(err:find("%f[%w]404%f[%W]"), err)
      assert.is_nil(err:find("no-such-user", 1, true), err)
    end)

    it("does not print a failed login it returns", function()
      local out, err = run([[
        local c = require("purecloud").new{ base_url = os.getenv("PURECLOUD_EMULATOR_URL"),
          client_id = "emulator-client", client_secret = "wrong-secret" }
        local _, e = c:token()
        io.write(e.kind)
      ]])
      assert.are.equal("auth", out)
      assert.are.equal("", err)
    end)
  end)
end)
