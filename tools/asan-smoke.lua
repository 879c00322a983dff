-- Exercise the C core built with AddressSanitizer (make asan-test): paging
-- over libcurl multi, schema encoding of hostile input, errors, TLS-free
-- transport failures. Any ASan report aborts the process.
package.path = "./lua/?.lua;./lua/?/init.lua;" .. package.path
package.cpath = "./build/asan/?.so;" .. package.cpath
assert(package.searchpath("purecloud.core", package.cpath):find("asan", 1, true), "not the ASan build")
local core = require "purecloud.core"
local purecloud = require "purecloud"
local url = assert(os.getenv("PURECLOUD_EMULATOR_URL"))

local c = purecloud.new{ base_url = url, client_id = "emulator-client", client_secret = "emulator-secret", log = "none" }
local n = 0
for u in c.users.each_user{ page_size = 7, concurrency = 4 } do
  n = n + 1
  assert(c.users.get_user_id(u.id))
end
assert(n == 250, n)
local r = c:batch({ { "get_users" }, { "get_user_id", "nope" }, function() error("x") end }, { concurrency = 3 })
assert(r[1].ok and not r[2].ok and not r[3].ok)
local t = { name = "a\0b\255", version = 1.5, addresses = { { type = "NOPE" }, 5 }, extra = { 0 / 0, 1 / 0 } }
t.manager = t
local v, err = c.users.patch_user_id("x", t)
assert(v == nil and err.kind == "validation" and #err.details >= 4)
assert(c.users.put_user_id_roles("x", {}) == nil)
assert(#core.build_url("http://h", "/{a}", { a = ("x/"):rep(3000) }, { q = ("y"):rep(5000) }) == #"http://h/" + 3000 * #"x%2F" + #"?q=" + 5000)
assert(core.interpret{ status = 200, headers = {}, body = ("["):rep(5000) } == nil)
local bad = purecloud.new{ base_url = "http://127.0.0.1:9", client_id = "a", client_secret = "b", retry = false,
                           log = "none" }
local _, e = bad:token()
assert(e.kind == "transport" and e.sent == false)
c:close()
bad:close()
collectgarbage()
print("asan smoke: ok (" .. n .. " users)")
