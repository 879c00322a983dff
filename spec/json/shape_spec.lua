-- JSON keeps its shape (issue 20, point 4): a decoded [] stays an array
-- wherever the library writes JSON again. The decoder gives every empty
-- array the metatable core.array_mt (the only ambiguous shape: a non-empty
-- array is a sequence, an object has string keys), and every writer honours
-- it: core.encode_json, core.encode_body where the schema leaves the shape
-- open (fields the 2016 contract does not know, free-form objects), the
-- trace log's redaction and the command line's output.
--
-- The round trip decode -> encode -> decode runs over a generated corpus
-- (the JSONTestSuite is not reachable here): each document is generated
-- together with the Lua value it must decode to, so a decoder that loses
-- the marker fails as surely as an encoder that ignores it.
local core = require "purecloud.core"
local purecloud = require "purecloud"
local redact = require "purecloud.redact"

local HAS_INTEGERS = math.type ~= nil
local math_type = math.type or function(v) return type(v) == "number" and "float" or nil end
local tointeger = math.tointeger or function(v) return v end
local ARRAY = core.array_mt

-- Deep equality with the array/object distinction: the same metatable (the
-- array marker or none), the same keys, numbers with the same subtype.
local function same(a, b, path)
  path = path or "$"
  if type(a) ~= type(b) then return false, path .. ": " .. type(a) .. " vs " .. type(b) end
  if type(a) == "number" then
    if a ~= b or math_type(a) ~= math_type(b) then
      return false, ("%s: %s (%s) vs %s (%s)"):format(path, tostring(a), tostring(math_type(a)), tostring(b),
        tostring(math_type(b)))
    end
    return true
  end
  if type(a) ~= "table" then
    if a ~= b then return false, path .. ": " .. tostring(a) .. " vs " .. tostring(b) end
    return true
  end
  if getmetatable(a) ~= getmetatable(b) then
    return false, path .. ": " .. (getmetatable(a) == ARRAY and "[] vs {}" or "{} vs []")
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

local function assert_same(expected, got, text)
  local ok, why = same(expected, got)
  assert(ok, (why or "") .. "\n  in " .. tostring(text))
end

-- A seeded linear congruential generator (the same sequence on every Lua).
local function lcg(seed)
  local rnd = seed
  return function(n)
    rnd = (rnd * 1103515245 + 12345) % 2147483648
    return n and rnd % n or rnd
  end
end

local function utf8_bytes(cp)
  if cp < 0x80 then return string.char(cp) end
  if cp < 0x800 then return string.char(0xC0 + math.floor(cp / 64), 0x80 + cp % 64) end
  if cp < 0x10000 then
    return string.char(0xE0 + math.floor(cp / 4096), 0x80 + math.floor(cp / 64) % 64, 0x80 + cp % 64)
  end
  return string.char(0xF0 + math.floor(cp / 262144), 0x80 + math.floor(cp / 4096) % 64,
    0x80 + math.floor(cp / 64) % 64, 0x80 + cp % 64)
end

-- Numbers as written, and the value the decoder gives: an integer when
-- written as one that fits, or integral within 2^53; else the nearest double.
local NUMBERS = { "0", "-0", "-0.0", "7", "-42", "3.25", "0.1", "1e2", "-1.5E-3", "0.5e+1", "1e22", "1e23",
  "123456789", "9007199254740991", "9007199254740993", "9223372036854775807", "-9223372036854775808",
  "9223372036854775808", "37203685470368547.223", "123456789012345678901234567890", "1.7976931348623157e308",
  "5e-324", "2.5e-310", "-2.2250738585072014e-308", "1e-7", "6.02214076e23" }
local function number_value(text)
  local v = tonumber(text)
  if math_type(v) == "float" and v >= -2 ^ 53 and v <= 2 ^ 53 and v == math.floor(v) then return tointeger(v) end
  return v
end

-- Code points for strings: ASCII, the JSON specials, controls, and the edges
-- of UTF-8 (U+07FF, U+0800, U+FFFF, U+10000, U+10FFFF, an emoji).
local CODEPOINTS = { 0x41, 0x7A, 0x20, 0x22, 0x5C, 0x2F, 0x00, 0x08, 0x0A, 0x1F, 0x7F, 0xE9, 0x7FF, 0x800, 0x20AC,
  0xD7FF, 0xE000, 0xFFFD, 0xFFFF, 0x10000, 0x1F600, 0x10FFFF }
local SHORT = { [0x22] = '\\"', [0x5C] = "\\\\", [0x2F] = "\\/", [0x08] = "\\b", [0x0C] = "\\f", [0x0A] = "\\n",
  [0x0D] = "\\r", [0x09] = "\\t" }

local function gen_string(rand)
  local text, value = { '"' }, {}
  for i = 1, rand(7) do
    local r = rand(12)
    if r == 0 then -- a lone surrogate: U+FFFD (a low one, or a high one not followed by an escape)
      if rand(2) == 0 then
        text[#text + 1] = ("\\u%04x"):format(0xDC00 + rand(0x400))
        value[i] = utf8_bytes(0xFFFD)
      else
        text[#text + 1] = ("\\u%04X!"):format(0xD800 + rand(0x400))
        value[i] = utf8_bytes(0xFFFD) .. "!"
      end
    else
      local cp = CODEPOINTS[rand(#CODEPOINTS) + 1]
      local how = rand(3)
      if cp < 0x20 or cp == 0x22 or cp == 0x5C or how == 0 then
        if SHORT[cp] and rand(2) == 0 then
          text[#text + 1] = SHORT[cp]
        elseif cp >= 0x10000 then
          local c = cp - 0x10000
          text[#text + 1] = ("\\u%04X\\u%04x"):format(0xD800 + math.floor(c / 1024), 0xDC00 + c % 1024)
        else
          text[#text + 1] = ("\\u%04x"):format(cp)
        end
      else
        text[#text + 1] = utf8_bytes(cp)
      end
      value[i] = utf8_bytes(cp)
    end
  end
  text[#text + 1] = '"'
  return table.concat(text), table.concat(value)
end

-- gen(rand, depth) -> text, value: one JSON value and what it decodes to.
local function gen(rand, depth)
  local function ws() return ({ "", "", " ", "\n", "\t ", "\r\n  " })[rand(6) + 1] end
  local r = rand(depth > 5 and 5 or 11)
  if r == 0 then return gen_string(rand) end
  if r == 1 then
    local t = NUMBERS[rand(#NUMBERS) + 1]
    return t, number_value(t)
  end
  if r == 2 then
    local k = rand(3)
    return ({ "true", "false", "null" })[k + 1], ({ true, false, core.null })[k + 1]
  end
  if r == 3 then return "[" .. ws() .. "]", core.array() end
  if r == 4 then return "{" .. ws() .. "}", {} end
  if r == 5 then -- arrays of empty arrays and objects
    local items, value = {}, {}
    for i = 1, rand(4) + 1 do
      if rand(3) == 0 then items[i], value[i] = "{}", {} else items[i], value[i] = "[]", core.array() end
    end
    return "[" .. table.concat(items, ",") .. "]", value
  end
  if r == 6 then -- a deep chain (the encoder writes 64 levels)
    local n = rand(40) + 10
    local inner, v = gen(rand, 99)
    for _ = 1, n do
      if rand(2) == 0 then
        inner, v = "[" .. inner .. "]", { v }
      else
        if v == core.null then v = nil end
        inner, v = '{"d":' .. inner .. "}", { d = v }
      end
    end
    return inner, v
  end
  if r <= 8 then
    local items, value = {}, {}
    local n = rand(5) + 1
    for i = 1, n do
      local t, v = gen(rand, depth + 1)
      items[i], value[i] = ws() .. t .. ws(), v
    end
    return "[" .. table.concat(items, ",") .. "]", value
  end
  local items, value = {}, {}
  for i = 1, rand(6) + 1 do
    local kt, kv = gen_string(rand)
    local t, v = gen(rand, depth + 1)
    items[i] = ws() .. kt .. ws() .. ":" .. ws() .. t
    if v == core.null then v = nil end -- a null member is absent
    value[kv] = v                      -- a repeated key: the last wins
  end
  return "{" .. table.concat(items, ",") .. ws() .. "}", value
end

describe("json shape #hermetic", function()
  it("gives a decoded [] the array marker, and {} none", function()
    local v = assert(core.json_decode('{"a":[],"b":{},"c":[[],{}],"d":[ ],"e":[1]}'))
    assert.are.equal(ARRAY, getmetatable(v.a))
    assert.are.equal(ARRAY, getmetatable(v.d))
    assert.is_nil(getmetatable(v.b))
    assert.are.equal(ARRAY, getmetatable(v.c[1]))
    assert.is_nil(getmetatable(v.c[2]))
    assert.are.equal(0, #v.a)
    assert.is_nil(next(v.a))
    assert.are.equal(ARRAY, getmetatable(core.json_decode("[]")))
    assert.are.equal(ARRAY, getmetatable(core.interpret{ status = 200, headers = {}, body = "[]" }))
    assert.are.equal("array", ARRAY.__jsontype) -- dkjson's marker too
  end)

  it("encodes marked tables as arrays, unmarked empty tables as objects (core.encode_json)", function()
    assert.are.equal("[]", core.encode_json(core.array()))
    assert.are.equal("{}", core.encode_json({}))
    assert.are.equal("[[],{},[[]]]", core.encode_json(core.json_decode("[[],{},[[]]]")))
    assert.are.equal('{"a":[]}', core.encode_json(core.json_decode('{"a":[]}')))
    local t = { 1, 2 }
    assert.are.equal(t, core.array(t))
    assert.are.equal("[1,2]", core.encode_json(t))
    assert.has_error(function() core.array(5) end)
    local v, err = core.encode_json(core.array{ a = 1 })
    assert.is_nil(v)
    assert.matches("expected an array", err.message)
  end)

  it("keeps object nulls as core.null when asked (the trace log's view)", function()
    local v = core.json_decode('{"a":null,"b":[null],"c":{"d":null}}', true)
    assert.are.equal(core.null, v.a)
    assert.are.equal(core.null, v.c.d)
    assert.are.equal(core.null, v.b[1])
    assert.is_nil(core.json_decode('{"a":null}').a)
  end)

  it("decodes a generated corpus to the values it was generated from, and gets them back after encoding", function()
    local rand = lcg(20)
    local refused_deep = 0
    for _ = 1, 3000 do
      local text, expected = gen(rand, 0)
      local v, err = core.json_decode(text)
      assert(v ~= nil, tostring(err) .. "\n  in " .. text)
      assert_same(expected, v, text)
      local again, eerr = core.encode_json(v)
      if again then
        assert_same(expected, core.json_decode(again), again)
      else -- only the encoder's depth limit may refuse a decoded value
        assert.matches("nested more than 64 levels deep", eerr.message)
        refused_deep = refused_deep + 1
      end
    end
    assert(refused_deep < 300, refused_deep .. " of 3000 refused as too deep")
  end)

  it("round-trips nested empty containers, unicode and numbers exactly", function()
    local docs = {
      "[]", "{}", "[[]]", "[[],[]]", "[[[[]]]]", '{"a":[]}', '{"a":{}}', '{"a":[[],{}],"b":{"c":[]}}',
      '[{},[],{"x":[{}]},[[{}]]]', '{"":[]}', '["\\u0000",""]',
      '["\\ud83d\\ude00","😀","\\uffff","\\udbff\\udfff","\\ud800"]',
      "[0,-1,1.5,1e300,5e-324,9007199254740993,-9223372036854775808,9223372036854775808,1e22,0.1]",
      '{"n":[null,null],"t":[true,false]}',
    }
    for _, text in ipairs(docs) do
      local v = assert(core.json_decode(text))
      local out = assert(core.encode_json(v))
      assert_same(v, core.json_decode(out), text .. " -> " .. out)
    end
    if HAS_INTEGERS then
      local big = core.json_decode(core.encode_json(core.json_decode("[37203685470368547.223]")))[1]
      assert.are.equal("float", math.type(big)) -- an integral float past 2^53 stays a float
    end
  end)
end)

-- A user as GET /api/v2/users/{id}?expand=… answers today: empty lists the
-- 2016 contract knows (addresses, images) and lists it does not (skills,
-- languages, certifications, the biography's), which went back as {}.
local USER = [=[{"id":"u-1","name":"Ann","email":"ann@example.com","version":3,"state":"active",
"addresses":[],"images":[],"primaryContactInfo":[],"skills":[],"languages":[],"certifications":[],
"biography":{"biography":"","interests":[],"hobbies":[],"spouse":"B"},"futureLists":[[]],
"employerInfo":{"officialName":"Ann","employeeId":"7","dateHire":"2016-01-01"},
"division":{"id":"d-1","name":"Home","selfUri":"/api/v2/authorization/divisions/d-1"},
"chat":{"jabberId":"ann@x"},"selfUri":"/api/v2/users/u-1"}]=]

describe("json shape in a read-modify-write #hermetic", function()
  local sent
  local function client()
    sent = {}
    return purecloud.new{
      base_url = "http://127.0.0.1:9", access_token = "tok", retry = false, log = "none",
      transport = function(req)
        sent[#sent + 1] = req
        return { status = 200, headers = { ["content-type"] = "application/json" }, body = USER }
      end,
    }
  end

  it("sends a decoded user's empty lists back as [] through the library's encoder", function()
    local c = client()
    local u = assert(c.users.get_user_id("u-1"))
    u.name = "Ann B."
    assert(c.users.patch_user_id("u-1", u))
    local body = assert(sent[2].body)
    local back = assert(core.json_decode(body))
    for _, k in ipairs{ "addresses", "images", "skills", "languages", "certifications" } do
      assert.are.equal(ARRAY, getmetatable(back[k]), k .. " in " .. body)
    end
    assert.are.equal(ARRAY, getmetatable(back.biography.interests), body)
    assert.are.equal(ARRAY, getmetatable(back.biography.hobbies), body)
    assert.are.equal(ARRAY, getmetatable(back.futureLists[1]), body)
    assert.is_nil(body:find(":{}", 1, true), body) -- no empty object anywhere in this user
    assert.are.equal("Ann B.", back.name)
    assert.is_nil(back.selfUri) -- read-only fields still dropped
    assert.is_nil(back.primaryContactInfo)
  end)

  it("lets the schema decide where it knows the shape (an object field stays {})", function()
    local body = assert(core.encode_body(core.operations().patch_user_id.handle, { version = 1, chat = core.array(), addresses = {} }))
    local back = core.json_decode(body)
    assert.is_nil(getmetatable(back.chat))             -- User.chat is an object in the contract
    assert.are.equal(ARRAY, getmetatable(back.addresses)) -- User.addresses an array, marked or not
  end)
end)

describe("json shape in what the library prints #hermetic", function()
  it("keeps [] and null in the trace log's redacted bodies", function()
    local shown = redact.body('{"skills":[],"m":null,"a":{"b":[[],{}]},"password":"x","n":[null,1.5]}')
    local v = assert(core.json_decode(shown, true))
    assert.are.equal(ARRAY, getmetatable(v.skills))
    assert.are.equal(ARRAY, getmetatable(v.a.b[1]))
    assert.is_nil(getmetatable(v.a.b[2]))
    assert.are.equal(core.null, v.m)
    assert.are.equal("[REDACTED]", v.password)
    assert.are.equal("[]", redact.body("[]"))
    assert.are.equal("[[],{}]", redact.body(" [ [ ] , { } ] "))
  end)

  it("keeps [] in the command line's output", function()
    -- bin/purecloud with purecloud.new given a transport that answers the
    -- token request and then USER (no network, no emulator).
    local inject = ([[
      local pc = require "purecloud"
      local new = pc.new
      pc.new = function(o)
        o.transport = function(req)
          local body = req.url:find("token", 1, true) and '{"access_token":"t","expires_in":86400}' or %q
          return { status = 200, headers = { ["content-type"] = "application/json" }, body = body }
        end
        return new(o)
      end]]):format((USER:gsub("\n", ""))):gsub("\n", " ")
    local out = os.tmpname()
    local cmd = ("PURECLOUD_BASE_URL=http://127.0.0.1:9 PURECLOUD_CLIENT_ID=x PURECLOUD_SECRET=y PURECLOUD_LOG= "
      .. "LUA_PATH='./lua/?.lua;./lua/?/init.lua;;' LUA_CPATH='./build/lua5.4/?.so;;' "
      .. "lua5.4 -e '%s' bin/purecloud call get_user_id u-1 >%s 2>&1 </dev/null"):format(inject:gsub("'", "'\\''"), out)
    os.execute(cmd)
    local f = assert(io.open(out))
    local printed = f:read("*a")
    f:close()
    os.remove(out)
    local v = assert(core.json_decode(printed), printed)
    for _, k in ipairs{ "addresses", "skills", "languages", "certifications" } do
      assert.are.equal(ARRAY, getmetatable(v[k]), k .. " in " .. printed)
    end
    assert.are.equal(ARRAY, getmetatable(v.futureLists[1]), printed)
    assert.is_nil(printed:find("\\/", 1, true), printed)
  end)
end)
