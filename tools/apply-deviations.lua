-- Writes a copy of today's contract with exactly the documented deviations
-- (api/deviations.lua) applied, for the Prism conformance check.
-- Usage: lua5.4 tools/apply-deviations.lua api/today/swagger.json out.json
local cjson = require "cjson"

local src, dst = arg[1], arg[2]
assert(src and dst, "usage: apply-deviations.lua CONTRACT OUT")

local function read(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("a")
  f:close()
  return s
end

local spec = cjson.decode(read(src))
local listed = {}
for _, d in ipairs(dofile("api/deviations.lua")) do listed[d.id] = true end

local function shallow_copy(t)
  local c = {}
  for k, v in pairs(t) do c[k] = v end
  return c
end

local apply = {}

function apply.relative_uris()
  for _, def in pairs(spec.definitions) do
    for name, prop in pairs(def.properties or {}) do
      if name:match("Uri$") and prop.format == "uri" then prop.format = nil end
    end
  end
end

function apply.sort_order_asc_desc()
  for _, item in pairs(spec.paths) do
    for _, op in pairs(item) do
      for _, p in ipairs(op.parameters or {}) do
        if p.name == "sortOrder" and p["in"] == "query" and p.enum then
          p.enum[#p.enum + 1] = "ASC"
          p.enum[#p.enum + 1] = "DESC"
        end
      end
    end
  end
end

function apply.user_queue_request()
  local q = shallow_copy(spec.definitions.UserQueue)
  q.required = nil
  q.properties = shallow_copy(q.properties)
  q.properties.id = shallow_copy(q.properties.id)
  q.properties.id.readOnly = nil
  spec.definitions.UserQueueRequest = q
  local item = spec.paths["/api/v2/users/{userId}/queues"].patch
  local one = spec.paths["/api/v2/users/{userId}/queues/{queueId}"].patch
  for _, p in ipairs(item.parameters) do
    if p["in"] == "body" then p.schema.items["$ref"] = "#/definitions/UserQueueRequest" end
  end
  for _, p in ipairs(one.parameters) do
    if p["in"] == "body" then p.schema["$ref"] = "#/definitions/UserQueueRequest" end
  end
end

function apply.patch_user_409()
  spec.paths["/api/v2/users/{userId}"].patch.responses["409"] = {
    description = "The version number of the modified resource must match the version number in the database.",
    schema = { ["$ref"] = "#/definitions/ErrorBody" },
  }
end

function apply.granularity_is_a_duration()
  for _, def in pairs(spec.definitions) do
    local g = (def.properties or {}).granularity
    if g and g.format == "date-time" then g.format = nil end
  end
end

function apply.create_user_home_division()
  spec.definitions.CreateUser.required = { "name", "email" }
end

function apply.group_members_accepted()
  local item = spec.paths["/api/v2/groups/{groupId}/members"]
  for _, method in ipairs({ "post", "delete" }) do
    item[method].responses["202"] = { description = "Accepted", schema = { type = "object" } }
  end
end

for id in pairs(listed) do
  local f = apply[id:gsub("-", "_")]
  assert(f, "deviation " .. id .. " has no implementation in tools/apply-deviations.lua")
  f()
end
for name in pairs(apply) do
  assert(listed[name:gsub("_", "-")], "implemented deviation " .. name .. " is not listed in api/deviations.lua")
end

local out = assert(io.open(dst, "wb"))
out:write((cjson.encode(spec):gsub("\\/", "/")))
out:close()
