-- OAuth 2 on the emulator's login host: client credentials, authorization
-- code (with PKCE S256), refresh-token rotation and SAML2 bearer.
local state = require "emu.state"
local errors = require "emu.errors"

local M = {}

M.CLIENTS = { ["emulator-client"] = "emulator-secret", ["emulator-client-2"] = "emulator-secret-2" }

local function oauth_error(status, code, description)
  errors.raise(status, code, description, { oauth = true })
end

local function reply_error(e)
  return e.status, { error = e.code, description = e.message, error_description = e.message }
end

local function b64dec(s)
  return ngx.decode_base64(s)
end

local function b64url_sha256(s)
  local digest = require("emu.sha256")(s)
  return (ngx.encode_base64(digest):gsub("%+", "-"):gsub("/", "_"):gsub("=", ""))
end

local function token_for(client_id, grant, user_id, with_refresh)
  local tok = state.uuid(#state.log + math.random(1, 1e9), 7) .. state.uuid(math.random(1, 1e9), 8)
  local ttl = state.config.token_ttl
  state.tokens[tok] = { client_id = client_id, grant = grant, user_id = user_id, expires = state.now() + ttl,
                        token = tok }
  state.stats.tokens[grant] = (state.stats.tokens[grant] or 0) + 1
  local body = { access_token = tok, token_type = "bearer", expires_in = ttl }
  if with_refresh then
    local rt = "r-" .. state.uuid(math.random(1, 1e9), 9)
    state.refresh_tokens[rt] = { client_id = client_id, user_id = user_id }
    body.refresh_token = rt
  end
  return 200, body
end

local function client_auth()
  local h = ngx.var.http_authorization or ""
  local b = h:match("^[Bb]asic%s+(%S+)$")
  local dec = b and b64dec(b)
  local id, secret = (dec or ""):match("^([^:]*):(.*)$")
  if not id or M.CLIENTS[id] ~= secret then
    oauth_error(401, "invalid_client", "authentication failed")
  end
  return id
end

local function token()
  local ok, status, body = pcall(function()
    local client_id = client_auth()
    ngx.req.read_body()
    local args = ngx.req.get_post_args(100) or {}
    local grant = args.grant_type
    if grant == "client_credentials" then
      return token_for(client_id, "client_credentials", nil, false)
    elseif grant == "authorization_code" then
      local c = args.code and state.codes[args.code]
      if not c or c.client_id ~= client_id then oauth_error(400, "invalid_grant", "invalid authorization code") end
      state.codes[args.code] = nil -- single use
      if c.redirect_uri ~= args.redirect_uri then oauth_error(400, "invalid_grant", "redirect_uri mismatch") end
      if c.challenge then
        if not args.code_verifier or b64url_sha256(args.code_verifier) ~= c.challenge then
          oauth_error(400, "invalid_grant", "PKCE verification failed")
        end
      end
      return token_for(client_id, "authorization_code", c.user_id, true)
    elseif grant == "refresh_token" then
      local r = args.refresh_token and state.refresh_tokens[args.refresh_token]
      if not r or r.client_id ~= client_id then oauth_error(400, "invalid_grant", "invalid refresh token") end
      state.refresh_tokens[args.refresh_token] = nil -- rotation
      return token_for(client_id, "refresh_token", r.user_id, true)
    elseif grant == "urn:ietf:params:oauth:grant-type:saml2-bearer" then
      local xml = args.assertion and b64dec(args.assertion)
      local email = xml and xml:match("<saml:NameID[^>]*>%s*([^<%s]+)%s*</saml:NameID>")
      local u = email and state.by_email[email:lower()]
      if not u then oauth_error(400, "invalid_grant", "invalid SAML assertion") end
      return token_for(client_id, "saml2", u.id, false)
    elseif not grant then
      oauth_error(400, "invalid_request", "grant_type is required")
    end
    oauth_error(400, "unsupported_grant_type", "unsupported grant type")
  end)
  if ok then return status, body end
  if errors.is(status) then return reply_error(status) end
  error(status, 0)
end

local function authorize(req)
  local q = function(k) local v = req.query[k]; return v and v[#v] end
  local client_id, redirect = q("client_id"), q("redirect_uri")
  if not M.CLIENTS[client_id or ""] then return 400, { error = "invalid_client", description = "unknown client",
    error_description = "unknown client" } end
  if q("response_type") ~= "code" or not redirect then
    return 400, { error = "invalid_request", description = "response_type=code and redirect_uri are required",
                  error_description = "response_type=code and redirect_uri are required" }
  end
  local user = q("user_id") and state.user(q("user_id")) or state.users_sorted()[1]
  if not user then return 400, { error = "access_denied", description = "no such user", error_description = "no such user" } end
  if q("code_challenge") and (q("code_challenge_method") or "plain") ~= "S256" then
    return 400, { error = "invalid_request", description = "only S256 is supported", error_description = "only S256 is supported" }
  end
  local code = "c-" .. state.uuid(math.random(1, 1e9), 11)
  state.codes[code] = { client_id = client_id, user_id = user.id, redirect_uri = redirect, challenge = q("code_challenge") }
  local sep = redirect:find("?", 1, true) and "&" or "?"
  local loc = redirect .. sep .. "code=" .. ngx.escape_uri(code)
  if q("state") then loc = loc .. "&state=" .. ngx.escape_uri(q("state")) end
  return 302, nil, { Location = loc }
end

function M.register(app)
  app.add("POST", "/oauth/token", token)
  app.add("POST", "/token", token)
  app.add("GET", "/oauth/authorize", authorize)
end

return M
