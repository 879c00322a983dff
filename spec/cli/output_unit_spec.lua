-- purecloud.cli.output, hermetic: every format written and parsed back
-- (JSON with cjson, YAML with lyaml, CSV with a small parser below, the
-- table by its columns); [] stays [] everywhere; the contract list of the
-- User's properties is today's.
describe("purecloud.cli.output #hermetic", function()
  local output, core, cjson, lyaml
  lazy_setup(function()
    output = require "purecloud.cli.output"
    core = require "purecloud.core"
    cjson = require "cjson"
    lyaml = require "lyaml"
  end)

  local function sink()
    local parts = {}
    return { write = function(self, ...) for _, p in ipairs({ ... }) do parts[#parts + 1] = p end return self end,
             text = function() return table.concat(parts) end }
  end

  local function records()
    return {
      core.json_decode('{"id":"u1","name":"=SUM(A1)","email":"a@example.com","skills":[],'
        .. '"manager":{"id":"m1"},"title":"a, \\"quoted\\"\\nline"}', true),
      core.json_decode('{"id":"u2","name":"Bo","email":"b@example.com","skills":[{"id":"s1","proficiency":3}],'
        .. '"manager":{"id":"m2"},"title":"plain"}', true),
    }
  end

  local function write_all(format, recs, opts)
    local out = sink()
    opts = opts or {}
    opts.format = format
    local w = output.writer(out, opts)
    for _, r in ipairs(recs) do w.write(r) end
    w.close()
    return out.text()
  end

  local parse_csv = require("support.csv").parse

  it("json: one array document that cjson parses back, [] kept", function()
    local text = write_all("json", records())
    local v = cjson.decode(text)
    assert.are.equal(2, #v)
    assert.are.equal("=SUM(A1)", v[1].name)
    assert.are.equal("s1", v[2].skills[1].id)
    assert.truthy(text:find('"skills":[]', 1, true), text)
    assert.are.equal("[]\n", write_all("json", {}))
    assert.are.same({ id = "u1" }, cjson.decode(write_all("json", { records()[1] }, { single = true,
      fields = { "id" } })))
  end)

  it("jsonl: one object per line; nothing for an empty list", function()
    local text = write_all("jsonl", records(), { fields = { "id", "skills", "manager.id" } })
    local lines = {}
    for l in text:gmatch("[^\n]+") do lines[#lines + 1] = cjson.decode(l) end
    assert.are.equal(2, #lines)
    assert.are.equal("m1", lines[1]["manager.id"])
    assert.truthy(text:find('"skills":[]', 1, true), text)
    assert.are.equal("", write_all("jsonl", {}))
  end)

  it("yaml: a sequence that lyaml loads back, [] and {} kept, [] for an empty list", function()
    local recs = records()
    recs[1].empty_object = {}
    local text = write_all("yaml", recs)
    local v = lyaml.load(text)
    assert.are.equal(2, #v)
    assert.are.equal("=SUM(A1)", v[1].name)
    assert.are.equal('a, "quoted"\nline', v[1].title)
    assert.are.equal(3, v[2].skills[1].proficiency)
    assert.truthy(text:find("skills: []", 1, true), text)
    assert.truthy(text:find("empty_object: {}", 1, true), text)
    assert.are.equal("[]\n", write_all("yaml", {}))
    assert.are.same({}, lyaml.load(write_all("yaml", {})))
    local one = lyaml.load(write_all("yaml", { records()[2] }, { single = true }))
    assert.are.equal("u2", one.id)
  end)

  it("csv: a header and rows that parse back; formulas neutralised; [] as []; the header only when empty", function()
    local text = write_all("csv", records(), { fields = { "id", "name", "title", "skills", "manager.id" } })
    local rows = parse_csv(text)
    assert.are.same({ "id", "name", "title", "skills", "manager.id" }, rows[1])
    assert.are.same({ "u1", "'=SUM(A1)", 'a, "quoted"\nline', "[]", "m1" }, rows[2])
    assert.are.equal("u2", rows[3][1])
    assert.are.same({ { "s1", 3 } }, (function()
      local s = cjson.decode(rows[3][4])
      return { { s[1].id, s[1].proficiency } }
    end)())
    assert.are.equal("id,name,email\r\n", write_all("csv", {}))
    local raw = parse_csv(write_all("csv", records(), { fields = { "name" }, raw = true }))
    assert.are.equal("=SUM(A1)", raw[2][1])
  end)

  it("csv on a terminal: control sequences escaped", function()
    local r = core.json_decode('{"name":"A\\u001b[31mB\\u009bC"}', true)
    local text = write_all("csv", { r }, { fields = { "name" }, tty = true })
    assert.are.equal("name\r\nA\\x1b[31mB\\u009bC\r\n", text)
  end)

  it("table: aligned columns within the width, cells cut with …, the header for an empty list", function()
    local text = write_all("table", records(), { fields = { "id", "name", "email", "skills" }, width = 40 })
    local lines = {}
    for l in text:gmatch("[^\n]+") do lines[#lines + 1] = l end
    assert.are.equal(3, #lines)
    for _, l in ipairs(lines) do assert.is_true(utf8.len(l) <= 40, l) end
    assert.matches("^id%s+name%s+email%s+skills$", lines[1])
    assert.truthy(lines[2]:find("[]", 1, true), lines[2])
    assert.truthy(lines[2]:find("'=SUM(A1)", 1, true), lines[2])
    assert.truthy(text:find("…", 1, true), text)
    -- the columns start at the same place on every line
    local at = lines[1]:find("name", 1, true)
    assert.are.equal("Bo", lines[3]:sub(at, at + 1))
    assert.are.equal("id  name  email\n", write_all("table", {}, { width = 80 }))
    local wide = write_all("table", records(), { fields = { "id", "email" }, width = 200 })
    assert.is_nil(wide:find("…", 1, true), wide)
  end)

  it("table: the terminal's width from COLUMNS, else tput, else stty, else 80", function()
    local function env(v) return function(k) return k == "COLUMNS" and v or nil end end
    assert.are.equal(123, output.terminal_width(env("123"), function() return nil end))
    assert.are.equal(99, output.terminal_width(env(nil), function(c) return c:find("tput") and "99\n" end))
    assert.are.equal(77, output.terminal_width(env(nil), function(c) return c:find("stty") and "24 77\n" end))
    assert.are.equal(80, output.terminal_width(env(nil), function() return nil end))
  end)

  it("the User's properties are today's contract's", function()
    local f = assert(io.open("api/today/swagger.json"))
    local contract = cjson.decode(f:read("a"))
    f:close()
    local want = {}
    for k in pairs(contract.definitions.User.properties) do want[#want + 1] = k end
    table.sort(want)
    assert.are.same(want, require("purecloud.cli.contract").USER)
    local expand = {}
    for _, p in ipairs(contract.paths["/api/v2/users"].get.parameters) do
      if p.name == "expand" then expand = p.items.enum end
    end
    assert.are.same(expand, require("purecloud.cli.contract").enum("get_users", "expand"))
  end)
end)
