-- Secrets never reach an error, a log line or a traceback (hardening §6).
local emu = require "support.emulator"
local support = require "support.client"
local redact = require "purecloud.redact"

describe("secrets #hostile", function()
  before_each(function() emu.reset{ users = 2 } end)

  it("never show a proxy's credentials", function()
    local lines = {}
    local c = support.direct{ proxy = "http://proxyuser:Pr0xy-Secret@127.0.0.1:9", connect_timeout = 2,
      retry = { max_retries = 1 }, log = { level = "trace", sink = function(_, m) lines[#lines + 1] = m end } }
    local v, err = c.users.get_users()
    assert.is_nil(v)
    local everything = tostring(err) .. "\n" .. table.concat(lines, "\n")
    for k, x in pairs(err) do everything = everything .. "\n" .. tostring(k) .. "=" .. tostring(x) end
    assert.is_nil(everything:find("Pr0xy-Secret", 1, true))
    assert.is_nil(tostring(c):find("Pr0xy-Secret", 1, true))
    c:close()
  end)

  it("are redacted from trace bodies by key, whatever the spelling or the value's type", function()
    local shown = redact.body('{"pass\\u0077ord":"hunter2","nested":{"clientSecret":12345,"list":[{"token":true}]},'
      .. '"name":"Pat"}')
    assert.is_nil(shown:find("hunter2", 1, true))
    assert.is_nil(shown:find("12345", 1, true))
    assert.is_nil(shown:find("true", 1, true))
    assert.matches("Pat", shown)
    assert.are.equal("grant_type=client_credentials&client_secret=[REDACTED]",
      redact.body("grant_type=client_credentials&client_secret=abc%20def"))
    assert.are.equal("(12 bytes, not shown)", redact.body("\0\1binary\2\3!!"))
  end)

  it("never appear in a trace of a create-user call with an escaped password key", function()
    local lines = {}
    local c = support.direct{ log = { level = "trace", sink = function(_, m) lines[#lines + 1] = m end } }
    assert(c:request("POST", "/api/v2/users",
      { json = '{"name":"Esc","email":"esc@example.com","pass\\u0077ord":"Esc-Secret-9"}' }))
    local text = table.concat(lines, "\n")
    assert.matches("esc@example.com", text)
    assert.is_nil(text:find("Esc-Secret-9", 1, true))
    c:close()
  end)
end)
