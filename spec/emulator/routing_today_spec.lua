-- Today's routing behaviours over raw HTTP (emulator/lua/emu/routes/routing.lua):
-- routing skills in bulk, routing languages, per-user and organization max
-- utilization; each answer checked against api/today/swagger.json, each state
-- read back through the other routes and expand.
local emu = require "support.emulator"
local cjson = require "cjson.safe"
local schema = require "spec.support.schema"

local function api(method, path, body, query)
  local r = emu.api(method, path, body, query)
  return r, r.json
end

local function skills_of(u)
  local _, page = api("GET", "/api/v2/users/" .. u.id .. "/routingskills", nil, { pageSize = 100 })
  local out = {}
  for _, s in ipairs(page.entities) do out[s.id] = s.proficiency end
  return out, page
end

local function catalog_skills()
  local r, page = api("GET", "/api/v2/routing/skills", nil, { pageSize = 100 })
  assert.are.equal(200, r.status, r.body)
  return page.entities
end

local function count(t) local n = 0 for _ in pairs(t) do n = n + 1 end return n end

local function user_with_skills(n)
  for _, u in ipairs(emu.users(60)) do
    local have = skills_of(u)
    if count(have) >= n then return u, have end
  end
  error("no seeded user with " .. n .. " skills")
end

describe("emulator today: the organization's skills and languages", function()
  before_each(function() emu.reset{ users = 20 } end)

  it("lists, filters and gets them; they are the ones users hold", function()
    local r, skills = api("GET", "/api/v2/routing/skills", nil, { pageSize = 100 })
    assert.are.equal(200, r.status, r.body)
    assert.is_nil(schema.check("SkillEntityListing", skills))
    assert.is_true(#skills.entities >= 10)
    local by_id = {}
    for _, s in ipairs(skills.entities) do by_id[s.id] = s end
    for _, u in ipairs(emu.users(20)) do
      for _, s in ipairs(api("GET", "/api/v2/users/" .. u.id .. "/routingskills").json.entities) do
        assert.are.equal(s.name, by_id[s.id] and by_id[s.id].name)
      end
    end
    local one = skills.entities[2]
    local _, got = api("GET", "/api/v2/routing/skills/" .. one.id)
    assert.is_nil(schema.check("RoutingSkill", got))
    assert.are.same(one, got)
    local _, named = api("GET", "/api/v2/routing/skills", nil, { name = one.name:sub(1, 3):lower() })
    assert.is_true(named.total >= 1)
    for _, s in ipairs(named.entities) do assert.are.equal(one.name:sub(1, 3), s.name:sub(1, 3)) end
    assert.are.equal(404, api("GET", "/api/v2/routing/skills/nope").status)
    local _, langs = api("GET", "/api/v2/routing/languages", nil, { pageSize = 100, sortOrder = "DESC" })
    assert.is_nil(schema.check("LanguageEntityListing", langs))
    assert.is_true(langs.entities[1].name > langs.entities[#langs.entities].name)
    local _, l = api("GET", "/api/v2/routing/languages/" .. langs.entities[1].id)
    assert.is_nil(schema.check("Language", l))
    assert.are.same(langs.entities[1], l)
    local _, picked = api("GET", "/api/v2/routing/languages", nil, { id = { langs.entities[1].id, langs.entities[2].id } })
    assert.are.equal(2, picked.total)
    assert.are.equal(404, api("GET", "/api/v2/routing/languages/nope").status)
  end)
end)

describe("emulator today: routing skills in bulk", function()
  before_each(function() emu.reset{ users = 60 } end)

  it("PATCH adds and updates the given skills and keeps the others; GET and expand agree", function()
    local u, before = user_with_skills(2)
    local kept_id, changed_id
    for id in pairs(before) do if not kept_id then kept_id = id elseif not changed_id then changed_id = id end end
    local new
    for _, s in ipairs(catalog_skills()) do if before[s.id] == nil then new = s break end end
    local r, page = api("PATCH", "/api/v2/users/" .. u.id .. "/routingskills/bulk",
      { { id = new.id, proficiency = 4 }, { id = changed_id, proficiency = 0.5 } })
    assert.are.equal(200, r.status, r.body)
    assert.is_nil(schema.check("UserSkillEntityListing", page))
    local after, listing = skills_of(u)
    assert.are.equal(count(before) + 1, listing.total)
    assert.are.same({ 4, 0.5, before[kept_id] }, { after[new.id], after[changed_id], after[kept_id] })
    -- The answer lists every skill the user now has, as GET does.
    assert.are.same(listing.entities, page.entities)
    local added
    for _, s in ipairs(page.entities) do if s.id == new.id then added = s end end
    assert.are.same({ new.name, "active" }, { added.name, added.state })
    -- expand=skills on the user and on the listing: the same entities.
    local _, got = api("GET", "/api/v2/users/" .. u.id, nil, { expand = "skills" })
    assert.is_nil(schema.check("User", got))
    assert.are.same(listing.entities, got.skills)
    local _, users = api("GET", "/api/v2/users", nil, { id = u.id, expand = "skills" })
    assert.are.same(listing.entities, users.entities[1].skills)
    -- The single-skill routes see the bulk assignment.
    r = api("PUT", "/api/v2/users/" .. u.id .. "/routingskills/" .. new.id, { proficiency = 2, state = "active" })
    assert.are.equal(200, r.status, r.body)
    assert.are.equal(2, skills_of(u)[new.id])
  end)

  it("PUT replaces the whole set; [] clears it; the single routes agree", function()
    local u, before = user_with_skills(1)
    local skills = catalog_skills()
    local pick = {}
    for _, s in ipairs(skills) do
      if before[s.id] == nil and #pick < 2 then pick[#pick + 1] = s end
    end
    local r, page = api("PUT", "/api/v2/users/" .. u.id .. "/routingskills/bulk",
      { { id = pick[1].id, proficiency = 1 }, { id = pick[2].id, proficiency = 5 } })
    assert.are.equal(200, r.status, r.body)
    assert.is_nil(schema.check("UserSkillEntityListing", page))
    assert.are.same({ [pick[1].id] = 1, [pick[2].id] = 5 }, skills_of(u))
    assert.are.equal(2, page.total)
    for id in pairs(before) do
      assert.are.equal(404, api("DELETE", "/api/v2/users/" .. u.id .. "/routingskills/" .. id).status)
    end
    assert.are.equal(204, api("DELETE", "/api/v2/users/" .. u.id .. "/routingskills/" .. pick[1].id).status)
    assert.are.same({ [pick[2].id] = 5 }, skills_of(u))
    r, page = api("PUT", "/api/v2/users/" .. u.id .. "/routingskills/bulk", "[]")
    assert.are.equal(200, r.status, r.body)
    assert.is_nil(schema.check("UserSkillEntityListing", page))
    assert.are.same({}, skills_of(u))
    local _, got = api("GET", "/api/v2/users/" .. u.id, nil, { expand = "skills" })
    assert.are.same({}, got.skills)
    assert.matches('"skills":%[%]', api("GET", "/api/v2/users/" .. u.id, nil, { expand = "skills" }).body)
  end)

  it("refuses unknown skills, bad proficiencies, more than 50 items and a non-array, changing nothing", function()
    local u, before = user_with_skills(1)
    local known = catalog_skills()[1]
    for _, method in ipairs({ "PATCH", "PUT" }) do
      local path = "/api/v2/users/" .. u.id .. "/routingskills/bulk"
      local r = api(method, path, { { id = known.id, proficiency = 3 }, { id = "no-such-skill", proficiency = 3 } })
      assert.are.equal(404, r.status)
      assert.are.equal("not.found", r.json.code)
      assert.matches("no-such-skill", r.json.message, 1, true)
      assert.are.equal(400, api(method, path, { { id = known.id, proficiency = 6 } }).status)
      assert.are.equal(400, api(method, path, { { id = known.id } }).status)
      assert.are.equal(400, api(method, path, { id = known.id, proficiency = 1 }).status)
      assert.are.equal(400, api(method, path, "{}").status)
      local many = {}
      for i = 1, 51 do many[i] = { id = known.id, proficiency = 1 } end
      r = api(method, path, many)
      assert.are.equal(400, r.status)
      assert.matches("50", r.json.message, 1, true)
      assert.are.same(before, skills_of(u))
    end
    assert.are.equal(404, api("PATCH", "/api/v2/users/nobody/routingskills/bulk", { { id = known.id, proficiency = 1 } }).status)
  end)
end)

local function languages()
  local r, page = api("GET", "/api/v2/routing/languages", nil, { pageSize = 100 })
  assert.are.equal(200, r.status, r.body)
  return page.entities
end

local function langs_of(u)
  local r, page = api("GET", "/api/v2/users/" .. u.id .. "/routinglanguages", nil, { pageSize = 100 })
  assert.are.equal(200, r.status, r.body)
  assert.is_nil(schema.check("UserLanguageEntityListing", page))
  local out = {}
  for _, l in ipairs(page.entities) do out[l.id] = l.proficiency end
  return out, page
end

describe("emulator today: routing languages", function()
  before_each(function() emu.reset{ users = 10 } end)

  it("adds, updates, removes one language and lists them; expand=languages agrees", function()
    local u = emu.users(3)[3]
    local langs = languages()
    assert.are.same({}, langs_of(u))
    local r, l = api("POST", "/api/v2/users/" .. u.id .. "/routinglanguages", { id = langs[1].id, proficiency = 3 })
    assert.are.equal(200, r.status, r.body)
    assert.is_nil(schema.check("UserRoutingLanguage", l))
    assert.are.same({ langs[1].id, langs[1].name, 3, "active" }, { l.id, l.name, l.proficiency, l.state })
    assert.are.equal("/api/v2/users/" .. u.id .. "/routinglanguages/" .. langs[1].id, l.selfUri)
    api("POST", "/api/v2/users/" .. u.id .. "/routinglanguages", { id = langs[2].id, proficiency = 1 })
    r, l = api("PATCH", "/api/v2/users/" .. u.id .. "/routinglanguages/" .. langs[2].id, { proficiency = 4.5 })
    assert.are.equal(200, r.status, r.body)
    assert.is_nil(schema.check("UserRoutingLanguage", l))
    local have, page = langs_of(u)
    assert.are.same({ [langs[1].id] = 3, [langs[2].id] = 4.5 }, have)
    local _, got = api("GET", "/api/v2/users/" .. u.id, nil, { expand = "languages" })
    assert.is_nil(schema.check("User", got))
    assert.are.same(page.entities, got.languages)
    local _, listed = api("GET", "/api/v2/users", nil, { id = u.id, expand = "languages" })
    assert.are.same(page.entities, listed.entities[1].languages)
    r = api("DELETE", "/api/v2/users/" .. u.id .. "/routinglanguages/" .. langs[1].id)
    assert.are.equal(204, r.status)
    assert.are.equal("", r.body)
    assert.are.same({ [langs[2].id] = 4.5 }, langs_of(u))
    assert.are.equal(404, api("DELETE", "/api/v2/users/" .. u.id .. "/routinglanguages/" .. langs[1].id).status)
    assert.are.equal(404, api("PATCH", "/api/v2/users/" .. u.id .. "/routinglanguages/" .. langs[1].id,
      { proficiency = 1 }).status)
  end)

  it("PATCH bulk adds and updates, keeping the others; refusals change nothing", function()
    local u = emu.users(4)[4]
    local langs = languages()
    api("POST", "/api/v2/users/" .. u.id .. "/routinglanguages", { id = langs[1].id, proficiency = 2 })
    api("POST", "/api/v2/users/" .. u.id .. "/routinglanguages", { id = langs[2].id, proficiency = 2 })
    local r, page = api("PATCH", "/api/v2/users/" .. u.id .. "/routinglanguages/bulk",
      { { id = langs[2].id, proficiency = 5 }, { id = langs[3].id, proficiency = 0 } })
    assert.are.equal(200, r.status, r.body)
    assert.is_nil(schema.check("UserLanguageEntityListing", page))
    local want = { [langs[1].id] = 2, [langs[2].id] = 5, [langs[3].id] = 0 }
    local have, listing = langs_of(u)
    assert.are.same(want, have)
    assert.are.same(listing.entities, page.entities)
    local path = "/api/v2/users/" .. u.id .. "/routinglanguages/bulk"
    r = api("PATCH", path, { { id = langs[4].id, proficiency = 1 }, { id = "no-such-language", proficiency = 1 } })
    assert.are.equal(404, r.status)
    assert.matches("no-such-language", r.json.message, 1, true)
    assert.are.equal(400, api("PATCH", path, { { id = langs[4].id, proficiency = -1 } }).status)
    assert.are.equal(400, api("PATCH", path, { { proficiency = 1 } }).status)
    local many = {}
    for i = 1, 51 do many[i] = { id = langs[4].id, proficiency = 1 } end
    assert.are.equal(400, api("PATCH", path, many).status)
    assert.are.equal(404, api("POST", "/api/v2/users/" .. u.id .. "/routinglanguages",
      { id = "no-such-language", proficiency = 1 }).status)
    assert.are.equal(400, api("POST", "/api/v2/users/" .. u.id .. "/routinglanguages", { id = langs[4].id }).status)
    assert.are.same(want, langs_of(u))
    -- A reset forgets them.
    emu.reset{ users = 10 }
    assert.are.same({}, langs_of(u))
  end)
end)

describe("emulator today: max utilization", function()
  before_each(function() emu.reset{ users = 10 } end)

  local function util_of(u)
    local r, body = api("GET", "/api/v2/routing/users/" .. u.id .. "/utilization")
    assert.are.equal(200, r.status, r.body)
    assert.is_nil(schema.check("AgentMaxUtilizationResponse", body))
    return body
  end

  it("a user without settings has the organization's, level Organization", function()
    local r, org = api("GET", "/api/v2/routing/utilization")
    assert.are.equal(200, r.status, r.body)
    assert.is_nil(schema.check("UtilizationResponse", org))
    assert.are.equal(1, org.utilization.call.maximumCapacity)
    assert.are.equal(4, org.utilization.chat.maximumCapacity)
    local mine = util_of(emu.users(1)[1])
    assert.are.equal("Organization", mine.level)
    assert.are.same(org.utilization, mine.utilization)
  end)

  it("PUT stores per-user settings (omitted media types from the organization), DELETE falls back", function()
    local u, other = emu.users(2)[1], emu.users(2)[2]
    local _, org = api("GET", "/api/v2/routing/utilization")
    local r, put = api("PUT", "/api/v2/routing/users/" .. u.id .. "/utilization", { utilization = {
      call = { maximumCapacity = 2, includeNonAcd = true, interruptableMediaTypes = { "callback" } },
      chat = { maximumCapacity = 7 } } })
    assert.are.equal(200, r.status, r.body)
    assert.is_nil(schema.check("AgentMaxUtilizationResponse", put))
    assert.are.equal("Agent", put.level)
    local got = util_of(u)
    assert.are.same(put, got)
    assert.are.same({ 2, true, { "callback" } }, { got.utilization.call.maximumCapacity,
      got.utilization.call.includeNonAcd, got.utilization.call.interruptableMediaTypes })
    assert.are.equal(7, got.utilization.chat.maximumCapacity)
    assert.are.same(org.utilization.email, got.utilization.email)
    assert.are.same(org.utilization.message, got.utilization.message)
    assert.are.equal("Organization", util_of(other).level)
    r = api("DELETE", "/api/v2/routing/users/" .. u.id .. "/utilization")
    assert.are.equal(204, r.status)
    local back = util_of(u)
    assert.are.same({ "Organization", org.utilization }, { back.level, back.utilization })
    -- A reset forgets per-user settings too.
    api("PUT", "/api/v2/routing/users/" .. u.id .. "/utilization", { utilization = { call = { maximumCapacity = 3 } } })
    emu.reset{ users = 10 }
    assert.are.equal("Organization", util_of(u).level)
  end)

  it("refuses out-of-range capacities, unknown media types and labels, changing nothing", function()
    local u = emu.users(1)[1]
    local path = "/api/v2/routing/users/" .. u.id .. "/utilization"
    assert.are.equal(200, api("PUT", path, { utilization = { email = { maximumCapacity = 3 } } }).status)
    local before = util_of(u)
    for _, body in ipairs({
      { utilization = { call = { maximumCapacity = 26 } } },
      { utilization = { call = { maximumCapacity = -1 } } },
      { utilization = { fax = { maximumCapacity = 1 } } },
      { utilization = { call = { interruptableMediaTypes = { "fax" } } } },
      { utilization = { call = { maximumCapacity = "2" } } },
      { labelUtilizations = { ["no-such-label"] = { maximumCapacity = 1 } } },
    }) do
      local r = api("PUT", path, body)
      assert.are.equal(400, r.status, cjson.encode(body))
    end
    assert.are.same(before, util_of(u))
    assert.are.equal(404, api("GET", "/api/v2/routing/users/nobody/utilization").status)
    assert.are.equal(404, api("PUT", "/api/v2/routing/users/nobody/utilization", { utilization = {} }).status)
  end)
end)
