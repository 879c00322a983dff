-- Two rules of purecloud.errors, each kept by one mechanism:
--
--  * a caller's mistake raises at the caller's line: `errors.usage` finds the
--    first frame outside the library, and no module passes a level of its
--    own to `error` (scanned below: every `error(…)` of the library has level
--    0 — a re-raise, no position — or none — a bug, at the library's line);
--  * error objects are made with a known field set: `errors.new` checks it,
--    and no module but errors.lua calls `core.error` itself.
local lex = assert(loadfile("tools/require-graph.lua"))({}).lex
local purecloud = require "purecloud"
local errors = require "purecloud.errors"
local core = require "purecloud.core"

local files = require "support.files"
local read = files.read
local function library_files() return files.list("lua/purecloud", ".lua") end

-- Every call `fname(…)` of `src` whose last top-level argument is not the
-- number 0, with the line and the tokens of that last argument.
local function leveled_calls(src, fname)
  local t, out = lex(src), {}
  for k, x in ipairs(t) do
    local prev = t[k - 1]
    local qualified = prev and prev.kind == "op" and (prev.value == "." or prev.value == ":")
    if x.kind == "name" and x.value == fname and not qualified and t[k + 1] and t[k + 1].value == "(" then
      local depth, j, last = 0, k + 1, nil
      repeat
        local y = t[j]
        if y.kind == "op" and (y.value == "(" or y.value == "{" or y.value == "[") then depth = depth + 1
        elseif y.kind == "op" and (y.value == ")" or y.value == "}" or y.value == "]") then depth = depth - 1
        elseif y.kind == "op" and y.value == "," and depth == 1 then last = j end
        j = j + 1
      until depth == 0
      if last then
        local arg = {}
        for m = last + 1, j - 2 do arg[#arg + 1] = t[m].value end
        local text = table.concat(arg, " ")
        if text ~= "0" then out[#out + 1] = { line = x.line, level = text } end
      end
    end
  end
  return out
end

describe("#hermetic argument errors", function()
  it("no library module counts raise levels: every error() has level 0 or none", function()
    local bad = {}
    for _, path in ipairs(library_files()) do
      -- (errors.lua raises its own: `usage` counts there, once, and
      -- `new` names the library line that made a bad error object)
      for _, c in ipairs(path == "lua/purecloud/errors.lua" and {} or leveled_calls(read(path), "error")) do
        bad[#bad + 1] = ("%s:%d: error(…, %s)"):format(path, c.line, c.level)
      end
    end
    assert.are.same({}, bad, "use errors.usage (a caller's mistake) or error(e, 0) (a re-raise):\n"
      .. table.concat(bad, "\n"))
  end)

  it("the scan finds a planted leveled error", function()
    local planted = leveled_calls("local function f() error(('x'):format(1), 3) end error('y', 0) error('z')", "error")
    assert.are.equal(1, #planted)
    assert.are.equal("3", planted[1].level)
  end)

  -- Each case calls the library on the line where its function is defined;
  -- the error must name that line of this file.
  local client
  lazy_setup(function()
    client = purecloud.new{ client_id = "id", client_secret = "secret-value-1234", base_url = "http://127.0.0.1:9",
      transport = function() error("nothing may be sent by an argument error") end }
  end)

  local function check(fn, pattern)
    local line = debug.getinfo(fn, "S").linedefined
    local ok, err = pcall(fn)
    assert.is_false(ok)
    err = tostring(err)
    assert.matches("^spec/docs/usage_errors_spec%.lua:" .. line .. ": ", err)
    assert.matches(pattern, err)
  end

  it("purecloud.new and its option checks", function()
    check(function() purecloud.new("x") end, "expected a table of options")
    check(function() purecloud.new{ timeout = "x" } end, "option 'timeout' must be a number")
    check(function() purecloud.new{ tiemout = 1 } end, "did you mean 'timeout'")
    check(function() purecloud.new{ base_url = "http://h\n" } end, "contains a LF byte")
    check(function() purecloud.new{ headers = { ["Bad Name"] = "v" } } end, "option 'headers'")
    check(function() purecloud.new{ log = "loud" } end, "option 'log' level must be one of")
    check(function() purecloud.new{ profile = "bad name!" } end, "option 'profile' must be a profile name")
  end)

  it("operations, through a bound table and a prepared call", function()
    check(function() client.users.get_user() end, "purecloud.users.get_user: bad argument #1 'user_id'")
    check(function() client.users.get_user("a", {}, 3) end, "too many arguments")
    check(function() client.users.get_user("a", 7) end, "bad argument #2 'opts'")
    check(function() client.users.patch_user("a") end, "bad argument #2 'body'")
  end)

  it("client:request, client:batch, the pagers", function()
    check(function() client:request("BREW", "/x") end, "method must be one of")
    check(function() client:request("GET", "x") end, "path must start with '/'")
    check(function() client:request("GET", "/x", { nope = 1 }) end, "client:request")
    check(function() client:request("GET", "/x", { headers = { Host = "evil" } }) end, "request headers")
    check(function() client:batch("x") end, "calls must be an array")
    check(function() client:batch({}, { concurrency = 0 }) end, "concurrency must be an integer")
    check(function() client:batch({}, { jurnal = "x" }) end, "did you mean 'journal'")
    check(function() client:batch({ 42 }) end, "calls%[1%] must be a function")
    check(function() client:batch({ { "get_user", print } }, { journal = "/tmp/x" }) end, "cannot be journaled")
    check(function() client.users.each_user{ concurrency = 0 } end, "concurrency must be an integer from 1 to 64")
    check(function() client.users.each_user(5) end, "opts must be a table")
  end)

  it("the default client, the OAuth grants, the token stores", function()
    check(function() require("purecloud.users").get_user("x") end, "no default client")
    check(function() purecloud.default_client() end, "no default client")
    check(function() client:exchange_code("a\n", "b") end, "exchange_code: code contains a LF byte")
    check(function() client:authorize_url{} end, "needs redirect_uri")
    check(function() require("purecloud.token_store").file("") end, "needs a file path")
    check(function() require("purecloud.token_store").ngx_shared("x") end, "no lua_shared_dict")
  end)
end)

describe("#hermetic error objects", function()
  it("errors.new refuses a field or a kind it does not know", function()
    assert.has_error(function() errors.new{ kind = "api", stauts = 500 } end,
      "purecloud.errors.new: unknown field 'stauts'")
    assert.has_error(function() errors.new{ kind = "oops" } end, "purecloud.errors.new: unknown kind oops")
    local e = errors.new{ kind = "api", status = 503, message = "down" }
    assert.is_true(errors.is(e))
  end)

  it("errors.adopt keeps a host transport's known fields only", function()
    local e = errors.adopt{ kind = "strange", message = "boom", socket = {}, sent = false }
    assert.are.equal("transport", e.kind)
    assert.is_nil(rawget(e, "socket"))
    assert.is_false(e.sent)
  end)

  it("only errors.lua calls core.error", function()
    local bad = {}
    for _, path in ipairs(library_files()) do
      if path ~= "lua/purecloud/errors.lua" then
        local t = lex(read(path))
        for k, x in ipairs(t) do
          if x.kind == "name" and x.value == "core" and t[k + 1] and t[k + 1].value == "."
              and t[k + 2] and t[k + 2].value == "error" then
            bad[#bad + 1] = path .. ":" .. x.line
          end
        end
      end
    end
    assert.are.same({}, bad)
  end)

  -- The C core's own errors hold only FIELDS too (an API answer with a full
  -- ErrorBody and Retry-After, a decode failure, a refused body).
  it("the C core's errors use only the documented fields", function()
    local body = '{"message":"m","code":"c","status":429,"messageWithParams":"w","messageParams":{"a":"b"},'
      .. '"contextId":"x","details":[{"errorCode":"e"}],"errors":[{"message":"n"}]}'
    local _, api = core.interpret{ status = 429, body = body,
      headers = { ["retry-after"] = "2", ["inin-correlation-id"] = "x" } }
    local _, decode = core.interpret{ status = 200, body = "{nope", headers = { ["content-type"] = "application/json" } }
    local _, validation = core.encode_body(require("purecloud.operations").OPERATIONS.patch_user.handle,
      { version = "not a number" }, "strict")
    for _, e in ipairs({ api, decode, validation }) do
      assert.is_true(errors.is(e))
      for k in pairs(e) do assert.is_truthy(errors.FIELDS[k], "field " .. k .. " of a " .. e.kind .. " error") end
      assert.is_truthy(errors.KINDS[e.kind])
    end
    assert.are.equal(2, api.retry_after)
  end)
end)
