-- Where the 2016 contract (api/users-api.json) disagrees with itself or with
-- the real service, the emulator and the client follow the real service. This
-- is the complete list; tools/apply-deviations.lua applies exactly these to a
-- copy of the contract for the Prism conformance check (make contract), so a
-- violation outside this list fails the check.
return {
  {
    id = "relative-uris",
    why = "Properties such as selfUri, firstUri, nextUri are declared format: uri, but the real service "
       .. "returns paths relative to the API host (\"selfUri\": \"/api/v2/users/<id>\"); clients resolve them "
       .. "against the base URL.",
    apply = "drop format=uri from every definition property whose name ends in Uri",
  },
  {
    id = "sort-order-asc-desc",
    why = "The sortOrder query parameter declares enum ascending/descending but default \"ASC\"; the service "
       .. "and the seed's documentation accept ASC/DESC too.",
    apply = "add ASC and DESC to the enum of every sortOrder query parameter",
  },
  {
    id = "user-queue-request",
    why = "UserQueue lists response-only fields as required (acwSettings, mediaSettings, "
       .. "skillEvaluationMethod) and marks id readOnly, yet clients join a queue with { id, joined }.",
    apply = "request bodies of patchUserIdQueues and patchUserIdQueuesQueueId use UserQueue without "
         .. "required and with a writable id",
  },
  {
    id = "patch-user-409",
    why = "PATCH /api/v2/users/{userId} answers 409 when version does not match the stored version "
       .. "(\"The version number of the modified resource must match the version number in the database.\"); "
       .. "the 2016 contract does not list 409.",
    apply = "add a 409 ErrorBody response to patchUserId",
  },
  {
    id = "delete-returns-object",
    why = "DELETE /api/v2/users/{userId} declares a 200 JSON string; today's service answers an (empty) object "
       .. "(info.x-current-api-notes: \"200 string -> object\"; api/today.lua deleteUserId, from the JS SDK 259 "
       .. "UsersApi.md: deleteUser returns Object).",
    apply = "the 200 response of deleteUserId is an object",
  },
  {
    id = "delete-routingskill-no-content",
    why = "DELETE /api/v2/users/{userId}/routingskills/{skillId} declares a 200 JSON string; today's SDKs declare "
       .. "no return type (api/today.lua deleteUserIdRoutingskillsSkillId, from the JS SDK 259 UsersApi.md: "
       .. "void deleteUserRoutingskill); the emulator answers 204 without a body.",
    apply = "deleteUserIdRoutingskillsSkillId answers 204 with no schema instead of 200",
  },
  {
    id = "patch-queues-returns-listing",
    why = "PATCH /api/v2/users/{userId}/queues declares one UserQueue; today's service answers a "
       .. "UserQueueEntityListing of the queues changed (api/today.lua patchUserIdQueues, from the JS SDK 259 "
       .. "UsersApi.md and index.d.ts; info.x-current-api-notes: \"200 UserQueue -> UserQueueEntityListing\").",
    apply = "the 200 response of patchUserIdQueues is a UserQueueEntityListing (definition added from api/today.lua)",
  },
  {
    id = "granularity-is-a-duration",
    why = "AggregationQuery.granularity is declared format: date-time, but its own description (and the "
       .. "service) use ISO-8601 durations such as P1D or PT1H.",
    apply = "drop format=date-time from AggregationQuery.granularity",
  },
}
