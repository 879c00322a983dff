--- The request loop as a state machine with no I/O.
--
-- One machine runs one API call. It takes events (the gate opened, a token
-- arrived, the transport answered) and returns the next action (wait, get a
-- token, send, done, fail); a driver — the client's `request`, the scheduler,
-- an nginx thread — performs the actions with its own I/O. So every rule
-- below is tested with a scripted driver and a fake clock
-- (`spec/loop/loop_spec.lua`, tagged `#hermetic`), and the blocking,
-- concurrent and nginx paths cannot disagree. A driver's common call may
-- take the express lane (`M.admit`, below): the machine's first turn step by
-- step through the same functions, with a machine built only when a turn is
-- not the common one (`M.resume`).
--
-- The rules, each decided in exactly one place in this file:
--
-- 1. **Gate.** Before every attempt the call waits until the client's gate
--    opens (`purecloud.gate`: a 429's accepted wait, or the rate-limit
--    budget the service announced being used up). Every call of a client
--    shares the gate.
-- 2. **Token.** Every attempt carries the current bearer token, asked of the
--    token keeper (`purecloud.token`) just before sending.
-- 3. **401.** A 401 renews the token once and replays the call, when the
--    credentials can be renewed; a second 401 is returned.
-- 4. **429.** The server refused the request unprocessed, so any method is
--    retried: after `Retry-After` when it is at most `max_retry_after`, else
--    after a backoff; either wait holds every call of the client (the gate).
--    A `Retry-After` above `max_retry_after` fails this call only.
-- 5. **502/503/504.** Safe operations (GET, PUT, DELETE and the read-only
--    POSTs) are retried after `Retry-After` or a backoff. A write (POST,
--    PATCH) is not: the server may have applied it (`outcome = "unknown"`).
-- 6. **Transport failures.** Nothing sent: retried for any method. Sent and
--    no answer: retried when safe; a write fails with `outcome = "unknown"`.
--    A response over the body cap is never retried.
-- 7. **Limits.** At most `max_retries` retries. Backoff waits (rules 4–6
--    without `Retry-After`) stop when the call's elapsed time plus the next
--    wait would pass `max_retry_time`; `Retry-After` waits are bounded by
--    `max_retry_after` instead. Backoff: 0.5 s × 2^attempt, at most 30 s,
--    with jitter (× 0.5–1.0).
-- 8. **Everything else** (4xx, 500, decode errors) is returned at once.
--
-- Every failure carries `outcome`: `"not_sent"` (safe to repeat),
-- `"rejected"` (the server answered and refused it) or `"unknown"` (the
-- server may have acted: check before repeating a write).
-- @module purecloud.loop
local core = require "purecloud.core"

local header = core.header
-- (hot-path globals as upvalues: each global is a lookup in _G)
local error, setmetatable, type, random = error, setmetatable, type, math.random

local M = {}

-- States and the events that leave them (h11 style: the whole machine at a
-- glance). Every state change below is read from this table (through
-- `enter`, or once at load for the transitions of a call that succeeds at
-- once); `spec/loop` walks it and checks the state after every step.
M.TRANSITIONS = {
  gate = { open = "authorize", closed = "gate" },
  authorize = { token = "send", no_token = "failed" },
  send = { success = "done", unauthorized = "authorize", retry = "gate", give_up = "failed" },
  done = {},
  failed = {},
}

local Machine = {}
Machine.__index = Machine

-- The actions that carry nothing are shared, not built per call: a driver
-- reads an action and never changes it.
local SEND, TOKEN = { "send" }, { "token" }

--- A machine for one call.
-- @tparam table p what the calls of one client share, kept (not copied) and
--   never changed by the machine: { retry = policy table or false,
--   gate = purecloud.gate, can_renew = bool | f() → bool (asked at a 401),
--   random = f() → [0, 1), safe = bool (the default for `safe`) }
-- @number now the clock at the start
-- @bool[opt] safe the call may be repeated without effect (default `p.safe`)
function M.new(p, now, safe)
  if safe == nil then safe = p.safe end
  -- Five fields, then `admitted` and `gen`: the machine of a call that ends
  -- without a 401 fits the 8-slot hash its constructor makes.
  return setmetatable({ state = "gate", p = p, safe = safe, started = now, attempt = 0 }, Machine)
end

local TRANSITIONS = M.TRANSITIONS

-- The transitions of a call that succeeds at once, read from the table
-- here once rather than through `enter` on every call.
local OPENED, AUTHORIZED, SUCCEEDED = TRANSITIONS.gate.open, TRANSITIONS.authorize.token, TRANSITIONS.send.success

local function enter(self, event)
  local to = TRANSITIONS[self.state][event]
  -- (not assert: its message would be built on every transition)
  if not to then error("purecloud.loop: no transition from " .. self.state .. " on " .. event, 0) end
  self.state = to
  return to
end

local function backoff(self)
  local d = 0.5 * 2 ^ self.attempt
  if d > 30 then d = 30 end
  return d * (0.5 + 0.5 * (self.p.random or random)())
end

local function outcome_of(err, safe)
  if err.outcome then return err.outcome end
  if err.kind == "transport" or err.kind == "timeout" then
    return err.sent == false and "not_sent" or "unknown"
  end
  if err.status and err.status >= 500 then return safe and "rejected" or "unknown" end
  if err.status then return "rejected" end
  return "not_sent"
end

-- Rules 4–7: the wait before the next attempt, or nil and why not.
local function retry_delay(self, err, now)
  local p = self.p.retry
  if not p then return nil, "retries are off" end
  if self.attempt >= p.max_retries then return nil, "retries exhausted" end
  local status, ra = err.status, err.retry_after
  if err.reason == "too_large" then return nil, nil end
  if status == 429 then
    if ra and ra > p.max_retry_after then
      return nil, ("Retry-After %gs exceeds max_retry_after"):format(ra)
    end
    if ra then return ra end
  elseif status == 502 or status == 503 or status == 504 then
    if not self.safe then return nil, "not retried: the server may have applied this write" end
    if ra and ra > p.max_retry_after then
      return nil, ("Retry-After %gs exceeds max_retry_after"):format(ra)
    end
    if ra then return ra end
  elseif err.kind == "transport" or err.kind == "timeout" then
    if err.sent ~= false and not self.safe then
      return nil, "not retried: the request was sent and may have been applied"
    end
  else
    return nil, nil
  end
  local d = backoff(self)
  if now - self.started + d > p.max_retry_time then return nil, "max_retry_time would be exceeded" end
  return d
end

local function can_renew(p)
  local c = p.can_renew
  if type(c) == "function" then return c() end
  return c
end

-- The gate's part of the rules, shared by a machine and the express lane
-- (below), so it is written once. `admit`: rule 1 — the wait before
-- sending (0: the gate let the call through, it is now admitted).
local function admit(p, now)
  local gate = p.gate
  return gate and gate:wait(now) or 0
end

-- A request leaves (`admitted`: it passed the gate for this attempt).
local function sent(p, admitted)
  local gate = p.gate
  if gate then gate:sent(admitted) end
end

-- An attempt ended: with a response (its rate-limit headers) or without.
local function answered(p, now, res)
  local gate = p.gate
  if not gate then return end
  if res then
    gate:answered(now, true, header(res, "inin-ratelimit-allowed", "inin-ratelimit-count", "inin-ratelimit-reset"))
  else
    gate:answered(now, false)
  end
end

-- The first action is the gate's (`Machine:start`, below).
function Machine:_gate(now)
  local wait = admit(self.p, now)
  if wait > 0 then return self:_closed(wait) end
  self.state = OPENED -- (state "gate": _gate is called there only)
  self.admitted = self.p.gate ~= nil -- let through by the gate, not sent yet
  if self.renew_gen == nil then return TOKEN end
  return { "token", renew = self.renew_gen }
end

function Machine:_closed(wait)
  enter(self, "closed")
  return { "sleep", wait }
end

--- The first action.
-- @function Machine:start
-- @number now
Machine.start = Machine._gate

--- Feed an event; returns the next action (read-only: actions may be shared).
-- Events: `{ "woke", now }` after a sleep; `{ "token", gen }` or
-- `{ "no_token", err }` after a token action; `{ "response", now, value, err, res }`
-- after a send (value/err from `core.interpret`, or the transport's error).
-- The same event may be given unpacked, `m:on("response", now, value, err, res)`,
-- which builds no table (the request path's form).
-- Actions: `{ "sleep", seconds }`, `{ "token", renew = gen | nil }`, `{ "send" }`,
-- `{ "done", value }`, `{ "fail", err }`.
function Machine:on(ev, a, b, c, d)
  local kind, state = ev, self.state
  if type(ev) == "table" then kind, a, b, c, d = ev[1], ev[2], ev[3], ev[4], ev[5] end
  if state == "gate" and kind == "woke" then
    return self:_gate(a)
  elseif state == "authorize" and kind == "token" then
    self.gen, self.renew_gen = a, nil
    self.state = AUTHORIZED
    sent(self.p, self.admitted)
    self.admitted = false
    return SEND
  elseif state == "authorize" and kind == "no_token" then
    local gate = self.p.gate
    if gate and self.admitted then gate:released() end
    self.admitted = false
    enter(self, "no_token")
    return { "fail", a }
  elseif state == "send" and kind == "response" then
    answered(self.p, a, d)
    return self:_decide(a, b, c)
  end
  error(("purecloud.loop: event %s is not expected in state %s"):format(tostring(kind), state))
end

-- After a response (the gate has heard it): done, renew, retry or fail.
function Machine:_decide(now, value, err)
  if not err then
    self.state = SUCCEEDED
    return { "done", value }
  end
  -- Rule 3: renew once.
  if err.status == 401 and not self.renewed and can_renew(self.p) then
    self.renewed, self.renew_gen = true, self.gen
    enter(self, "unauthorized")
    return { "token", renew = self.gen }
  end
  local delay, why = retry_delay(self, err, now)
  if not delay then
    err.outcome = outcome_of(err, self.safe)
    if why then err.retry_reason = why end
    enter(self, "give_up")
    return { "fail", err }
  end
  -- Rule 4: an accepted 429 wait holds every call of the client.
  local gate = self.p.gate
  if err.status == 429 and gate then gate:hold(now + delay) end
  self.attempt = self.attempt + 1
  enter(self, "retry")
  return { "sleep", delay, retry = true, err = err }
end

--- The express lane: a driver's common call — the gate open, a token at
-- hand, a success — without building a machine. It is a machine's own first
-- turn, step by step, through the same functions:
--
--     local wait = loop.admit(p, now)   -- rule 1; 0: let through (admitted)
--     -- a token from the keeper (rule 2), then
--     loop.sent(p)                      -- the request leaves with it
--     -- the response, then
--     loop.answered(p, now, res)        -- the gate hears it (res nil: none)
--     -- no error: done
--
-- At the first turn that is not the common one, `loop.resume` hands over a
-- machine standing at that turn, with its next action, and the driver goes
-- on with the machine.
-- @function admit
M.admit = admit

--- The express call leaves (after `admit` let it through).
function M.sent(p) sent(p, true) end

--- The gate hears how the express attempt ended.
-- @function answered
M.answered = answered

--- A machine standing where an express call stopped, and its next action:
-- `(…, "gate", wait)` the gate asked to wait; `(…, "no_token", err)` no
-- token came after the gate let the call through; `(…, "response", gen,
-- now, value, err)` the first response, told to the gate, was not a success.
-- @return machine, action
function M.resume(p, started, safe, at, a, b, c, d)
  local m = M.new(p, started, safe)
  if at == "gate" then return m, m:_closed(a) end
  m.state, m.admitted = OPENED, p.gate ~= nil
  if at == "no_token" then return m, m:on("no_token", a) end
  m.state, m.admitted, m.gen = AUTHORIZED, false, a
  return m, m:_decide(b, c, d)
end

--- Interpret a transport result into (value, err): a helper for drivers.
-- A host transport may fail with a plain string (or nothing): that becomes a
-- transport error assumed sent, so a write is never repeated on a guess.
function M.interpret(res, terr)
  if res then return core.interpret(res) end
  if core.is_error(terr) then return nil, terr end
  if type(terr) == "table" and type(terr.kind) == "string" then return nil, core.error(terr) end
  return nil, core.error{ kind = "transport", sent = true,
    message = "transport failed: " .. (terr ~= nil and tostring(terr) or "no response and no error") }
end

return M
