-- The gate's store-backed admission (#hermetic: a scripted store, a fake
-- clock): permits come from the store, answers it does not know are told
-- to it, 429 holds reach it, and a store that fails or raises leaves the
-- call to the local rule — never an error.
local gate = require "purecloud.gate"

local function store(script)
  local s = { permits = script.permits, calls = {} }
  for _, f in ipairs({ "take", "report", "hold" }) do
    s[f] = function(...)
      s.calls[#s.calls + 1] = { f, ... }
      return script[f](...)
    end
  end
  return s
end

local function count(s, name)
  local n = 0
  for _, c in ipairs(s.calls) do if c[1] == name then n = n + 1 end end
  return n
end

describe("gate with a rate store #hermetic", function()
  it("sends on the store's permit and waits the store's wait", function()
    local grant = true
    local s = store{ take = function() if grant then return 1, 0, 100, 5, 0.5 end return 0, 0.25, 100, 100, 0.25 end,
                     report = function() return true end, hold = function() return true end }
    local g = gate.new{ store = s, key = "k" }
    assert.are.equal(0, g:wait(10))
    g:sent(true)
    grant = false
    assert.are.equal(0.25, g:wait(10))
    assert.are.equal(1, g.paced)
    assert.are.equal("k", s.calls[1][2])
  end)

  it("spends batched permits locally until the shared window resets", function()
    local s = store{ permits = 5, take = function(_, want) return want, 0, 100, 5, 0.5 end,
                     report = function() return true end, hold = function() return true end }
    local g = gate.new{ store = s, key = "k" }
    for _ = 1, 5 do assert.are.equal(0, g:wait(10)) end
    assert.are.equal(1, count(s, "take"))
    assert.are.equal(0, g:wait(10.6)) -- past the reset: the spare permits are gone, a new take
    assert.are.equal(2, count(s, "take"))
  end)

  it("tells the store only what its view lacks, and every 429 hold", function()
    local s = store{ take = function() return 1, 0, 100, 7, 0.5 end,
                     report = function() return true end, hold = function() return true end }
    local g = gate.new{ store = s, key = "k" }
    g:wait(10); g:sent(true)
    g:answered(10.01, true, "100", "6", "1") -- count 6 ≤ the shared 7, same window: nothing new
    assert.are.equal(0, count(s, "report"))
    g:wait(10.02); g:sent(true)
    g:answered(10.03, true, "100", "40", "1") -- another consumer of the token: the fleet must know
    assert.are.equal(1, count(s, "report"))
    g:hold(12.03)
    assert.are.same({ "hold", "k", 2.0 }, s.calls[#s.calls])
    assert.are.equal(2, g:wait(10.03)) -- and it holds this process too
  end)

  for _, how in ipairs({ "fails", "raises" }) do
    it(("paces by the local rule when the store %s"):format(how), function()
      local down = function()
        if how == "raises" then error("boom") end
        return nil, "down"
      end
      local s = store{ take = down, report = down, hold = down }
      local g = gate.new{ store = s, key = "k" }
      assert.are.equal(0, g:wait(10))  -- the local probe goes first
      g:sent(true)
      assert.are.equal(gate.POLL, g:wait(10)) -- others wait for its answer, as without a store
      g:answered(10.1, true, "2", "1", "1")
      assert.are.equal(0, g:wait(10.1)); g:sent(true)
      assert.is_true(g:wait(10.1) > 0) -- the local budget of 2 is used up
      g:hold(11)                       -- no raise
    end)
  end
end)
