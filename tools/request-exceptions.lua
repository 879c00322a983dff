-- Request-side exceptions to the contract (api/today/swagger.json), used by tools/gen-models.lua.
-- The contract describes each model once for requests and responses alike;
-- these are the places where that over-states what a request must carry (or
-- marks read-only what a request must send), so validating requests by the
-- letter of the contract would reject what the real service accepts.
-- Keep this list short and say why for each entry (see also api/deviations.lua).
--
-- models: per definition, `required` replaces the contract's required list and
--   `writable` names readOnly fields a request must still send.
-- params: per query parameter name (any operation), `minimum`/`maximum` and
--   `extra_enum` values the service accepts beside the contract's enum.
-- safe: POST operations that only read, so retrying them after a 502/503/504
--   or a connection failure cannot apply anything twice.
return {
  models = {
    -- acwSettings, mediaSettings and skillEvaluationMethod are always present in
    -- responses, but clients join/unjoin with { id = queue_id, joined = true };
    -- and id, marked readOnly, is how PATCH /users/{id}/queues names each queue.
    UserQueue = { required = {}, writable = { "id" } },
    -- Today's contract lists divisionId as required, but the service puts a
    -- user created without one in the home division (the official Terraform
    -- provider's genesyscloud_user: division_id "If not set, the home division
    -- will be used"; the seed's create call sends none).
    CreateUser = { required = { "name", "email" } },
  },
  params = {
    -- The service answers 400 for pages below 1.
    pageSize = { minimum = 1 },
    pageNumber = { minimum = 1 },
    -- The seed documents ASC/DESC; the 2016 contract lists ascending/descending.
    sortOrder = { extra_enum = { "ASC", "DESC" } },
  },
  -- (today's names; a seed alias is the same operation)
  safe = { "post_users_search", "post_users_search_conversation_target", "post_users_search_queuemembers_manage",
           "post_users_search_teams_assign", "post_groups_search", "post_analytics_users_aggregates_query",
           "post_analytics_users_observations_query", "post_analytics_users_details_query",
           "post_analytics_users_activity_query", "post_users_development_activities_aggregates_query" },
}
