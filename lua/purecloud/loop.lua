--- The request loop as a state machine with no I/O.
--
-- One machine runs one API call. It takes events (the gate opened, a token
-- arrived, the transport answered) and returns the next action (wait, get a
-- token, send, done, fail). One driver, `M.run`, performs the actions with
-- the I/O it is given — for every API call of a client (blocking, in a
-- scheduler task, in an nginx thread: only the I/O differs) and every
-- token request of the token keeper. So every rule below is tested with a
-- scripted I/O and a fake clock (`spec/loop/loop_spec.lua`, `#hermetic`),
-- and no path can disagree with another. The common call (gate open, token
-- at hand, a success) is a straight first attempt inside `M.run` that builds
-- no machine; at its first other turn a machine standing at that turn takes
-- over (the fast path's reason: `docs/PERFORMANCE.md`, "Call path").
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
-- 8. **Everything else** (4xx, 500, decode errors, a response whose
--    HTTP/1.1 framing is malformed: `kind = "protocol"`) is returned at once.
-- 9. **Every re-send**, all of them: the loop's own (rule 3's one replay
--    after a 401, rule 4's after a 429, rules 5–6 for safe calls and for
--    writes that were not sent), and the transports' own, each only when the
--    server cannot have acted: libcurl re-sends a request by itself when a
--    reused keep-alive connection turns out dead before any response byte —
--    for a write it refuses the rewind of a body already handed over, so
--    the write fails `outcome = "unknown"` instead, and an empty-bodied
--    write goes on a fresh connection (`csrc/transport/curl.c`); over
--    HTTP/2 libcurl re-sends, once and on a new connection, a request whose
--    stream the server refused (RST_STREAM REFUSED_STREAM, or past a
--    GOAWAY's last stream id: RFC 9113 §8.7 guarantees it was not
--    processed), a write's body rewound for it; the cosocket transport
--    re-sends once on a fresh connection in the dead-connection case, for
--    safe requests only (`transport/ngx.lua`). Nothing else re-sends.
--
-- Every failure carries `outcome`: `"not_sent"` (safe to repeat),
-- `"rejected"` (the server answered and refused it) or `"unknown"` (the
-- server may have acted: check before repeating a write).
-- @module purecloud.loop
local core = require "purecloud.core"
local errors = require "purecloud.errors"

local header_of = core.header
-- (hot-path globals as upvalues: each global is a lookup in _G)
local error, setmetatable, type, random = error, setmetatable, type, math.random

local M = {}

-- The machine at a glance (h11 style), and the table that dispatches it:
-- state → the event a driver sends in it → { the handler, the states it may
-- go to }. `Machine:on` calls the handler of (state, event), raises for an
-- event the state does not take, and raises if the handler went anywhere
-- the row does not list; `spec/loop` walks it on every path.
M.TRANSITIONS = {
  gate = { woke = { "opened", "gate", "authorize" } },
  authorize = { token = { "authorized", "send" }, no_token = { "no_token", "failed" } },
  send = { response = { "decide", "done", "authorize", "gate", "failed" } },
  done = {},
  failed = {},
}

-- The events a driver sends (`Machine:on(event, …)`, one form):
--   "woke", now                          after a sleep (and to start: `start`)
--   "token", gen | "no_token", err       after a token action
--   "response", now, value, err, res     after a send (value/err: `M.interpret`)
-- The actions: { "sleep", seconds [, retry = true, err = …] },
-- { "token" [, renew = gen] }, { "send" }, { "done", value }, { "fail", err }.

local function backoff(self)
  local d = 0.5 * 2 ^ self.attempt
  if d > 30 then d = 30 end
  return d * (0.5 + 0.5 * (self.p.random or random)())
end

local function outcome_of(err, safe)
  if err.outcome then return err.outcome end
  local kind = err.kind
  if kind == "transport" or kind == "timeout" or kind == "protocol" then
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

-- The gate's part of the rules (rule 1), for a machine and the first
-- attempt alike: the wait before sending (0: let through, now admitted).
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
    gate:answered(now, true, header_of(res, "inin-ratelimit-allowed", "inin-ratelimit-count", "inin-ratelimit-reset"))
  else
    gate:answered(now, false)
  end
end

local Machine = {}
Machine.__index = Machine

-- The actions that carry nothing are shared, not built per call: a driver
-- reads an action and never changes it.
local SEND, TOKEN = { "send" }, { "token" }

-- A machine standing in `state` (the first attempt hands over to one there).
local function at(p, started, safe, state, admitted, gen)
  if safe == nil then safe = p.safe end
  return setmetatable({ state = state, p = p, safe = safe, started = started, attempt = 0,
                        admitted = admitted, gen = gen }, Machine)
end

--- A machine for one call, in state "gate".
-- @tparam table p what the calls of one client share, kept (not copied) and
--   never changed by the machine: { retry = policy table or false,
--   gate = purecloud.gate, can_renew = bool | f() → bool (asked at a 401),
--   random = f() → [0, 1), safe = bool (the default for `safe`) }
-- @number now the clock at the start
-- @bool[opt] safe the call may be repeated without effect (default `p.safe`)
function M.new(p, now, safe) return at(p, now, safe, "gate", false) end

-- The handlers: each takes the machine and its event's values and returns
-- the state it goes to and the next action.
local H = {}

-- Rule 1: the gate.
function H.opened(self, now)
  local wait = admit(self.p, now)
  if wait > 0 then return "gate", { "sleep", wait } end
  self.admitted = self.p.gate ~= nil -- let through by the gate, not sent yet
  if self.renew_gen == nil then return "authorize", TOKEN end
  return "authorize", { "token", renew = self.renew_gen }
end

-- Rule 2: the request leaves with the token.
function H.authorized(self, gen)
  self.gen, self.renew_gen = gen, nil
  sent(self.p, self.admitted)
  self.admitted = false
  return "send", SEND
end

function H.no_token(self, err)
  local gate = self.p.gate
  if gate and self.admitted then gate:released() end
  self.admitted = false
  return "failed", { "fail", err }
end

-- Rules 3–8: after a response (told to the gate first): done, renew, retry or fail.
function H.decide(self, now, value, err, res)
  answered(self.p, now, res)
  if not err then return "done", { "done", value } end
  if err.status == 401 and not self.renewed and can_renew(self.p) then
    self.renewed, self.renew_gen = true, self.gen
    return "authorize", { "token", renew = self.gen }
  end
  local delay, why = retry_delay(self, err, now)
  if not delay then
    err.outcome = outcome_of(err, self.safe)
    if why then err.retry_reason = why end
    return "failed", { "fail", err }
  end
  -- Rule 4: an accepted 429 wait holds every call of the client.
  local gate = self.p.gate
  if err.status == 429 and gate then gate:hold(now + delay) end
  self.attempt = self.attempt + 1
  return "gate", { "sleep", delay, retry = true, err = err }
end

-- TRANSITIONS compiled: state → event → handler, and each row's targets as a set.
local DISPATCH, TARGETS = {}, {}
for state, events in pairs(M.TRANSITIONS) do
  DISPATCH[state], TARGETS[state] = {}, {}
  for event, row in pairs(events) do
    DISPATCH[state][event] = assert(H[row[1]], row[1])
    local set = {}
    for i = 2, #row do set[row[i]] = true end
    TARGETS[state][event] = set
  end
end

--- Feed an event (see the list at the top); returns the next action
-- (read-only: actions may be shared).
function Machine:on(event, a, b, c, d)
  local state = self.state
  local handler = DISPATCH[state][event]
  if not handler then
    error(("purecloud.loop: event %s is not expected in state %s"):format(tostring(event), state))
  end
  local to, action = handler(self, a, b, c, d)
  if not TARGETS[state][event][to] then
    error(("purecloud.loop: %s on %s went to %s, which TRANSITIONS does not list"):format(state, event, tostring(to)))
  end
  self.state = to
  return action
end

--- The first action: the gate's (the machine is in state "gate").
-- @number now
function Machine:start(now) return self:on("woke", now) end

--- Run one call to its end: the one driver of the machine. `d` holds what
-- the caller does at each action, built once (per client for API calls, per
-- token keeper for token requests) and shared by its calls:
--
--     d.token(io, req, renew_gen, header) -> header, gen | nil, err
--         the credentials this attempt carries (renew_gen: the generation
--         a 401 rejected, header: the one it was sent with)
--     d.send(io, req, header, attempt, ctx) -> res, value, err, now
--         one attempt (value, err: `M.interpret` of what the transport gave)
--     d.sleep(io, seconds, action, ctx)    a wait (action.retry: before a retry)
--
-- `io.now()` is the clock. The first attempt is the machine's first turn
-- written straight (rules 1, 2, then the response): a success returns from
-- it; any other turn hands over to a machine standing there.
-- @tparam table p the calls' shared parameters (`M.new`)
-- @tparam table d the driver's actions
-- @param io the I/O table (`now`, and whatever `d` uses)
-- @tparam table req the request
-- @bool safe the call may be repeated without effect
-- @param ctx passed to `d.send` and `d.sleep` (the caller's, e.g. the operation's name)
-- @return value, nil, res | nil, err
function M.run(p, d, io, req, safe, ctx)
  local started = io.now()
  local m, action, header, res
  local attempt = 0
  local wait = admit(p, started)
  if wait > 0 then
    m = at(p, started, safe, "gate", false)
    action = { "sleep", wait }
  else
    local gen
    header, gen = d.token(io, req, nil, nil)
    if not header then
      m = at(p, started, safe, "authorize", p.gate ~= nil)
      action = m:on("no_token", gen)
    else
      sent(p, true)
      attempt = 1
      local value, err, now
      res, value, err, now = d.send(io, req, header, attempt, ctx)
      if not err then
        answered(p, now, res)
        return value, nil, res
      end
      m = at(p, started, safe, "send", false, gen)
      action = m:on("response", now, value, err, res)
    end
  end
  while true do
    local a = action[1]
    if a == "sleep" then
      d.sleep(io, action[2], action, ctx)
      action = m:on("woke", io.now())
    elseif a == "token" then
      local gen
      header, gen = d.token(io, req, action.renew, header)
      if header then action = m:on("token", gen) else action = m:on("no_token", gen) end
    elseif a == "send" then
      attempt = attempt + 1
      local value, err, now
      res, value, err, now = d.send(io, req, header, attempt, ctx)
      action = m:on("response", now, value, err, res)
    elseif a == "done" then
      return action[2], nil, res
    else
      return nil, action[2]
    end
  end
end

--- Interpret a transport result into (value, err): a helper for drivers.
-- A host transport may fail with a plain string (or nothing): that becomes a
-- transport error assumed sent, so a write is never repeated on a guess.
function M.interpret(res, terr)
  if res then return core.interpret(res) end
  if core.is_error(terr) then return nil, terr end
  if type(terr) == "table" and type(terr.kind) == "string" then return nil, errors.adopt(terr) end
  return nil, errors.new{ kind = "transport", sent = true,
    message = "transport failed: " .. (terr ~= nil and tostring(terr) or "no response and no error") }
end

return M
