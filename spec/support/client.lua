-- A purecloud client pointed at the spec emulator with its test credentials.
-- API traffic goes to emu.api_url (Prism's validating proxy under
-- `make contract`, the emulator otherwise); OAuth always to the emulator.
local emu = require "support.emulator"

local M = {}

function M.new(opts)
  local purecloud = require "purecloud"
  local o = {
    base_url = emu.api_url or emu.url,
    login_url = emu.url,
    client_id = "emulator-client",
    client_secret = "emulator-secret",
    timeout = 20,
    log = "none", -- specs that read the log pass their own function
  }
  for k, v in pairs(opts or {}) do o[k] = v end
  return purecloud.new(o)
end

--- A client that talks to the emulator directly, never through Prism: for
-- specs that deliberately send what the contract forbids or inject faults
-- (the contract check would rightly flag those).
function M.direct(opts)
  local o = { base_url = emu.url }
  for k, v in pairs(opts or {}) do o[k] = v end
  return M.new(o)
end

return M
