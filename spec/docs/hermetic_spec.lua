-- README: "`lua5.4 /usr/bin/busted --tags=hermetic` runs the specs that need
-- no emulator". Proven here by running it with no emulator in reach: a spec
-- file whose setup or teardown needs one (not lazy) fails this. (Not tagged
-- hermetic itself: the run below would start it again.)
describe("the hermetic specs", function()
  it("run with no emulator, no Redis and no nginx in reach", function()
    local p = assert(io.popen("env -u PURECLOUD_EMULATOR_URL -u PURECLOUD_BASE_URL lua5.4 /usr/bin/busted "
      .. "-o plainTerminal --tags=hermetic spec 2>&1; echo \"exit $?\""))
    local out = p:read("a")
    p:close()
    local tail = out:sub(-2000)
    assert.is_truthy(out:find("exit 0%s*$"), tail)
    assert.is_truthy(out:find("%d+ successes / 0 failures / 0 errors"), tail)
  end)
end)
