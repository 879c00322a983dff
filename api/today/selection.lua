-- Which official API classes the library carries, and which of their
-- operations: the one choice tools/derive-contract.lua cannot make from the
-- official source. Every fact about an operation (method, path, parameters,
-- their order, types, defaults, deprecation, models) comes from the pinned
-- npm package `purecloud-platform-client-v2` (tools/package-lock.json).
--
--   classes[i].name   the JS SDK's class (`src/…/api/<name>.js`)
--   classes[i].lua    the table the operations live on (`client.<lua>`,
--                     `purecloud.<lua>`)
--   classes[i].only   the JS operation names taken from that class; absent:
--                     every operation of the class. An operation the class
--                     shares with an earlier class stays on the earlier one.
--
-- `seed_gone`: a seed operation (api/users-api.json) that no official class
-- has today, and the today's call that does what its name promised.
return {
  classes = {
    { name = "UsersApi", lua = "users" },
    { name = "PresenceApi", lua = "presence", why = "user presence, the definitions a presence is set by",
      only = { "getUserPresence", "patchUserPresence", "getUserPresencesPurecloud", "patchUserPresencesPurecloud",
               "getUsersPresenceBulk", "getUsersPresencesPurecloudBulk", "putUsersPresencesBulk",
               "getPresenceUserPrimarysource", "putPresenceUserPrimarysource",
               "getPresenceDefinitions0", "getPresenceDefinition0", "getSystempresences" } },
    { name = "AuthorizationApi", lua = "authorization", why = "roles by name and their members, divisions",
      only = { "getAuthorizationRoles", "getAuthorizationRole", "getAuthorizationRoleUsers",
               "putAuthorizationRoleUsersAdd", "putAuthorizationRoleUsersRemove",
               "getAuthorizationDivisions", "getAuthorizationDivision", "getAuthorizationDivisionsHome" } },
    { name = "RoutingApi", lua = "routing", why = "skills and languages by name",
      only = { "getRoutingSkills", "getRoutingSkill", "getRoutingLanguages", "getRoutingLanguage",
               "getRoutingUtilization" } },
    { name = "GroupsApi", lua = "groups", why = "groups by name and their members",
      only = { "getGroups", "getGroup", "getGroupsSearch", "postGroupsSearch", "getGroupMembers",
               "getGroupIndividuals", "postGroupMembers", "deleteGroupMembers" } },
  },
  seed_gone = {
    delete_user_id_roles = {
      method = "DELETE", path = "/api/v2/users/{userId}/roles",
      via = "putUserRoles", body = {},
      why = "gone from every official class; replacing a user's roles with none removes them all",
    },
  },
}
