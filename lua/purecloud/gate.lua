--- The rate-limit rule: when a client may send its next request.
--
-- One gate per client, shared by every call (coroutine, nginx thread) of it.
-- No I/O: it is told what happened and answers how long to wait.
--
-- * **A refused request's wait** (`hold`): after a 429 whose `Retry-After`
--   the request loop accepted, no call sends before that time.
-- * **Pacing by the announced budget**: the service sends
--   `inin-ratelimit-allowed` (requests per window), `inin-ratelimit-count`
--   (used in this window) and `inin-ratelimit-reset` (seconds until the
--   window resets) on API responses. The gate counts the requests it let out
--   since the last answer, and when the budget would be used up it holds the
--   calls until the window resets — so a sustained batch is spread over the
--   windows and receives no 429, while a caller under the budget never waits.
--   With `pace = false` only 429s hold it.
-- * **What counts against the budget**: the highest count the service
--   reported for the window, plus the requests in flight, plus the calls the
--   gate let through that have not sent yet (they may be waiting for a
--   token: without counting them, a batch whose calls all pass the gate
--   while the first token is fetched bursts past the budget). When the
--   window resets, the count starts again from what is in flight; a call
--   let through that never sends (its token request failed) is forgotten at
--   the next reset. When the budget is known but the reset is not (the new
--   window has not answered yet) and the calls in flight alone use the
--   budget up, a call waits a short poll (`POLL`) for an answer. Before the
--   client's first response the budget is unknown, so one call goes first
--   and the others poll until it answers (a single caller never waits), for
--   at most `PROBE_MAX` seconds.
--
-- The reset is given in whole seconds; an answer's `now + reset` is a bound
-- the real reset cannot pass, and the earliest of the window's answers is the
-- tightest, so the gate never opens before the service's window has reset.
--
-- **A fleet-wide budget** (`opts.store`, the client's `rate_store`, e.g.
-- `purecloud.store.redis`): the same rule, kept for every process of one
-- client id in one shared place. Before each request the gate takes its
-- permission from the store (`store.take(key, n)` → granted, wait, and the
-- shared view: allowed, count, reset_in), atomically there, instead of
-- counting its own calls; it tells the store what a response announced
-- when that says more than the shared view it last saw (`store.report(key,
-- allowed, count, reset)`: a higher count, another window, the budget
-- itself) and every accepted 429 wait (`store.hold(key, seconds)`), so all
-- processes pace on one window and one Retry-After. Permits taken several
-- at a time (`store.permits`) are spent locally until the shared window
-- resets. Whatever the store does, the local state is kept from every
-- answer as without it, and when the store fails (returns nil, or raises)
-- that call is paced by the local rule above: the store is a way to see the
-- other processes, never a way to fail a call. The store bounds its own
-- waits (its timeout) and its retries.
-- @module purecloud.gate
local M = {}
-- (hot-path globals as upvalues: each global is a lookup in _G)
local tonumber, abs, pcall = tonumber, math.abs, pcall

local Gate = {}
Gate.__index = Gate

--- Seconds a call waits when the budget is used up by calls in flight and
-- the window's reset is not known yet.
M.POLL = 0.05

--- Seconds the first call may hold the others before any response came.
M.PROBE_MAX = 2

--- A gate. `opts.pace` (default true) turns budget pacing on; `opts.store`
-- (with `opts.key`, the login host + client id) shares the budget.
function M.new(opts)
  local store = opts and opts.store
  return setmetatable({
    store = store, key = opts and opts.key or "",
    permits = 0, permits_until = 0, -- permits taken from the store, not spent yet
    view = {},               -- the shared window at the last take: allowed, count, reset_at
    last_now = 0,            -- the clock at the last answer (a hold is given as an instant)
    not_before = 0,          -- no request before this time (429 waits, used-up budget)
    pace = not (opts and opts.pace == false),
    allowed = nil,           -- the budget per window, once the service has told it
    used = 0,                -- requests used in the window, by the last answer
    reset_at = nil,          -- when the window resets
    in_flight = 0,           -- requests sent and not yet answered
    admitted = 0,            -- calls let through that have not sent yet
    heard = false,           -- a response has come back (the budget, if any, is known)
    paced = 0,               -- how many times pacing held a call (for stats and specs)
  }, Gate)
end

-- The fleet's answer: 0 (a permit: go), seconds to wait, or nil when the
-- store failed (the local rule decides).
local function shared_wait(self, now)
  if self.permits > 0 and now < self.permits_until then
    self.permits = self.permits - 1
    return 0
  end
  local store = self.store
  local ok, granted, wait, allowed, count, reset_in = pcall(store.take, self.key, store.permits or 1)
  if not ok or type(granted) ~= "number" then return nil end
  local view = self.view
  view.allowed, view.count = allowed, count
  view.reset_at = reset_in and now + reset_in or nil
  if granted > 0 then
    self.permits, self.permits_until = granted - 1, now + (reset_in or M.POLL)
    return 0
  end
  self.paced = self.paced + 1
  return (wait and wait > 0) and wait or M.POLL
end

--- Seconds to wait before sending (0: go now).
function Gate:wait(now)
  local w = self.not_before - now
  if w > 0 then return w end
  if not self.pace then return 0 end
  if self.store then
    w = shared_wait(self, now)
    if w then
      if w == 0 then self.admitted = self.admitted + 1 end
      return w
    end
  end
  if self.reset_at and now >= self.reset_at then
    -- The window has reset; what is in flight counts against the new one.
    self.used, self.reset_at, self.admitted = 0, nil, 0
  end
  if not self.heard then
    -- Until the first response the budget is unknown: one call goes first,
    -- so a batch wider than the budget does not burst past it. Bounded in
    -- time: a first call whose token request fails never sends, and the
    -- gate is not told (so the others must not wait for it forever).
    if not self.probe_until then
      self.probe_until = now + M.PROBE_MAX
    elseif now < self.probe_until and self.in_flight + self.admitted > 0 then
      return M.POLL
    end
  end
  -- Calls let through and not sent count while the window's reset is known
  -- (they are forgotten at the reset, so one that never sends costs one slot
  -- of one window at most).
  local pending = self.reset_at and self.admitted or 0
  if self.allowed and self.used + self.in_flight + pending >= self.allowed then
    self.paced = self.paced + 1
    return self.reset_at and self.reset_at - now or M.POLL
  end
  self.admitted = self.admitted + 1
  return 0
end

--- A call let through will not send after all (its token request failed).
function Gate:released()
  if self.admitted > 0 then self.admitted = self.admitted - 1 end
end

--- A request is about to be sent; `admitted`: it was let through by `wait`
-- (false for the replay after a 401, which did not pass the gate again).
function Gate:sent(admitted)
  if admitted and self.admitted > 0 then self.admitted = self.admitted - 1 end
  self.in_flight = self.in_flight + 1
end

--- An attempt ended: `responded` when a response came back, with its
-- `inin-ratelimit-allowed`, `-count` and `-reset` header values (nil when
-- absent).
function Gate:answered(now, responded, allowed, count, reset)
  if self.in_flight > 0 then self.in_flight = self.in_flight - 1 end
  if not responded then return end
  self.last_now = now
  self.heard = true
  allowed, count, reset = tonumber(allowed), tonumber(count), tonumber(reset)
  if not (allowed and count and reset) or allowed < 1 or count < 0 or reset < 0 or reset > 3600 then return end
  local reset_at = now + reset
  if self.reset_at and abs(reset_at - self.reset_at) < 1 then
    -- Same window: answers arrive out of order, so the highest count is the
    -- latest; a reset given in whole seconds is best estimated by the earliest.
    if count > self.used then self.used = count end
    if reset_at < self.reset_at then self.reset_at = reset_at end
  else
    self.used, self.reset_at = count, reset_at
  end
  self.allowed = allowed
  local store = self.store
  if store and self.pace then
    -- Tell the fleet what it does not know yet (its view at the last take).
    local view = self.view
    if view.allowed ~= allowed or not view.count or count > view.count or not view.reset_at
        or abs(reset_at - view.reset_at) >= 1 then
      if pcall(store.report, self.key, allowed, count, reset) then
        view.allowed = allowed
        if not view.count or count > view.count then view.count = count end
        if not view.reset_at or abs(reset_at - view.reset_at) >= 1 or reset_at < view.reset_at then
          view.reset_at = reset_at
        end
      end
    end
  end
end

--- Hold every call until `t` (an accepted 429 wait); with a store, the fleet's.
function Gate:hold(t)
  if t > self.not_before then self.not_before = t end
  local store = self.store
  if store and t > self.last_now then
    pcall(store.hold, self.key, t - self.last_now)
    self.permits = 0
  end
end

return M
