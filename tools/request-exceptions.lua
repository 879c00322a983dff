-- Request-side exceptions to the 2016 contract, used by tools/gen-models.lua.
-- The contract describes each model once for requests and responses alike;
-- these are the places where that over-states what a request must carry (or
-- marks read-only what a request must send), so validating requests by the
-- letter of the contract would reject what the real service accepts.
-- Keep this list short and say why for each entry (see also api/deviations.lua).
return {
  -- acwSettings, mediaSettings and skillEvaluationMethod are always present in
  -- responses, but clients join/unjoin with { id = queue_id, joined = true };
  -- and id, marked readOnly, is how PATCH /users/{id}/queues names each queue.
  UserQueue = { required = {}, writable = { "id" } },
}
