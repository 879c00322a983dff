-- The contract the library is generated from is derived from one pinned
-- source (the official JS SDK on npm, tools/package-lock.json): the derivation
-- is reproducible, and it refuses when the lock and the installed package
-- disagree, or when the committed contract is not what the pin derives.
local function run(cmd)
  local out = os.tmpname()
  local ok, _, code = os.execute(cmd .. " >" .. out .. " 2>&1")
  local f = assert(io.open(out))
  local text = f:read("a")
  f:close()
  os.remove(out)
  return (ok == true or ok == 0) and 0 or code, text
end

local function copy_with(path, from, to)
  local f = assert(io.open(path, "rb"))
  local s = f:read("a")
  f:close()
  local changed, n = s:gsub(from, to, 1)
  assert(n == 1, "nothing to change in " .. path)
  local tmp = os.tmpname()
  f = assert(io.open(tmp, "wb"))
  f:write(changed)
  f:close()
  return tmp
end

describe("today's contract source #hermetic", function()
  it("is what the pinned package derives", function()
    local code, out = run("lua5.4 tools/derive-contract.lua --check")
    assert.are.equal(0, code, out)
    assert.matches("api/today/swagger.json matches purecloud%-platform%-client%-v2 %d+%.%d+%.%d+", out)
  end)

  it("refuses a lock file naming another version of the package", function()
    local lock = copy_with("tools/package-lock.json",
      '("node_modules/purecloud%-platform%-client%-v2": {%s*"version": ")[%d%.]+"', "%1261.0.0\"")
    local code, out = run("lua5.4 tools/derive-contract.lua --check --lock " .. lock)
    os.remove(lock)
    assert.are.equal(1, code, out)
    assert.matches("names purecloud%-platform%-client%-v2 261%.0%.0 but .* has %d+%.%d+%.%d+ — run `cd tools && npm ci`", out)
  end)

  it("finds a committed contract that drifted from its source", function()
    -- the derivation of a contract whose recorded version differs: a hand edit or a stale file
    local contract = copy_with("api/today/swagger.json", '"version": "([%d%.]+)"', '"version": "0.0.0"')
    local code, out = run("lua5.4 tools/derive-contract.lua --check --contract " .. contract)
    os.remove(contract)
    assert.are.equal(1, code, out)
    assert.matches("is not what purecloud%-platform%-client%-v2 .* derives — run `make derive` and commit", out)
  end)

  it("names every source file with its sha256, and the generated files match the contract", function()
    local f = assert(io.open("api/today/swagger.json"))
    local c = require("cjson").decode(f:read("a"))
    f:close()
    local src = c.info["x-source"]
    assert.are.equal("purecloud-platform-client-v2", src.package)
    assert.matches("^sha512%-", src.integrity)
    assert.is_true(#src.files >= 8)
    for _, file in ipairs(src.files) do assert.matches("^%x+$", file.sha256, file.path); assert.are.equal(64, #file.sha256) end
    local code, out = run("lua5.4 tools/gen-models.lua --check api/today/swagger.json csrc/models/generated.c "
      .. "lua/purecloud docs/operations.md")
    assert.are.equal(0, code, out)
  end)
end)
