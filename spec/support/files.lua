-- The project's files as the source-scanning specs read them (the layering,
-- privacy, error-raising and wiping rules).
local M = {}

--- The whole of file `path` (raises when it cannot be read).
function M.read(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("*a")
  f:close()
  return s
end

--- Every file below `root` whose name ends in `suffix`, sorted (lfs: no child process).
function M.list(root, suffix)
  local lfs = require "lfs"
  local out = {}
  local function walk(dir)
    for entry in lfs.dir(dir) do
      if entry ~= "." and entry ~= ".." then
        local path = dir .. "/" .. entry
        local mode = lfs.attributes(path, "mode")
        if mode == "directory" then walk(path)
        elseif mode == "file" and path:sub(-#suffix) == suffix then out[#out + 1] = path end
      end
    end
  end
  walk(root)
  table.sort(out)
  return out
end

return M
