-- The scheduler's rules with a scripted multi transport (no network): one
-- scheduler per client, nested groups join instead of driving, a refusal or
-- a raise in the transport is that one task's answer.
local scheduler = require "purecloud.scheduler"

-- A fake client and libcurl-like multi handle: submit(req) → id, or nil, err
-- for req.refuse, or a raise for req.raise; poll answers every pending
-- transfer at once with { status = 200, body = req.url }.
local function fake()
  local t = 0
  local multi = { queue = {}, next_id = 0, submitted = 0, peak = 0 }
  function multi.submit(self, req)
    if req.raise then error("transport exploded") end
    if req.refuse then return nil, { kind = "transport", sent = false, message = "header refused" } end
    self.next_id = self.next_id + 1
    self.submitted = self.submitted + 1
    self.queue[#self.queue + 1] = { id = self.next_id, res = { status = 200, body = req.url } }
    if #self.queue > self.peak then self.peak = #self.queue end
    return self.next_id
  end
  function multi.pending(self) return #self.queue end
  function multi.poll(self)
    local done = self.queue
    self.queue = {}
    t = t + 0.01
    return done
  end
  -- The client as the scheduler sees it: its I/O owner (purecloud.io's
  -- interface), the only part of a client it uses.
  local coio = setmetatable({}, { __mode = "k" })
  local owner = { default = { now = function() return t end, sleep = function(s) t = t + s end,
                              transport = function() error("blocking transport used") end } }
  function owner.current() return coio[coroutine.running()] or owner.default end
  function owner.multi() return multi end
  function owner.bind(_, io) coio[coroutine.running()] = io end
  local client = { io_owner = owner }
  function client.io_for() return owner.current() end
  return client, multi
end

describe("scheduler #hermetic", function()
  it("is one per client: nested code finds the scheduler of the task it runs in", function()
    local client = fake()
    local s = scheduler.of(client)
    assert.are.equal(s, scheduler.of(client))
    local g = s:group()
    local inner
    g:spawn(function() inner = scheduler.of(client) end)
    g:run()
    assert.are.equal(s, inner)
  end)

  it("answers a refused or raising submit to that task only; the others end normally", function()
    local client = fake()
    local s = scheduler.of(client)
    local g = s:group()
    local got = {}
    for i = 1, 5 do
      g:spawn(function()
        local io = client:io_for()
        return io.transport{ url = "u" .. i, refuse = i == 2, raise = i == 4 }
      end, function(ok, res, err) got[i] = { ok = ok, res = res, err = err } end)
    end
    g:run()
    for i = 1, 5 do
      assert.is_true(got[i].ok, "task " .. i .. " raised: " .. tostring(got[i].res))
      if i == 2 or i == 4 then
        assert.is_nil(got[i].res)
        assert.are.equal("transport", got[i].err.kind)
        assert.is_false(got[i].err.sent)
      else
        assert.are.equal("u" .. i, got[i].res.body)
      end
    end
    assert.matches("transport exploded", got[4].err.message)
  end)

  it("a group waited on inside a task joins the one loop: nested three deep, every answer arrives", function()
    local client, multi = fake()
    local s = scheduler.of(client)
    local top = s:group()
    local total = 0
    for i = 1, 3 do
      top:spawn(function()
        local mid = scheduler.of(client):group()
        local sum = 0
        for j = 1, 3 do
          mid:spawn(function()
            local low = scheduler.of(client):group()
            local n = 0
            for k = 1, 2 do
              low:spawn(function() return client:io_for().transport{ url = i .. j .. k } end,
                function(ok, res) if ok and res then n = n + 1 end end)
            end
            low:run()
            return n
          end, function(ok, n) if ok then sum = sum + n end end)
        end
        mid:run()
        return sum
      end, function(ok, n) assert(ok, n); total = total + n end)
    end
    top:run()
    assert.are.equal(18, total)
    assert.are.equal(18, multi.submitted)
  end)

  it("a wait with a deadline returns false when it passes, and the work goes on", function()
    local client = fake()
    local s = scheduler.of(client)
    local g = s:group()
    local done = false
    g:spawn(function() client:io_for().sleep(5); done = true end)
    assert.is_false(g:wait_until(function() return done end, s:now() + 1))
    assert.is_true(g:wait_until(function() return done end))
  end)
end)
