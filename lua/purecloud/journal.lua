--- The bulk journal: what a batch did, written ahead, so an interrupted or
-- killed run can be resumed without sending any write twice.
--
-- One JSON object per line, appended, each line written whole and flushed
-- to the kernel before the next step (so it survives the process being
-- killed, `kill -9` and the OOM killer included); with `sync` each line is
-- also `fsync`ed (it survives a power loss). The lines:
--
--     {"journal":"purecloud.batch","version":1,"calls":400,"fingerprint":"<sha-256>"}
--     {"i":7,"outcome":"sent","fp":"<16 hex>"}          before call 7 is started
--     {"i":7,"outcome":"done","status":201,"id":"…"}     when its outcome is known
--     {"i":7,"outcome":"failed","status":409,"kind":"api","code":"…","message":"…"}
--     {"i":7,"outcome":"unknown","kind":"timeout","message":"…"}
--
-- The rules, in this file only:
--
-- 1. **Write-ahead.** A call's `sent` line is flushed before the call is
--    started; its outcome line before the next call starts.
-- 2. **Never twice.** A call stands at its last line. On a re-run, a call
--    whose last line is an outcome is not run again (its recorded result
--    is returned; with the batch's `retry_failed`, a `failed` one — refused
--    by the server or never sent — runs again); a call whose last line is
--    `sent` (the run died while it was in flight) or `unknown` is never
--    sent again: it is returned as failed with `outcome = "unknown"`, for
--    the caller to check (for a user: search by email).
-- 3. **Same calls.** The header holds the number of calls and a fingerprint
--    of the whole list (operation names and arguments, hashed: no argument
--    is written in clear); a journal whose header does not match the calls
--    given is refused before anything is sent.
-- 4. **A torn last line** (the process died while writing it) is the least
--    certain record it can be: dropped, so the call it belonged to stands
--    at its earlier line (a torn outcome of a sent call → unknown), and the
--    file is cut back to its last whole line before the next append. A
--    damaged line anywhere else is refused: the file is not one this
--    library wrote.
-- 5. **Private and single.** The file is created `0600`, never through a
--    symbolic link, and locked while a batch uses it (csrc/journal/file.c).
-- @module purecloud.journal
local core = require "purecloud.core"
local errors = require "purecloud.errors"
local usage = errors.usage

local M = {}

local concat, sort, format, type, pairs, tostring = table.concat, table.sort, string.format, type, pairs, tostring
local math_type = math.type

M.VERSION = 1
M.OUTCOMES = { sent = true, done = true, failed = true, unknown = true }
local MAX_DEPTH = 64

local function hex(s)
  return (s:gsub(".", function(c) return format("%02x", c:byte()) end))
end

-- A canonical text of a Lua value (key order and number forms fixed), for
-- hashing only: it is never written.
local function canon(v, out, depth, seen)
  local t = type(v)
  if t == "string" then
    out[#out + 1] = "s" .. #v .. ":" .. v
  elseif t == "number" then
    if (math_type and math_type(v) == "integer") or (v % 1 == 0 and v > -2^53 and v < 2^53) then
      out[#out + 1] = format("i%d;", v)
    else
      out[#out + 1] = format("f%.17g;", v)
    end
  elseif t == "boolean" then
    out[#out + 1] = v and "T" or "F"
  elseif t == "nil" then
    out[#out + 1] = "Z"
  elseif v == core.null then
    out[#out + 1] = "N" -- JSON null in a body (the same value in every run)
  elseif t == "table" then
    if depth > MAX_DEPTH then return nil, "nested deeper than " .. MAX_DEPTH .. " levels" end
    if seen[v] then return nil, "a table that contains itself" end
    seen[v] = true
    local ks = {}
    for k in pairs(v) do
      local kt = type(k)
      if kt ~= "string" and kt ~= "number" and kt ~= "boolean" then return nil, "a table key of type " .. kt end
      ks[#ks + 1] = k
    end
    sort(ks, function(a, b)
      local ta, tb = type(a), type(b)
      if ta ~= tb then return ta < tb end
      if ta == "boolean" then return (not a) and b end
      return a < b
    end)
    out[#out + 1] = "{"
    for _, k in ipairs(ks) do
      local ok, why = canon(k, out, depth + 1, seen)
      if not ok then return nil, why end
      ok, why = canon(v[k], out, depth + 1, seen)
      if not ok then return nil, why end
    end
    out[#out + 1] = "}"
    seen[v] = nil
  else
    return nil, "a value of type " .. t
  end
  return true
end

--- Fingerprints of a list of `{ "operation", args… }` calls: one per call
-- (16 hex digits) and one of the whole list (64).
-- @return fps, whole | raises for a call that cannot be fingerprinted
function M.fingerprints(calls, where)
  local fps, digests = {}, {}
  for i = 1, #calls do
    local call = calls[i]
    if type(call) ~= "table" or type(call[1]) ~= "string" then
      usage(("purecloud: %s: calls[%d]: a journal needs calls of the form { \"operation\", args… } "
        .. "(a function's arguments cannot be fingerprinted)"):format(where, i))
    end
    -- The operation and its arguments, trailing nils included (`n`).
    local n = call.n or #call
    local list = { n = n }
    for k = 1, n do list[k] = call[k] end
    local out = {}
    local ok, why = canon(list, out, 0, {})
    if not ok then
      usage(("purecloud: %s: calls[%d] cannot be journaled: its arguments hold %s"):format(where, i, why))
    end
    local d = core.sha256(concat(out))
    digests[i] = d
    fps[i] = hex(d):sub(1, 16)
  end
  return fps, hex(core.sha256(concat(digests)))
end

-- JSON text of a flat record of strings, numbers and booleans, keys in a
-- fixed order (the reader does not depend on it; a person reading does).
local ORDER = { "journal", "version", "calls", "fingerprint", "i", "outcome", "fp", "status", "id", "email",
                "kind", "code", "message" }
local function quote(s)
  return '"' .. s:gsub('[%c"\\\127]', function(c)
    if c == '"' then return '\\"' elseif c == "\\" then return "\\\\" end
    return format("\\u%04x", c:byte())
  end) .. '"'
end
local function line_of(rec)
  local parts = {}
  for _, k in ipairs(ORDER) do
    local v = rec[k]
    if v ~= nil then
      local t = type(v)
      local text
      if t == "string" then text = quote(v)
      elseif t == "number" then text = format(math_type and math_type(v) == "integer" and "%d" or "%.17g", v)
      else text = tostring(v) end
      parts[#parts + 1] = quote(k) .. ":" .. text
    end
  end
  return "{" .. concat(parts, ",") .. "}\n"
end
M.line_of = line_of

local Journal = {}
Journal.__index = Journal

-- A journal that cannot serve this batch: raised at the caller's line,
-- before anything is sent (the caller must move or repair the file).
local function refuse(where, path, why)
  usage(("purecloud: %s: journal %q %s"):format(where, path, why))
end

-- Read what an earlier run wrote: the records by call index, and the length
-- of the whole lines (the file is cut back to it when a torn line follows).
local function read(contents, path, where, n, whole)
  local keep = #contents
  if keep > 0 and contents:sub(-1) ~= "\n" then
    local last = contents:find("\n[^\n]*$")
    keep = last or 0 -- rule 4: the torn tail goes
  end
  local records, lineno = {}, 0
  local header
  for line in contents:sub(1, keep):gmatch("([^\n]*)\n") do
    lineno = lineno + 1
    local rec = core.json_decode(line)
    if type(rec) ~= "table" then
      refuse(where, path, ("is damaged at line %d (not a JSON object; only a last line can be torn): "
        .. "not a journal this library wrote"):format(lineno))
    end
    if lineno == 1 then
      header = rec
      if rec.journal ~= "purecloud.batch" then
        refuse(where, path, "is not a purecloud batch journal (its first line is not a journal header)")
      end
      if rec.version ~= M.VERSION then
        refuse(where, path, ("has format version %s; this library writes version %d"):format(
          tostring(rec.version), M.VERSION))
      end
      if rec.calls ~= n or rec.fingerprint ~= whole then
        refuse(where, path, ("belongs to other calls (%s calls, fingerprint %s…; these are %d calls, %s…): "
          .. "give the calls it was written for, or a new journal path"):format(tostring(rec.calls),
          tostring(rec.fingerprint):sub(1, 12), n, whole:sub(1, 12)))
      end
    else
      local i, outcome = rec.i, rec.outcome
      if type(i) ~= "number" or i % 1 ~= 0 or i < 1 or i > n or not M.OUTCOMES[outcome] then
        refuse(where, path, ("is damaged at line %d (no call index or outcome)"):format(lineno))
      end
      -- The last line of a call is what it stands at: a `sent` line after
      -- a failure is a run that sent it again (`retry_failed`) and may
      -- have been applied.
      records[i] = rec
    end
  end
  return records, keep, header ~= nil
end

--- Open (or create) the journal at `path` for `n` calls of fingerprint
-- `whole`. Raises, before anything is sent, when it cannot be used.
-- @tparam table o { path, n, whole, fps, sync, where }
-- @return journal
function M.open(o)
  local where, path = o.where or "client:batch", o.path
  if type(path) ~= "string" or path == "" then
    usage(("purecloud: %s: option 'journal' must be a file path"):format(where))
  end
  local file, contents = core.journal_open(path)
  if not file then refuse(where, path, contents) end
  local ok, records, keep, has_header = pcall(read, contents, path, where, o.n, o.whole)
  if not ok then
    file:close()
    error(records, 0)
  end
  local self = setmetatable({ file = file, path = path, sync = o.sync and true or false, fps = o.fps,
    records = records, where = where }, Journal)
  if keep < #contents then
    local cut, why = file:truncate(keep)
    if not cut then file:close(); refuse(where, path, why) end
  end
  if not has_header then
    local wrote, why = file:append(line_of{ journal = "purecloud.batch", version = M.VERSION, calls = o.n,
      fingerprint = o.whole }, self.sync)
    if not wrote then file:close(); refuse(where, path, why) end
  end
  return self
end

--- What an earlier run recorded of call `i`: nil (not started), or
-- `"done"`, `"failed"` or `"unknown"` and the record.
function Journal:recorded(i)
  local rec = self.records[i]
  if not rec then return nil end
  if rec.outcome == "sent" then return "unknown", rec end
  return rec.outcome, rec
end

local function append(self, rec)
  local ok, why = self.file:append(line_of(rec), self.sync)
  if not ok then
    return nil, errors.new{ kind = "journal", message = ("journal %q: %s"):format(self.path, why) }
  end
  return true
end

--- Rule 1: call `i` is about to be started.
-- @return true | nil, err
function Journal:sent(i)
  return append(self, { i = i, outcome = "sent", fp = self.fps[i] })
end

--- Call `i` ended with `outcome` ("done", "failed", "unknown"); `value`
-- (done) or `err` (otherwise) gives the fields recorded.
-- @return true | nil, err
function Journal:ended(i, outcome, value, err, status)
  local rec = { i = i, outcome = outcome, status = status }
  if outcome == "done" then
    if type(value) == "table" then
      if type(value.id) == "string" then rec.id = value.id end
      if type(value.email) == "string" then rec.email = value.email end
    end
  elseif type(err) == "table" then
    rec.status = type(err.status) == "number" and err.status or status
    rec.kind = type(err.kind) == "string" and err.kind or nil
    rec.code = type(err.code) == "string" and err.code:sub(1, 200) or nil
    rec.message = type(err.message) == "string" and err.message:sub(1, 300) or nil
  elseif err ~= nil then
    rec.kind, rec.message = "raised", tostring(err):sub(1, 300)
  end
  return append(self, rec)
end

--- Close the file (and release its lock). Idempotent.
function Journal:close()
  self.file:close()
end

return M
