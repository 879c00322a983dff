-- Page-number listings: entities + counts + relative page URIs, previous/next
-- absent at the ends, the way the service answers.
local json = require "emu.json"
local validate = require "emu.validate"

local M = {}

local function uri(base, size, number, extra)
  local q = { "pageSize=" .. size, "pageNumber=" .. number }
  for _, kv in ipairs(extra or {}) do q[#q + 1] = kv end
  return base .. "?" .. table.concat(q, "&")
end

-- items: array; render(item) → entity table (optional).
function M.page(items, req, base, extra, render, max_size)
  local size = validate.query_int(req, "pageSize", 1, max_size or 500, 25)
  local number = validate.query_int(req, "pageNumber", 1, 1e9, 1)
  local total = #items
  local count = math.ceil(total / size)
  local entities = json.array({})
  local first = (number - 1) * size + 1
  for i = first, math.min(total, first + size - 1) do
    entities[#entities + 1] = render and render(items[i]) or items[i]
  end
  local page = {
    entities = entities, pageSize = size, pageNumber = number, total = total, pageCount = count,
    selfUri = uri(base, size, number, extra), firstUri = uri(base, size, 1, extra),
    lastUri = uri(base, size, math.max(count, 1), extra),
  }
  if number > 1 then page.previousUri = uri(base, size, math.min(number - 1, math.max(count, 1)), extra) end
  if number < count then page.nextUri = uri(base, size, number + 1, extra) end
  return page
end

return M
