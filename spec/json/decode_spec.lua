-- The strict one-pass JSON decoder (csrc/json/decode.c, core.json_decode and
-- core.interpret), checked differentially against lua-cjson followed by the
-- post-pass the library used to run (drop null members, integral floats to
-- integers), plus every documented difference: strictness refusals, lone
-- surrogates, invalid UTF-8, overflow, depth, exact big integers.
local core = require "purecloud.core"
local cjson = require "cjson"
local cjson_safe = require "cjson.safe"

-- Lua 5.1/5.2 (make test-matrix) have no integer subtype: every number is a
-- float there, and the integer-specific cases only apply from 5.3 on.
local HAS_INTEGERS = math.type ~= nil
local math_type = math.type or function(v) return type(v) == "number" and "float" or nil end
local tointeger = math.tointeger or function(v) return v end
local it_int = HAS_INTEGERS and it or pending

-- The old behaviour: cjson.safe.decode, then the post-pass (in Lua here).
-- A seeded linear congruential generator (the same sequence on every Lua):
-- rand() the next raw value, rand(n) one in [0, n).
local function lcg(seed)
  local rnd = seed
  return function(n)
    rnd = (rnd * 1103515245 + 12345) % 2147483648
    return n and rnd % n or rnd
  end
end

local function postpass(v)
  if math_type(v) == "float" and v == v and v >= -2 ^ 53 and v <= 2 ^ 53 and v == math.floor(v) then
    return tointeger(v)
  end
  if type(v) ~= "table" then return v end
  for k, x in pairs(v) do
    if x == cjson.null and type(k) == "string" then
      v[k] = nil
    else
      v[k] = postpass(x)
    end
  end
  return v
end

local function reference(s)
  local v, err = cjson_safe.decode(s)
  if v == nil then return nil, err end
  return postpass(v)
end

-- Deep equality with number subtypes; the one tolerated difference: an
-- integer beyond 2^53 that cjson can only give as the nearest double.
local function same(a, b, path)
  path = path or "$"
  if type(a) ~= type(b) then return false, path .. ": " .. type(a) .. " vs " .. type(b) end
  if type(a) == "number" then
    if math_type(a) == "integer" and math_type(b) == "float" and (a > 2 ^ 53 or a < -2 ^ 53) then
      if a + 0.0 == b then return true end
    end
    if math_type(a) ~= math_type(b) then return false, path .. ": " .. math_type(a) .. " vs " .. math_type(b) end
    if a ~= b or (a == 0 and 1 / a ~= 1 / b) then return false, ("%s: %.17g vs %.17g"):format(path, a, b) end
    return true
  end
  if type(a) ~= "table" then
    if a ~= b then return false, path .. ": " .. tostring(a) .. " vs " .. tostring(b) end
    return true
  end
  for k, x in pairs(a) do
    local ok, why = same(x, b[k], path .. "." .. tostring(k))
    if not ok then return false, why end
  end
  for k in pairs(b) do
    if a[k] == nil then return false, path .. "." .. tostring(k) .. ": missing" end
  end
  return true
end

local function agrees(s)
  local mine, err = core.json_decode(s)
  assert(mine ~= nil, ("decoder refused %q: %s"):format(s:sub(1, 80), tostring(err)))
  local ref, rerr = reference(s)
  assert(ref ~= nil, ("cjson refused %q: %s"):format(s:sub(1, 80), tostring(rerr)))
  local ok, why = same(mine, ref)
  assert(ok, ("%q: %s"):format(s:sub(1, 80), tostring(why)))
  return mine
end

local function refused(s, offset)
  local v, err = core.json_decode(s)
  assert(v == nil, ("accepted %q"):format(s:sub(1, 80)))
  assert.is_string(err)
  assert(err:find("byte offset " .. offset, 1, true), ("%q: %s (expected offset %d)"):format(s:sub(1, 80), err, offset))
  assert(not err:find("[%c]"), "one line, no control characters: " .. err)
  return err
end

describe("json decoder #hermetic", function()
  it("agrees with cjson + the old post-pass on a corpus of edge cases", function()
    local corpus = {
      '{}', '[]', '[[]]', '{"a":{}}', '[{}, [], ""]', ' \t\r\n[ 1 , 2 ]\n ', '""', '"x"', 'true', 'false',
      '[true,false,null]', '{"a":null}', '{"a":null,"b":[null,null]}', '[null]', '{"a":[1,{"b":null}]}',
      '0', '-0', '1', '-1', '3.0', '1e3', '1E+3', '2.5', '-2.5e-3', '0.1', '1e-7', '123456789012345678',
      '9007199254740992', '-9007199254740992', '9007199254740993.0', '1.7976931348623157e308',
      '2.2250738585072014e-308', '4.9e-324', '1e-400', '-1e-400', '0e0', '0.000001', '1.5e300',
      '12345678901234567890', '-12345678901234567890', '1' .. ("0"):rep(30), '0.' .. ("0"):rep(40) .. "1",
      '"\\"\\\\\\/\\b\\f\\n\\r\\t"', '"\\u0041\\u00e9\\u20AC\\uFFFF"', '"\\ud83d\\ude00"', '"\\uD834\\uDD1E"',
      '"\\u0000"', '"é€😀 raw UTF-8"', '"' .. ("é\\n"):rep(400) .. '"', '"' .. ("x"):rep(5000) .. '"',
      '{"a":1,"a":2}', '{"a":1,"a":null}', '{"a":null,"a":1}', '{"":1}', '{"1":"one"}',
      '{"k\\u00e9y":"v"}', '[1,[2,[3,[4,[5]]]]]', ("["):rep(200) .. ("]"):rep(200),
    }
    for _, s in ipairs(corpus) do agrees(s) end
  end)

  it_int("keeps integers integral and exact, and makes integral doubles integers as before", function()
    assert.are.equal("integer", math_type(core.json_decode("3")))
    assert.are.equal("integer", math_type(core.json_decode("3.0")))
    assert.are.equal("float", math_type(core.json_decode("2.5")))
    assert.are.equal(math.maxinteger, core.json_decode("9223372036854775807"))
    assert.are.equal(math.mininteger, core.json_decode("-9223372036854775808"))
    assert.are.equal(9007199254740993, core.json_decode("9007199254740993"))   -- cjson: ...992.0
    assert.are.equal("float", math_type(core.json_decode("9223372036854775808")))
    assert.are.equal(2 ^ 63, core.json_decode("9223372036854775808"))
    assert.are.equal(0, core.json_decode("1e-400"))
  end)

  -- Random bit patterns need string.pack (Lua 5.3+).
  local it_pack = string.pack and it or pending
  it_pack("parses doubles exactly (fast path and strtod path) like Lua's own tonumber", function()
    local rand = lcg(12345)
    for i = 1, 1500 do
      local bytes = string.pack("<I4I4", rand() * 2 + rand() % 2, rand() * 2 + rand() % 2)
      local x = string.unpack("<d", bytes)
      if x == x and x ~= math.huge and x ~= -math.huge then
        for _, fmt in ipairs{ "%.15g", "%.16g", "%.17g", "%.3e", "%.6f" } do
          local s = fmt:format(i % 3 == 0 and x or x / 2 ^ 900)
          if s:find("^%-?%d") then
            local got = core.json_decode(s)
            assert(got == tonumber(s), s .. " -> " .. tostring(got))
          end
        end
      end
    end
  end)

  it("reads numbers the same under a locale whose decimal point is not '.'", function()
    local old = os.setlocale(nil, "numeric")
    finally(function() os.setlocale(old, "numeric") end)
    -- A bare Debian has only C/C.utf8/POSIX; where a ',' locale exists, use it
    -- (else this still checks the strtod path, which these numbers take).
    local _ = os.setlocale("de_DE.UTF-8", "numeric") or os.setlocale("fr_FR.UTF-8", "numeric")
    assert.are.equal(0.30000000000000004, core.json_decode("0.30000000000000004"))
    assert.are.equal(1.5, core.json_decode("1.5000000000000000000000001"))
    assert.are.equal(-123.456e-300, core.json_decode("-123.456e-300"))
  end)

  it("refuses everything outside RFC 8259, naming the byte offset", function()
    local cases = {
      { "NaN", 0 }, { "-NaN", 1 }, { "Infinity", 0 }, { "-Infinity", 1 }, { "[1,NaN]", 3 }, { "0x10", 1 },
      { "01", 0 }, { "-01", 0 }, { "+1", 0 }, { ".5", 0 }, { "1.", 2 }, { "1.e3", 2 }, { "1e", 2 },
      { "1e+", 3 }, { "-", 1 }, { "[1,]", 3 }, { '{"a":1,}', 7 }, { "[,1]", 1 }, { "[1 2]", 3 },
      { '{"a" 1}', 5 }, { "{a:1}", 1 }, { "{'a':1}", 1 }, { "['a']", 1 }, { "[1]//c", 3 }, { "/*c*/1", 0 },
      { "[1]x", 3 }, { "1 2", 2 }, { "", 0 }, { "   ", 3 }, { "[", 1 }, { "{", 1 }, { '{"a":', 5 },
      { '"abc', 0 }, { '"a\tb"', 2 }, { '"a\nb"', 2 }, { '"\1"', 1 }, { '"\\x41"', 1 }, { '"\\u12"', 1 },
      { '"\\u12G4"', 1 }, { '"\\', 0 }, { "tru", 0 }, { "nul", 0 }, { "[nulL]", 1 }, { "True", 0 },
      { "\239\187\191{}", 0 }, { "[1]\0", 3 }, { "1e400", 0 }, { "-1e400", 0 }, { "[1e999]", 1 },
      { '"\255"', 1 }, { '"\192\128"', 1 }, { '"\224\128\128"', 1 }, { '"\237\160\128"', 1 },
      { '"\244\144\128\128"', 1 }, { '"ab\128"', 3 }, { '"\226\130"', 1 }, { '"é\\n\200"', 5 },
    }
    for _, c in ipairs(cases) do refused(c[1], c[2]) end
  end)

  it("turns lone surrogates into U+FFFD, where cjson refused the text", function()
    assert.are.equal("\239\191\189", core.json_decode('"\\ud800"'))
    assert.are.equal("\239\191\189", core.json_decode('"\\udc00"'))
    assert.are.equal("a\239\191\189b", core.json_decode('"a\\uDBFFb"'))
    assert.are.equal("\239\191\189A", core.json_decode('"\\ud800\\u0041"'))
    assert.are.equal("\239\191\189\240\159\152\128", core.json_decode('"\\ud800\\ud83d\\ude00"'))
    assert.are.equal("\239\191\189\239\191\189", core.json_decode('"\\ude00\\ud83d"'))
  end)

  it("limits nesting to 256 levels with an error, never a crash", function()
    assert.is_table(core.json_decode(("["):rep(256) .. ("]"):rep(256)))
    refused(("["):rep(257) .. ("]"):rep(257), 256)
    refused(('{"a":'):rep(257) .. "1" .. ("}"):rep(257), 5 * 256)
    refused(("["):rep(100000), 256)
    refused(('[{"a":'):rep(50000), 6 * 128)
  end)

  it("builds large arrays and objects (stack chunks, presizing) completely", function()
    local parts = {}
    for i = 1, 20000 do parts[i] = i % 7 == 0 and "null" or tostring(i) end
    local arr = agrees("[" .. table.concat(parts, ",") .. "]")
    assert.are.equal(20000, #arr)
    assert.are.equal(core.null, arr[4095])    -- 7 * 585, before the first flush at 4096
    assert.are.equal(core.null, arr[4102])    -- 7 * 586, after it
    assert.are.equal(4097, arr[4097])
    local members = {}
    for i = 1, 20000 do members[i] = ('"k%d":%s'):format(i % 15000, i % 11 == 0 and "null" or tostring(i)) end
    agrees("{" .. table.concat(members, ",") .. "}")
    -- Arrays of records of growing and shrinking shapes (the presize hint).
    local recs = {}
    for i = 1, 300 do
      local fields = {}
      for j = 1, (i * 37) % 90 do fields[j] = ('"f%d":%d'):format(j, j) end
      recs[i] = "{" .. table.concat(fields, ",") .. "}"
    end
    agrees("[" .. table.concat(recs, ",") .. "]")
  end)

  it("agrees with the reference on generated documents", function()
    local rand = lcg(42)
    local strings = { '""', '"plain"', '"\\u00e9t\\u00e9"', '"\\ud83d\\ude00!"', '"tab\\tnl\\n"', '"é€😀"',
                      '"\\/\\\\\\""', '"' .. ("long "):rep(30) .. '"', '"\\u0000x"' }
    local numbers = { "0", "-0", "7", "-42", "3.25", "1e2", "-1.5E-3", "123456789", "0.5e+1", "1e22", "1e23",
                      "9007199254740991", "2.5e-310" }
    local function ws() return ({ "", " ", "\n", "\t ", "\r\n  " })[rand(5) + 1] end
    local function value(depth)
      local r = rand(depth > 6 and 4 or 7)
      if r == 0 then return strings[rand(#strings) + 1] end
      if r == 1 then return numbers[rand(#numbers) + 1] end
      if r == 2 then return ({ "true", "false", "null" })[rand(3) + 1] end
      if r == 3 then return "[]" end
      if r == 4 then
        local n, items = rand(6), {}
        for i = 1, n do items[i] = ws() .. value(depth + 1) .. ws() end
        return "[" .. table.concat(items, ",") .. "]"
      end
      local n, items = rand(7), {}
      for i = 1, n do items[i] = ws() .. '"k' .. rand(5) .. '"' .. ws() .. ":" .. ws() .. value(depth + 1) end
      return "{" .. table.concat(items, ",") .. ws() .. "}"
    end
    for _ = 1, 1000 do agrees(ws() .. value(0) .. ws()) end
  end)

  it("gives null in arrays as core.null, the same value as cjson.null and purecloud.null", function()
    local v = core.json_decode("[null,1]")
    assert.are.equal(cjson.null, v[1])
    assert.are.equal(core.null, v[1])
    assert.are.equal(require("purecloud").null, v[1])
    assert.are.equal(cjson.null, core.json_decode("null"))
  end)

  it("refuses non-strings as arguments", function()
    assert.has_error(function() core.json_decode({}) end)
    assert.has_error(function() core.json_decode() end)
  end)

  it("makes core.interpret answer kind = 'decode' with the status for a non-strict 2xx body", function()
    for _, body in ipairs{ "NaN", '{"pageCount":Infinity}', '{"total":0x10}', "[1,]", "<html>", '{"a":1e400}' } do
      local v, err = core.interpret{ status = 200, headers = { ["inin-correlation-id"] = "c-1" }, body = body }
      assert.is_nil(v)
      assert.are.equal("decode", err.kind)
      assert.are.equal(200, err.status)
      assert.are.equal("c-1", err.context_id)
      assert.matches("not valid JSON %(.*byte offset %d+", err.message)
      assert.are.equal(body, err.body)
    end
    local v = core.interpret{ status = 200, headers = {}, body = '{"pageCount":3,"a":null,"l":[null]}' }
    assert.are.same({ pageCount = 3, l = { core.null } }, v)
    if HAS_INTEGERS then assert.are.equal("integer", math_type(v.pageCount)) end
  end)
end)

-- Texts of 8 KB or more are decoded with a per-decode string cache (keys and
-- strings up to 40 bytes, direct-mapped on a hash of the length and the first
-- and last 8 bytes) and per-key presize hints; escaped strings are unescaped
-- in one pass into a growing buffer. These cases run inside such a text.
describe("json decoder string cache and escaped strings #hermetic", function()
  local PAD = '"' .. ("p"):rep(9000) .. '"'
  local PREFIX = "[" .. PAD .. ","
  -- s inside a text large enough for the cache; the decoded value of s.
  local function big(s)
    local v = agrees(PREFIX .. s .. "]")
    assert.are.equal(2, #v)
    return v[2]
  end
  local function list(n, f)
    local t = {}
    for i = 1, n do t[i] = f(i) end
    return "[" .. table.concat(t, ",") .. "]"
  end

  it("tells apart strings of one length with the same first and last 8 bytes (one hash)", function()
    -- Same length and the same 8-byte ends: the same slot whatever the hash
    -- constants, so only the length + byte comparison can tell them apart.
    local k = {}
    for i = 1, 6 do k[i] = "abcdefgh-" .. i .. "-stuvwxyz" end
    local v = big(list(3000, function(i)
      local a, b = k[i % 6 + 1], k[(i * 7) % 6 + 1]
      return ('{"%s":%d,"%s":"%s","v":"%s"}'):format(a, i, b, a, b)
    end))
    for i = 1, 3000 do
      local a, b, o = k[i % 6 + 1], k[(i * 7) % 6 + 1], v[i]
      if a == b then
        assert.are.equal(a, o[a])
      else
        assert.are.equal(i, o[a])
        assert.are.equal(a, o[b])
      end
      assert.are.equal(b, o.v)
      local n = 0
      for key in pairs(o) do
        n = n + 1
        assert.is_truthy(key == a or key == b or key == "v", key)
      end
      assert.are.equal(a == b and 2 or 3, n)
    end
  end)

  it("keeps nothing wrong between decodes: small texts after and between others with colliding strings", function()
    -- The cache and the presize hints live as long as the Lua state: a text
    -- is decoded the same whatever was decoded before it.
    local k = {}
    for i = 1, 6 do k[i] = "abcdefgh-" .. i .. "-stuvwxyz" end
    for round = 1, 200 do
      local a, b = k[round % 6 + 1], k[(round * 5) % 6 + 1]
      local text = ('{"%s":"%s","%s":%d,"n":{"%s":[%d,"%s"]}}'):format(a, b, b, round, b, round, a)
      local v = agrees(text)
      assert.are.equal(a == b and round or b, v[a])
      assert.are.equal(round, v[b])
      assert.are.same({ [b] = { round, a } }, v.n)
      if round % 50 == 0 then big(list(300, function(i) return ('{"%s":%d}'):format(k[i % 6 + 1], i) end)) end
    end
  end)

  it("keeps a bounded cache whatever it is fed: many distinct strings leave no growing memory", function()
    local long = ("-"):rep(80)
    local function text(round) -- long values seen twice each: they enter the cache
      return list(5000, function(i)
        return ('{"k%d_%d":"value-%d-%d-padding-padding","l":"%d%s%d","m":"%d%s%d"}')
          :format(round, i, round, i, round, long, i, round, long, i)
      end)
    end
    assert(core.json_decode(text(0)))
    collectgarbage()
    collectgarbage()
    local before = collectgarbage("count")
    for round = 1, 20 do assert(core.json_decode(text(round))) end
    collectgarbage()
    collectgarbage()
    -- 300 000 distinct strings went through (100 000 of them ~90 bytes long);
    -- the cache keeps at most 1 024.
    assert.is_true(collectgarbage("count") - before < 256, ("grew by %.0f KB"):format(collectgarbage("count") - before))
  end)

  it("stays exact when a finalizer decodes while a decode runs (one cache per Lua state)", function()
    if _VERSION == "Lua 5.1" then pending("tables have no __gc before Lua 5.2") return end
    local other = '{"id":"x","name":"evil","state":"gone","extra":[1,2,3]}'
    local records = list(3000, function(i) return ('{"id":"u%d","name":"n%d","state":"active"}'):format(i, i) end)
    local nested = 0
    for _ = 1, 4 do
      for _ = 1, 3000 do
        setmetatable({}, { __gc = function()
          local v = core.json_decode(other)
          if v and v.name == "evil" and v.extra[3] == 3 then nested = nested + 1 end
        end })
      end
      local v = assert(core.json_decode(records))
      for i = 1, 3000 do
        local r = v[i]
        assert.are.same({ "u" .. i, "n" .. i, "active" }, { r.id, r.name, r.state })
      end
    end
    assert.is_true(nested > 0, "no finalizer ran during the decodes")
  end)

  it("is exact with many more distinct keys and values than cache slots", function()
    local members = {}
    for i = 1, 5000 do members[i] = ('"key%d":"val%d"'):format(i, i % 3000) end
    local v = big("{" .. table.concat(members, ",") .. "}")
    for i = 1, 5000 do assert.are.equal("val" .. i % 3000, v["key" .. i]) end
    local w = big(list(4000, function(i) return ('{"f%d":"v%d","g":"f%d"}'):format(i % 2500, i, i % 2500) end))
    for i = 1, 4000 do
      assert.are.equal("v" .. i, w[i]["f" .. i % 2500])
      assert.are.equal("f" .. i % 2500, w[i].g)
    end
  end)

  it("tells apart prefixes and extensions of cached strings, up to and past 40 and 96 bytes", function()
    -- (up to 40 bytes a string is cached at first sight, up to 96 at its second)
    local base = ("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJ"):rep(3):sub(1, 100)
    local strs = {}
    for n = 0, #base do strs[#strs + 1] = base:sub(1, n) end
    for n = 1, 100 do strs[#strs + 1] = ("x"):rep(n) end
    local function pair(rand)
      local r = rand()
      return strs[r % #strs + 1], strs[math.floor(r / 97) % #strs + 1]
    end
    local rand = lcg(7)
    local v = big(list(3000, function()
      local a, b = pair(rand)
      return ('{"%s":"%s","%s":"%s"}'):format(a, b, b, a)
    end))
    rand = lcg(7)
    for i = 1, 3000 do
      local a, b = pair(rand)
      assert.are.equal(a, v[i][b])
      assert.are.equal(a == b and a or b, v[i][a])
    end
  end)

  it("gives the same string for escaped and plain spellings, as key and as value", function()
    local v = big(list(2000, function(i)
      if i % 2 == 0 then return '{"a\\/b":"\\u0041BC","ABC":"a/b","x":"\\u00e9t\\u00e9"}' end
      return '{"a/b":"ABC","\\u0041BC":"a\\/b","x":"été"}'
    end))
    for i = 1, 2000 do
      assert.are.same({ ["a/b"] = "ABC", ABC = "a/b", x = "été" }, v[i])
    end
  end)

  it("keeps last-wins and null-deletes for repeated keys, with the cache and key hints", function()
    local v = big(list(1500, function(i)
      return ({ '{"a":1,"a":null}', '{"a":null,"a":2}', '{"x":{"y":1},"x":null,"z":{"y":2,"w":[null]}}',
                '{"x":null,"x":{"y":3,"q":4,"r":5}}' })[i % 4 + 1]
    end))
    for i = 1, 1500, 4 do
      assert.are.same({ a = 2 }, v[i])
      assert.are.same({ z = { y = 2, w = { core.null } } }, v[i + 1])
      assert.are.same({ x = { y = 3, q = 4, r = 5 } }, v[i + 2])
      assert.are.same({}, v[i + 3])
    end
  end)

  it("unescapes long strings through the growing buffer, in small and large texts", function()
    for _, n in ipairs{ 100, 170, 171, 300, 341, 342, 1000, 5000 } do
      local parts, want = {}, {}
      for i = 1, n do
        parts[i] = ({ "\\/", "é", "\\u20ac", "ab", "\\ud83d\\ude00", "\\n", "plain text." })[i % 7 + 1]
        want[i] = ({ "/", "é", "€", "ab", "😀", "\n", "plain text." })[i % 7 + 1]
      end
      local s = '"' .. table.concat(parts) .. '"'
      assert.are.equal(table.concat(want), agrees(s))
      assert.are.equal(table.concat(want), big(s))
      assert.are.equal(("/"):rep(n), big('"' .. ("\\/"):rep(n) .. '"'))
    end
  end)

  it("unescapes with every plain run length (0 to 17 bytes) before and after each kind of escape", function()
    local esc = { { "\\/", "/" }, { "\\u00e9", "é" }, { "\\ud83d\\ude00", "😀" }, { "\\\\", "\\" },
                  { '\\"', '"' }, { "\\t", "\t" }, { "é", "é" }, { "\\u0000", "\0" } }
    for _, e in ipairs(esc) do
      for r1 = 0, 17 do
        for r2 = 0, 17 do
          local a, b = ("abcdefghijklmnopq"):sub(1, r1), ("ABCDEFGHIJKLMNOPQ"):sub(1, r2)
          local s = '"' .. a .. e[1] .. b .. e[1] .. a .. '"'
          local want = a .. e[2] .. b .. e[2] .. a
          assert.are.equal(want, core.json_decode(s))
          assert.are.equal(want, core.json_decode(PREFIX .. s .. "]")[2])
        end
      end
    end
  end)

  it("refuses bad escaped strings with the same message and offset, unterminated first", function()
    local cases = {
      { '"ab\\/c\\x"', "invalid escape in string", 6 }, { '"ab\\/c\\x', "unterminated string", 0 },
      { '"a\\/\1b"', "control character in string", 4 }, { '"a\\/\1b', "unterminated string", 0 },
      { '"a\\/\255b"', "invalid UTF-8 in string", 4 }, { '"a\\/\255b', "unterminated string", 0 },
      { '"\\u12"', "invalid \\u escape", 1 }, { '"\\u12', "unterminated string", 0 },
      { '"\\u12\\"ab"', "invalid \\u escape", 1 }, { '"\\/', "unterminated string", 0 },
      { '"\\', "unterminated string", 0 }, { '"a\\/b\\"', "unterminated string", 0 },
      { '"\\/\\uzzzz"', "invalid \\u escape", 3 }, { '"\\/\195"', "invalid UTF-8 in string", 3 },
      { '"' .. ("x\\/"):rep(300) .. '\\q"', "invalid escape in string", 901 },
      { '"' .. ("x\\/"):rep(300) .. "\1", "unterminated string", 0 },
    }
    for _, c in ipairs(cases) do
      local s, what, at = c[1], c[2], c[3]
      assert.matches(what, refused(s, at), 1, true)
      assert.matches(what, refused(PREFIX .. s, at + #PREFIX), 1, true)
    end
  end)

  it("agrees with the reference on generated record lists", function()
    local rand = lcg(99)
    local keys = { "id", "name", "selfUri", "a\\/b", "k\\u00e9", "", "state", ("long"):rep(12), "x" }
    local vals = { '"active"', '"a\\/b"', '"id"', '""', "null", "1", "2.5", "true", '"' .. ("v"):rep(41) .. '"',
                   '"\\ud83d\\ude00"', '"name"' }
    local function value(depth)
      local r = rand(depth > 4 and 2 or 4)
      if r == 0 then return vals[rand(#vals) + 1] end
      if r == 1 then return '"s' .. rand(300) .. '"' end
      if r == 2 then
        local items = {}
        for i = 1, rand(5) do items[i] = value(depth + 1) end
        return "[" .. table.concat(items, ",") .. "]"
      end
      local items = {}
      for i = 1, rand(6) do items[i] = '"' .. keys[rand(#keys) + 1] .. '":' .. value(depth + 1) end
      return "{" .. table.concat(items, ",") .. "}"
    end
    for _ = 1, 20 do agrees(list(300, function() return value(0) end)) end
  end)
end)

describe("json decoder on the emulator's responses", function()
  local emu = require "support.emulator"

  local function check(r)
    assert(r.status > 0, "no response")
    if r.body:find("^%s*$") then return end
    local mine = agrees(r.body)
    local v, err = core.interpret{ status = r.status, headers = r.headers, body = r.body }
    if r.status >= 200 and r.status < 300 then
      assert.is_nil(err)
      assert(same(v, mine))
    else
      assert.is_nil(v)
      assert.are.equal(mine.code or mine.error, err.code)
    end
    return mine
  end

  it("decodes every body of a set of real calls as the reference does", function()
    local page = check(emu.api("GET", "/api/v2/users", nil, { pageSize = 100 }))
    assert(#page.entities > 0, "the emulator has users")
    check(emu.api("GET", "/api/v2/users", nil, { pageSize = 25, pageNumber = 2, expand = { "routingStatus", "presence" } }))
    local id = page.entities[1].id
    local paths = { "", "/roles", "/routingskills", "/queues", "/routingstatus", "/station", "/callforwarding",
                    "/outofoffice", "/profileskills", "/geolocations/web" }
    for _, p in ipairs(paths) do check(emu.api("GET", "/api/v2/users/" .. id .. p)) end
    check(emu.api("GET", "/api/v2/users/" .. id, nil, { expand = { "routingStatus", "presence", "station", "skills" } }))
    check(emu.api("POST", "/api/v2/users/search", { query = { { type = "EXACT", fields = { "email" },
                                                                    value = page.entities[1].email } } }))
    check(emu.api("GET", "/api/v2/users/00000000-0000-0000-0000-000000000000"))   -- 404 ErrorBody
    check(emu.api("POST", "/api/v2/users", { name = 3 }))                          -- 400 ErrorBody
    check(emu.request("POST", "/oauth/token", { basic = { emu.client_id, emu.client_secret },
                                                form = { grant_type = "client_credentials" } }))
    check(emu.request("POST", "/oauth/token", { basic = { emu.client_id, "wrong" },
                                                form = { grant_type = "client_credentials" } }))
    check(emu.api("POST", "/api/v2/analytics/users/aggregates/query",
                  { interval = "2024-01-01T00:00:00Z/2024-01-02T00:00:00Z" }))
  end)

  it("decodes full 500-user pages identically", function()
    local r = check(emu.api("GET", "/api/v2/users", nil, { pageSize = 500 }))
    assert(#r.entities > 0)
  end)
end)
