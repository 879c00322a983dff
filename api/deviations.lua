-- Where today's contract (api/today/swagger.json, derived from the official
-- JS SDK with facts from the 2016 contract) disagrees with itself or with the
-- real service, the emulator and the client follow the real service. This is
-- the complete list; tools/apply-deviations.lua applies exactly these to a
-- copy of the contract for the Prism conformance check (make contract), so a
-- violation outside this list fails the check. (Three 2016 deviations are
-- gone: today's contract itself says DELETE /users/{id} answers an object,
-- DELETE …/routingskills/{id} answers 204, PATCH …/queues answers a listing.)
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
    id = "granularity-is-a-duration",
    why = "The 2016 AggregationQuery.granularity was declared format: date-time (a fact today's derivation "
       .. "carries over to UserAggregationQuery), but its own description (and the service) use ISO-8601 "
       .. "durations such as P1D or PT1H.",
    apply = "drop format=date-time from every granularity property",
  },
  {
    id = "create-user-home-division",
    why = "Today's CreateUser lists divisionId as required, but the service puts a user created without one "
       .. "in the home division (the official Terraform provider's genesyscloud_user: division_id \"If not set, "
       .. "the home division will be used\"); the client and the emulator follow the service "
       .. "(tools/request-exceptions.lua).",
    apply = "CreateUser requires only name and email",
  },
  {
    id = "group-members-accepted",
    why = "POST and DELETE /api/v2/groups/{groupId}/members are processed asynchronously and answer 202 "
       .. "Accepted with an empty object; the JS package gives no status, and the derivation's default for an "
       .. "operation that returns a body is 200.",
    apply = "add a 202 response (an object) to postGroupMembers and deleteGroupMembers",
  },
}
