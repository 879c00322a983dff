--- Files that hold secrets: the config file and the token cache.
--
-- The promises, as ssh keeps them for its keys and config:
--
-- * **Refused when others can read or write it.** A file with any
--   permission bit for group or others (`chmod` mode & 077) is refused with
--   an error naming the file, its mode and the fix (`chmod 600 FILE`). A file
--   others can write is worse than one they can read: the config's
--   `secret_command` is a command this library runs.
-- * **Written 0600 in a 0700 directory, atomically.** A write goes to a new
--   temporary file beside the target (created 0600, never through a
--   symbolic link: `core.journal_open`'s O_CREAT|O_NOFOLLOW, 0600), then is
--   renamed over the target (a reader sees the old file or the new one,
--   never half of one; a symbolic link at the target is replaced, never
--   followed). A missing directory is created 0700 (`mkdir -m 700`); an
--   existing one that group or others can write is refused (they could
--   swap the file).
-- * **Locks** are `flock`s on a lock file (`core.journal_open` again: an
--   exclusive, non-waiting flock), released by `close` or when the process
--   ends, so a holder that dies never blocks the others.
-- * `nofollow = true` (the token cache) refuses a symbolic link where the
--   file should be; the config file may be a link (dotfile managers), and
--   its target is checked.
--
-- File status comes from LuaFileSystem (Debian: lua-filesystem), loaded at
-- the first use: Lua has no stat, and Debian's lua-posix has no Lua 5.4 build.
-- @module purecloud.secret_file
local core = require "purecloud.core"

local M = {}

local lfs_mod
local function lfs()
  if lfs_mod then return lfs_mod end
  local ok, mod = pcall(require, "lfs")
  if not ok then
    error("purecloud: profiles and the token cache need LuaFileSystem (Debian: apt-get install lua-filesystem)", 0)
  end
  lfs_mod = mod
  return mod
end

local function quote(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

-- "rwxr-x---" -> 0750 (a number).
local function octal(perm)
  local n = 0
  for i = 1, 9 do
    n = n * 2 + (perm:sub(i, i) ~= "-" and 1 or 0)
  end
  return n
end

--- The directory part of `path` ("." when it has none).
function M.dirname(path)
  return path:match("^(.*)/[^/]*$") or "."
end

--- The mode of `path` (a number, e.g. 384 for 0600) and its type ("file",
-- "directory", "link", …), or nil when it does not exist. `nofollow`:
-- the link itself, not its target.
function M.stat(path, nofollow)
  local l = lfs()
  local a = (nofollow and l.symlinkattributes or l.attributes)(path)
  if not a then return nil end
  return octal(a.permissions), a.mode
end

--- Raise unless `path` (a `what`, e.g. "config file") is private: a regular
-- file with no permission for group or others. True when it exists, false
-- when it does not.
function M.check(path, what, nofollow)
  local mode, kind = M.stat(path, nofollow)
  if not mode then return false end
  if kind == "link" then
    error(("purecloud: the %s %s is a symbolic link: refused (remove it; it is written again as a file)")
      :format(what, path), 0)
  end
  if kind ~= "file" then error(("purecloud: the %s %s is not a regular file"):format(what, path), 0) end
  if mode % 64 ~= 0 then
    local g, o = mode % 64 >= 8, mode % 8 > 0
    local who = (g and o) and "group and others" or (g and "group" or "others")
    error(("purecloud: the %s %s is accessible by %s (mode %04o): it holds secrets, so it is refused; "
      .. "run: chmod 600 %s"):format(what, path, who, mode, path), 0)
  end
  return true
end

--- The contents of `path`, checked by `M.check`, or nil when it does not exist.
function M.read(path, what, nofollow)
  if not M.check(path, what, nofollow) then return nil end
  local f, why = io.open(path, "rb")
  if not f then error(("purecloud: cannot read the %s: %s"):format(what, why), 0) end
  local s = f:read("a")
  f:close()
  return s
end

--- Make sure `dir` exists and is not writable by group or others; a missing
-- one is created 0700. Raises with the fix.
function M.ensure_dir(dir, what)
  local mode, kind = M.stat(dir)
  if not mode then
    os.execute("mkdir -p -m 700 -- " .. quote(dir) .. " 2>/dev/null")
    mode, kind = M.stat(dir)
    if not mode then error(("purecloud: cannot create the directory %s for the %s"):format(dir, what), 0) end
  end
  if kind ~= "directory" then error(("purecloud: %s (for the %s) is not a directory"):format(dir, what), 0) end
  if math.floor(mode / 2) % 2 == 1 or math.floor(mode / 16) % 2 == 1 then
    error(("purecloud: the directory %s (of the %s) is writable by others (mode %04o): refused; run: chmod 700 %s")
      :format(dir, what, mode, dir), 0)
  end
end

--- Replace `path` with `contents`: a 0600 temporary file beside it, renamed
-- over it. Raises naming the file on failure.
function M.write(path, contents, what)
  M.ensure_dir(M.dirname(path), what)
  local tmp = ("%s.tmp-%s"):format(path, core.random_hex(8))
  local f, why = core.journal_open(tmp)
  if not f then error(("purecloud: cannot write the %s %s: %s"):format(what, tmp, why), 0) end
  local ok, werr = f:append(contents, true)
  f:close()
  if not ok then
    os.remove(tmp)
    error(("purecloud: cannot write the %s %s: %s"):format(what, tmp, werr), 0)
  end
  local renamed, rerr = os.rename(tmp, path)
  if not renamed then
    os.remove(tmp)
    error(("purecloud: cannot replace the %s %s: %s"):format(what, path, rerr), 0)
  end
end

--- Remove `path` (a missing file is not an error). True when it existed.
function M.remove(path)
  if not M.stat(path, true) then return false end
  local ok, why = os.remove(path)
  if not ok then error(("purecloud: cannot remove %s: %s"):format(path, why), 0) end
  return true
end

--- Take the lock `path` (a flock on that file, not waiting): the held lock
-- (`:close()` releases it), or false when another holder has it.
function M.lock(path, what)
  M.ensure_dir(M.dirname(path), what)
  local f, why = core.journal_open(path)
  if f then return f end
  if why:find("in use by another process", 1, true) then return false end
  error(("purecloud: cannot lock the %s with %s: %s"):format(what, path, why), 0)
end

return M
