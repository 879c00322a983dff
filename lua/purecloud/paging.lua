--- Pagination helpers installed on `purecloud.users` and `client.users`:
-- `each_user`, `user_pages`, `each_routingskill`, `routingskill_pages`,
-- `each_queue`, `queue_pages`, `each_search_result`, `search_pages`
-- (see `purecloud.pager` for how they behave).
-- @module purecloud.paging
local pager = require "purecloud.pager"

local M = {}

--- Add the helpers to `t` (a table of the 36 operations); `client` nil means
-- the default client, looked up at call time.
function M.install(t, client)
  local function the_client()
    return client or require("purecloud").default_client()
  end
  local function check_id(fn, user_id)
    if type(user_id) ~= "string" or user_id == "" then
      error(("purecloud.users.%s: bad argument #1 'user_id' (a non-empty string expected, got %s)")
        :format(fn, type(user_id)), 3)
    end
  end

  --- Pages of `get_users(opts)`; `opts.concurrency` pages fetched in parallel.
  function t.user_pages(opts)
    return pager.numbered(the_client(), function(o) return t.get_users(o) end, opts)
  end
  --- Every user, across all pages (generic for; raises the error object on failure).
  function t.each_user(opts)
    return pager.entities(t.user_pages(opts), "entities")
  end
  function t.routingskill_pages(user_id, opts)
    check_id("routingskill_pages", user_id)
    return pager.numbered(the_client(), function(o) return t.get_user_id_routingskills(user_id, o) end, opts)
  end
  function t.each_routingskill(user_id, opts)
    check_id("each_routingskill", user_id)
    return pager.entities(t.routingskill_pages(user_id, opts), "entities")
  end
  function t.queue_pages(user_id, opts)
    check_id("queue_pages", user_id)
    return pager.numbered(the_client(), function(o) return t.get_user_id_queues(user_id, o) end, opts)
  end
  function t.each_queue(user_id, opts)
    check_id("each_queue", user_id)
    return pager.entities(t.queue_pages(user_id, opts), "entities")
  end
  function t.search_pages(body)
    if type(body) ~= "table" then error("purecloud.users.search_pages: body must be a UserSearchRequest table", 2) end
    return pager.search(function(b) return t.post_search(b) end, function(q64) return t.get_search(q64) end, body)
  end
  function t.each_search_result(body)
    if type(body) ~= "table" then
      error("purecloud.users.each_search_result: body must be a UserSearchRequest table", 2)
    end
    return pager.entities(t.search_pages(body), "results")
  end
  return t
end

return M
