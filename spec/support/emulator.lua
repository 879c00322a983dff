-- Talk to the spec emulator with the curl CLI, independently of the library
-- under test. emu.url: the emulator (OAuth, admin, deliberate contract
-- violations); emu.api_url: where conformant API traffic goes (Prism's
-- validating proxy under `make contract`, else the emulator).
-- The calls themselves are purecloud.testing's (the fixture the rock ships
-- for users' own specs): one copy of the request, token and admin logic.
local testing = require "purecloud.testing"

local M = {}

-- No default port: the emulator is started on a free port (tools/run-specs,
-- tools/with-emulator) and its URL handed over; a spec run without one fails
-- with that advice rather than talking to whatever listens on a fixed port.
M.url = os.getenv("PURECLOUD_EMULATOR_URL")
M.api_url = os.getenv("PURECLOUD_API_URL") or M.url
M.client_id, M.client_secret = testing.client_id, testing.client_secret
M.urlencode = testing.urlencode

local fixture = testing.attach{ url = M.url }
-- Every call (admin, token, API) says how to get an emulator when there is none.
local fixture_request = fixture.request
function fixture.request(self, method, path, opts)
  if not ((opts and opts.base) or M.url) then
    error("no emulator: run the specs with tools/run-specs (or tools/with-emulator), "
      .. "or set PURECLOUD_EMULATOR_URL to one started with `emulator/ctl start --port 0`", 0)
  end
  return fixture_request(self, method, path, opts)
end

--- request(method, path, opts) → { status, headers, body, json }
-- opts: headers, body (string or table → JSON), query, form, basic = {user, pass}, bearer, base
function M.request(method, path, opts) return fixture:request(method, path, opts) end

--- A client-credentials access token (cached; `fresh` forces a new one).
function M.token(fresh) return fixture:token(fresh) end

--- A code-grant token for a user (the emulator auto-approves).
function M.user_token(user_id)
  local r = M.request("GET", "/oauth/authorize", { query = { client_id = M.client_id, response_type = "code",
    redirect_uri = "http://localhost/cb", user_id = user_id } })
  local code = assert((r.headers.location or ""):match("code=([^&]+)"), "no code in redirect")
  local t = M.request("POST", "/oauth/token", { basic = { M.client_id, M.client_secret },
    form = { grant_type = "authorization_code", code = code, redirect_uri = "http://localhost/cb" } })
  assert(t.status == 200, t.body)
  return t.json.access_token, t.json
end

--- An API call with a client-credentials token (renewed once on a 401 from revocation).
function M.api(method, path, body, query)
  return fixture:api(method, path, body, query)
end

--- M.api whose 2xx answer must be today's for the operation at op_path (its
-- status and schema: spec/support/schema.lua's conforms); → the answer, its JSON.
function M.checked(method, op_path, path, body, query)
  local r = M.api(method, path, body, query)
  if r.status < 300 then require("spec.support.schema").conforms(r, method, op_path) end
  return r, r.json
end

function M.reset(opts) return fixture:reset(opts) end
function M.config(opts) return fixture:config(opts) end
function M.revoke() return fixture:revoke() end
function M.fault(spec) return fixture:fault(spec) end
function M.clear_faults() return fixture:clear_faults() end
function M.stats() return fixture:stats() end
function M.log() return fixture:log() end
function M.clear_log() return fixture:clear_log() end

--- The first n users in listing order.
function M.users(n) return fixture:users(n) end

function M.all_users() return M.users(math.huge) end

--- Start a separate emulator via emulator/ctl on a free port (unless opts.port);
-- returns its URL and the ctl output lines. Stop it with M.stop(url).
-- Unlimited (`--rate none`) unless opts.rate names a budget ("N/min"):
-- the service's default of 300 a minute would pace the specs' clients.
function M.start(opts)
  local o = {}
  for k, v in pairs(opts or {}) do o[k] = v end
  if o.rate == nil then o.rate = "none" end
  return testing.start(o)
end

--- Stop an emulator started by M.start: give its URL (or its port).
function M.stop(url_or_port) return testing.stop(url_or_port) end

return M
