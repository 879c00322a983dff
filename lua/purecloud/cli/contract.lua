--- What the CLI checks its users options against, from the contract
-- (api/today/swagger.json): the User model's properties (--fields,
-- --filter) and an operation's enum values (--expand, --state,
-- --sort-order), read from purecloud.api_help (generated from the same
-- contract). spec/cli/output_unit_spec.lua checks USER against the contract.
-- @module purecloud.cli.contract
local M = {}

M.USER = {
  "acdAutoAnswer", "addresses", "authorization", "biography", "certifications", "chat",
  "conversationSummary", "dateLastLogin", "dateWelcomeSent", "department", "division", "email",
  "employerInfo", "geolocation", "groups", "id", "images", "integrationPresence", "languagePreference",
  "languages", "lastTokenIssued", "locations", "manager", "name", "outOfOffice", "preferredName", "presence",
  "primaryContactInfo", "profileSkills", "routingStatus", "selfUri", "skills", "state", "station", "team",
  "title", "username", "version", "workPlanBidRanks",
}

local set
--- The User's properties as a set (name → true).
function M.user_properties()
  if not set then
    set = {}
    for _, k in ipairs(M.USER) do set[k] = true end
  end
  return set
end

--- The enum values of parameter `param` (snake_case) of operation `op`, as a
-- list, from its help text ("(one of a, b, c)"), or nil.
function M.enum(op, param)
  local d = require("purecloud.operations").describe(op) -- today's name of a seed alias
  local h = d and require("purecloud.api_help")[d.name]
  for _, p in ipairs(h and h.params or {}) do
    if p[1] == param then
      local list = p[2]:match("%(one of ([^)]*)%)")
      if not list then return nil end
      local out = {}
      for v in list:gmatch("[^,%s]+") do out[#out + 1] = v end
      return out
    end
  end
end

return M
