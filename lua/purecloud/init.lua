--- purecloud: the PureCloud (Genesys Cloud) Platform API v2 Users API for Lua.
--
--     local purecloud = require "purecloud"
--     local client = purecloud.new{ client_id = id, client_secret = secret, environment = "mypurecloud.ie" }
--     local user = assert(client.users.get_user_id(user_id))
--
-- Argument mistakes raise; runtime failures return `nil, err` (see
-- `purecloud.errors`).
-- @module purecloud
local core = require "purecloud.core"
local client = require "purecloud.client"
local default = require "purecloud.default"

local M = {
  _NAME = "purecloud",
  _VERSION = core._VERSION,
  --- Sends an explicit JSON null in a request body (the same value cjson uses).
  null = core.null,
}

-- `profile = NAME`: that profile of the config file under the explicit
-- options (purecloud.profile, loaded only then). A raise names the caller
-- of `purecloud.new` / `configure`.
local function with_profile(opts)
  if type(opts) == "table" and opts.profile ~= nil then return require("purecloud.profile").merge(opts) end
  return opts
end

--- Create a client (see the README for options; `profile = "prod"` reads
-- that profile of the config file, the options given winning over it).
function M.new(opts)
  return client.new(with_profile(opts))
end

--- Set the default client used by `require "purecloud.users"`.
-- @tparam table opts the same options as `purecloud.new`
-- @return the client
function M.configure(opts)
  local c = client.new(with_profile(opts))
  default.set(c)
  return c
end

--- The default client, or an error telling how to set one.
function M.default_client()
  return default.get()
end

--- The seed SDK's entry point: get an access token with client credentials.
-- @string id client id
-- @string secret client secret
-- @param environment a host suffix or region name, or a table of further options
-- @return access token | nil, err
function M.authenticate_with_client_credentials(id, secret, environment)
  local opts = type(environment) == "table" and environment or { environment = environment }
  local o = { client_id = id, client_secret = secret }
  for k, v in pairs(opts) do o[k] = v end
  local c = client.new(o)
  local token, err = c:token()
  c:close()
  return token, err
end

--- A PKCE pair (RFC 7636, S256): verifier, challenge.
M.pkce = core.pkce

return M
