-- The operation table as generated (tools/gen-models.lua → csrc/models/
-- generated.c): everything the runtime needs is precomputed there, and
-- agrees with what the contract implies; the encoders take a handle.
local core = require "purecloud.core"
local operations = require "purecloud.operations"

-- The contract the table is generated from, read here on its own (spec/support/schema.lua).
local CONTRACT = require("spec.support.schema").contract()

describe("the generated operation table #hermetic", function()
  local OPS = core.operations()

  it("carries each operation's positional order, counts and prepared flag, as the path template implies", function()
    local n, aliases = 0, 0
    for name, op in pairs(OPS) do
      if name ~= op.name then
        aliases = aliases + 1
        assert.are.equal(name, op.alias, "an alias key holds its operation's table")
      else
        n = n + 1
        assert.are.equal(op.npos, #op.positional, name)
        for i, p in ipairs(op.positional) do
          assert.is_true(p.required, name)
          assert.are.equal(op.params[i], p, name .. ": params list the positional ones first, the same tables")
        end
        local optional = 0
        for k, p in pairs(op.optional) do
          optional = optional + 1
          assert.are.equal(k, p.lua_name)
          assert.is_false(p.required, name)
        end
        assert.are.equal(#op.params, op.npos + optional, name)
        assert.are.equal(op.npos + (optional > 0 and 1 or 0), op.max_args, name)
        local names = {}
        for t in op.path:gmatch("{(.-)}") do names[#names + 1] = t end
        local prepared = op.npos <= 2 and #names == op.npos and not op.deprecated
        for i, p in ipairs(op.positional) do
          if p["in"] ~= "path" or p.name ~= names[i] then prepared = false end
        end
        assert.are.equal(prepared, op.prepared, name)
      end
    end
    local in_contract, seed_names = 0, 0
    for _, item in pairs(CONTRACT.paths) do
      for _, o in pairs(item) do
        in_contract = in_contract + 1
        local s = o["x-seed-ruby-method"]
        if s and s ~= o["x-python-name"] then seed_names = seed_names + 1 end
      end
    end
    assert.are.equal(in_contract, n)
    assert.are.equal(seed_names, aliases)
    assert.is_true(n >= 163)
    assert.is_true(OPS.get_user_id.prepared)
    assert.are.equal(OPS.get_user, OPS.get_user_id)
    assert.is_true(OPS.get_users.prepared) -- (no required argument: its common call is `get_users()`)
    assert.is_false(OPS.post_users.prepared) -- (a body)
    assert.is_false(OPS.get_profiles_users.prepared) -- (deprecated: its first call warns)
    assert.are.same({ "user_id", "body" }, operations.describe("patch_user_id").arguments)
    assert.are.same({ "group_id", "ids" }, operations.describe("delete_group_members").arguments)
    assert.are.same({ "user_id", "skill_id", "body" }, operations.describe("put_user_routingskill").arguments)
  end)

  it("builds an operation's table only when a process uses it", function()
    local script = [[
      local operations = require "purecloud.operations"
      local c = require("purecloud").new{ base_url = "http://127.0.0.1:9", access_token = "t", log = "none",
        transport = function() return { status = 200, headers = {}, body = "{}" } end }
      assert(c.users.get_user_id("u-1"))
      assert(c.users.each_user) -- (a helper: its listing's operation)
      local n = 0
      for _ in pairs(operations.OPERATIONS) do n = n + 1 end
      io.write(n)]]
    local p = assert(io.popen("LUA_PATH='./lua/?.lua;./lua/?/init.lua;;' LUA_CPATH='./build/lua5.4/?.so;;' lua5.4 -e '"
      .. script:gsub("'", "'\\''") .. "' 2>&1"))
    local out = p:read("a")
    p:close()
    -- get_user and get_users, each under its name and its seed alias (get_users has none)
    assert.are.equal("3", out)
  end)

  it("has every handle once, and the encoders take a handle, never a name", function()
    local seen = {}
    local n = 0
    for name, op in pairs(OPS) do
      if name == op.name then
        assert.is_nil(seen[op.handle], name)
        seen[op.handle] = name
        n = n + 1
      end
    end
    for h = 1, n do assert.is_string(seen[h], "handle " .. h) end
    assert(core.encode_body(OPS.patch_user_id.handle, { version = 1, name = "x" }))
    assert.has_error(function() core.encode_body("patch_user_id", { version = 1 }) end)
    assert.has_error(function() core.encode_query(0, {}) end)
    assert.has_error(function() core.encode_query(n + 1, {}) end)
  end)

  it("describes an operation for callers (the command line) without its internals", function()
    local d = operations.describe("get_users")
    assert.are.same({ "GET", "/api/v2/users", true, {} }, { d.method, d.path, d.safe, d.arguments })
    assert.is_true(#d.options > 0)
    for i = 2, #d.options do assert.is_true(d.options[i - 1] < d.options[i]) end
    assert.is_nil(operations.describe("no_such_operation"))
  end)

  it("names the paged listings from the contract, with their helpers, and the pager installs exactly those", function()
    local listings = {}
    for name, op in pairs(OPS) do
      if op.paging and op.class == "users" and name == op.name then
        listings[#listings + 1] = ("%s %s %s %s %s %s"):format(name, op.paging.kind, op.paging.pages, op.paging.each,
          op.paging.items, tostring(op.paging.follow))
      end
    end
    table.sort(listings)
    -- (the seed's four keep their helpers' names; a name taken by a listing
    -- with a shorter path, or a last segment `me` or `{param}`, falls back to
    -- the operation's name)
    assert.are.same({
      "get_analytics_users_aggregates_job_results cursor analytics_users_aggregates_job_results_pages "
        .. "each_analytics_users_aggregates_job_results results nil",
      "get_analytics_users_details_job_results cursor analytics_users_details_job_results_pages "
        .. "each_analytics_users_details_job_results results nil",
      "get_authorization_divisionspermitted_paged_me numbered authorization_divisionspermitted_paged_me_pages "
        .. "each_authorization_divisionspermitted_paged_me entities nil",
      "get_authorization_divisionspermitted_paged_subject_id numbered "
        .. "authorization_divisionspermitted_paged_subject_id_pages "
        .. "each_authorization_divisionspermitted_paged_subject_id entities nil",
      "get_profiles_users numbered profiles_users_pages each_profiles_users entities nil",
      "get_user_favorites numbered favorite_pages each_favorite entities nil",
      "get_user_queues numbered queue_pages each_queue entities nil",
      "get_user_routinglanguages numbered routinglanguage_pages each_routinglanguage entities nil",
      "get_user_routingskills numbered routingskill_pages each_routingskill entities nil",
      "get_user_trustors numbered trustor_pages each_trustor entities nil",
      "get_users numbered user_pages each_user entities nil",
      "get_users_development_activities numbered activity_pages each_activity entities nil",
      "get_users_development_activities_me numbered users_development_activities_me_pages "
        .. "each_users_development_activities_me entities nil",
      "get_users_query cursor user_cursor_pages each_user_by_cursor entities nil",
      "post_users_search next_page search_pages each_search_result results get_users_search",
    }, listings)
    local t = {}
    operations.install_paging(t, nil, "groups")
    local names = {}
    for k in pairs(t) do names[#names + 1] = k end
    table.sort(names)
    -- a bound table answers the same helpers, made at their first use
    local bound = operations.bind({}, "groups")
    for _, k in ipairs(names) do assert.is_function(bound[k], k) end
    assert.is_nil(bound.each_user)
    assert.are.same({ "each_group", "each_member", "each_search_result", "group_pages", "member_pages",
                      "search_pages" }, names)
  end)

  it("the pager refuses a page it cannot follow and ends; a search page may leave its results out", function()
    local pager = require "purecloud.pager"
    local function pages(way, answers)
      local i = 0
      local p = pager.new({}, way, function() i = i + 1 return answers[i] end, {}, nil, 1)
      local got = {}
      while true do
        local page, err = p:next()
        if not page then got[#got + 1] = err and err.kind or "end" break end
        got[#got + 1] = #page[p.items]
      end
      return got
    end
    assert.are.same({ "decode" }, pages("numbered", { { pageCount = 1 } }))             -- no entities
    assert.are.same({ "decode" }, pages("numbered", { "not a page" }))
    assert.are.same({ 1, "decode" }, pages("numbered", { { entities = { 1 }, pageNumber = 1, pageCount = 3 },
                                                         { entities = { 2 }, pageNumber = 7, pageCount = 3 } }))
    assert.are.same({ "decode" }, pages("numbered", { { entities = {}, pageCount = 1e9 } })) -- past MAX_PAGES
    assert.are.same({ 2, 0, "end" }, pages("next_page", { { results = { 1, 2 }, nextPage = "q" }, { nextPage = "r" } }))
    assert.are.same({ "decode" }, pages("next_page", { { results = "x" } }))
    assert.are.same({ 2, 1, "end" }, pages("cursor", { { entities = { 1, 2 }, cursor = "c1" }, { entities = { 3 } } }))
    -- a cursor that names itself again would loop forever
    assert.are.same({ 1, "decode" }, pages("cursor", { { entities = { 1 }, cursor = "c1" },
                                                       { entities = { 2 }, cursor = "c1" } }))
  end)
end)

