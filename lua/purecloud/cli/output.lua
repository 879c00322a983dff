--- The CLI's output writers (bin/purecloud `--output`): JSON (one array
-- document), JSON lines, YAML (lyaml, Debian's lua-yaml), CSV and an aligned
-- table. Every writer is a stream: `w = output.writer(out, opts)`, then
-- `w.write(record)` for each record and `w.close()` at the end (an array
-- writer's closing `]`, the table's rows). `[]` stays `[]` in every format.
--
-- Safety (README "Command line", "Output safety"): CSV and table cells that
-- a spreadsheet would run as formulas get a leading `'` (unless `raw`); on a
-- terminal no byte the terminal would act on is written raw; JSON always
-- writes C1 controls and U+2028/U+2029 as \u escapes.
--
-- The CLI layer: it may require the library, the library never requires it.
-- @module purecloud.cli.output
local core = require "purecloud.core"
local cjson = require("cjson").new() -- our own settings, not the library's

local M = {}

cjson.encode_sparse_array(true)

M.FORMATS = { "json", "jsonl", "yaml", "csv", "table" }

--- JSON text of `v`, '/' not escaped, an empty array (core.array_mt) as [].
function M.json(v)
  -- The library's encoder first: it keeps the shape of what the library
  -- decoded (an empty array, marked with core.array_mt, prints as [] where
  -- cjson would print {}) and never escapes '/'. What it refuses (tables
  -- nested deeper than 64, mixed keys, bytes that are not UTF-8) prints as
  -- cjson prints it.
  local text = core.encode_json(v)
  if text then return text end
  -- cjson escapes every '/' as "\/"; each such backslash is the escape of
  -- that '/' (a data backslash is always doubled), so dropping it is exact.
  return (cjson.encode(v):gsub("\\/", "/"))
end
local json = M.json

--- The value at a dotted path (`manager.id`, `addresses.1.address`), or nil.
function M.field_value(rec, path)
  local v = rec
  for key in path:gmatch("[^%.]+") do
    if type(v) ~= "table" then return nil end
    v = v[tonumber(key) or key]
  end
  return v
end

local function utf8_need(seq) -- continuation bytes a valid sequence starting seq has, or nil
  local b1, b2 = seq:byte(1, 2)
  if not b2 or b2 < 128 or b2 > 191 then return nil end
  if b1 >= 0xC2 and b1 <= 0xDF then return 1 end
  if b1 >= 0xE0 and b1 <= 0xEF then
    if (b1 == 0xE0 and b2 < 0xA0) or (b1 == 0xED and b2 > 0x9F) then return nil end -- overlong, surrogate
    return 2
  end
  if b1 >= 0xF0 and b1 <= 0xF4 then
    if (b1 == 0xF0 and b2 < 0x90) or (b1 == 0xF4 and b2 > 0x8F) then return nil end
    return 3
  end
end

-- C1 controls and U+2028/U+2029 as \u escapes; bytes that are not UTF-8
-- on a terminal as \ufffd (json_mode) or \xNN.
local function escape_non_ascii(s, json_mode, tty)
  return (s:gsub("[\128-\255][\128-\191]*", function(seq)
    local need = utf8_need(seq)
    local head, rest = "", seq
    if need and #seq > need then
      head, rest = seq:sub(1, need + 1), seq:sub(need + 2)
      local b1, b2, b3 = head:byte(1, 3)
      if b1 == 0xC2 and b2 <= 0x9F then head = ("\\u%04x"):format(b2)
      elseif b1 == 0xE2 and b2 == 0x80 and (b3 == 0xA8 or b3 == 0xA9) then head = ("\\u%04x"):format(0x2000 + b3 - 0x80)
      end
    end
    if rest ~= "" and tty then
      rest = rest:gsub(".", function(c) return json_mode and "\\ufffd" or ("\\x%02x"):format(c:byte()) end)
    end
    return head .. rest
  end))
end

--- Text for a terminal: C0 controls but tab and newline, DEL, C1, U+2028/9
-- and bytes that are not UTF-8 escaped (\x1b, \u009b, \u2028, \xff).
function M.terminal_text(s)
  s = s:gsub("%c", function(c)
    if c ~= "\t" and c ~= "\n" then return ("\\x%02x"):format(c:byte()) end
  end)
  return escape_non_ascii(s, false, true)
end
local terminal_text = M.terminal_text

--- One JSON text, C1 and U+2028/9 escaped (the same JSON value).
function M.json_line(v, tty)
  return escape_non_ascii(json(v), true, tty)
end
local json_line = M.json_line

-- A cell a spreadsheet would run as a formula (OWASP: CSV injection).
local function neutral(v, raw)
  if type(v) == "string" and not raw and v:find("^[=+%-@\t\r]") then return "'" .. v end
  return v
end

local function cell_text(v, raw)
  if v == nil then return "" end
  if type(v) == "table" then return json(v) end
  if type(v) == "string" then return neutral(v, raw) end
  return tostring(v)
end

--- A CSV cell: quoted when it holds , " CR or LF; formula-neutralised.
function M.csv_cell(v, raw)
  v = cell_text(v, raw)
  if v:find('[,"\r\n]') then v = '"' .. v:gsub('"', '""') .. '"' end
  return v
end
local csv_cell = M.csv_cell

-- The record with only `fields` (dotted paths as keys), or the record.
local function pick(rec, fields)
  if not fields or type(rec) ~= "table" then return rec end
  local picked = {}
  for _, f in ipairs(fields) do picked[f] = M.field_value(rec, f) end
  return picked
end

--- The terminal's width: COLUMNS, else `tput cols`, else `stty size`, else 80.
function M.terminal_width(getenv, run)
  getenv = getenv or os.getenv
  run = run or function(cmd)
    local p = io.popen(cmd:gsub("</dev/tty", "2>/dev/null </dev/tty") .. " 2>/dev/null")
    if not p then return nil end
    local s = p:read("a")
    p:close()
    return s
  end
  local n = tonumber(getenv("COLUMNS") or "")
  if n and n >= 10 then return math.floor(n) end
  n = tonumber((run("tput cols </dev/tty") or ""):match("%d+") or "")
  if n and n >= 10 then return n end
  n = tonumber((run("stty size </dev/tty") or ""):match("%d+%s+(%d+)") or "")
  if n and n >= 10 then return n end
  return 80
end

-- Characters (UTF-8 code points) of s, and s cut to n of them with "…".
local function width(s) return utf8.len(s) or #s end
local function cut(s, n)
  if width(s) <= n then return s .. (" "):rep(n - width(s)) end
  if n <= 1 then return ("…"):sub(1, n > 0 and 3 or 0) end
  local ok, stop = pcall(utf8.offset, s, n) -- the byte where the n-th character starts
  if not ok or not stop then return s:sub(1, n - 1) .. "…" end
  return s:sub(1, stop - 1) .. "…"
end
M.cut = cut

-- Column widths fitting `total`: each column its widest cell, the widest
-- ones shrunk (never below 3) until the row fits.
local function fit(widths, total)
  local n = #widths
  local avail = total - (n - 1) * 2
  local w = {}
  for i = 1, n do w[i] = widths[i] end
  local sum = 0
  for i = 1, n do sum = sum + w[i] end
  while sum > avail do
    local wi = 1
    for i = 2, n do if w[i] > w[wi] then wi = i end end
    if w[wi] <= 3 then break end
    w[wi] = w[wi] - 1
    sum = sum - 1
  end
  return w
end
M.fit = fit

local function yaml_doc(v)
  local lyaml = require "lyaml"
  local text = lyaml.dump({ v })
  -- a document: '---\n' … '...\n'
  return (text:gsub("^%-%-%-%s*\n", ""):gsub("%.%.%.%s*\n$", ""))
end

-- An empty table that is not an array (a JSON {}), which lyaml would dump
-- as []: kept apart so that it prints {}.
local EMPTY_OBJECT = setmetatable({}, { __tostring = function() return "{}" end })

-- lyaml writes every empty table as []; an empty object is marked and
-- written {} after. Strings pass through as strings.
local function yaml_ready(v, depth)
  if type(v) ~= "table" then
    if v == core.null or v == cjson.null then return "~null~" end
    return v
  end
  if depth > 64 then return json(v) end
  if next(v) == nil then return getmetatable(v) == core.array_mt and {} or EMPTY_OBJECT end
  local t = {}
  for k, x in pairs(v) do t[k] = yaml_ready(x, depth + 1) end
  return t
end

--- YAML text of one value (a document's body, no --- / ...).
function M.yaml(v)
  local has_object = false
  local function mark(x)
    if x == EMPTY_OBJECT then has_object = true; return "~emptyobject~" end
    if type(x) == "table" then
      local t = {}
      for k, y in pairs(x) do t[k] = mark(y) end
      return t
    end
    return x
  end
  local text = yaml_doc(mark(yaml_ready(v, 0)))
  text = text:gsub("'?~null~'?", "null")
  if has_object then text = text:gsub("'?~emptyobject~'?", "{}") end
  return text
end

--- writer(out, opts) → { write = f(record), close = f() }
-- opts: format ("json", "jsonl", "yaml", "csv", "table"), fields (a list of
-- dotted paths, or nil: every field; csv and table default to id,name,email),
-- tty (out is a terminal), raw (CSV: no formula neutralisation), single
-- (one record, not a list: json and yaml write it alone), width (table).
function M.writer(out, opts)
  local format, fields, tty, raw = opts.format or "jsonl", opts.fields, opts.tty, opts.raw
  local w = {}
  if format == "jsonl" then
    function w.write(rec) out:write(json_line(pick(rec, fields), tty), "\n") end
    function w.close() end
  elseif format == "json" then
    local n = 0
    function w.write(rec)
      local text = json_line(pick(rec, fields), tty)
      if opts.single then out:write(text, "\n"); n = n + 1; return end
      out:write(n == 0 and "[\n" or ",\n", text)
      n = n + 1
    end
    function w.close()
      if opts.single then return end
      out:write(n == 0 and "[]\n" or "\n]\n")
    end
  elseif format == "yaml" then
    local n = 0
    local function emit(text)
      text = escape_non_ascii(text, true, tty) -- lyaml escapes C0; C1, U+2028/9 as \u (in quotes)
      if tty then text = text:gsub("[%z\1-\8\11-\31\127]", function(c) return ("\\x%02x"):format(c:byte()) end) end
      out:write(text)
    end
    function w.write(rec)
      n = n + 1
      if opts.single then emit(M.yaml(pick(rec, fields))); return end
      emit(M.yaml({ pick(rec, fields) }))
    end
    function w.close() if n == 0 and not opts.single then out:write("[]\n") end end
  elseif format == "csv" then
    fields = fields or { "id", "name", "email" }
    local function row(cells)
      local text = table.concat(cells, ",")
      if tty then text = terminal_text(text) end
      out:write(text, "\r\n")
    end
    local header = {}
    for i, f in ipairs(fields) do header[i] = csv_cell(f, raw) end
    row(header)
    function w.write(rec)
      local cells = {}
      for i, f in ipairs(fields) do cells[i] = csv_cell(M.field_value(rec, f), raw) end
      row(cells)
    end
    function w.close() end
  elseif format == "table" then
    -- The widths need every row: the table is written at close (a table is
    -- for a terminal; a long job's output is csv or jsonl, streamed).
    fields = fields or { "id", "name", "email" }
    local rows = { {} }
    local widths = {}
    local function clean(s)
      s = s:gsub("[\r\n\t]", " ")
      return terminal_text(s)
    end
    for i, f in ipairs(fields) do rows[1][i] = clean(f); widths[i] = width(rows[1][i]) end
    function w.write(rec)
      local r = {}
      for i, f in ipairs(fields) do
        r[i] = clean(cell_text(M.field_value(rec, f), raw))
        if width(r[i]) > widths[i] then widths[i] = width(r[i]) end
      end
      rows[#rows + 1] = r
    end
    function w.close()
      local cols = fit(widths, opts.width or M.terminal_width())
      for _, r in ipairs(rows) do
        local cells = {}
        for i = 1, #fields do cells[i] = cut(r[i], cols[i]) end
        out:write((table.concat(cells, "  "):gsub("%s+$", "")), "\n")
      end
    end
  else
    error("purecloud: --output must be one of json, jsonl, yaml, csv, table", 0)
  end
  return w
end

return M
