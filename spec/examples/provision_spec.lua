-- examples/provision.lua, the vendor's user-provisioning flow, run as a
-- process against the emulator: the first run creates and assigns, the
-- second changes nothing and says so, a run after a drift puts back only
-- what drifted. What it did is checked over HTTP, not from its output.
local emu = require "support.emulator"
local cli = require "cli.helper"

local function provision()
  local out = os.tmpname()
  local cmd = ("%s PURECLOUD_BASE_URL=%s PURECLOUD_CLIENT_ID=emulator-client PURECLOUD_SECRET=emulator-secret "
    .. "PURECLOUD_LOG= LUA_PATH='./lua/?.lua;./lua/?/init.lua;;' LUA_CPATH='./build/lua5.4/?.so;;' "
    .. "lua5.4 examples/provision.lua examples/provision.csv >%s 2>&1 </dev/null"):format(cli.ISOLATED, emu.url, out)
  local ok, _, code = os.execute(cmd)
  local text = cli.slurp(out)
  os.remove(out)
  return (ok == true or ok == 0) and 0 or code, text
end

local function the_user(email)
  local r = emu.api("POST", "/api/v2/users/search",
    { query = { { type = "EXACT", fields = { "email" }, value = email } } })
  return (r.json.results or {})[1]
end

local function names(list, key)
  local out = {}
  for _, x in ipairs(list or {}) do out[#out + 1] = x[key or "name"] end
  table.sort(out)
  return out
end

describe("examples/provision.lua", function()
  lazy_setup(function() emu.reset() end)

  it("creates the CSV's users with their roles, skills and groups, then finds nothing to do", function()
    local code, out = provision()
    assert.are.equal(0, code, out)
    assert.matches("ada.provisioned@example.com: created, ", out)
    assert.matches("\n3 users: 3 created, 0 changed, 0 up to date, 0 failed\n", out)

    local ben = assert(the_user("ben.provisioned@example.com"), "ben was not created")
    local roles = emu.api("GET", "/api/v2/users/" .. ben.id .. "/roles").json
    assert.truthy(table.concat(names(roles.roles), ","):find("supervisor", 1, true))
    local chloe = assert(the_user("chloe.provisioned@example.com"))
    local skills = emu.api("GET", "/api/v2/users/" .. chloe.id .. "/routingskills", nil, { pageSize = 100 }).json
    local got = {}
    for _, s in ipairs(skills.entities) do got[#got + 1] = ("%s:%d"):format(s.name, s.proficiency) end
    table.sort(got)
    assert.are.same({ "English:3", "Renewals:2", "Spanish:5" }, got)
    local groups = emu.api("POST", "/api/v2/groups/search",
      { query = { { type = "EXACT", fields = { "name" }, value = "Supervisors" } } }).json
    local members = emu.api("GET", "/api/v2/groups/" .. groups.results[1].id .. "/members").json
    assert.are.same({ "Ben Provisioned" }, names(members.entities))

    code, out = provision()
    assert.are.equal(0, code, out)
    assert.matches("\n3 users: 0 created, 0 changed, 3 up to date, 0 failed — nothing to do\n", out)
    for _, who in ipairs({ "ada", "ben", "chloe" }) do
      assert.matches(who .. ".provisioned@example.com: up to date\n", out)
    end
  end)

  it("puts back only what drifted", function()
    local ada = assert(the_user("ada.provisioned@example.com"))
    local skills = emu.api("GET", "/api/v2/users/" .. ada.id .. "/routingskills").json.entities
    local billing
    for _, s in ipairs(skills) do if s.name == "Billing" then billing = s end end
    assert(billing, "ada has no Billing skill to drift")
    assert.are.equal(204, emu.api("DELETE", "/api/v2/users/" .. ada.id .. "/routingskills/" .. billing.id).status)
    local code, out = provision()
    assert.are.equal(0, code, out)
    assert.matches("ada.provisioned@example.com: skill %+Billing:3\n", out)
    assert.matches("\n3 users: 0 created, 1 changed, 2 up to date, 0 failed\n", out)
  end)
end)
