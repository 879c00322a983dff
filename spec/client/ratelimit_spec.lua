-- Rate limits as data (issue 13): the client paces itself by the
-- inin-ratelimit-* headers so a sustained batch is never refused, against the
-- emulator's per-token budget over real HTTP.
--
-- The budget: 20 requests per 2 s window. The emulator starts a window at the
-- first request after the previous one ended; the token request goes to the
-- login endpoint and is not counted, so the batch's first API request opens
-- the first window. 200 calls fill 10 windows; the 10th opens (10 − 1) × 2 s
-- = 18 s after the first: the minimum any client can take. The spec accepts
-- up to 15 % above it (20.7 s); measured runs take 18.0–18.1 s.
local emu = require "support.emulator"
local support = require "support.client"
local core = require "purecloud.core"

local ALLOWED, WINDOW, CALLS = 20, 2, 200
local MINIMUM = (CALLS / ALLOWED - 1) * WINDOW

describe("rate limits", function()
  local id
  before_each(function()
    emu.reset{ users = 5 }
    id = emu.users(1)[1].id
    emu.config{ rate = { allowed = ALLOWED, window_s = WINDOW } }
  end)
  after_each(function() emu.config{ rate = false } end)

  -- The batch on a fresh client (its own token, so its own windows).
  local function run(opts, concurrency)
    local c = support.direct(opts)
    local calls = {}
    for i = 1, CALLS do calls[i] = { "get_user_id", id } end
    local refused0 = emu.stats().rate_limited
    local t0 = core.now()
    local results, failed = c:batch(calls, { concurrency = concurrency })
    local took = core.now() - t0
    local refused = emu.stats().rate_limited - refused0
    c:close()
    assert.are.equal(CALLS, #results)
    assert.are.equal(0, failed)
    for i = 1, CALLS do assert.are.equal(id, results[i].value.id) end
    io.stderr:write(("\n  [ratelimit] pace=%s concurrency=%d: %.2f s, %d 429s, %d retries, %d paced waits\n")
      :format(tostring(not (opts and opts.pace == false)), concurrency, took, refused, c.stats.retries, c.gate.paced))
    return took, refused, c
  end

  for _, concurrency in ipairs({ 4, 8 }) do
    it(("spreads 200 calls over the windows with no 429, near the minimum (concurrency %d)"):format(concurrency),
      function()
        local took, refused, c = run(nil, concurrency)
        assert.are.equal(0, refused)
        assert.are.equal(0, c.stats.retries)
        assert.is_true(c.gate.paced > 0)
        assert.is_true(took >= MINIMUM - 0.1, ("took %.2f s, below the budget's minimum %g s"):format(took, MINIMUM))
        assert.is_true(took <= MINIMUM * 1.15, ("took %.2f s, over 115 %% of %g s"):format(took, MINIMUM))
      end)
  end

  it("without pacing (pace = false) the same batch is refused and retried", function()
    local _, refused, c = run({ pace = false }, 8)
    assert.is_true(refused > 0, "no 429 without pacing: the budget was not exceeded")
    assert.are.equal(refused, c.stats.retries) -- every 429 retried after Retry-After, none lost
    assert.are.equal(0, c.gate.paced)
  end)

  it("does not slow a single caller under the budget", function()
    local slept = {}
    local c = support.direct{ sleep = function(s) slept[#slept + 1] = s; core.sleep(s) end }
    local t0 = core.now()
    for _ = 1, ALLOWED - 2 do
      local user, err, info = c.users.get_user_id(id)
      assert(user, err)
      assert.are.equal(ALLOWED, info.rate_limit.allowed)
    end
    local took = core.now() - t0
    assert.are.same({}, slept)
    assert.are.equal(0, c.gate.paced)
    assert.is_true(took < WINDOW, ("%d calls took %.2f s"):format(ALLOWED - 2, took))
    c:close()
  end)
end)
