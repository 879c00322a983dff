-- A user's own spec of their automation, against the emulator that ships
-- with the rock (README "Testing your automation with busted"). Run it with
-- busted from anywhere the rock is installed: `busted provision_spec.lua`.
local testing = require "purecloud.testing"

-- The automation under test: make sure each person has a user, creating only
-- the missing ones. A create answered 503 may or may not have been applied
-- (the library does not re-send a write it cannot prove unapplied), so the
-- script looks again before it creates again; a 429 the library retries itself.
local function find(client, email)
  local found = assert(client.users.post_search{
    query = { { type = "EXACT", fields = { "email" }, value = email } } })
  return found.results and found.results[1]
end

local function provision(client, people)
  local report = {}
  for _, p in ipairs(people) do
    local user = find(client, p.email)
    local how = "exists"
    for _ = 1, 3 do
      if user then break end
      local err
      user, err = client.users.post_users{ name = p.name, email = p.email, department = p.department,
                                           password = "Initial!pass1" }
      how = "created"
      if not user then
        if err.status ~= 503 and err.outcome ~= "unknown" then error(err) end
        user = find(client, p.email) -- was it applied after all?
      end
    end
    report[#report + 1] = { email = p.email, id = assert(user, p.email).id, how = how }
  end
  return report
end

local PEOPLE = {
  { name = "Ada Lovelace", email = "ada@example.com", department = "Engineering" },
  { name = "Ben Franklin", email = "ben@example.com", department = "Sales" },
  { name = "Chloe Zhao", email = "chloe@example.com", department = "Support" },
}

describe("provisioning", function()
  local emu, client

  lazy_setup(function()
    emu = testing.emulator{ users = 100, seed = 1, rate = false }
    client = emu:client{ retry = { max_retries = 3, max_retry_after = 5 } }
  end)
  lazy_teardown(function() emu:stop() end)
  before_each(function() emu:reset{ users = 100, seed = 1 } end)

  it("creates each missing user exactly once, through a 503 and a 429", function()
    -- The first create is answered 503 (not applied), the next one 429.
    emu:fault{ method = "POST", path = "/api/v2/users", status = 503, count = 1 }
    emu:fault{ method = "POST", path = "/api/v2/users", status = 429, retry_after = 1, count = 1 }

    local report = provision(client, PEOPLE)

    assert.are.equal(3, #report)
    for _, r in ipairs(report) do assert.are.equal("created", r.how) end
    local stats = emu:stats()
    assert.are.equal(3, stats.applied["POST /api/v2/users"]) -- every write applied once
    assert.are.equal(3, stats.users_created)
    assert.are.equal(5, stats.requests["POST /api/v2/users"]) -- the two refused ones were sent again
    assert.are.equal(2, stats.faults_fired)
    assert.are.equal(103, stats.users)
  end)

  it("creates a user once when the answer to its create is lost", function()
    -- Applied, then the connection closes without a byte of answer: outcome unknown.
    emu:fault{ method = "POST", path = "/api/v2/users", action = "apply_then_close", count = 1 }

    local report = provision(client, PEOPLE)

    assert.are.equal(3, #report)
    local stats = emu:stats()
    assert.are.equal(3, stats.applied["POST /api/v2/users"])
    assert.are.equal(3, stats.users_created)
    assert.are.equal(3, stats.requests["POST /api/v2/users"]) -- the lost one was found, not sent again
  end)

  it("changes nothing on a second run", function()
    provision(client, PEOPLE)
    local again = provision(client, PEOPLE)
    for _, r in ipairs(again) do assert.are.equal("exists", r.how) end
    assert.are.equal(3, emu:stats().applied["POST /api/v2/users"])
  end)
end)
