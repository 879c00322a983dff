-- The operation table as generated (tools/gen-models.lua → csrc/models/
-- generated.c): everything the runtime needs is precomputed there, and
-- agrees with what the contract implies; the encoders take a handle.
local core = require "purecloud.core"
local operations = require "purecloud.operations"

describe("the generated operation table #hermetic", function()
  local OPS = core.operations()

  it("carries each operation's positional order, counts and prepared flag, as the path template implies", function()
    local n = 0
    for name, op in pairs(OPS) do
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
      local prepared = op.npos <= 2 and #names == op.npos
      for i, p in ipairs(op.positional) do
        if p["in"] ~= "path" or p.name ~= names[i] then prepared = false end
      end
      assert.are.equal(prepared, op.prepared, name)
    end
    assert.are.equal(36, n)
    assert.is_true(OPS.get_user_id.prepared)
    assert.is_true(OPS.get_users.prepared) -- (no required argument: its common call is `get_users()`)
    assert.is_false(OPS.post_users.prepared) -- (a body)
    assert.are.same({ "user_id", "body" }, operations.describe("patch_user_id").arguments)
  end)

  it("has every handle once, and the encoders take a handle, never a name", function()
    local seen = {}
    for name, op in pairs(OPS) do
      assert.is_nil(seen[op.handle], name)
      seen[op.handle] = name
    end
    assert(core.encode_body(OPS.patch_user_id.handle, { version = 1, name = "x" }))
    assert.has_error(function() core.encode_body("patch_user_id", { version = 1 }) end)
    assert.has_error(function() core.encode_query(0, {}) end)
    assert.has_error(function() core.encode_query(37, {}) end)
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
      if op.paging then
        listings[#listings + 1] = ("%s %s %s %s %s %s"):format(name, op.paging.kind, op.paging.pages, op.paging.each,
          op.paging.items, tostring(op.paging.follow))
      end
    end
    table.sort(listings)
    assert.are.same({
      "get_user_id_queues numbered queue_pages each_queue entities nil",
      "get_user_id_routingskills numbered routingskill_pages each_routingskill entities nil",
      "get_users numbered user_pages each_user entities nil",
      "post_search next_page search_pages each_search_result results get_search",
    }, listings)
    local t = {}
    require("purecloud.pager").install(t, function() error("no client needed") end, OPS)
    local names = {}
    for k in pairs(t) do names[#names + 1] = k end
    table.sort(names)
    assert.are.same({ "each_queue", "each_routingskill", "each_search_result", "each_user", "queue_pages",
                      "routingskill_pages", "search_pages", "user_pages" }, names)
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
  end)
end)

