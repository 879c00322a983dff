-- Today's Users API, beside the 2016 contract (api/users-api.json): facts
-- only — parameter names, types, enum values, shapes — each with the official
-- SDK document it was read from. The 2016 contract stays the source for the
-- 36 operations; this layer adds what today's service accepts and answers.
-- Format: see api/README.md ("The today layer"). Keyed by the contract's
-- operationId and definition names. Plain data: no functions, no globals.

local S = {
  js = "npm purecloud-platform-client-v2 259.0.0, build/docs/UsersApi.md "
    .. "(MyPureCloud/platform-client-sdk-javascript e09e27aa2f5657f4aa76f526bb909e893199d384)",
  js_dts = "npm purecloud-platform-client-v2 259.0.0, build/index.d.ts "
    .. "(MyPureCloud/platform-client-sdk-javascript e09e27aa2f5657f4aa76f526bb909e893199d384)",
  py = "PyPI PureCloudPlatformClientV2 257.1.0, build/PureCloudPlatformClientV2/models and build/docs "
    .. "(MyPureCloud/platform-client-sdk-python f80f2db2c783b8d9500b54a9e7e8077e1fa87367)",
  java_agg = "Maven com.mypurecloud.sdk.v2:platform-client-v2 264.1.0, build/docs/UserAggregationQuery.md "
    .. "(MyPureCloud/platform-client-sdk-java 0455ad0ccbbfd2f95ca3fa872fb70b274cd86ba5)",
  java_obs = "Maven com.mypurecloud.sdk.v2:platform-client-v2, docs/UserObservationQuery.md "
    .. "(MyPureCloud/platform-client-sdk-java 00d625821f4b7561ba5b24a4e8b8e417947dc0b6)",
}

local USER_EXPAND = { "routingStatus", "presence", "integrationPresence", "conversationSummary", "outOfOffice",
  "geolocation", "station", "authorization", "lasttokenissued", "authorization.unusedRoles", "team",
  "workPlanBidRanks", "externalContactsSettings", "groups", "customAttributes", "profileSkills", "certifications",
  "locations", "skills", "languages", "languagePreference", "employerInfo", "biography", "dateLastLogin",
  "dateWelcomeSent" }

local ME_EXPAND = {}
for i, v in ipairs(USER_EXPAND) do ME_EXPAND[i] = v end
for _, v in ipairs({ "date", "geolocationsettings", "organization", "presencedefinitions",
  "divisionedpresencedefinitions", "locationdefinitions", "orgauthorization", "orgproducts", "favorites",
  "superiors", "directreports", "adjacents", "routingskills", "routinglanguages", "fieldconfigs", "token",
  "trustors", "logCapture", "autoanswersettings" }) do
  ME_EXPAND[#ME_EXPAND + 1] = v
end

local INTEGRATION_SOURCES = { "MicrosoftTeams", "ZoomPhone", "EightByEight", "RingCentral" }

local function expand(values)
  return { name = "expand", ["in"] = "query", type = "array", collectionFormat = "multi",
           items = { type = "string", enum = values }, source = S.js }
end

local function presence_source(what)
  return { name = "integrationPresenceSource", ["in"] = "query", type = "string", enum = INTEGRATION_SOURCES,
           description = what, source = S.js }
end

return {
  sources = S,

  -- Per operation: query parameters today's service accepts beyond (or instead
  -- of) the contract's. A parameter that also exists in the contract (expand)
  -- replaces the contract's definition (today's enum is longer).
  operations = {
    getUsers = {
      method = "GET", path = "/api/v2/users",
      query = {
        { name = "jabberId", ["in"] = "query", type = "array", collectionFormat = "multi",
          items = { type = "string" }, source = S.js,
          description = "A list of jabberIds to fetch by bulk (cannot be used with the id parameter)" },
        { name = "state", ["in"] = "query", type = "string", enum = { "active", "inactive", "deleted", "any" },
          default = "active", source = S.js, description = "Only list users of this state" },
        presence_source("Integration presence instead of the default; only with expand=presence; at most 100 users"),
        { name = "userCustomAttributeSchemaIds", ["in"] = "query", type = "array", collectionFormat = "multi",
          items = { type = "string" }, maxItems = 5, source = S.js,
          description = "Custom attribute schemas; only with expand=customAttributes" },
        expand(USER_EXPAND),
      },
    },
    getUserId = {
      method = "GET", path = "/api/v2/users/{userId}",
      query = {
        { name = "state", ["in"] = "query", type = "string", enum = { "active", "deleted" }, default = "active",
          source = S.js, description = "Search for a user with this state" },
        presence_source("Integration presence instead of the default"),
        { name = "userCustomAttributeSchemaIds", ["in"] = "query", type = "array", collectionFormat = "multi",
          items = { type = "string" }, maxItems = 100, source = S.js,
          description = "Custom attribute schemas; only with expand=customAttributes" },
        expand(USER_EXPAND),
      },
      -- state defaults to active: a deleted user is 404 unless state=deleted.
      behaviour = { deleted_user = "404 not.found by default; 200 with state=deleted (the user, state \"deleted\")",
                    source = S.js },
    },
    getMe = {
      method = "GET", path = "/api/v2/users/me",
      query = {
        presence_source("Your presence for a given integration; only with expand=presence"),
        { name = "userCustomAttributeSchemaIds", ["in"] = "query", type = "array", collectionFormat = "multi",
          items = { type = "string" }, maxItems = 100, source = S.js },
        expand(ME_EXPAND),
      },
    },
    getSearch = {
      method = "GET", path = "/api/v2/users/search",
      query = {
        { name = "expand", ["in"] = "query", type = "array", collectionFormat = "multi",
          items = { type = "string" }, source = S.js },
        presence_source("Integration presence instead of the default; only with expand=presence"),
      },
    },
    postSearch = { method = "POST", path = "/api/v2/users/search", body = "UserSearchRequest" },
    postUsersAggregatesQuery = { method = "POST", path = "/api/v2/analytics/users/aggregates/query",
                                 body = "UserAggregationQuery" },
    postUsersObservationsQuery = { method = "POST", path = "/api/v2/analytics/users/observations/query",
                                   body = "UserObservationQuery" },
    deleteUserId = {
      method = "DELETE", path = "/api/v2/users/{userId}",
      response = { status = 200, type = "object", source = S.js },
      behaviour = { effect = "the user's state becomes \"deleted\"; it leaves listings and search unless "
                          .. "state=deleted or state=any is asked", source = S.js },
    },
    patchUserIdQueues = {
      method = "PATCH", path = "/api/v2/users/{userId}/queues",
      response = { status = 200, ["$ref"] = "UserQueueEntityListing", source = S.js,
                   note = "2016: one UserQueue" },
    },
    deleteUserIdRoutingskillsSkillId = {
      method = "DELETE", path = "/api/v2/users/{userId}/routingskills/{skillId}",
      response = { status = 204, body = false, source = S.js,
                   note = "the SDKs declare no return type (void; 2016: a JSON string); the SDK docs give no "
                       .. "status code, the emulator answers 204 without a body" },
    },
  },

  -- Definitions: properties today's models add, and enums that grew.
  -- add: new properties (JSON-schema fragments); enum: the full enum of an
  -- existing property today; items_enum: the same for an array's items.
  definitions = {
    UserSearchCriteria = {
      source = S.py .. " (user_search_criteria.py); " .. S.js_dts,
      enum = { type = { "EXACT", "STARTS_WITH", "CONTAINS", "REGEX", "TERM", "TERMS", "REQUIRED_FIELDS",
                        "MATCH_ALL", "QUERY_STRING" } },
      add = {
        dateFormat = { type = "string",
                       description = "Java date format of range values, e.g. yyyy-MM-dd'T'HH:mm:ss.SSSX" },
      },
    },
    UserSearchRequest = {
      source = S.py .. " (user_search_request.py, search_sort.py); " .. S.js_dts,
      add = {
        sort = { type = "array", items = { ["$ref"] = "#/definitions/SearchSort" },
                 description = "Multi-value sort order" },
        enforcePermissions = { type = "boolean",
                               description = "true: also filter users by directory:user:view" },
        integrationPresenceSource = { type = "string", enum = { "MicrosoftTeams", "ZoomPhone", "EightByEight" } },
      },
    },
    SearchSort = {
      source = S.py .. " (search_sort.py)",
      new = { type = "object", properties = {
        sortOrder = { type = "string", enum = { "ASC", "DESC", "SCORE" } },
        sortBy = { type = "string" },
      } },
    },
    UserQueueEntityListing = {
      source = S.js_dts,
      new = { type = "object", properties = {
        entities = { type = "array", items = { ["$ref"] = "#/definitions/UserQueue" } },
        pageSize = { type = "integer" }, pageNumber = { type = "integer" }, total = { type = "integer" },
        pageCount = { type = "integer" }, firstUri = { type = "string" }, nextUri = { type = "string" },
        previousUri = { type = "string" }, lastUri = { type = "string" }, selfUri = { type = "string" },
      } },
    },
    -- Today's name for the aggregates body (2016: AggregationQuery).
    UserAggregationQuery = {
      source = S.java_agg,
      replaces = "AggregationQuery",
      required = { "interval", "metrics" },
      items_enum = {
        metrics = { "tAgentRoutingStatus", "tOrganizationPresence", "tSystemPresence" },
        groupBy = { "userId" },
      },
      add = { timeZone = { type = "string" }, flattenMultivaluedDimensions = { type = "boolean" },
              alternateTimeDimension = { type = "string", enum = { "eventTime" } } },
    },
    UserAggregateQueryPredicate = {
      source = S.py .. " (user_aggregate_query_predicate.py)",
      enum = { type = { "dimension", "property", "metric" }, dimension = { "userId" },
               operator = { "matches", "exists", "notExists" } },
    },
    -- Today's name for the observations body (2016: ObservationQuery).
    UserObservationQuery = {
      source = S.java_obs,
      replaces = "ObservationQuery",
      required = { "filter", "metrics" },
      items_enum = { metrics = { "oActiveQueues", "oMemberQueues" },
                     detailMetrics = { "oActiveQueues", "oMemberQueues" } },
    },
    UserObservationQueryPredicate = {
      source = S.py .. " (user_observation_query_predicate.py)",
      enum = { type = { "dimension", "property", "metric" }, dimension = { "userId" },
               operator = { "matches", "exists", "notExists" } },
    },
  },
}
