-- The journal's file unit (csrc/journal/file.c), with no network: created
-- 0600, never through a symbolic link, only a regular file, locked, whole
-- lines appended, cut back, closed idempotently. Run under ASan and
-- valgrind too (tools/asan-specs, make valgrind).
local core = require "purecloud.core"

-- (No shell output is read: under valgrind's --trace-children its own lines
-- would join a command's output.)
local function mode_of(path)
  local p = assert(io.popen("stat -c %a " .. path .. " 2>/dev/null"))
  local m = p:read("*l")
  p:close()
  return m
end

describe("journal file #hermetic", function()
  local dir
  before_each(function()
    dir = os.tmpname()
    os.remove(dir)
    assert(os.execute("mkdir -m 700 " .. dir))
  end)
  after_each(function() os.execute("rm -rf " .. dir) end)

  it("creates a private file, appends whole lines, cuts back and reads them again", function()
    local p = dir .. "/j"
    local f, content = core.journal_open(p)
    assert.is_truthy(f, content)
    assert.are.equal("", content)
    assert.are.equal("600", mode_of(p))
    assert.is_true(f:append("one\n"))
    assert.is_true(f:append("two\n", true))
    assert.is_true(f:append(("x"):rep(100000) .. "\n"))
    assert.is_true(f:truncate(8))
    assert.is_true(f:append("three\n"))
    f:close()
    f:close() -- idempotent
    assert.has_error(function() f:append("late\n") end, "purecloud: the journal file is closed")
    local g, again = core.journal_open(p)
    assert.are.equal("one\ntwo\nthree\n", again)
    g:close()
  end)

  it("refuses a symbolic link, a directory, a FIFO and a file another holder has locked", function()
    os.execute(("touch %s/t && ln -s %s/t %s/l && mkdir %s/d && mkfifo %s/p"):format(dir, dir, dir, dir, dir))
    local f, why = core.journal_open(dir .. "/l")
    assert.is_nil(f)
    assert.matches("symbolic link", why)
    f, why = core.journal_open(dir .. "/d")
    assert.is_nil(f)
    assert.matches("cannot open it", why)
    f, why = core.journal_open(dir .. "/p")
    assert.is_nil(f)
    assert.matches("not a regular file", why)
    local held = assert(core.journal_open(dir .. "/t"))
    f, why = core.journal_open(dir .. "/t")
    assert.is_nil(f)
    assert.matches("in use by another process", why)
    held:close()
    f = assert(core.journal_open(dir .. "/t"))
    f:close()
  end)

  it("releases the file and its lock when collected", function()
    local p = dir .. "/gc"
    do local f = core.journal_open(p); assert(f) end -- luacheck: ignore 311
    collectgarbage()
    collectgarbage()
    local f = core.journal_open(p)
    assert.is_truthy(f)
    f:close()
  end)
end)
