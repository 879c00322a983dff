-- What the CLI writes is safe where it lands: CSV cells a spreadsheet would
-- run as formulas are neutralised (--raw: as they are), and on a terminal no
-- control sequence from the data is written raw.
local cjson = require "cjson"
local emu = require "support.emulator"
local h = require "cli.helper"

-- One user with `fields` (name, title, department), created through the API.
local function user(fields)
  local body = { email = ("u%d@example.com"):format(math.random(1, 1e9)), password = "Pw12345!" }
  for k, v in pairs(fields) do body[k] = v end
  local r = emu.api("POST", "/api/v2/users", body)
  assert(r.status == 200 or r.status == 201, r.body)
  return r.json
end

local ESC, CSI8, NEL, LS, PS = "\27", "\194\155", "\194\133", "\226\128\168", "\226\128\169"

describe("CLI output", function()
  before_each(function() emu.reset{ users = 0 } end)

  describe("CSV injection", function()
    local cells = { "=HYPERLINK(\"http://x\",\"y\")", "+1+2", "-3+4", "@SUM(A1)", "\tTAB", "\rCR" }

    it("prefixes a cell starting with = + - @ tab or CR with a single quote", function()
      for i, name in ipairs(cells) do user{ name = name, title = "plain " .. i, department = "x-" .. i } end
      local code, out, err = h.run("users list --format csv --fields name,title,department")
      assert.are.equal(0, code, err)
      local body = out:gsub("^[^\n]*\n", "")
      for _, name in ipairs(cells) do
        local want = "'" .. name
        if want:find('[,"\r\n]') then want = '"' .. want:gsub('"', '""') .. '"' end
        assert.truthy(body:find(want .. ",plain", 1, true), "not neutralised: " .. name .. "\n" .. out)
      end
      -- A cell that does not start with one of them is left alone.
      assert.truthy(body:find(",x-1\r\n", 1, true), out)
      -- Every data line's first cell starts with the quote (or a CSV quote then it).
      for line in body:gmatch("[^\n]+") do
        if line:find("plain", 1, true) then assert.matches("^\"?'", line) end
      end
    end)

    it("writes them as they are with --raw", function()
      for i, name in ipairs(cells) do user{ name = name, title = "plain " .. i } end
      local code, out, err = h.run("users list --format csv --fields name,title --raw")
      assert.are.equal(0, code, err)
      for _, name in ipairs(cells) do
        local want = name
        if want:find('[,"\r\n]') then want = '"' .. want:gsub('"', '""') .. '"' end
        assert.truthy(out:find("\n" .. want .. ",plain", 1, true), "changed with --raw: " .. name .. "\n" .. out)
      end
      assert.is_nil(out:find("\n'", 1, true), out)
    end)

    it("neutralises get, search and call output alike, and leaves JSON lines as data", function()
      local u = user{ name = "=1+1" }
      for _, args in ipairs({ "users get " .. u.id, "users search --email " .. u.email,
                              "call get_user_id " .. u.id }) do
        local code, out, err = h.run(args .. " --format csv --fields name")
        assert.are.equal(0, code, err)
        assert.are.equal("name\r\n'=1+1\r\n", out, args)
      end
      local code, out = h.run("users get " .. u.id)
      assert.are.equal(0, code)
      assert.are.equal("=1+1", cjson.decode(out).name)
    end)
  end)

  describe("control sequences", function()
    local hostile = "A" .. ESC .. "[31mB" .. CSI8 .. "2JC" .. NEL .. "D" .. LS .. "E" .. PS .. "F\7G"

    it("are escaped in CSV written to a terminal", function()
      if not h.have_pty() then pending("script(1) cannot give a pseudo-terminal here") return end
      local u = user{ name = hostile, title = "t\tab" }
      local code, shown = h.on_tty("users get " .. u.id .. " --format csv --fields name,title")
      assert.are.equal(0, code, shown)
      assert.truthy(shown:find("A\\x1b[31mB\\u009b2JC\\u0085D\\u2028E\\u2029F\\x07G,t\tab", 1, true), shown)
      for _, raw in ipairs({ ESC, CSI8, NEL, LS, PS, "\7" }) do
        assert.is_nil(shown:find(raw, 1, true), ("raw %q on the terminal: %q"):format(raw, shown))
      end
    end)

    it("are escaped in JSON lines (C1 and U+2028/2029 always, as \\u escapes: the same JSON value)", function()
      local u = user{ name = hostile }
      local code, out = h.run("users get " .. u.id .. " --fields name")
      assert.are.equal(0, code)
      assert.are.equal(hostile, cjson.decode(out).name)
      for _, raw in ipairs({ ESC, CSI8, NEL, LS, PS, "\7" }) do
        assert.is_nil(out:find(raw, 1, true), ("raw %q in JSON: %q"):format(raw, out))
      end
      assert.truthy(out:find("\\u009b", 1, true), out)
      assert.truthy(out:find("\\u2028", 1, true), out)
      if h.have_pty() then
        local shown
        code, shown = h.on_tty("users list --fields name")
        assert.are.equal(0, code, shown)
        for _, raw in ipairs({ ESC, CSI8, NEL, LS, PS, "\7" }) do
          assert.is_nil(shown:find(raw, 1, true), ("raw %q on the terminal: %q"):format(raw, shown))
        end
      end
    end)

    it("are written as they are in CSV that does not go to a terminal", function()
      local u = user{ name = hostile }
      local code, out = h.run("users get " .. u.id .. " --format csv --fields name")
      assert.are.equal(0, code)
      assert.are.equal("name\r\n" .. hostile .. "\r\n", out)
    end)
  end)
end)
