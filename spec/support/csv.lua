-- RFC 4180 read back, for the specs that check what the CLI writes: rows of
-- cells, "" inside quotes, CRLF row ends (the text must end with one).
local M = {}

function M.parse(text)
  local rows, row, cell, i, quoted = {}, {}, {}, 1, false
  while i <= #text do
    local c = text:sub(i, i)
    if quoted then
      if c == '"' and text:sub(i + 1, i + 1) == '"' then cell[#cell + 1] = '"'; i = i + 1
      elseif c == '"' then quoted = false
      else cell[#cell + 1] = c end
    elseif c == '"' then quoted = true
    elseif c == "," then row[#row + 1] = table.concat(cell); cell = {}
    elseif c == "\r" and text:sub(i + 1, i + 1) == "\n" then
      row[#row + 1] = table.concat(cell); cell = {}
      rows[#rows + 1] = row; row = {}
      i = i + 1
    else cell[#cell + 1] = c end
    i = i + 1
  end
  assert(#cell == 0 and #row == 0, "CSV does not end with CRLF")
  return rows
end

return M
