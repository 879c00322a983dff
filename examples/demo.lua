--- A tour of purecloud against any org (or the local emulator: `make demo`).
-- Environment: PURECLOUD_CLIENT_ID, PURECLOUD_SECRET, and either
-- PURECLOUD_ENVIRONMENT (e.g. mypurecloud.ie) or PURECLOUD_BASE_URL.
local purecloud = require "purecloud"

-- Hosts are the library's business: an api.* base_url implies its login.*
-- host, any other base_url (a gateway, the emulator) serves both.
local client = purecloud.new{
  client_id = assert(os.getenv("PURECLOUD_CLIENT_ID"), "set PURECLOUD_CLIENT_ID"),
  client_secret = assert(os.getenv("PURECLOUD_SECRET"), "set PURECLOUD_SECRET"),
  environment = os.getenv("PURECLOUD_ENVIRONMENT"),
  base_url = os.getenv("PURECLOUD_BASE_URL"),
}
local users = client.users

print(("purecloud %s — %s"):format(purecloud._VERSION, tostring(client)))

-- One page, the way the API returns it.
local page = assert(users.get_users{ page_size = 5, sort_order = "ASC" })
print(("\n%d users in %d pages; the first %d:"):format(page.total, page.pageCount, #page.entities))
for _, u in ipairs(page.entities) do
  print(("  %-28s %-36s %s"):format(u.name, u.email or "", u.department or ""))
end

-- Every user, across all pages, four pages in flight.
local count, departments = 0, {}
for u in users.each_user{ page_size = 100, concurrency = 4 } do
  count = count + 1
  if u.department then departments[u.department] = (departments[u.department] or 0) + 1 end
end
print(("\nIterated %d users; by department:"):format(count))
local names = {}
for d in pairs(departments) do names[#names + 1] = d end
table.sort(names)
for _, d in ipairs(names) do print(("  %-20s %d"):format(d, departments[d])) end

-- Create, update, search, clean up.
local email = ("demo.%d@example.com"):format(os.time())
local user = assert(users.post_users{ name = "Demo User", email = email, password = "S3cret!pass",
                                      department = "Demo" })
print(("\nCreated %s (%s), version %d"):format(user.name, user.id, user.version))
user = assert(users.patch_user_id(user.id, { title = "Automation demo", version = user.version }))
print(("Patched: title %q, version %d"):format(user.title, user.version))
assert(users.put_user_id_routingstatus(user.id, { status = "IDLE" }))
print("Routing status: " .. assert(users.get_user_id_routingstatus(user.id)).status)

local found = assert(users.post_search{
  query = { { type = "EXACT", fields = { "email" }, value = email } },
})
print(("Search by email: %d result(s), first %s"):format(found.total, found.results[1] and found.results[1].id))

assert(users.delete_user_id(user.id))
local _, err = users.get_user_id(user.id)
print("After delete: " .. tostring(err))
