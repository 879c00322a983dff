--- Pagination: iterate every item of a paged listing, in order, with
-- bounded prefetch. One pager design for every listing; how a listing goes
-- from one page to the next is one of three ways (`WAYS` below), and which
-- operations are listings, with their helpers' names, is generated from the
-- contract (`core.operations()[name].paging`, tools/gen-models.lua):
--
--  * **numbered** (`get_users`, `get_user_routingskills`,
--    `get_authorization_roles`, …): page n + 1 follows page n until `pageCount`, so
--    once the first page tells the count the following pages are fetched
--    `opts.concurrency` at a time (default 4) — over libcurl's multi
--    interface, or as nginx light threads (see `purecloud.scheduler`) — and
--    handed out in order; at most `concurrency + 1` pages are held;
--  * **next_page** (`post_users_search`, followed by `get_users_search(q64)`):
--    each page names its successor (`nextPage`, opaque), so one page after
--    the other;
--  * **cursor** (`get_users_query`): each page carries the next one's
--    `cursor`, so one page after the other, past the 10 000 results that
--    offset paging stops at.
--
-- Two forms for every listing: iterators for a generic `for`
-- (`users.each_user(opts)`), which raise the error object when a page
-- finally fails (after its retries) — an error must never look like the end
-- of the list; and pagers (`users.user_pages(opts)`): `pager:next()` returns
-- the next page, `nil` at the end, or `nil, err`. A pager is also callable,
-- so `for page, err in users.user_pages(opts) do … end` works: a failed page
-- shows as `false, err` and ends the loop after it.
--
-- `helpers(t, the_client, op)` makes the two helpers of a listing for an operations table.
-- This module sits below `purecloud.operations` (which installs it) and
-- knows no default client: it is handed a function that finds the client.
-- @module purecloud.pager
local scheduler = require "purecloud.scheduler"
local keys = require "purecloud.keys"
local errors = require "purecloud.errors"
local usage = errors.usage

local M = {}

local unpack = table.unpack or unpack -- luacheck: ignore 113 (5.1)

local function is_integer(x) return type(x) == "number" and x % 1 == 0 end

M.DEFAULT_CONCURRENCY = 4

local Pager = {}
Pager.__index = Pager

-- The argument checks below run in a helper's `open` (`M.helpers`): level 4
-- is the helper's caller (1 the check, 2 open, 3 the helper).
local function check_concurrency(opts)
  local c = opts.concurrency
  if c == nil then return M.DEFAULT_CONCURRENCY end
  if not is_integer(c) or c < 1 or c > 64 then
    usage("purecloud: opts.concurrency must be an integer from 1 to 64")
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
      if keys.nearest(k, M.OWN) then usage(keys.unknown(where, k, M.OWN, accepts)) end
    end
  end
end

-- Copy opts without the pager's own keys: what is left goes to the
-- operation, with the page's token under `key` (`page_number`, `cursor`).
local function op_opts(opts, key, token)
  local o = {}
  for k, v in pairs(opts) do
    if k ~= "concurrency" then o[k] = v end
  end
  if token then o[key] = token end
  return o
end

-- The two ways a listing goes on. Each: `items`, the page's field of items
-- (the default; the generated descriptor may say another) and whether a page
-- may leave it out (`items_optional`); `first`, the
-- token of the first page; `check(pager, page, token)`, nil or why a page
-- cannot be followed; `advance(pager, page, token)`, the next token or nil
-- at the end; `predictable`, whether later tokens are known before their
-- pages (then they are prefetched).
local WAYS = {}

WAYS.numbered = {
  items = "entities",
  predictable = true,
  first = function(pager) return pager.opts.page_number or 1 end,
  -- A page must be the one asked for, and its count a sane whole number: a
  -- hostile or broken server must not keep a listing going forever.
  check = function(_, page, n)
    local count, number = page.pageCount, page.pageNumber
    if (count ~= nil and (type(count) ~= "number" or count ~= math.floor(count) or count < 0 or count > M.MAX_PAGES))
       or (number ~= nil and number ~= n) then
      return ("page %d answered with pageNumber %s and pageCount %s"):format(n, tostring(number), tostring(count))
    end
  end,
  -- The latest page's count wins: a listing that grows while we iterate is
  -- followed to its new end; one that shrinks ends at the empty page.
  advance = function(pager, page, n)
    local count = page.pageCount or n
    if #page[pager.items] == 0 or page.nextUri == nil and n + 1 > count then count = math.min(count, n) end
    pager.page_count = count
    if n + 1 > count then return nil end
    return n + 1
  end,
}

WAYS.next_page = {
  items = "results",
  items_optional = true, -- (a last search page may leave `results` out)
  predictable = false,
  first = function() return false end, -- (false: the first page, asked by the starting operation)
  check = function() return nil end,
  advance = function(pager, page)
    local token = page.nextPage
    if #page[pager.items] == 0 or token == nil or token == "" then return nil end
    return token
  end,
}

-- `cursor` (`get_users_query`, past the 10 000 results offset paging stops
-- at): each page carries the next one's opaque `cursor`; the last has none.
-- A cursor that repeats the one just followed would loop forever: refused.
WAYS.cursor = {
  items = "entities",
  predictable = false,
  first = function() return false end, -- (false: the first page, asked without a cursor)
  check = function(_, page, token)
    if page.cursor ~= nil and (type(page.cursor) ~= "string" or (token and page.cursor == token)) then
      return ("the page after cursor %s names cursor %s"):format(tostring(token), tostring(page.cursor))
    end
  end,
  advance = function(pager, page)
    local token = page.cursor
    if #page[pager.items] == 0 or token == nil or token == "" then return nil end
    return token
  end,
}

-- `next_uri`: each page names the next one's link (`nextUri`, relative to
-- the API host), followed with `client:follow` (resolved against the base
-- URL and its gateway prefix, `purecloud.request.resolve`). A link that
-- repeats the one just followed would loop forever: refused.
WAYS.next_uri = {
  items = "entities",
  items_optional = true,
  predictable = false,
  first = function(pager) return pager.opts.first end,
  check = function(_, page, token)
    if page.nextUri ~= nil and (type(page.nextUri) ~= "string" or page.nextUri == token) then
      return ("the page at %s names nextUri %s"):format(tostring(token), tostring(page.nextUri))
    end
  end,
  advance = function(pager, page)
    local token = page.nextUri
    if #page[pager.items] == 0 or token == nil or token == "" then return nil end
    return token
  end,
}

--- A pager that follows `nextUri` from the link `uri` (a listing's path and
-- query, `/api/v2/users?pageSize=100`, or a page's `nextUri`): every page
-- through `client:follow`, so through a gateway's prefix too.
-- @param client the client
-- @string uri the first page's link
-- @string[opt] items the page's field of items (default "entities")
function M.links(client, uri, items)
  if type(uri) ~= "string" or uri == "" then usage("purecloud.pager.links: uri must be a non-empty string") end
  return M.new(client, "next_uri", function(token) return client:follow(token) end, { first = uri }, items)
end

--- A pager over one listing (its arguments already checked: `M.helpers`'s
-- helpers check them where the caller called).
-- @param client the client whose scheduler runs prefetches
-- @string way "numbered", "next_page" or "cursor" (`WAYS`)
-- @param fetch function(token) → page | nil, err: one operation call for the
--   page of `token` (a page number; a `nextPage` value, or false for the first page)
-- @tparam table opts the listing's options (numbered: the operation's, plus `concurrency`)
-- @string[opt] items the page's field of items (default: the way's)
-- @int[opt] concurrency pages fetched at once (predictable ways; default 1)
function M.new(client, way, fetch, opts, items, concurrency)
  local w = assert(WAYS[way], way)
  local self = setmetatable({
    client = client, way = w, fetch = fetch, opts = opts, items = items or w.items,
    concurrency = w.predictable and concurrency or 1,
    page_count = nil,       -- numbered: known after the first page
    slots = {},             -- token -> { page = …, err = … } once done
    spawned = {},           -- token -> true once requested
    finished = false,
  }, Pager)
  self.token = w.first(self) -- the page next() hands out
  return self
end

function Pager:_spawn(n)
  if self.spawned[n] then return end
  self.spawned[n] = true
  local slots, fetch = self.slots, self.fetch
  self.group:spawn(function() return fetch(n) end, function(ok, page, err)
    if not ok then
      slots[n] = { raised = page }
    else
      slots[n] = { page = page, err = err }
    end
  end)
end

-- Keep up to `concurrency` pages beyond the one being handed out requested
-- (predictable ways only). Nothing new while the client's scheduler is
-- stopping: an interrupted batch around or inside this pager.
function Pager:_prefetch()
  if not self.group or not self.page_count or self.group:stopped() or not self.token then return end
  local last = math.min(self.page_count, self.token + self.concurrency - 1)
  for n = self.token, last do self:_spawn(n) end
end

function Pager:_finish(...)
  self.finished = true
  return ...
end

--- Next page: `page`, or `nil` at the end, or `nil, err`.
function Pager:next()
  if self.finished then return nil end
  local n = self.token
  if n == nil then return self:_finish(nil) end
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
    page, err = self.fetch(n)
  end
  if not page then return self:_finish(nil, err) end
  if type(page) ~= "table" then return self:_finish(nil, M.shape_error(page)) end
  if page[self.items] == nil and self.way.items_optional then page[self.items] = {} end
  if type(page[self.items]) ~= "table" then return self:_finish(nil, M.shape_error(page)) end
  local why = self.way.check(self, page, n)
  if why then return self:_finish(nil, M.shape_error(page, why)) end
  self.token = self.way.advance(self, page, n)
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

--- Generic-for iterator over the items of every page of `pager`.
-- Raises the error object when a page fails.
-- @param pager a pager (`M.new`)
-- @param field the page's field of items ("entities", "results")
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

--- The two helpers of a paged listing `op` (an operation table with
-- `paging`, generated) on the operations table `t` of its class: its pager
-- (`paging.pages`) and its iterator (`paging.each`), taking the operation's
-- positional arguments and then (numbered, cursor) its options or
-- (next_page) the starting operation's body.
-- @param t the operations table (the helpers call `t[op.name]`, `t[follow]`)
-- @param the_client function() → the client a pager runs on, asked at each
-- pager's creation (the operations' default client raises from it when unset)
-- @param op the listing's operation table
-- @return pages, each: the two functions
function M.helpers(t, the_client, op)
  local pg, name, class = op.paging, op.name, op.class
  local items, npos, fn = pg.items, op.npos, nil
  -- The arguments are checked where the caller called (level 3: this
  -- function, the helper, its caller): a pager's first page is asked
  -- later, at its first next().
  local function open(helper, ...)
    fn = fn or t[name]
    if pg.kind == "next_page" then
      local body = ...
      if type(body) ~= "table" then usage(("purecloud.%s.%s: body must be a table"):format(class, helper)) end
      local follow = t[pg.follow]
      return M.new(the_client(), "next_page", function(token)
        if token then return follow(token) end
        return fn(body)
      end, {}, items)
    end
    local args = { ... }
    for i = 1, npos do
      local v = args[i]
      if type(v) ~= "string" or v == "" then
        usage(("purecloud.%s.%s: bad argument #%d '%s' (a non-empty string expected, got %s)")
          :format(class, helper, i, op.positional[i].lua_name, v == "" and "an empty string" or type(v)))
      end
    end
    local opts = args[npos + 1]
    if opts ~= nil and type(opts) ~= "table" then usage("purecloud: opts must be a table") end
    opts = opts or {}
    check_keys(opts, op.optional, class .. "." .. helper)
    local concurrency = check_concurrency(opts)
    local key = pg.kind == "cursor" and "cursor" or "page_number"
    return M.new(the_client(), pg.kind, function(token)
      local call = {}
      for i = 1, npos do call[i] = args[i] end
      call[npos + 1] = op_opts(opts, key, token)
      return fn(unpack(call, 1, npos + 1))
    end, opts, items, concurrency)
  end
  -- (not tail calls: `open` raises at level 3, the helper's caller)
  local function pages(...)
    local pager = open(pg.pages, ...)
    return pager
  end
  local function each(...)
    local pager = open(pg.each, ...)
    return M.entities(pager, items)
  end
  return pages, each
end

return M
