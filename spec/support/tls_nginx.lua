-- A plain nginx for the transport specs (mutual TLS, a gateway with a path
-- prefix): its own configuration and prefix in a temporary folder, on a free
-- port of 127.0.0.1, in front of an emulator. Certificates are made with the
-- openssl command at test time (M.certs). Each server is stopped by the spec
-- that started it (`server:stop()`, in a `finally` or `teardown`).
local nginx = require "support.nginx"

local M = {}

local function sh_quote(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

-- The servers and tools run without the sanitizer runtime tools/asan-specs
-- preloads into the spec process (an nginx or curl under it hangs): only
-- the library under test is checked.
local CLEAN = "env -u LD_PRELOAD "
M.CLEAN = CLEAN

local function run(cmd)
  local ok = os.execute(CLEAN .. "sh -c " .. sh_quote(cmd) .. " >/dev/null 2>&1")
  return ok == true or ok == 0
end

local function read(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
end
M.read = read

local function write(path, text)
  local f = assert(io.open(path, "wb"))
  f:write(text)
  f:close()
end

--- The lines of an access log written in this module's format
-- ("$connection $connection_requests $server_protocol $request_method $request_uri $status",
-- as the emulator's TLS log too):
-- `{ connection, requests, protocol, method, uri, status }` each.
function M.access(path)
  local out = {}
  for line in (read(path) or ""):gmatch("[^\n]+") do
    local conn, n, proto, method, uri, status = line:match("^(%d+) (%d+) (%S+) (%S+) (%S+) (%d+)$")
    if conn then
      out[#out + 1] = { connection = tonumber(conn), requests = tonumber(n), protocol = proto, method = method,
        uri = uri, status = tonumber(status) }
    end
  end
  return out
end

--- A fresh temporary folder (removed by M.remove).
function M.tmpdir()
  local p = io.popen(CLEAN .. "mktemp -d /tmp/purecloud-tls.XXXXXX")
  local dir = p:read("l")
  p:close()
  assert(dir and dir ~= "", "mktemp -d failed")
  return dir
end

function M.remove(dir)
  if dir and dir:find("^/tmp/purecloud%-tls%.") then run("rm -rf " .. sh_quote(dir)) end
end

--- Certificates in `dir`: a CA (ca.crt), a server certificate for localhost
-- and 127.0.0.1 (server.crt, server.key), a client certificate signed by
-- the CA (client.crt) with its key in the clear (client.key) and encrypted
-- with `password` (client.enc.key, AES-256), and a client certificate of
-- another CA (other.crt, other.key) that the server must not accept.
function M.certs(dir, password)
  local q = sh_quote
  local function ok(cmd) assert(run("cd " .. q(dir) .. " && " .. cmd), "openssl failed: " .. cmd) end
  ok("openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj '/CN=purecloud spec CA' -keyout ca.key -out ca.crt")
  write(dir .. "/server.ext", "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n")
  ok("openssl req -newkey rsa:2048 -nodes -subj '/CN=localhost' -keyout server.key -out server.csr")
  ok("openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 "
    .. "-extfile server.ext -out server.crt")
  write(dir .. "/client.ext", "extendedKeyUsage=clientAuth\nbasicConstraints=CA:FALSE\n")
  ok("openssl req -newkey rsa:2048 -nodes -subj '/CN=purecloud spec client' -keyout client.key -out client.csr")
  ok("openssl x509 -req -in client.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 "
    .. "-extfile client.ext -out client.crt")
  ok("openssl pkey -in client.key -aes256 -passout " .. q("pass:" .. password) .. " -out client.enc.key")
  ok("openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj '/CN=someone else' -keyout other.key -out other.crt")
  return {
    ca = dir .. "/ca.crt", server_cert = dir .. "/server.crt", server_key = dir .. "/server.key",
    client_cert = dir .. "/client.crt", client_key = dir .. "/client.key",
    client_key_encrypted = dir .. "/client.enc.key", other_cert = dir .. "/other.crt", other_key = dir .. "/other.key",
  }
end

local function free_port()
  local p = io.popen(CLEAN .. "emulator/ctl free-port")
  local port = tonumber(p:read("l"))
  p:close()
  return assert(port, "emulator/ctl free-port gave no port")
end

--- Start nginx with `server_body` (the inside of one server block; @PORT@
-- stands for its port) in a folder of its own. Every request is logged to
-- logs/access.log as "connection requests_on_it protocol method uri status".
-- Returns { port, prefix, access = function() → entries, stop = function() }.
function M.start(server_body, opts)
  opts = opts or {}
  local prefix = opts.prefix or M.tmpdir()
  run("mkdir -p " .. sh_quote(prefix .. "/logs") .. " " .. sh_quote(prefix .. "/tmp"))
  local user = io.popen(CLEAN .. "id -u"):read("l") == "0" and "user root root;\n" or ""
  for _ = 1, 10 do
    local port = free_port()
    local conf = user .. ([[
daemon on;
worker_processes 1;
pid @PREFIX@/logs/nginx.pid;
error_log @PREFIX@/logs/error.log warn;
events { worker_connections 1024; }
http {
  log_format spec '$connection $connection_requests $server_protocol $request_method $request_uri $status';
  access_log @PREFIX@/logs/access.log spec;
  client_body_temp_path @PREFIX@/tmp;
  proxy_temp_path @PREFIX@/tmp;
  fastcgi_temp_path @PREFIX@/tmp;
  uwsgi_temp_path @PREFIX@/tmp;
  scgi_temp_path @PREFIX@/tmp;
  server {
@BODY@
  }
}
]]):gsub("@BODY@", function() return server_body end):gsub("@PREFIX@", prefix):gsub("@PORT@", tostring(port))
    write(prefix .. "/nginx.conf", conf)
    if run("nginx -p " .. sh_quote(prefix) .. " -c " .. sh_quote(prefix .. "/nginx.conf") .. " -e "
      .. sh_quote(prefix .. "/logs/error.log") .. " 2>" .. sh_quote(prefix .. "/logs/start.err")) then
      local server = { port = port, prefix = prefix }
      function server.access() return M.access(prefix .. "/logs/access.log") end
      function server.stop()
        nginx.stop(prefix .. "/logs/nginx.pid")
        if not opts.prefix then M.remove(prefix) end
      end
      return server
    end
    local why = read(prefix .. "/logs/start.err") or ""
    if not why:find("Address already in use", 1, true) then
      if not opts.prefix then M.remove(prefix) end
      error("nginx did not start:\n" .. why .. (read(prefix .. "/logs/error.log") or ""))
    end
  end
  error("nginx found no free port in 10 tries")
end

return M
