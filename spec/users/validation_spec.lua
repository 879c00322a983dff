-- Schema-driven validation and encoding, seen from purecloud.users: what is
-- refused before sending, what is sent with a warning, and what reaches the
-- server exactly (checked in the emulator's log or state).
local emu = require "support.emulator"
local support = require "support.client"
local purecloud = require "purecloud"

describe("request validation", function()
  local c, u, warnings
  before_each(function()
    emu.reset{ users = 5 }
    warnings = {}
    -- Direct to the emulator: these specs send what the contract forbids on purpose.
    c = support.direct{ log = function(level, msg) if level == "warn" then warnings[#warnings + 1] = msg end end }
    u = emu.users(1)[1]
  end)
  after_each(function() c:close() end)

  it("refuses wrong types and missing required fields, naming every path, sending nothing", function()
    emu.clear_log()
    local v, err = c.users.post_users{ name = 42, addresses = { { type = "WORK" }, { mediaType = 7 } } }
    assert.is_nil(v)
    assert.are.equal("validation", err.kind)
    local paths = {}
    for _, d in ipairs(err.details) do paths[d.fieldName] = d.message end
    assert.matches("expected string, got integer", paths["body.name"])
    assert.is_string(paths["body.email"])
    assert.is_nil(paths["body.password"]) -- optional today (invite-only and SSO users)
    assert.matches("expected string", paths["body.addresses[2].mediaType"])
    assert.are.equal(0, #emu.log())
    assert.matches("^purecloud: validation: invalid.value: invalid request body: ", tostring(err))
  end)

  it("lenient: sends unknown fields and unknown enum values, warning with did-you-mean", function()
    local v = c.users.put_user_id_routingstatus(u.id, { status = "IDLE", start_time = "2026-01-01T00:00:00Z" })
    assert.is_table(v)
    assert.matches("did you mean", table.concat(warnings, "\n"))
    warnings = {}
    local _, err = c.users.put_user_id_routingstatus(u.id, { status = "IDEL" })
    assert.are.equal(400, err.status) -- the server decided
    assert.matches("did you mean IDLE", warnings[1])
    c.users.patch_user_id_callforwarding(u.id, { phone_number = "+1" })
    assert.matches("body.phone_number: unknown field %(did you mean phoneNumber%?%)", warnings[#warnings])
  end)

  it("strict: refuses them before sending", function()
    local s = support.direct{ validate = "strict" }
    emu.clear_log()
    local v, err = s.users.put_user_id_routingstatus(u.id, { status = "IDEL" })
    assert.is_nil(v)
    assert.are.equal("validation", err.kind)
    assert.matches("did you mean IDLE", err.details[1].message)
    v, err = s.users.patch_user_id_callforwarding(u.id, { phone_number = "+1" })
    assert.is_nil(v)
    assert.are.equal("body.phone_number", err.details[1].fieldName)
    assert.are.equal(0, #emu.log())
    s:close()
  end)

  it("validate = false sends what it is given", function()
    local off = support.direct{ validate = false }
    local v, err = off.users.put_user_id_routingstatus(u.id, { status = 5 })
    assert.is_nil(v)
    assert.are.equal(400, err.status) -- refused by the server, not the client
    off:close()
  end)

  -- A client whose sent request bodies are recorded (what the wire carried).
  local function spy_client()
    local sent, base = {}, support.direct()
    local spy = support.direct{ transport = function(req)
      if req.body and not req.url:find("/oauth/token", 1, true) then sent[#sent + 1] = req.body end
      return base.io.transport(req)
    end }
    return spy, sent, function() spy:close(); base:close() end
  end

  it("encodes an empty table as [] where the contract says array", function()
    local spy, sent, done = spy_client()
    assert(spy.users.put_user_id_roles(u.id, {}))
    assert(spy.users.patch_user_id_queues(u.id, {}))
    assert.are.same({ "[]", "[]" }, sent)
    done()
    emu.clear_log()
    local r = assert(c.users.put_user_id_roles(u.id, {}))
    assert.are.same({}, r.roles)
    local ps = assert(c.users.put_user_id_profileskills(u.id, { body = {} }))
    assert.are.same({}, ps)
    local raw = emu.api("GET", "/api/v2/users/" .. u.id .. "/profileskills").body
    assert.are.equal("[]", raw)
  end)

  it("drops read-only fields so GET -> modify -> PATCH works", function()
    local user = assert(c.users.get_user_id(u.id))
    user.name = "Renamed Person"
    user.state = nil -- (writable today, and when present the only field the service applies)
    local sent
    local base = support.direct()
    local spy = support.direct{ transport = function(req)
      if req.method == "PATCH" then sent = req.body end
      return base.io.transport(req)
    end }
    local p = assert(spy.users.patch_user_id(u.id, user))
    assert.are.same({ "Renamed Person", "active" }, { p.name, p.state })
    local body = require("cjson").decode(sent)
    assert.are.equal("Renamed Person", body.name)
    assert.is_number(body.version)
    for _, read_only in ipairs({ "id", "selfUri", "primaryContactInfo" }) do
      assert.is_nil(body[read_only], read_only .. " was sent")
    end
    spy:close()
    base:close()
  end)

  it("sends integers without .0 and refuses NaN", function()
    local user = assert(c.users.get_user_id(u.id))
    local spy, sent, done = spy_client()
    local p = assert(spy.users.patch_user_id(u.id, { version = user.version + 0.0, title = "T" }))
    assert.are.equal(user.version + 1, p.version)
    assert.matches('"version":' .. user.version .. '[,}]', sent[1])
    done()
    local v, err = c.users.post_user_id_routingskills(u.id, { id = "x", proficiency = 0 / 0 })
    assert.is_nil(v)
    assert.matches("NaN", err.message)
    v, err = c.users.patch_user_id(u.id, { version = 1.5 })
    assert.is_nil(v)
    assert.matches("integer", err.details[1].message)
  end)

  it("sends purecloud.null as an explicit JSON null", function()
    assert(c.users.put_user_id_callforwarding(u.id, { enabled = true, phoneNumber = "+13175550001" }))
    local spy, sent, done = spy_client()
    local cf = assert(spy.users.patch_user_id_callforwarding(u.id, { phoneNumber = purecloud.null }))
    assert.is_true(cf.enabled)
    assert.is_nil(cf.phoneNumber) -- cleared on the server
    assert.are.equal('{"phoneNumber":null}', sent[1])
    done()
  end)

  it("escapes strings to valid JSON and refuses invalid UTF-8", function()
    local name = 'Quote " Backslash \\ Tab \t Newline \n Bell \7 Unicode é'
    local p = assert(c.users.patch_user_id(u.id, { name = name, version = 1 }))
    assert.are.equal(name, p.name)
    emu.clear_log()
    local v, err = c.users.patch_user_id(u.id, { name = "bad \255 byte", version = 2 })
    assert.is_nil(v)
    assert.are.equal("validation", err.kind) -- refused here, not by the server
    assert.matches("UTF%-8", err.message)
    assert.are.equal(0, #emu.log())
  end)

  it("validates query options; unknown ones are sent with a warning (lenient) or refused (strict)", function()
    local v, err = c.users.get_users{ page_size = "ten" }
    assert.is_nil(v)
    assert.are.equal("page_size", err.details[1].fieldName)
    assert.is_table(assert(c.users.get_users{ sort_order = "ASC" }))
    assert.is_table(assert(c.users.get_users{ sort_order = "descending", expand = "routingStatus" }))
    for _, bad in ipairs({ 0 / 0, math.huge, 2.5, 0, 2 ^ 40 }) do
      local nv, nerr = c.users.get_users{ page_size = bad }
      assert.is_nil(nv, tostring(bad))
      assert.are.equal("validation", nerr.kind)
      assert.are.equal("page_size", nerr.details[1].fieldName)
    end
    local nan = support.direct{ validate = false }
    assert.is_nil((nan.users.get_users{ page_number = 0 / 0 })) -- NaN is refused even with validation off
    nan:close()
    emu.clear_log()
    warnings = {}
    assert(c.users.get_users{ pagesize = 10, integration_presence_source = "MicrosoftTeams" })
    local sent = ""
    for _, e in ipairs(emu.log()) do if e.path == "/api/v2/users" then sent = e.query end end
    assert.matches("pagesize=10", sent)
    assert.matches("integrationPresenceSource=MicrosoftTeams", sent)
    assert.matches("did you mean page_size", table.concat(warnings, "\n"))
    local strict = support.direct{ validate = "strict" }
    local sv, serr = strict.users.get_users{ pagesize = 10 }
    assert.is_nil(sv)
    assert.matches("did you mean page_size", serr.message)
    strict:close()
    assert.has_error(function() c.users.get_users{ [1] = 10 } end)
    assert.has_error(function() c.users.get_user_id() end)
    assert.has_error(function() c.users.get_user_id("") end)
    assert.has_error(function() c.users.get_user_id(u.id, "opts") end)
    assert.has_error(function() c.users.patch_user_id(u.id) end)
    assert.has_error(function() c.users.get_me({}, "extra") end)
  end)

  it("catches a cycle instead of overflowing", function()
    local t = { name = "x", version = 1 }
    t.future = t -- (a field no contract names: the free-form encoder)
    local v, err = c.users.patch_user_id(u.id, t)
    assert.is_nil(v)
    assert.are.equal("validation", err.kind)
    assert.matches("body.future: a cycle", err.message)
    local deep = {}
    local cur = deep
    for _ = 1, 10000 do cur.future = {}; cur = cur.future end
    local dv, derr = c.users.patch_user_id(u.id, deep)
    assert.is_nil(dv)
    assert.matches("levels deep", derr.message)
    local list = {} -- and through the free-form encoder of client:request
    list[1] = list
    local lv, lerr = c:request("POST", "/api/v2/users/search", { body = { query = list } })
    assert.is_nil(lv)
    assert.matches("a cycle", lerr.message)
  end)

  it("percent-encodes path parameters as one opaque segment", function()
    emu.clear_log()
    for _, id in ipairs({ "../../oauth/token", "a/b?c#d" }) do
      local v, err = c.users.get_user_id(id)
      assert.is_nil(v)
      assert.are.equal(404, err.status)
      assert.are.equal("not.found", err.code)
    end
    local paths = {}
    for _, r in ipairs(emu.log()) do
      if r.path:find("^/api/") then paths[#paths + 1] = r.path end
    end
    assert.are.same({ "/api/v2/users/..%2F..%2Foauth%2Ftoken", "/api/v2/users/a%2Fb%3Fc%23d" }, paths)
  end)
end)
