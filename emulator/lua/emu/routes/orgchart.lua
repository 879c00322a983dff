-- (being written)
local M = {}
function M.register(_) end
return M
