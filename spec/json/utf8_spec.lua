-- One UTF-8 rule for reading and writing (issue 20, point 6c): the encoder
-- (core.encode_json, core.encode_body) refuses exactly the strings the
-- decoder refuses — both call pc_utf8_seq (csrc/text.h) — so the library
-- never sends a text it would not read back. Checked on the named cases and
-- exhaustively over every two-byte sequence and every lead byte of the
-- longer ones.
local core = require "purecloud.core"
local PATCH_USER = core.operations().patch_user_id.handle -- (the encoders take a handle)

local function decodes(s) return core.json_decode('"' .. s .. '"') ~= nil end

-- The bytes JSON itself treats specially (controls must be escaped, '"' and
-- '\' end or escape a string) are not UTF-8 questions: left out.
local function plain(s) return not s:find('[%z\1-\31"\\]') end

describe("one UTF-8 rule for the decoder and the encoder #hermetic", function()
  local REFUSED = {
    { "\237\160\128", "an encoded UTF-16 surrogate" },  -- ED A0 80 (U+D800)
    { "\237\191\191", "an encoded UTF-16 surrogate" },  -- ED BF BF (U+DFFF)
    { "\224\128\128", "an overlong form" },             -- E0 80 80
    { "\224\159\191", "an overlong form" },             -- E0 9F BF
    { "\240\128\128\128", "an overlong form" },         -- F0 80 80 80
    { "\192\128", "an overlong form" },                 -- C0 80
    { "\193\191", "an overlong form" },                 -- C1 BF
    { "\244\144\128\128", "a code point above U+10FFFF" }, -- F4 90 80 80
    { "\245\128\128\128", "a byte that never occurs in UTF-8" },
    { "\255", "a byte that never occurs in UTF-8" },
    { "\128", "a continuation byte without a lead byte" },
    { "\195", "a truncated sequence" },
    { "\226\130", "a truncated sequence" },
    { "\240\159\152", "a truncated sequence" },
    { "\195A", "a truncated sequence" },
  }
  local VALID = {
    "\239\191\191",     -- U+FFFF
    "\244\143\191\191", -- U+10FFFF
    "\240\159\152\128", -- U+1F600, a 4-byte emoji
    "\240\144\128\128", -- U+10000
    "\237\159\191",     -- U+D7FF, below the surrogates
    "\238\128\128",     -- U+E000, above them
    "\224\160\128",     -- U+0800
    "\194\128", "\223\191", "\127", "caf\195\169",
  }

  it("refuses the three sequences of the issue and their kin, naming what is wrong and where", function()
    for _, case in ipairs(REFUSED) do
      local s, why = "ab" .. case[1] .. "z", case[2]
      assert.is_false(decodes(s), ("%q"):format(s))
      local v, err = core.encode_json({ name = s })
      assert.is_nil(v, ("%q"):format(s))
      assert.are.equal("validation", err.kind)
      assert.are.equal("body.name: string is not valid UTF-8: " .. why ..
        (" (byte 0x%02X at offset 2)"):format(case[1]:byte(1)), err.details[1].message)
      -- the schema-driven encoder, in every mode, and for keys
      for _, mode in ipairs{ "lenient", "strict", false } do
        local b, berr = core.encode_body(PATCH_USER, { version = 1, name = s }, mode)
        assert.is_nil(b)
        local want = "body.name: string is not valid UTF-8: " .. why
        assert(berr.message:find(want, 1, true), berr.message)
      end
      local k, kerr = core.encode_json({ [s] = 1 })
      assert.is_nil(k)
      assert(kerr.message:find("key is not valid UTF-8: " .. why, 1, true), kerr.message)
    end
  end)

  it("accepts the valid edge cases in both directions", function()
    for _, c in ipairs(VALID) do
      local s = "a" .. c .. "z"
      assert.are.equal(s, core.json_decode('"' .. s .. '"'))
      assert.are.equal(s, core.json_decode(assert(core.encode_json({ s })))[1])
      assert.are.equal(s, core.json_decode(assert(core.encode_json({ [s] = s })))[s])
      assert(core.encode_body(PATCH_USER, { version = 1, name = s }, "strict"))
    end
  end)

  it("agrees with the decoder on every two-byte sequence and every lead of the longer ones", function()
    local tails = { 0x00, 0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xFF }
    local checked, disagree = 0, {}
    local function check(s)
      if not plain(s) then return end
      checked = checked + 1
      local dec = decodes(s)
      local enc = core.encode_json(s) ~= nil
      if dec ~= enc and #disagree < 10 then
        disagree[#disagree + 1] = ("%q: decoder %s, encoder %s"):format(s, tostring(dec), tostring(enc))
      end
    end
    for a = 0, 255 do
      for b = 0, 255 do
        check(string.char(a, b))
        if a >= 0xE0 then
          for _, c in ipairs(tails) do
            check(string.char(a, b, c))
            if a >= 0xF0 then
              for _, d in ipairs(tails) do check(string.char(a, b, c, d)) end
            end
          end
        end
      end
    end
    assert.are.same({}, disagree)
    assert(checked > 100000, checked)
  end)
end)
