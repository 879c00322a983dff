-- Profiles, precedence, private files and the token cache (issue 24 §1):
-- the command line run as a process against the emulator, each case with
-- a HOME of its own (mktemp -d), never the real one; and purecloud.new{
-- profile = … } from Lua in a process of its own (the library reads the
-- config path from the environment).
local emu = require "support.emulator"
local h = require "cli.helper"
local profile = require "purecloud.profile"
local token_store = require "purecloud.token_store"

local quote = h.quote

-- Every variable the CLI reads, unset; then `env`.
local CLEAN = "XDG_CONFIG_HOME= XDG_CACHE_HOME= PURECLOUD_CONFIG= PURECLOUD_PROFILE= PURECLOUD_TOKEN_CACHE= "
  .. "GENESYSCLOUD_REGION= GENESYSCLOUD_OAUTHCLIENT_ID= GENESYSCLOUD_OAUTHCLIENT_SECRET= PURECLOUD_ENVIRONMENT= "
  .. "PURECLOUD_BASE_URL= PURECLOUD_LOGIN_URL= PURECLOUD_CLIENT_ID= PURECLOUD_SECRET= PURECLOUD_LOG= "
  .. "PURECLOUD_PROXY= PURECLOUD_CA_FILE= "
local PATHS = "LUA_PATH='./lua/?.lua;./lua/?/init.lua;;' LUA_CPATH='./build/lua5.4/?.so;;'"

local function sh(cmd)
  local ok = os.execute(cmd)
  return ok == true or ok == 0
end

-- run(home, args, env, stdin) → exit code, stdout, stderr
local function run(home, args, env, stdin)
  local out, err, input = os.tmpname(), os.tmpname(), os.tmpname()
  local f = assert(io.open(input, "wb"))
  f:write(stdin or "")
  f:close()
  local ok, _, code = os.execute(("HOME=%s %s %s %s lua5.4 bin/purecloud %s >%s 2>%s <%s"):format(
    quote(home), CLEAN, env or "", PATHS, args, out, err, input))
  local o, e = h.slurp(out), h.slurp(err)
  os.remove(out); os.remove(err); os.remove(input)
  return (ok == true or ok == 0) and 0 or code, o, e
end

local function mode(path)
  local p = assert(io.popen("stat -c %a " .. quote(path) .. " 2>/dev/null"))
  local m = p:read("l")
  p:close()
  return m
end

local function write(path, text, m)
  local f = assert(io.open(path, "wb"))
  f:write(text)
  f:close()
  assert(sh(("chmod %s %s"):format(m or "600", quote(path))))
end

local function tokens()
  return (emu.stats().tokens or {}).client_credentials or 0
end

local SECRET = "emulator-secret"
local DEAD = "http://127.0.0.1:9" -- the discard port: nothing answers

describe("purecloud profiles #cli", function()
  local home, cfgdir, cfg, cache
  local user_id
  lazy_setup(function() user_id = emu.users(1)[1].id end) -- (lazy: `busted --tags=hermetic` runs without an emulator)
  before_each(function()
    local p = assert(io.popen("mktemp -d"))
    home = p:read("l")
    p:close()
    cfgdir = home .. "/.config/purecloud"
    cfg = cfgdir .. "/config"
    cache = home .. "/.cache/purecloud"
  end)
  after_each(function()
    assert(sh("rm -rf " .. quote(home)))
    emu.clear_faults()
  end)

  -- The emulator's profile, added with the CLI (the secret on stdin).
  local function add_emu(name, extra)
    local code, _, err = run(home, ("profiles add %s --base-url %s --client-id emulator-client --secret-stdin %s")
      :format(name, emu.url, extra or ""), nil, SECRET .. "\n")
    assert.are.equal(0, code, err)
  end

  describe("profiles list|show|add|remove|use", function()
    it("adds a profile 0600 in a 0700 directory, lists it, shows it without its secret, uses and removes it", function()
      add_emu("emu")
      add_emu("other", "--use")
      assert.are.equal("600", mode(cfg))
      assert.are.equal("700", mode(cfgdir))
      local text = h.slurp(cfg)
      assert.matches("current = other", text, 1, true)
      assert.matches("[emu]", text, 1, true)

      local code, out = run(home, "profiles list")
      assert.are.equal(0, code)
      assert.matches("^  emu%s", out)
      assert.matches("\n%* other%s", out)

      local outputs = {}
      for _, a in ipairs({ "profiles show", "profiles show emu", "-p emu profiles show", "profiles list" }) do
        local c, o, e = run(home, a)
        assert.are.equal(0, c, e)
        outputs[#outputs + 1] = o .. e
      end
      assert.matches("[other]", outputs[1], 1, true)
      assert.matches("[emu]", outputs[2], 1, true)
      assert.matches("client_id = emulator-client", outputs[2], 1, true)
      assert.matches("client_secret = (set)", outputs[2], 1, true)
      for _, o in ipairs(outputs) do assert.is_nil(o:find(SECRET, 1, true), o) end

      assert.are.equal(0, (run(home, "profiles use emu")))
      assert.matches("current = emu", h.slurp(cfg), 1, true)
      assert.are.equal(0, (run(home, "profiles remove emu")))
      assert.is_nil(h.slurp(cfg):find("[emu]", 1, true))
      assert.is_nil(h.slurp(cfg):find("current = emu", 1, true))
      local c2, _, e2 = run(home, "profiles use emu")
      assert.are.equal(2, c2)
      assert.matches("no profile 'emu'", e2)
      assert.are.equal("600", mode(cfg))
    end)

    it("shows every secret key of a profile as (set): the secret, the command, the proxy, the key's pass phrase", function()
      write((function() assert(sh("mkdir -p -m 700 " .. quote(cfgdir))) return cfg end)(),
        "[emu]\nbase_url = " .. emu.url .. "\nclient_id = emulator-client\nclient_secret = " .. SECRET .. "\n"
        .. "client_cert = /etc/pc/client.crt\nclient_key = /etc/pc/client.key\n"
        .. "client_key_password = pass-" .. SECRET .. "\nproxy = http://u:proxy-" .. SECRET .. "@h:3128\n")
      local code, out = run(home, "profiles show emu")
      assert.are.equal(0, code)
      for key, spec in pairs(profile.KEYS) do
        if spec.secret and key ~= "secret_command" and key ~= "proxy" then
          assert.matches(key .. " = (set)", out, 1, true)
        end
      end
      assert.matches("proxy = http://u:(set)@h:3128", out, 1, true) -- (its password only)
      assert.matches("client_cert = /etc/pc/client.crt", out, 1, true)
      assert.is_nil(out:find(SECRET, 1, true))
    end)

    it("--cert and --key reach the client: a file that cannot be read is one clear line", function()
      local code, _, err = run(home, ("--base-url %s --cert %s/none.crt --key %s/none.key users list")
        :format(emu.url, home, home), "PURECLOUD_CLIENT_ID=emulator-client PURECLOUD_SECRET=" .. SECRET)
      assert.are_not.equal(0, code)
      assert.matches("option 'client_cert': cannot read the PEM file", err, 1, true)
      assert.is_nil(err:find("traceback", 1, true))
      assert.is_nil(err:find(SECRET, 1, true))
    end)

    it("updates only the settings given, keeping comments; a secret_command shows as (set), never runs", function()
      write((function() assert(sh("mkdir -p -m 700 " .. quote(cfgdir))) return cfg end)(),
        "# mine\n[emu]\nbase_url = " .. emu.url .. "\nclient_id = emulator-client\n"
        .. "secret_command = echo ran >" .. home .. "/ran; printf " .. SECRET .. "\n")
      local code, out = run(home, "profiles show emu")
      assert.are.equal(0, code)
      assert.matches("secret_command = (set)", out, 1, true)
      assert.is_nil(out:find(SECRET, 1, true))
      assert.is_nil(h.slurp(home .. "/ran"))
      assert.are.equal(0, (run(home, "profiles add emu --log-level debug")))
      local text = h.slurp(cfg)
      assert.matches("^# mine\n", text)
      assert.matches("log_level = debug", text, 1, true)
      assert.matches("secret_command = ", text, 1, true)
      -- and it is what the run uses
      local c2, out2, err2 = run(home, "-p emu users get " .. user_id .. " --log warn")
      assert.are.equal(0, c2, err2)
      assert.matches(user_id, out2, 1, true)
      assert.are.equal("ran\n", h.slurp(home .. "/ran"))
    end)

    it("never takes a secret on the command line, and refuses an invalid profile before writing it", function()
      local code, _, err = run(home, "profiles add emu --client-id x --secret " .. SECRET)
      assert.are.equal(2, code)
      assert.matches("unknown option '--secret'", err, 1, true)
      assert.is_nil(h.slurp(cfg))
      code, _, err = run(home, "profiles add emu --client-id x --secret-stdin --proxy ftp://p:" .. SECRET .. "@h:1",
        nil, "s\n")
      assert.are.equal(2, code)
      assert.matches("proxy", err)
      assert.is_nil(err:find(SECRET, 1, true))
      assert.is_nil(h.slurp(cfg))
    end)

    it("a config line it cannot read is an error naming the file and line, never quoting the value", function()
      assert(sh("mkdir -p -m 700 " .. quote(cfgdir)))
      write(cfg, "[emu]\nclient_id = a\nclient_secrt = " .. SECRET .. "\n")
      local code, _, err = run(home, "token")
      assert.are.equal(2, code)
      assert.matches(cfg .. ", line 3: unknown key 'client_secrt' in [emu] (did you mean 'client_secret'?)", err, 1, true)
      assert.is_nil(err:find(SECRET, 1, true))
    end)
  end)

  describe("the profile a run uses", function()
    -- good: the emulator; bad: a host where nothing answers.
    local function two()
      add_emu("good")
      assert.are.equal(0, (run(home, ("profiles add bad --base-url %s --client-id emulator-client --secret-stdin --use")
        :format(DEAD), nil, SECRET .. "\n")))
    end
    local function works(args, env)
      local code, out, err = run(home, args .. " users get " .. user_id .. " --max-retries 0", env)
      return code == 0 and out:find(user_id, 1, true) ~= nil, err
    end

    it("-p/--profile > PURECLOUD_PROFILE > the config's current > default", function()
      two()
      assert.is_false((works("")))                                 -- current = bad
      assert.is_true((works("-p good")))
      assert.is_true((works("--profile good")))
      assert.is_true((works("", "PURECLOUD_PROFILE=good")))
      assert.is_false((works("-p bad", "PURECLOUD_PROFILE=good")))  -- the flag wins
      local after = run(home, "users get " .. user_id .. " -p good --max-retries 0") -- after the command too
      assert.are.equal(0, after)
      -- no current: the profile named default
      local text = h.slurp(cfg):gsub("current = bad\n", "")
      write(cfg, text .. "\n[default]\nbase_url = " .. emu.url .. "\nclient_id = emulator-client\n"
        .. "client_secret = " .. SECRET .. "\n")
      assert.is_true((works("")))
      local code, _, err = run(home, "-p nope token")
      assert.are.equal(2, code)
      assert.matches("no profile 'nope' in " .. cfg, err, 1, true)
    end)

    it("hosts: --base-url > PURECLOUD_BASE_URL > the profile's, taken whole from one source", function()
      two()
      assert.is_false((works("-p bad")))
      assert.is_true((works("-p bad --base-url " .. emu.url)))
      assert.is_true((works("-p bad", "PURECLOUD_BASE_URL=" .. emu.url)))
      assert.is_false((works("-p good", "PURECLOUD_BASE_URL=" .. DEAD)))
      assert.is_true((works("-p good --base-url " .. emu.url, "PURECLOUD_BASE_URL=" .. DEAD)))
    end)

    it("credentials: the environment's (PURECLOUD_* or GENESYSCLOUD_*) over the profile's, as a pair", function()
      add_emu("good")
      assert.are.equal(0, (run(home, ("profiles add wrong --base-url %s --client-id emulator-client --secret-stdin")
        :format(emu.url), nil, "wrong-secret\n")))
      assert.is_false((works("-p wrong")))
      assert.is_true((works("-p wrong", "PURECLOUD_SECRET=" .. SECRET .. " PURECLOUD_CLIENT_ID=emulator-client")))
      assert.is_true((works("-p wrong", "GENESYSCLOUD_OAUTHCLIENT_SECRET=" .. SECRET
        .. " GENESYSCLOUD_OAUTHCLIENT_ID=emulator-client")))
      -- an id from the environment never goes with the profile's secret
      local ok, err = works("-p good", "PURECLOUD_CLIENT_ID=emulator-client")
      assert.is_false(ok)
      assert.matches("a client id (from env PURECLOUD_CLIENT_ID) but no secret", err, 1, true)
    end)
  end)

  describe("the precedence table (purecloud.profile.SETTINGS), row by row", function()
    local FLAG = { environment = "mypurecloud.ie", base_url = "http://flag", login_url = "http://flag-login",
                   proxy = "http://flag:1", ca_file = "/flag.pem", log = "trace", pace = false,
                   client_cert = "/flag.crt", client_key = "/flag.key" }
    local ENV = { environment = "eu-central-1", base_url = "http://env", login_url = "http://env-login",
                  client_id = "env-id", client_secret = "env-secret", proxy = "http://env:1", ca_file = "/env.pem",
                  log = "debug", client_cert = "/env.crt", client_key = "/env.key", client_key_password = "env-pw" }
    local PROFILE_VALUE = { environment = "mypurecloud.jp", base_url = "http://prof", login_url = "http://prof-login",
                            client_id = "prof-id", client_secret = "prof-secret", proxy = "http://prof:1",
                            ca_file = "/prof.pem", log_level = "info", pace = "false", client_cert = "/prof.crt",
                            client_key = "/prof.key", client_key_password = "prof-pw" }
    local function doc_with(values)
      local d = profile.parse("", "cfg")
      if values then profile.set(d, "default", values) end
      return d
    end
    local function key_of(row)
      return ({ log = "log_level", client_secret = "client_secret" })[row.name] or row.name
    end

    it("every row: flag > each environment variable in order > profile > default", function()
      local checked = 0
      for _, row in ipairs(profile.SETTINGS) do
        local name = row.name
        if name ~= "profile" and name ~= "token_cache" then
          local pkey = key_of(row)
          local pv = PROFILE_VALUE[pkey]
          local expect_p = profile.environment(pv)
          if name == "log" then expect_p = "info" elseif name == "pace" then expect_p = false end
          -- profile over the default
          local o, _, from = profile.resolve({}, function() return nil end, doc_with({ [pkey] = pv }))
          assert.are.equal(expect_p, o[name], name)
          assert.are.equal("profile", from[name], name)
          local d = doc_with()
          o = profile.resolve({}, function() return nil end, d)
          assert.is_nil(o[name], name) -- the library's default applies
          -- each variable over the profile, the first over the later ones
          for i, var in ipairs(row.env or {}) do
            local env = {}
            for j = i, #row.env do env[row.env[j]] = ENV[name] .. (j == i and "" or "-later") end
            o, _, from = profile.resolve({}, function(n) return env[n] end, doc_with({ [pkey] = pv }))
            assert.are.equal(profile.environment(ENV[name]), o[name], name .. " " .. var)
            assert.are.equal("env " .. var, from[name], name)
          end
          -- the flag over everything
          if row.flag then
            local env = {}
            for _, var in ipairs(row.env or {}) do env[var] = ENV[name] end
            o, _, from = profile.resolve({ [name] = FLAG[name] }, function(n) return env[n] end,
              doc_with({ [pkey] = pv }))
            assert.are.equal(FLAG[name], o[name], name .. " flag")
            assert.are.equal("flag", from[name], name)
          end
          checked = checked + 1
        end
      end
      assert.are.equal(#profile.SETTINGS - 2, checked)
    end)

    it("GENESYSCLOUD_REGION and region names (eu-west-1, eu_west_1) map to environments by regions.lua", function()
      local o = profile.resolve({}, function(n) return n == "GENESYSCLOUD_REGION" and "eu-west-1" or nil end,
        doc_with())
      assert.are.equal("eu_west_1", o.environment)
      assert.are.equal("mypurecloud.ie", require("purecloud.regions")[o.environment])
      assert.are.equal("ap_southeast_2", profile.environment("ap-southeast-2"))
      assert.are.equal("mypurecloud.ie", profile.environment("mypurecloud.ie"))
    end)

    it("hosts and credentials are each taken whole from one source", function()
      local env = { PURECLOUD_ENVIRONMENT = "mypurecloud.ie", PURECLOUD_CLIENT_ID = "env-id",
                    PURECLOUD_SECRET = "env-secret" }
      local o = profile.resolve({}, function(n) return env[n] end,
        doc_with({ base_url = "http://prof", client_id = "prof-id", client_secret = "prof-secret" }))
      assert.is_nil(o.base_url) -- the environment's environment is not overridden by the profile's base_url
      assert.are.equal("env-secret", o.client_secret)
      o = profile.resolve({ environment = "mypurecloud.de" }, function(n) return env[n] end,
        doc_with({ base_url = "http://prof" }))
      assert.are.equal("mypurecloud.de", o.environment)
      assert.is_nil(o.base_url)
      o = profile.resolve({}, function(n) return n == "PURECLOUD_CLIENT_ID" and "env-id" or nil end,
        doc_with({ client_id = "prof-id", client_secret = "prof-secret" }))
      assert.are.equal("env-id", o.client_id)
      assert.is_nil(o.client_secret)
    end)

    it("is the README's table: each row's flag and variables in its line", function()
      local readme = h.slurp("README.md")
      local tbl = readme:match("| setting | flag | environment | profile key | default |\n(.-)\n\n")
      assert.is_string(tbl, "the precedence table in the README")
      for _, row in ipairs(profile.SETTINGS) do
        local line = tbl:match("\n?(| `" .. row.name:gsub("_", "%%_") .. "` |[^\n]*)")
        assert.is_string(line, row.name)
        if row.flag then assert.matches("`" .. row.flag .. "`", line, 1, true) end
        for _, var in ipairs(row.env or {}) do assert.matches("`" .. var .. "`", line, 1, true) end
      end
    end)
  end)

  describe("files that hold secrets", function()
    it("a config file readable by group or others is refused, naming it and the chmod 600 fix", function()
      add_emu("emu", "--use")
      for _, m in ipairs({ "640", "604", "660", "644" }) do
        assert(sh("chmod " .. m .. " " .. quote(cfg)))
        local code, out, err = run(home, "users get " .. user_id)
        assert.are.equal(2, code, m)
        assert.are.equal("", out)
        assert.matches("the config file " .. cfg .. " is accessible by", err, 1, true)
        assert.matches(("(mode 0%s)"):format(m), err, 1, true)
        assert.matches("run: chmod 600 " .. cfg, err, 1, true)
        assert.is_nil(err:find(SECRET, 1, true))
      end
      assert(sh("chmod 600 " .. quote(cfg)))
      assert.are.equal(0, (run(home, "users get " .. user_id)))
    end)

    it("a token cache readable by others, or a symbolic link, is refused", function()
      add_emu("emu", "--use")
      assert.are.equal(0, (run(home, "token")))
      local file = cache .. "/emu.token"
      assert.are.equal("600", mode(file))
      assert.are.equal("700", mode(cache))
      assert(sh("chmod 644 " .. quote(file)))
      local code, _, err = run(home, "users get " .. user_id)
      assert.are.equal(2, code)
      assert.matches("the token cache " .. file .. " is accessible by group and others (mode 0644)", err, 1, true)
      assert.matches("run: chmod 600 " .. file, err, 1, true)
      assert(sh("chmod 600 " .. quote(file)))
      assert(sh(("mv %s %s/elsewhere && ln -s %s/elsewhere %s"):format(quote(file), home, home, quote(file))))
      code, _, err = run(home, "users get " .. user_id)
      assert.are.equal(2, code)
      assert.matches("the token cache " .. file .. " is a symbolic link: refused", err, 1, true)
    end)
  end)

  describe("the token cache", function()
    local function get(env, extra)
      local code, out, err = run(home, (extra or "") .. " users get " .. user_id, env)
      assert.are.equal(0, code, err)
      assert.matches(user_id, out, 1, true)
    end
    local function cached()
      local text = h.slurp(cache .. "/emu.token")
      return text and text:match("\t([^\t]+)\t%d+\t%d+\n")
    end

    it("is reused by consecutive runs: two runs, one token request", function()
      add_emu("emu", "--use")
      local before = tokens()
      get()
      get()
      assert.are.equal(1, tokens() - before)
      -- without it each run asks (the count above measures the cache)
      before = tokens()
      get(nil, "--no-token-cache")
      get("PURECLOUD_TOKEN_CACHE=off")
      assert.are.equal(2, tokens() - before)
    end)

    it("is per profile", function()
      add_emu("emu", "--use")
      add_emu("emu2")
      local before = tokens()
      get()
      get(nil, "-p emu2")
      get(nil, "-p emu2")
      get()
      assert.are.equal(2, tokens() - before)
      assert.is_string(h.slurp(cache .. "/emu2.token"))
    end)

    it("is dropped on a 401: the next run renews once, replays, and caches the new token", function()
      add_emu("emu", "--use")
      get()
      local old = cached()
      assert.is_string(old)
      emu.revoke()
      local before = tokens()
      get()
      assert.are.equal(1, tokens() - before)
      assert.is_string(cached())
      assert.are_not.equal(old, cached())
      before = tokens()
      get()
      assert.are.equal(0, tokens() - before)
    end)

    it("loses the token a 401 rejected even when the renewal then fails", function()
      add_emu("emu", "--use")
      get()
      local old = cached()
      emu.revoke()
      -- the renewal will be refused: the profile's secret is now wrong (the emulator has no token faults)
      assert.are.equal(0, (run(home, "profiles add emu --secret-stdin", nil, "wrong-secret\n")))
      local code = run(home, "users get " .. user_id .. " --max-retries 0")
      assert.are.equal(1, code)
      assert.are_not.equal(old, cached()) -- gone from the file, not only from the run's memory
    end)

    it("is used until the keeper's margin before expiry, not after", function()
      add_emu("emu", "--use")
      get()
      local file = cache .. "/emu.token"
      local function expires_in(seconds)
        local text = h.slurp(file):gsub("\t(%d+)\t(%d+)\n", function(_, life)
          return ("\t%d\t%s\n"):format(os.time() + seconds, life)
        end)
        write(file, text)
      end
      local lifetime = tonumber(h.slurp(file):match("\t%d+\t(%d+)\n"))
      local margin = token_store.margin(lifetime)
      expires_in(margin + 30)
      local before = tokens()
      get()
      assert.are.equal(0, tokens() - before)
      expires_in(margin - 5)
      get()
      assert.are.equal(1, tokens() - before)
    end)

    it("has the token keeper's margin", function()
      local keeper = require("purecloud.token").new{ auth = {}, login_url = "http://x" }
      for _, ttl in ipairs({ 1, 30, 300, 599, 600, 601, 3600, 86400 }) do
        keeper.ttl = ttl
        assert.are.equal(keeper:margin(), token_store.margin(ttl), ttl)
      end
    end)

    it("logout and token --revoke clear it: the next run asks for a new token", function()
      add_emu("emu", "--use")
      get()
      assert.is_string(cached())
      local code, _, err = run(home, "logout")
      assert.are.equal(0, code)
      assert.matches("profile 'emu': the cached token is removed", err, 1, true)
      assert.is_nil(h.slurp(cache .. "/emu.token"))
      local before = tokens()
      get()
      assert.are.equal(1, tokens() - before)
      assert.are.equal(0, (run(home, "token --revoke")))
      assert.is_nil(h.slurp(cache .. "/emu.token"))
      get()
      assert.are.equal(2, tokens() - before)
    end)
  end)

  describe("purecloud.new{ profile = … } from Lua", function()
    local function lua(code, env)
      local p = assert(io.popen(("HOME=%s %s %s %s lua5.4 -e %s 2>&1"):format(quote(home), CLEAN, env or "",
        PATHS, quote(code))))
      local out = p:read("a")
      p:close()
      return out
    end
    local PRE = "local purecloud = require 'purecloud' "

    it("reads the profile; explicit options win over it", function()
      assert.are.equal(0, (run(home, ("profiles add emu --base-url %s --client-id emulator-client --secret-stdin")
        :format(DEAD), nil, SECRET .. "\n")))
      local get = ("local u, err = c.users.get_user_id(%q) print(u and u.id or tostring(err))"):format(user_id)
      local out = lua(PRE .. "local c = purecloud.new{ profile = 'emu', retry = false, base_url = '" .. emu.url
        .. "' } " .. get)
      assert.are.equal(user_id .. "\n", out)
      -- without the override, the profile's (dead) host
      out = lua(PRE .. "local c = purecloud.new{ profile = 'emu', retry = false, connect_timeout = 1 } " .. get)
      assert.matches("transport", out)
      -- the profile's secret with an explicit id would mix sources: not taken
      out = lua(PRE .. "print(pcall(purecloud.new, { profile = 'emu', client_id = 'someone' }))")
      assert.matches("client_id' needs 'client_secret", out, 1, true)
      -- PURECLOUD_CONFIG names the file
      assert(sh(("mv %s %s/elsewhere"):format(quote(cfg), home)))
      out = lua(PRE .. "local c = purecloud.new{ profile = 'emu', retry = false, base_url = '" .. emu.url
        .. "' } " .. get, "PURECLOUD_CONFIG=" .. home .. "/elsewhere")
      assert.are.equal(user_id .. "\n", out)
    end)

    it("a missing profile or an open file raises naming the caller's line and the file", function()
      add_emu("emu")
      local out = lua(PRE .. "print(pcall(purecloud.new, { profile = 'nope' }))")
      assert.matches("no profile 'nope' in " .. cfg, out, 1, true)
      out = lua(PRE .. "local ok, e = pcall(function() local c = purecloud.new{ profile = 'nope' } return c end) print(e)")
      assert.matches("^%(command line%):1: purecloud: no profile", out)
      assert(sh("chmod 644 " .. quote(cfg)))
      out = lua(PRE .. "print(pcall(purecloud.new, { profile = 'emu' }))")
      assert.matches("run: chmod 600 " .. cfg, out, 1, true)
      assert.is_nil(out:find(SECRET, 1, true))
    end)
  end)

  describe("profiles import-gc", function()
    it("copies gc's client-credentials profiles (~/.gc/config.toml), DEFAULT as default", function()
      assert(sh("mkdir -p " .. quote(home .. "/.gc")))
      write(home .. "/.gc/config.toml", ('[DEFAULT]\nenvironment = "%s"\nclient_credentials = "emulator-client"\n'
        .. 'client_secret = "%s"\nlogging_enabled = false\n\n[eu]\nenvironment = \'eu-west-1\'\n'
        .. 'client_credentials = "id2"\nclient_secret = "s2" # a comment\n\n[user]\naccess_token = "tok"\n')
        :format("unused.example", SECRET))
      local code, _, err = run(home, "profiles import-gc")
      assert.are.equal(0, code, err)
      assert.matches("gc profile 'user' skipped", err, 1, true)
      assert.matches("2 profile(s) imported", err, 1, true)
      assert.are.equal("600", mode(cfg))
      local doc = profile.parse(h.slurp(cfg), cfg)
      assert.are.same({ "default", "eu" }, doc.names)
      assert.are.equal("emulator-client", doc.profiles.default.client_id)
      assert.are.equal(SECRET, doc.profiles.default.client_secret)
      assert.are.equal("eu_west_1", doc.profiles.eu.environment)
      -- a second import keeps what is there unless --force
      code, _, err = run(home, "profiles import-gc")
      assert.are.equal(0, code)
      assert.matches("a profile of that name exists", err, 1, true)
      assert.matches("0 profile(s) imported", err, 1, true)
      -- the imported default works against the emulator once its host is set
      assert.are.equal(0, (run(home, "profiles add default --base-url " .. emu.url)))
      code = run(home, "users get " .. user_id)
      assert.are.equal(0, code)
    end)
  end)
end)
