-- The prepared common call (operations.bind): an operation whose required
-- arguments are its path parameters sends, when called with just them, the
-- very request the general path (operations.call) builds — and anything
-- else takes the general path, with its checks and messages. Hermetic: a
-- transport that records each request.
local operations = require "purecloud.operations"
local purecloud = require "purecloud"
local unpack = table.unpack or unpack -- luacheck: ignore 113 (Lua 5.1)
local pack = table.pack or function(...) return { n = select("#", ...), ... } end

local function copy(t)
  local c = {}
  for k, v in pairs(t) do c[k] = type(v) == "table" and copy(v) or v end
  return c
end

local sent
local function new_client(opts)
  opts = opts or {}
  opts.base_url = opts.base_url or "http://127.0.0.1:9"
  opts.access_token = "tok"
  opts.retry = false
  opts.transport = function(req)
    sent[#sent + 1] = copy(req)
    return { status = 200, headers = { ["content-type"] = "application/json" }, body = '{"ok":true}' }
  end
  return purecloud.new(opts)
end

-- The message without the "file:line: " a raise adds (the two paths raise
-- from different lines of this file).
local function message(f)
  local ok, err = pcall(f)
  assert.is_false(ok, "not refused")
  return (tostring(err):gsub("^[^:]*:%d+: ", ""))
end

describe("prepared calls #hermetic", function()
  before_each(function() sent = {} end)

  it("send, for every prepared operation, exactly the request of the general path", function()
    local c = new_client()
    local prepared = 0
    for name, op in pairs(operations.all()) do
      if op.prepared then
        prepared = prepared + 1
        for _, args in ipairs({ { "47d05bf2", "s-1" }, { "../x y", "a/b?c" }, { "..", "." } }) do
          sent = {}
          local v1, e1 = c[op.class][name](unpack(args, 1, op.npos))
          local v2, e2 = operations.call(c, name, unpack(args, 1, op.npos))
          assert.are.same({ ok = true }, v1, name)
          assert.is_nil(e1)
          assert.are.same(v2, v1, name)
          assert.is_nil(e2)
          assert.are.equal(2, #sent, name)
          assert.are.same(sent[2], sent[1], name)
          assert.are.equal(op.method, sent[1].method)
          assert.are.equal(op.safe, sent[1].safe, name)
          assert.are.equal("Bearer tok", sent[1].headers.Authorization)
        end
      end
    end
    -- Every operation whose required arguments are path parameters only
    -- (the seed's 20, under both names, and today's), each call by either name.
    local distinct = {}
    for name, op in pairs(operations.all()) do if op.prepared and name == op.name then distinct[op] = true end end
    local n = 0
    for _ in pairs(distinct) do n = n + 1 end
    assert.is_true(n > 20)
    assert.is_true(prepared > n)
  end)

  it("keep the arguments' order where it differs from the template's (general path)", function()
    local c = new_client()
    assert.is_false(operations.OPERATIONS.patch_user_id_queues_queue_id.prepared)
    assert(c.users.patch_user_id_queues_queue_id("Q", "U", { joined = true }))
    assert.are.equal("http://127.0.0.1:9/api/v2/users/U/queues/Q", sent[1].url)
  end)

  it("take the general path, with its checks and messages, for anything but the common call", function()
    local c = new_client()
    local users = c.users
    local P = pack
    for _, bad in ipairs({ P(""), P("a\0b"), P(("x"):rep(1025)), P(42), P(), P(nil), P("id", nil, nil),
                           P("id", 5), P("id", {}, "extra") }) do
      local prepared = message(function() return users.get_user_id(unpack(bad, 1, bad.n)) end)
      local general = message(function() return operations.call(c, "get_user_id", unpack(bad, 1, bad.n)) end)
      assert.are.equal(general, prepared)
      assert.matches("purecloud", prepared)
    end
    -- The same for either argument of a two-parameter operation (and none
    -- for an operation without one).
    local two = "delete_user_id_routingskills_skill_id"
    for _, bad in ipairs({ P("u", 42), P(42, "s"), P("u", ""), P("", "s"), P("u", "a\0b"), P("u"), P("u", "s", nil),
                           P("u", {}) }) do
      local prepared = message(function() return users[two](unpack(bad, 1, bad.n)) end)
      local general = message(function() return operations.call(c, two, unpack(bad, 1, bad.n)) end)
      assert.are.equal(general, prepared)
    end
    assert.are.equal(message(function() return operations.call(c, "get_me", "x") end),
      message(function() return users.get_me("x") end))
    assert.are.equal(0, #sent, "a refused call sent something")
    -- opts (even empty), or an explicit nil for them: the general path, the same request.
    assert(users.get_user_id("id", {}))
    assert(users.get_user_id("id", nil))
    assert(users.get_user_id("id", { expand = { "presence" } }))
    assert(users.get_user_id("id"))
    assert.are.same(sent[1], sent[2])
    assert.are.same(sent[1], sent[4])
    assert.matches("expand=presence", sent[3].url)
  end)

  it("leave a URL over the length limit to the general path, which refuses it", function()
    -- (a base_url just under the option limit; with the path the URL is over it)
    local c = new_client{ base_url = "http://127.0.0.1:9/" .. ("p"):rep(16 * 1024 - 30) }
    local prepared = message(function() return c.users.get_user_id("id") end)
    assert.matches("request URL would be %d+ bytes long", prepared)
    assert.are.equal(0, #sent)
  end)
end)
