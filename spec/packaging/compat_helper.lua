-- luacheck: ignore 113 122
-- busted --helper for `make test-matrix` on Lua 5.1 / 5.2 only: the specs
-- (not the library) read files with 5.3's format names ("a", "l", "n"); map
-- them to the "*a" spelling older Luas need. Nothing else is patched, so a
-- library incompatibility still fails.
local file_methods = getmetatable(io.stdout).__index
local read = file_methods.read
local FORMATS = { a = "*a", l = "*l", n = "*n", L = "*L" }
file_methods.read = function(f, ...)
  local formats = { ... }
  for i = 1, select("#", ...) do formats[i] = FORMATS[formats[i]] or formats[i] end
  return read(f, (table.unpack or unpack)(formats, 1, select("#", ...)))
end
local lines = file_methods.lines
file_methods.lines = function(f, ...)
  if select("#", ...) == 0 then return lines(f) end
  return lines(f, FORMATS[(...)] or (...), select(2, ...))
end
local io_lines = io.lines
io.lines = function(name, ...)
  if select("#", ...) == 0 then return io_lines(name) end
  return io_lines(name, FORMATS[(...)] or (...), select(2, ...))
end
local io_read = io.read
io.read = function(fmt, ...) return io_read(FORMATS[fmt] or fmt, ...) end
