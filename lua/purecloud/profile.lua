--- Named profiles: the config file, and where each setting comes from.
--
-- **The file** is INI, at `$PURECLOUD_CONFIG`, else
-- `$XDG_CONFIG_HOME/purecloud/config`, else `~/.config/purecloud/config`:
--
--     # purecloud profiles (purecloud profiles --help)
--     current = prod
--
--     [prod]
--     environment = eu_west_1
--     client_id = 6f2c…
--     secret_command = pass show genesys/prod
--
-- The reader is this module's own, strict, in one function (`M.parse`):
-- Debian's lua-inifile (1.0) reads Lua 5.4 but turns values into numbers
-- and booleans (a secret "1e5" would come back as 100000.0), drops lines it
-- does not understand without a word and raises on a key before the first
-- section. Here: whole-line comments (`#` or `;` first: a `#` inside a value
-- is part of it, secrets may hold one); `[name]` sections (letters, digits,
-- `.`, `_`, `-`; each once); `key = value` lines, the value trimmed,
-- optionally in double quotes (`\"` and `\\` inside); before the first
-- section only `current`. Anything else — an unknown key (with the nearest
-- known one), a key given twice, a malformed line — is an error naming the
-- file and the line ("FILE, line N": a "FILE:N:" prefix would read as a
-- code position), never quoting a value. Values stay text until
-- `M.options` converts them.
--
-- The file holds secrets, so it is refused when group or others can access
-- it, and written 0600 in a 0700 directory by a rename (`purecloud.secret_file`).
--
-- **Precedence** (`M.SETTINGS`, the one table the README shows): for each
-- setting, a command-line flag, else the environment, else the profile,
-- else the default — with two groups taken whole from the first source that
-- gives any of their settings, so that two sources never mix: the hosts
-- (`environment`, `base_url`, `login_url`: an `--environment` flag is not
-- overridden by a profile's `base_url`) and the credentials (`client_id`
-- with `client_secret` or `secret_command`: a client id from the
-- environment never goes with the profile's secret). The library
-- (`purecloud.new{ profile = "prod", … }`, `M.merge`) applies the same rule
-- with its explicit options in the place of flags and environment.
--
-- A base/rules module: it requires nothing above `purecloud.secret_file`,
-- `purecloud.keys` and `purecloud.regions`.
-- @module purecloud.profile
local keys = require "purecloud.keys"
local usage = require("purecloud.errors").usage
local regions = require "purecloud.regions"
local files = require "purecloud.secret_file"

local M = {}

--- The keys a profile may hold: kind, and whether its value is a secret.
M.KEYS = {
  environment = { kind = "string" },     -- a host suffix or a region name (eu_west_1, eu-west-1)
  base_url = { kind = "string" },
  login_url = { kind = "string" },
  client_id = { kind = "string" },
  client_secret = { kind = "string", secret = true },
  secret_command = { kind = "string", secret = true }, -- a command that prints the secret
  proxy = { kind = "string", secret = true },          -- it may carry a password
  ca_file = { kind = "string" },
  ca_path = { kind = "string" },
  client_cert = { kind = "string" },                   -- mutual TLS: the client certificate, a PEM file
  client_key = { kind = "string" },                    -- its key, a PEM file
  client_key_password = { kind = "string", secret = true }, -- the key's pass phrase
  log_level = { kind = "level" },
  pace = { kind = "boolean" },
  timeout = { kind = "number" },
  connect_timeout = { kind = "number" },
}
--- The order `show` and the writer use.
M.ORDER = { "environment", "base_url", "login_url", "client_id", "client_secret", "secret_command", "proxy",
            "ca_file", "ca_path", "client_cert", "client_key", "client_key_password", "log_level", "pace", "timeout",
            "connect_timeout" }

local LEVELS = { none = true, error = true, warn = true, info = true, debug = true, trace = true }

--- The precedence table, one row per setting, highest source first: `flag`
-- (the command line's), `env` (variables, in order), `key` (the profile's),
-- `default`; `group` marks the settings taken together from one source.
M.SETTINGS = {
  { name = "profile", flag = "-p, --profile", env = { "PURECLOUD_PROFILE" }, key = "`current` (top of the file)",
    default = "default" },
  { name = "environment", flag = "--environment", env = { "PURECLOUD_ENVIRONMENT", "GENESYSCLOUD_REGION" },
    key = "environment", default = "mypurecloud.com", group = "hosts" },
  { name = "base_url", flag = "--base-url", env = { "PURECLOUD_BASE_URL" }, key = "base_url",
    default = "https://api.ENVIRONMENT", group = "hosts" },
  { name = "login_url", flag = "--login-url", env = { "PURECLOUD_LOGIN_URL" }, key = "login_url",
    default = "derived from base_url or environment", group = "hosts" },
  { name = "client_id", env = { "PURECLOUD_CLIENT_ID", "GENESYSCLOUD_OAUTHCLIENT_ID" }, key = "client_id",
    group = "credentials" },
  { name = "client_secret", env = { "PURECLOUD_SECRET", "GENESYSCLOUD_OAUTHCLIENT_SECRET" },
    key = "client_secret or secret_command", group = "credentials" },
  { name = "proxy", flag = "--proxy", env = { "PURECLOUD_PROXY" }, key = "proxy", default = "none" },
  { name = "ca_file", flag = "--ca-file", env = { "PURECLOUD_CA_FILE" }, key = "ca_file", default = "the system's" },
  { name = "client_cert", flag = "--cert", env = { "PURECLOUD_CLIENT_CERT" }, key = "client_cert", default = "none" },
  { name = "client_key", flag = "--key", env = { "PURECLOUD_CLIENT_KEY" }, key = "client_key",
    default = "in the client_cert file" },
  { name = "client_key_password", env = { "PURECLOUD_CLIENT_KEY_PASSWORD" }, key = "client_key_password",
    default = "none (a key in the clear)" },
  { name = "log", flag = "--log", env = { "PURECLOUD_LOG" }, key = "log_level", default = "warn" },
  { name = "pace", flag = "--no-pace", key = "pace", default = "true" },
  { name = "token_cache", flag = "--no-token-cache", env = { "PURECLOUD_TOKEN_CACHE" },
    default = "$XDG_CACHE_HOME/purecloud/PROFILE.token" },
}

-- The profile keys of each group (the library's options beside them).
local GROUPS = {
  hosts = { "environment", "base_url", "login_url" },
  credentials = { "client_id", "client_secret", "secret_command", "access_token", "refresh_token" },
}

-- A config file that cannot be read as one (no position: the file is the
-- problem, not a line of the caller's).
local function fail(msg) error("purecloud: " .. msg, 0) end

--- A profile name is 1-64 letters, digits, '.', '_' or '-' (it names a file).
function M.valid_name(name)
  return type(name) == "string" and #name <= 64 and name:find("^[%w_][%w_.%-]*$") ~= nil
end

local function getenv_default(name)
  local v = os.getenv(name)
  if v == "" then return nil end
  return v
end

--- The config file's path (`getenv` defaults to `os.getenv`, empty as unset).
function M.config_path(getenv)
  getenv = getenv or getenv_default
  local p = getenv("PURECLOUD_CONFIG")
  if p then return p end
  local base = getenv("XDG_CONFIG_HOME") or (getenv("HOME") and getenv("HOME") .. "/.config")
  if not base then fail("no config file: set HOME, XDG_CONFIG_HOME or PURECLOUD_CONFIG") end
  return base .. "/purecloud/config"
end

--- The token cache of profile `name`.
function M.cache_path(name, getenv)
  getenv = getenv or getenv_default
  local base = getenv("XDG_CACHE_HOME") or (getenv("HOME") and getenv("HOME") .. "/.cache")
  if not base then fail("no token cache: set HOME or XDG_CACHE_HOME (or PURECLOUD_TOKEN_CACHE=off)") end
  return base .. "/purecloud/" .. name .. ".token"
end

local function trim(s) return (s:gsub("^%s+", ""):gsub("%s+$", "")) end

-- A value as written: quoted when it would not read back as it is.
local function unquote(v, where)
  if v:sub(1, 1) ~= '"' then return v end
  if #v < 2 or v:sub(-1) ~= '"' then fail(where .. ": a value that starts with \" must end with \"") end
  local inner = v:sub(2, -2)
  local out = inner:gsub('\\(.)', function(c)
    if c == '"' or c == "\\" then return c end
    fail(where .. ": only \\\" and \\\\ are escapes inside quotes")
  end)
  if inner:gsub('\\.', ""):find('"') then fail(where .. ": a \" inside quotes must be written \\\"") end
  return out
end

local function quote_value(v)
  if v == "" or v:find("^%s") or v:find("%s$") or v:sub(1, 1) == '"' then
    return '"' .. v:gsub('[\\"]', "\\%0") .. '"'
  end
  return v
end

--- Parse the text of a config file (`path` names it in errors): a document
-- `{ path, current, names = { in file order }, profiles = { name = { key = text } }, lines }`.
function M.parse(text, path)
  local doc = { path = path, names = {}, profiles = {}, lines = {} }
  local section
  local n = 0
  for raw in (text .. "\n"):gmatch("([^\n]*)\n") do
    n = n + 1
    local line = raw:gsub("\r$", "")
    local where = ("%s, line %d"):format(path, n)
    local entry = { text = line, section = section }
    local t = trim(line)
    if t == "" or t:find("^[#;]") then
      entry.comment = true
    elseif t:sub(1, 1) == "[" then
      local name = t:match("^%[%s*(.-)%s*%]$")
      if not name then fail(where .. ": a section is [name]") end
      if not M.valid_name(name) then
        fail(where .. ": a profile name is 1-64 letters, digits, '.', '_' or '-'")
      end
      if doc.profiles[name] then fail(("%s: profile [%s] appears twice"):format(where, name)) end
      section = name
      doc.profiles[name] = {}
      doc.names[#doc.names + 1] = name
      entry.section, entry.header = name, true
    else
      local key, value = t:match("^([%w_]+)%s*=%s*(.*)$")
      if not key then fail(where .. ": expected [profile], key = value, or a comment starting with # or ;") end
      value = unquote(value, where)
      if not section then
        if key ~= "current" then
          fail(("%s: '%s' before the first [profile]: only 'current = NAME' goes there"):format(where, key))
        end
        if doc.current then fail(where .. ": 'current' appears twice") end
        if not M.valid_name(value) then fail(where .. ": 'current' must name a profile") end
        doc.current = value
      else
        if not M.KEYS[key] then
          local near = keys.nearest(key, M.KEYS)
          fail(("%s: unknown key '%s' in [%s]%s"):format(where, key, section,
            near and (" (did you mean '" .. near .. "'?)") or ""))
        end
        if doc.profiles[section][key] ~= nil then
          fail(("%s: '%s' appears twice in [%s]"):format(where, key, section))
        end
        doc.profiles[section][key] = value
      end
      entry.key = key
    end
    doc.lines[#doc.lines + 1] = entry
  end
  -- The text's final newline made one empty line too many.
  if doc.lines[#doc.lines] and doc.lines[#doc.lines].text == "" then doc.lines[#doc.lines] = nil end
  return doc
end

--- The document of the config file at `path` (default `M.config_path()`):
-- an empty one when the file does not exist. Raises when the file is not
-- private or does not parse.
function M.load(path)
  path = path or M.config_path()
  local text = files.read(path, "config file")
  return M.parse(text or "", path), text ~= nil
end

--- The text of `doc` (comments and order kept).
function M.serialize(doc)
  local out = {}
  for _, l in ipairs(doc.lines) do out[#out + 1] = l.text end
  local s = table.concat(out, "\n")
  return s == "" and s or s .. "\n"
end

--- Write `doc` to its path (0600, atomically).
function M.save(doc)
  files.write(doc.path, M.serialize(doc), "config file")
end

local function check_value(key, value)
  if type(value) ~= "string" or value:find("[%z\r\n]") then
    usage(("purecloud: the value of '%s' must be one line of text"):format(key))
  end
end

--- Set `values` (key → text, or false to remove) in profile `name`,
-- creating it at the end of the file when missing.
function M.set(doc, name, values)
  if not M.valid_name(name) then usage("purecloud: a profile name is 1-64 letters, digits, '.', '_' or '-'") end
  for k, v in pairs(values) do
    if not M.KEYS[k] then usage(("purecloud: unknown profile key '%s'"):format(tostring(k))) end
    if v then check_value(k, v) end
  end
  local prof = doc.profiles[name]
  if not prof then
    if #doc.lines > 0 and doc.lines[#doc.lines].text ~= "" then doc.lines[#doc.lines + 1] = { text = "", comment = true } end
    doc.lines[#doc.lines + 1] = { text = "[" .. name .. "]", section = name, header = true }
    prof = {}
    doc.profiles[name] = prof
    doc.names[#doc.names + 1] = name
  end
  -- Replace or drop the lines of keys already there.
  local last = 0
  local kept = {}
  for _, l in ipairs(doc.lines) do
    local drop = false
    if l.section == name and l.key and values[l.key] ~= nil then
      if values[l.key] == false then drop = true
      else l.text = l.key .. " = " .. quote_value(values[l.key]) end
    end
    if not drop then
      kept[#kept + 1] = l
      if l.section == name and not l.comment then last = #kept end
    end
  end
  doc.lines = kept
  -- New keys go after the profile's last key, in M.ORDER.
  for _, k in ipairs(M.ORDER) do
    local v = values[k]
    if v and prof[k] == nil then
      table.insert(doc.lines, last + 1, { text = k .. " = " .. quote_value(v), section = name, key = k })
      last = last + 1
    end
  end
  for k, v in pairs(values) do
    if v == false then prof[k] = nil else prof[k] = v end
  end
end

--- Remove profile `name` (its section and lines); true when it was there.
function M.remove(doc, name)
  if not doc.profiles[name] then return false end
  local kept = {}
  for _, l in ipairs(doc.lines) do
    if l.section ~= name and not (l.key == "current" and not l.section and doc.current == name) then
      kept[#kept + 1] = l
    end
  end
  while kept[#kept] and kept[#kept].text == "" do kept[#kept] = nil end
  doc.lines = kept
  doc.profiles[name] = nil
  for i, n in ipairs(doc.names) do if n == name then table.remove(doc.names, i) break end end
  if doc.current == name then doc.current = nil end
  return true
end

--- Make `name` the current profile (the line `current = NAME` at the top).
function M.use(doc, name)
  for _, l in ipairs(doc.lines) do
    if l.key == "current" and not l.section then
      l.text = "current = " .. name
      doc.current = name
      return
    end
  end
  -- After the leading comments, before the first section.
  local at = 1
  while doc.lines[at] and doc.lines[at].comment and not doc.lines[at].section do at = at + 1 end
  table.insert(doc.lines, at, { text = "current = " .. name, key = "current" })
  if doc.lines[at + 1] and doc.lines[at + 1].header then table.insert(doc.lines, at + 1, { text = "", comment = true }) end
  doc.current = name
end

--- The environment a region name or a host suffix stands for: `eu-west-1`
-- (the Terraform provider's and gc's spelling) and `eu_west_1` are both the
-- region (`purecloud.regions`); anything else is returned as it is.
function M.environment(value)
  if type(value) ~= "string" then return value end
  local r = value:gsub("-", "_")
  if regions[r] then return r end
  return value
end

--- The secret printed by `command` (its first line), or raise without
-- showing anything it printed. `what` names the profile in the message.
function M.run_secret_command(command, what)
  local p = io.popen(command, "r")
  if not p then fail(("%s: cannot run its secret_command"):format(what)) end
  local out = p:read("a") or ""
  local ok, how, code = p:close()
  if not ok then
    fail(("%s: its secret_command failed (%s %s; its output is not shown)"):format(what, tostring(how),
      tostring(code)))
  end
  local secret = out:match("^([^\r\n]*)")
  if not secret or secret == "" then fail(("%s: its secret_command printed nothing"):format(what)) end
  return secret
end

--- The library options of profile `prof` (key → text), named `name` in
-- errors: `environment` normalised, `log_level` → `log`, `pace` and the
-- timeouts converted, the secret read (from `secret_command` only when
-- `with_secret` is not false).
function M.options(prof, name, with_secret)
  local what = ("profile '%s'"):format(name)
  local o = {}
  for k, v in pairs(prof) do
    local spec = M.KEYS[k]
    if spec.kind == "boolean" then
      local b = ({ ["true"] = true, yes = true, ["1"] = true, ["false"] = false, no = false, ["0"] = false })[v]
      if b == nil then fail(("%s: '%s' must be true or false"):format(what, k)) end
      o[k] = b
    elseif spec.kind == "number" then
      local x = tonumber(v)
      if not x then fail(("%s: '%s' must be a number of seconds"):format(what, k)) end
      o[k] = x
    elseif spec.kind == "level" then
      if not LEVELS[v] then fail(("%s: 'log_level' must be none, error, warn, info, debug or trace"):format(what)) end
      o.log = v
    elseif k ~= "secret_command" then
      o[k] = v
    end
  end
  o.environment = M.environment(o.environment)
  if prof.client_secret and prof.secret_command then
    fail(("%s: give client_secret or secret_command, not both"):format(what))
  end
  if prof.secret_command and with_secret ~= false then
    o.client_secret = M.run_secret_command(prof.secret_command, what)
  end
  return o
end

local function group_of(key)
  for g, list in pairs(GROUPS) do
    for _, k in ipairs(list) do if k == key then return g end end
  end
end

local function copy_groups(dst, src, taken)
  for k, v in pairs(src) do
    local g = group_of(k)
    if dst[k] == nil and not (g and taken[g]) then dst[k] = v end
  end
end

local function groups_in(t)
  local taken = {}
  for k, v in pairs(t) do
    local g = group_of(k)
    if g and v ~= nil then taken[g] = true end
  end
  return taken
end

--- `purecloud.new{ profile = NAME, … }`: `opts` without `profile`, with the
-- profile's options under the explicit ones (hosts and credentials each
-- taken whole from one side). `opts.config` is not an option: the file is
-- `M.config_path()`. A bad name raises at the caller's line.
function M.merge(opts)
  local name = opts.profile
  if not M.valid_name(name) then
    usage("purecloud: option 'profile' must be a profile name (letters, digits, '.', '_', '-')")
  end
  local doc = M.load()
  local prof = doc.profiles[name]
  if not prof then
    usage(("purecloud: no profile '%s' in %s (purecloud profiles list shows them; purecloud profiles add creates one)")
      :format(name, doc.path))
  end
  local explicit = {}
  for k, v in pairs(opts) do if k ~= "profile" then explicit[k] = v end end
  local out = {}
  for k, v in pairs(explicit) do out[k] = v end
  copy_groups(out, M.options(prof, name, not groups_in(explicit).credentials), groups_in(explicit))
  return out
end

--- The profile a run uses (`M.SETTINGS`' first row): `flag`, else
-- `PURECLOUD_PROFILE`, else the file's `current`, else `default`. Returns
-- its name and where that came from; a name chosen (not the default) that
-- the file does not have raises.
function M.select(flag, getenv, doc)
  getenv = getenv or getenv_default
  local name, name_from = flag, "flag"
  if not name then name, name_from = getenv("PURECLOUD_PROFILE"), "env PURECLOUD_PROFILE" end
  if not name then name, name_from = doc.current, "the config's current" end
  if not name then name, name_from = "default", "default" end
  if not M.valid_name(name) then fail("a profile name is 1-64 letters, digits, '.', '_' or '-'") end
  if not doc.profiles[name] and name_from ~= "default" then
    fail(("no profile '%s' in %s (from %s; purecloud profiles list shows them)"):format(name, doc.path, name_from))
  end
  return name, name_from
end

--- The command line's settings, by `M.SETTINGS`: `flags` (name → value,
-- from the command line), `getenv`, and the config document `doc`. Returns
-- the library options, the profile's name and where each setting came from
-- (`from[name]` = "flag", "env NAME", "profile" or "default").
function M.resolve(flags, getenv, doc)
  getenv = getenv or getenv_default
  local name, name_from = M.select(flags.profile, getenv, doc)
  local from = { profile = name_from }
  local prof = doc.profiles[name] or {}

  -- Each source's values, by setting name.
  local by_flag, by_env = {}, {}
  for _, row in ipairs(M.SETTINGS) do
    if row.name ~= "profile" then
      if flags[row.name] ~= nil then by_flag[row.name] = flags[row.name] end
      for _, var in ipairs(row.env or {}) do
        local v = getenv(var)
        if v and by_env[row.name] == nil then by_env[row.name] = v; from[row.name] = "env " .. var end
      end
    end
  end
  for k in pairs(by_flag) do from[k] = "flag" end
  local opts = {}
  local taken = {}
  for _, src in ipairs({ by_flag, by_env }) do
    local here = groups_in(src)
    for k, v in pairs(src) do
      local g = group_of(k)
      if opts[k] == nil and not (g and taken[g]) then opts[k] = v end
    end
    for g in pairs(here) do taken[g] = true end
  end
  -- A source's value that lost to its group's higher source is not its.
  for k in pairs(from) do if k ~= "profile" and opts[k] == nil then from[k] = nil end end
  local po = M.options(prof, name, not taken.credentials)
  for k, v in pairs(po) do
    local g = group_of(k)
    if opts[k] == nil and not (g and taken[g]) then opts[k] = v; from[k] = "profile" end
  end
  opts.environment = M.environment(opts.environment)
  opts.token_cache = nil
  return opts, name, from
end

-- A TOML basic string at the start of `s` ("…" with \" \\ \n \t \uXXXX),
-- followed by nothing or a comment.
local function basic_string(s, where)
  local out, i = {}, 2
  while true do
    local c = s:sub(i, i)
    if c == "" then fail(where .. ": a string that does not end on its line") end
    if c == '"' then break end
    if c == "\\" then
      local e = s:sub(i + 1, i + 1)
      local simple = ({ n = "\n", t = "\t", ['"'] = '"', ["\\"] = "\\" })[e]
      if simple then
        out[#out + 1], i = simple, i + 2
      elseif e == "u" and s:sub(i + 2, i + 5):find("^%x%x%x%x$") then
        if not utf8 then fail(where .. ": \\u escapes need Lua 5.3 or later") end
        out[#out + 1], i = utf8.char(tonumber(s:sub(i + 2, i + 5), 16)), i + 6
      else
        fail(where .. ": an escape this reader does not know")
      end
    else
      out[#out + 1], i = c, i + 1
    end
  end
  local tail = trim(s:sub(i + 1))
  if tail ~= "" and tail:sub(1, 1) ~= "#" then fail(where .. ": text after the string") end
  return table.concat(out)
end

--- The profiles of gc's config (`~/.gc/config.toml`, documented in
-- MyPureCloud/platform-client-sdk-cli's README): TOML sections, one per
-- profile, with `environment`, `client_credentials` (the client id) and
-- `client_secret`. Only that shape is read: `[name]` sections, `key =
-- "basic"` / `'literal'` strings, bare booleans and numbers, `#` comments;
-- anything else is an error naming the line. gc's `[DEFAULT]` (viper reads
-- names case-insensitively) becomes `default`. Returns a list of
-- `{ name, values = { environment, client_id, client_secret } , skipped = why }`.
function M.parse_gc(text, path)
  local list, cur = {}, nil
  local n = 0
  for raw in (text .. "\n"):gmatch("([^\n]*)\n") do
    n = n + 1
    local where = ("%s, line %d"):format(path, n)
    local t = trim((raw:gsub("\r$", "")))
    local comment = t == "" or t:sub(1, 1) == "#"
    if not comment and t:sub(1, 1) == "[" then
      local name = t:match('^%[%s*"([^"]*)"%s*%]$') or t:match("^%[%s*([%w_.%-]+)%s*%]$")
      if not name then fail(where .. ": a gc profile is [name]") end
      name = name:lower()
      cur = { name = name, raw = {} }
      list[#list + 1] = cur
    elseif not comment then
      local key, rest = t:match("^([%w_%-]+)%s*=%s*(.-)%s*$")
      if not key or not cur then fail(where .. ": expected [profile] or key = value (a gc config.toml)") end
      local v
      if rest:sub(1, 1) == '"' then
        v = basic_string(rest, where)
      elseif rest:sub(1, 1) == "'" then
        v = rest:match("^'([^']*)'%s*$") or rest:match("^'([^']*)'%s*#")
        if not v then fail(where .. ": a literal string that does not end on its line") end
      else
        v = rest:match("^([%w_.+%-]+)%s*$") or rest:match("^([%w_.+%-]+)%s*#")
        if not v then fail(where .. ": a value this reader does not know (strings, booleans, numbers)") end
      end
      cur.raw[key:lower()] = v
    end
  end
  for _, p in ipairs(list) do
    local r = p.raw
    p.values = { environment = r.environment and M.environment(r.environment) or nil,
                 client_id = r.client_credentials, client_secret = r.client_secret }
    if not (r.client_credentials and r.client_secret) then
      p.skipped = "no client_credentials and client_secret (gc's access_token and code-grant profiles are not copied)"
    elseif not M.valid_name(p.name) then
      p.skipped = "its name is not a profile name here (letters, digits, '.', '_', '-')"
    end
    p.raw = nil
  end
  return list
end

return M
