-- Every ```lua block of README.md runs as written against the emulator (as
-- its own lua5.4 process, with PURECLOUD_BASE_URL pointing at the emulator),
-- except the few marked `<!-- not run: reason -->` on the line before.
local emu = require "support.emulator"

local read = require("support.shell").read

-- { { line = n, code = "…", skip = reason|nil }, … }
local function lua_blocks(text)
  local blocks, prev, cur = {}, "", nil
  local n = 0
  for line in (text .. "\n"):gmatch("([^\n]*)\n") do
    n = n + 1
    if cur then
      if line:match("^```%s*$") then
        blocks[#blocks + 1] = cur
        cur = nil
      else
        cur.code = cur.code .. line .. "\n"
      end
    elseif line:match("^```lua%s*$") then
      cur = { line = n, code = "", skip = prev:match("^<!%-%-%s*not run:%s*(.-)%s*%-%->") }
    end
    if line:find("%S") then prev = line end
  end
  assert(cur == nil, "README.md: unterminated ```lua block at line " .. (cur and cur.line or 0))
  return blocks
end

local function run(code)
  local src, errf = os.tmpname(), os.tmpname()
  local f = assert(io.open(src, "w"))
  f:write(code)
  f:close()
  local p = io.popen(("cd /tmp && PURECLOUD_BASE_URL=%s LUA_PATH='%s/lua/?.lua;%s/lua/?/init.lua;;' "
    .. "LUA_CPATH='%s/build/lua5.4/?.so;;' lua5.4 %s 2>%s"):format(emu.url, os.getenv("PWD"), os.getenv("PWD"),
    os.getenv("PWD"), src, errf))
  local out = p:read("*a")
  local ok, _, status = p:close()
  local err = read(errf)
  os.remove(src); os.remove(errf)
  return (ok == true or ok == 0) and 0 or status, out, err
end

describe("README.md", function()
  local blocks = lua_blocks(read("README.md"))

  it("has runnable Lua blocks, and few that are not run", function()
    local runnable, skipped = 0, 0
    for _, b in ipairs(blocks) do
      if b.skip then skipped = skipped + 1 else runnable = runnable + 1 end
      if b.skip then assert.is_true(#b.skip > 0, "line " .. b.line .. ": say why a block is not run") end
    end
    assert.is_true(runnable >= 2, "expected the Quickstart and Logging blocks to run")
    assert.is_true(skipped <= 2, skipped .. " blocks are marked not run: keep those few")
  end)

  for _, b in ipairs(blocks) do
    if not b.skip then
      it("runs the ```lua block at line " .. b.line, function()
        emu.reset{ users = 30 }
        local code, out, err = run(b.code)
        assert.are.equal(0, code, ("README.md line %d failed:\n%s\n%s"):format(b.line, out, err))
        assert.are.equal("", err, "README.md line " .. b.line .. " printed on stderr")
      end)
    end
  end

  it("the Quickstart lists the users and shows the error", function()
    local quick
    for _, b in ipairs(blocks) do
      if not b.skip and b.code:find("each_user", 1, true) then quick = b break end
    end
    assert.is_table(quick, "no Quickstart block listing users")
    emu.reset{ users = 30 }
    local _, out = run(quick.code)
    assert.matches("\n30 users\napi\t404\tnot%.found\npurecloud: 404 not%.found", out)
  end)
end)
