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
-- @module purecloud.gate
local M = {}

local Gate = {}
Gate.__index = Gate

--- A gate. `opts.pace` (default true) turns budget pacing on.
function M.new(opts)
  return setmetatable({
    not_before = 0,          -- no request before this time (429 waits, used-up budget)
    pace = not (opts and opts.pace == false),
    allowed = nil,           -- the budget per window, once the service has told it
    used = 0,                -- requests used in the window, by the last answer
    reset_at = nil,          -- when the window resets
    in_flight = 0,           -- requests sent and not yet answered
    paced = 0,               -- how many times pacing held a call (for stats and specs)
  }, Gate)
end

--- Seconds to wait before sending (0: go now).
function Gate:wait(now)
  local w = self.not_before - now
  if w > 0 then return w end
  if self.pace and self.allowed and self.reset_at then
    if now >= self.reset_at then
      -- The window has reset; what is in flight counts against the new one.
      self.used, self.reset_at = 0, nil
    elseif self.used + self.in_flight >= self.allowed then
      self.paced = self.paced + 1
      return self.reset_at - now
    end
  end
  return 0
end

--- A request is about to be sent.
function Gate:sent()
  self.in_flight = self.in_flight + 1
end

--- An attempt ended (with or without a response); `headers` are the
-- response's, lower-case, when there was one.
function Gate:answered(now, headers)
  if self.in_flight > 0 then self.in_flight = self.in_flight - 1 end
  if not headers then return end
  local allowed = tonumber(headers["inin-ratelimit-allowed"])
  local count = tonumber(headers["inin-ratelimit-count"])
  local reset = tonumber(headers["inin-ratelimit-reset"])
  if not (allowed and count and reset) or allowed < 1 or count < 0 or reset < 0 or reset > 3600 then return end
  local reset_at = now + reset
  if self.reset_at and math.abs(reset_at - self.reset_at) < 1 then
    -- Same window: answers arrive out of order, so the highest count is the
    -- latest; a reset given in whole seconds is best estimated by the earliest.
    if count > self.used then self.used = count end
    if reset_at < self.reset_at then self.reset_at = reset_at end
  else
    self.used, self.reset_at = count, reset_at
  end
  self.allowed = allowed
end

--- Hold every call until `t` (an accepted 429 wait).
function Gate:hold(t)
  if t > self.not_before then self.not_before = t end
end

return M
