-- Contract conformance: the API traffic of the users and pagination specs,
-- run again through Stoplight Prism's validating proxy (--errors) with the
-- contract plus exactly the deviations in api/deviations.lua. Any request or
-- response violation fails it. (tools/contract-check; `make contract` alone.)
describe("the contract check", function()
  it("finds no violation outside the documented deviations", function()
    local p = assert(io.popen("./tools/contract-check 2>&1; echo \"rc=$?\""))
    local out = p:read("a")
    p:close()
    local rc = tonumber(out:match("rc=(%d+)%s*$"))
    if rc ~= 0 then print(out:sub(-4000)) end
    assert.are.equal(0, rc)
    assert.matches("Prism reported 0 violation", out)
    assert.matches("%d+ successes / 0 failures / 0 errors", out)
  end)

  it("lists every deviation with a reason, and applies each one", function()
    local list = dofile("api/deviations.lua")
    assert.is_true(#list >= 1)
    for _, d in ipairs(list) do
      assert.is_string(d.id)
      assert.is_true(#d.why > 40, d.id .. " needs a reason")
    end
    assert.is_true(os.execute("lua5.4 tools/apply-deviations.lua api/today/swagger.json build/contract-check-test.json"))
  end)
end)
