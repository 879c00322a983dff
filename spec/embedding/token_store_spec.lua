-- The token store interface's lock (hermetic): one holder at a time, the lock
-- frees itself after its TTL (a dead holder blocks nobody for long), unlock
-- frees it at once. The shared-dict store is proven across two nginx workers
-- in nginx_spec.lua.
local token_store = require "purecloud.token_store"

describe("token_store.memory lock/unlock", function()
  it("grants one holder, expires by itself, and unlocks", function()
    local clock = 100
    local s = token_store.memory(function() return clock end)
    assert.is_true(s.lock("k", 5))
    assert.is_false(s.lock("k", 5))
    assert.is_true(s.lock("other", 5)) -- per key
    clock = 104
    assert.is_false(s.lock("k", 5))
    clock = 105.5
    assert.is_true(s.lock("k", 5))     -- the holder died: the TTL freed it
    s.unlock("k")
    assert.is_true(s.lock("k", 5))
  end)

  it("keeps get/set/delete semantics", function()
    local clock = 0
    local s = token_store.memory(function() return clock end)
    s.set("k", "tok", 10)
    assert.are.same({ "tok", 10 }, { s.get("k") })
    s.delete("k", "other")
    assert.are.equal("tok", (s.get("k")))
    s.delete("k", "tok")
    assert.is_nil(s.get("k"))
    s.set("k", "tok", 10)
    clock = 10
    assert.is_nil(s.get("k"))
  end)

  it("refuses a missing shared dict outside nginx with a clear message", function()
    assert.has_error(function() token_store.ngx_shared("nope") end, "purecloud: no lua_shared_dict named 'nope'")
  end)
end)
