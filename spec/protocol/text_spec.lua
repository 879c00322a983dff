-- The byte rules of csrc/text.h that Lua sees: the one header rule
-- (`core.check_header`, `core.OWNED_HEADERS`), used by the request layer,
-- the cosocket serialiser and the libcurl transport alike, and the one way
-- memory that held a secret is wiped. Every byte value is tried against a
-- reference written here from RFC 9110 (§5.6.2 token, §5.5 field-value).
-- No network.
local core = require "purecloud.core"
local http1 = require "purecloud.http1"
local request = require "purecloud.request"

-- The reference: RFC 9110's grammar, written independently of the C.
local TCHARS = "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
local function is_tchar(b) return TCHARS:find(string.char(b), 1, true) ~= nil end
local function is_value_byte(b) return b == 9 or (b >= 0x20 and b ~= 0x7F) end -- HTAB, SP, VCHAR, obs-text
local C0 = { [0] = "NUL", "SOH", "STX", "ETX", "EOT", "ENQ", "ACK", "BEL", "BS", "HTAB", "LF", "VT", "FF", "CR",
  "SO", "SI", "DLE", "DC1", "DC2", "DC3", "DC4", "NAK", "SYN", "ETB", "CAN", "EM", "SUB", "ESC", "FS", "GS", "RS",
  "US", "SP" }
local function named(b)
  if C0[b] then return "a " .. C0[b] .. " byte" end
  if b == 0x7F then return "a DEL byte" end
  if b < 0x7F then return "a '" .. string.char(b) .. "' byte" end
  return ("a 0x%02X byte"):format(b)
end

local OWNED = { "authorization", "connection", "content-length", "expect", "host", "keep-alive", "proxy-connection",
  "te", "transfer-encoding", "upgrade" }

describe("the one header rule #hermetic", function()
  it("takes a name byte exactly when it is a token character, every byte value 0-255", function()
    local taken = 0
    for b = 0, 255 do
      local c = string.char(b)
      for _, name in ipairs({ c, "X-" .. c .. "-Y" }) do
        local ok, why = core.check_header(name, "v")
        if is_tchar(b) then
          assert.is_true(ok, ("byte 0x%02X refused: %s"):format(b, tostring(why)))
        else
          assert.is_nil(ok, ("byte 0x%02X taken in a name"):format(b))
          assert.are.equal(("header name is not a valid HTTP token: %s at position %d"):format(named(b),
            #name == 1 and 1 or 3), why)
        end
      end
      if is_tchar(b) then taken = taken + 1 end
    end
    assert.are.equal(77, taken) -- 26 + 26 letters, 10 digits, 15 signs
  end)

  it("takes a value byte exactly when RFC 9110 field-value allows it, every byte value 0-255", function()
    for b = 0, 255 do
      local c = string.char(b)
      local ok, why = core.check_header("X-A", "a" .. c .. "b")
      if is_value_byte(b) then
        assert.is_true(ok, ("byte 0x%02X refused: %s"):format(b, tostring(why)))
      else
        assert.is_nil(ok, ("byte 0x%02X taken in a value"):format(b))
        assert.are.equal("header X-A contains " .. named(b) .. " at position 2", why)
      end
      -- Alone, at the start and at the end: the same, except that white space
      -- cannot begin or end a value (a recipient strips it, libcurl drops a
      -- blank header).
      for _, v in ipairs({ c, c .. "b", "a" .. c }) do
        local want = is_value_byte(b) and b ~= 9 and b ~= 32
        assert.are.equal(want, core.check_header("X-A", v) == true, ("byte 0x%02X in %q"):format(b, v))
      end
    end
    assert.are.equal("header X-A begins with white space (a recipient would strip it)",
      select(2, core.check_header("X-A", " a")))
    assert.are.equal("header X-A ends with white space (a recipient would strip it)",
      select(2, core.check_header("X-A", "a\t")))
    assert.is_true(core.check_header("X-A", "a \t b")) -- inside, white space is content
    assert.is_true(core.check_header("X-A", ""))        -- an empty value is a value
    assert.is_true(core.check_header("X-A", "caf\xC3\xA9 \xFF")) -- obs-text: bytes, not checked as UTF-8
  end)

  it("bounds names to 1-256 bytes and values to 16 KiB", function()
    assert.are.equal("header name is not a valid HTTP token: it is empty", select(2, core.check_header("", "v")))
    assert.is_true(core.check_header(("n"):rep(256), "v"))
    assert.are.equal("header name is not a valid HTTP token: longer than 256 bytes",
      select(2, core.check_header(("n"):rep(257), "v")))
    assert.is_true(core.check_header("X-A", ("v"):rep(16384)))
    assert.are.equal("header X-A is longer than 16384 bytes", select(2, core.check_header("X-A", ("v"):rep(16385))))
    -- The longest token csrc/auth/token.c takes fits an Authorization value.
    assert.is_true(core.check_header("Authorization", "Bearer " .. ("t"):rep(8192), true))
  end)

  it("refuses what is not a string, and never quotes a value (it may be a credential)", function()
    assert.are.same({ nil, "a header name must be a string, got number" }, { core.check_header(1, "v") })
    assert.are.same({ nil, "a header value must be a string, got number" }, { core.check_header("X-A", 1) })
    assert.are.same({ nil, "a header value must be a string, got nil" }, { core.check_header("X-A") })
    local _, why = core.check_header("Authorization", "Bearer s3cr3t-t0k3n\0", true)
    assert.are.equal("header Authorization contains a NUL byte at position 20", why)
    assert.is_nil(why:find("s3cr3t", 1, true))
  end)

  it("holds one list of the library's own headers, compared in any case", function()
    local names = {}
    for name, why in pairs(core.OWNED_HEADERS) do
      names[#names + 1] = name
      assert.is_string(why)
    end
    table.sort(names)
    assert.are.same(OWNED, names)
    for _, name in ipairs(OWNED) do
      local upper, mixed = name:upper(), name:gsub("^%l", string.upper):gsub("%-%l", string.upper)
      for _, n in ipairs({ name, upper, mixed }) do
        -- A caller may set none of them.
        assert.are.same({ nil, ("header %s cannot be set (%s)"):format(n, core.OWNED_HEADERS[name]) },
          { core.check_header(n, "x") })
        -- A transport takes Authorization (the client adds it) and none of the others.
        local ok = core.check_header(n, "x", true)
        assert.are.equal(name == "authorization", ok == true, n)
      end
    end
    -- Near misses are not owned.
    for _, n in ipairs({ "hosts", "X-Host", "authorizatio", "content-type", "Content-Lengthy", "tE-" }) do
      assert.is_true(core.check_header(n, "x"), n)
    end
  end)

  it("is the rule of the request layer and of the cosocket serialiser, with the same reason", function()
    local cases = {
      { "X-A", "a\0b" }, { "X-A", "a\rb" }, { "X-A", "a\7b" }, { "X-A", "a\127" }, { "X-A", " a" },
      { "X A", "v" }, { "X:A", "v" }, { "", "v" }, { "Host", "evil" }, { "Content-Length", "5" },
      { "x-a", ("v"):rep(16385) },
    }
    for _, c in ipairs(cases) do
      local name, value = c[1], c[2]
      local _, want = core.check_header(name, value, true)
      local wire, why = http1.request("GET", "/", "h", { [name] = value })
      assert.is_nil(wire)
      assert.are.equal(want, why)
      local ok, msg = pcall(request.merge_headers, {}, { [name] = value }, "request headers")
      assert.is_false(ok)
      assert.are.equal("purecloud: request headers: " .. select(2, core.check_header(name, value))
        .. "; refused (nothing was sent)", (tostring(msg):gsub("^[^:]*:%d+: ", "")))
    end
    -- Authorization: the request layer refuses it from a caller, the serialiser sends it.
    assert.has_error(function() request.merge_headers({}, { authorization = "x" }, "request headers") end,
      "purecloud: request headers: header authorization cannot be set (the client authenticates every call itself);"
        .. " refused (nothing was sent)")
    assert.truthy(http1.request("GET", "/", "h", { Authorization = "Bearer t" }))
    -- The library's own defaults are checked too (a user_agent option ends up there).
    assert.has_error(function() request.merge_headers({ ["User-Agent"] = "app\7" }, {}, "option 'headers'") end)
  end)
end)

describe("wiping, one way #hermetic", function()
  -- Every file of csrc/ that clears memory holding a secret calls pc_wipe
  -- (csrc/text.c: explicit_bzero, else memset through a volatile pointer);
  -- a plain memset before free may be dropped by the compiler as a dead store.
  local support = require "support.files"
  local read, files = support.read, support.list("csrc", ".c")

  it("has one wipe function, in csrc/text.c", function()
    assert.is_true(#files > 10)
    for _, path in ipairs(files) do
      local s = read(path)
      if path ~= "csrc/text.c" then
        assert.is_nil(s:find("explicit_bzero", 1, true), path)
        assert.is_nil(s:find("volatile", 1, true), path .. " wipes in its own way")
        assert.is_nil(s:find("memset%([^;]*strlen"), path .. " clears a string with memset")
      end
    end
    assert.truthy(read("csrc/text.c"):find("void pc_wipe(void *p, size_t n) {", 1, true))
  end)

  it("never clears with memset what it then frees", function()
    for _, path in ipairs(files) do
      local lines = {}
      for line in (read(path) .. "\n"):gmatch("(.-)\n") do lines[#lines + 1] = line end
      for i, line in ipairs(lines) do
        if line:find("memset%(") then
          for j = i, math.min(i + 2, #lines) do
            assert.is_nil(lines[j]:find("free%("), ("%s:%d: memset before free (use pc_wipe)"):format(path, i))
          end
        end
      end
    end
  end)
end)
