--- Pagination: iterate every entity of a paged operation, in order, with
-- bounded prefetch.
--
-- Two forms for every paged operation:
--
--  * entity iterators for a generic `for` (`users.each_user(opts)`): they
--    raise the error object when a page finally fails (after its retries),
--    because an error must never look like the end of the list;
--  * pagers (`users.user_pages(opts)`): `pager:next()` returns the next page,
--    `nil` at the end, or `nil, err`. A pager is also callable, so
--    `for page, err in users.user_pages(opts) do … end` works: a failed page
--    shows as `false, err` and ends the loop after it.
--
-- Page-number listings (`get_users`, `get_user_id_routingskills`,
-- `get_user_id_queues`): once the first page tells `pageCount`, the following
-- pages are fetched `opts.concurrency` at a time (default 4) — over libcurl's
-- multi interface, or as nginx light threads with the nginx transport (see
-- `purecloud.scheduler`) — and handed out in order; at most
-- `concurrency + 1` pages are held. Search results follow the opaque `nextPage` value through
-- `get_search(q64)`, one page after the other.
--
-- `install(t, the_client, ops)` puts the helpers on an operations table:
-- `each_user`, `user_pages`, `each_routingskill`, `routingskill_pages`,
-- `each_queue`, `queue_pages`, `each_search_result`, `search_pages`.
-- This module sits below `purecloud.operations` (which installs it) and
-- knows no default client: it is handed a function that finds the client.
-- @module purecloud.pager
local scheduler = require "purecloud.scheduler"
local keys = require "purecloud.keys"
local errors = require "purecloud.errors"

local M = {}

local function is_integer(x) return type(x) == "number" and x % 1 == 0 end

M.DEFAULT_CONCURRENCY = 4

local Pager = {}
Pager.__index = Pager

local function check_concurrency(opts)
  local c = opts.concurrency
  if c == nil then return M.DEFAULT_CONCURRENCY end
  if not is_integer(c) or c < 1 or c > 64 then
    error("purecloud: opts.concurrency must be an integer from 1 to 64", 3)
  end
  return c
end

-- A pager's own keys; every other key goes to the operation.
M.OWN = { concurrency = true }

-- A key that is neither the pager's nor an option of the operation, but
-- close to one of the pager's own, is a typo that would silently turn the
-- pager's setting off (`concurency = 8`): an argument error. Other unknown
-- keys keep the operation's lenient/strict rule.
local function check_keys(opts, accepts, where)
  if not accepts then return end
  for k in pairs(opts) do
    if not M.OWN[k] and not accepts[k] and k ~= "headers" then
      if keys.nearest(k, M.OWN) then error(keys.unknown(where, k, M.OWN, accepts), 4) end
    end
  end
end

-- Copy opts without the pager's own keys: what is left goes to the operation.
local function op_opts(opts, page_number)
  local o = {}
  for k, v in pairs(opts) do
    if k ~= "concurrency" then o[k] = v end
  end
  o.page_number = page_number
  return o
end

--- A pager over a page-number listing.
-- @param client the client whose scheduler runs prefetches
-- @param fetch function(page_opts) → page | nil, err (one operation call)
-- @param opts operation options plus `concurrency`
-- @param[opt] accepts the operation's option names (for the typo check)
-- @param[opt] where the pager's name, for messages
function M.numbered(client, fetch, opts, accepts, where)
  opts = opts or {}
  if type(opts) ~= "table" then error("purecloud: opts must be a table", 2) end
  check_keys(opts, accepts, where or "pager")
  local concurrency = check_concurrency(opts)
  local first = opts.page_number or 1
  return setmetatable({
    client = client,
    fetch = fetch,
    opts = opts,
    concurrency = concurrency,
    next_number = first,    -- the page next() hands out
    page_count = nil,       -- known after the first page
    slots = {},             -- page number -> { page = …, err = … } once done
    spawned = {},           -- page number -> true once requested
    finished = false,
  }, Pager)
end

function Pager:_spawn(n)
  if self.spawned[n] then return end
  self.spawned[n] = true
  local slots, fetch, o = self.slots, self.fetch, op_opts(self.opts, n)
  self.group:spawn(function() return fetch(o) end, function(ok, page, err)
    if not ok then
      slots[n] = { raised = page }
    else
      slots[n] = { page = page, err = err }
    end
  end)
end

-- Keep up to `concurrency` pages beyond the one being handed out requested.
-- (Nothing new while the client's scheduler is stopping: an interrupted
-- batch around or inside this pager.)
function Pager:_prefetch()
  if not self.group or not self.page_count or self.group:stopped() then return end
  local last = math.min(self.page_count, self.next_number + self.concurrency - 1)
  for n = self.next_number, last do self:_spawn(n) end
end

--- Next page: `page`, or `nil` at the end, or `nil, err`.
function Pager:next()
  if self.finished then return nil end
  local n = self.next_number
  if self.page_count and n > self.page_count then
    self.finished = true
    return nil
  end
  local page, err
  if self.group and self.spawned[n] then
    local slots = self.slots
    self.group:wait_until(function() return slots[n] ~= nil end)
    local slot = slots[n]
    slots[n] = nil
    if slot.raised ~= nil then
      self.finished = true
      error(slot.raised, 0)
    end
    page, err = slot.page, slot.err
  else
    page, err = self.fetch(op_opts(self.opts, n))
  end
  if not page then
    self.finished = true
    return nil, err
  end
  if type(page) ~= "table" or type(page.entities) ~= "table" then
    self.finished = true
    return nil, M.shape_error(page)
  end
  -- A page must be the one asked for, and its count a sane whole number: a
  -- hostile or broken server must not keep a listing going forever.
  local count, number = page.pageCount, page.pageNumber
  if (count ~= nil and (type(count) ~= "number" or count ~= math.floor(count) or count < 0 or count > M.MAX_PAGES))
     or (number ~= nil and number ~= n) then
    self.finished = true
    return nil, M.shape_error(page, ("page %d answered with pageNumber %s and pageCount %s"):format(
      n, tostring(number), tostring(count)))
  end
  -- The latest page's count wins: a listing that grows while we iterate is
  -- followed to its new end; one that shrinks ends at the empty page.
  self.page_count = count or n
  self.next_number = n + 1
  if #page.entities == 0 or page.nextUri == nil and self.next_number > self.page_count then
    self.page_count = math.min(self.page_count, n)
  end
  if self.concurrency > 1 and not self.group then
    local s = scheduler.of(self.client)
    if s:concurrent() then self.group = s:group() end
  end
  self:_prefetch()
  return page
end

Pager.__call = function(self)
  if self.failed then return nil end
  local page, err = self:next()
  if page == nil and err ~= nil then
    self.failed = true
    return false, err
  end
  return page
end

--- A pager over search results: post_search(body), then get_search(nextPage).
-- @param post function(body) → page | nil, err
-- @param follow function(q64) → page | nil, err
-- @param body the UserSearchRequest of the first page
function M.search(post, follow, body)
  local state = { started = false, q64 = nil, finished = false }
  local pager = {}
  function pager.next()
    if state.finished then return nil end
    local page, err
    if not state.started then
      state.started = true
      page, err = post(body)
    elseif state.q64 then
      page, err = follow(state.q64)
    else
      state.finished = true
      return nil
    end
    if not page then
      state.finished = true
      return nil, err
    end
    if type(page) ~= "table" then
      state.finished = true
      return nil, M.shape_error(page)
    end
    page.results = page.results or {}
    state.q64 = page.nextPage
    if #page.results == 0 then state.q64 = nil end
    return page
  end
  return setmetatable(pager, {
    __index = { next = function(self) return self.next() end },
    __call = function()
      if state.failed then return nil end
      local page, err = pager.next()
      if page == nil and err ~= nil then
        state.failed = true
        return false, err
      end
      return page
    end,
  })
end

--- Generic-for iterator over the entities of every page of `pager`.
-- Raises the error object when a page fails.
-- @param pager a pager (from `numbered` or `search`)
-- @param field the entity array's field name ("entities" or "results")
function M.entities(pager, field)
  local page, i = nil, 0
  return function()
    while true do
      if page then
        i = i + 1
        local item = page[field][i]
        if item ~= nil then return item end
      end
      local err
      page, err = pager:next()
      if page == nil then
        if err ~= nil then error(err, 0) end
        return nil
      end
      i = 0
    end
  end
end

--- The largest `pageCount` a listing may announce.
M.MAX_PAGES = 1000000

--- The error for a listing page no pager can follow (kind `decode`).
function M.shape_error(value, why)
  return errors.new{
    kind = "decode",
    message = why and ("not a page of this listing: " .. why) or ("expected a paged listing, got " .. type(value)),
  }
end

--- Add the helpers to `t` (a table of the 36 operations).
-- @param t the operations table
-- @param the_client function() → the client a pager runs on, asked at each
-- pager's creation (the operations' default client raises from it when unset)
-- @param[opt] ops the operation table (`purecloud.operations.OPERATIONS`), for the typo check
function M.install(t, the_client, ops)
  local function accepts(op)
    local o = ops and ops[op]
    return o and o.optional or nil
  end
  local function check_id(fn, user_id)
    if type(user_id) ~= "string" or user_id == "" then
      error(("purecloud.users.%s: bad argument #1 'user_id' (a non-empty string expected, got %s)")
        :format(fn, type(user_id)), 3)
    end
  end

  --- Pages of `get_users(opts)`; `opts.concurrency` pages fetched in parallel.
  function t.user_pages(opts)
    return M.numbered(the_client(), function(o) return t.get_users(o) end, opts, accepts("get_users"),
      "users.user_pages")
  end
  --- Every user, across all pages (generic for; raises the error object on failure).
  function t.each_user(opts)
    return M.entities(t.user_pages(opts), "entities")
  end
  -- A user's listings: `<name>_pages(user_id, opts)` and `each_<name>(user_id, opts)`.
  for name, op in pairs({ routingskill = "get_user_id_routingskills", queue = "get_user_id_queues" }) do
    local pages, each = name .. "_pages", "each_" .. name
    t[pages] = function(user_id, opts)
      check_id(pages, user_id)
      return M.numbered(the_client(), function(o) return t[op](user_id, o) end, opts, accepts(op), "users." .. pages)
    end
    t[each] = function(user_id, opts)
      check_id(each, user_id)
      return M.entities(t[pages](user_id, opts), "entities")
    end
  end
  function t.search_pages(body)
    if type(body) ~= "table" then error("purecloud.users.search_pages: body must be a UserSearchRequest table", 2) end
    return M.search(function(b) return t.post_search(b) end, function(q64) return t.get_search(q64) end, body)
  end
  function t.each_search_result(body)
    if type(body) ~= "table" then
      error("purecloud.users.each_search_result: body must be a UserSearchRequest table", 2)
    end
    return M.entities(t.search_pages(body), "results")
  end
  return t
end

return M
