-- LuaRocks 3.8 on Debian 12, offline: no `dependencies` (lua-cjson comes from
-- Debian's lua-cjson package, which LuaRocks cannot see), libcurl declared by
-- library only (its header lives in the multiarch include dir, which gcc finds
-- but LuaRocks 3.8 does not), and a `command` test type (the busted type would
-- try to fetch busted).
rockspec_format = "3.0"
package = "purecloud"
version = "scm-1"
source = {
   url = "git+file:///purecloud",
}
description = {
   summary = "PureCloud (Genesys Cloud) Platform API v2 Users API for Lua, with a C core",
   detailed = [[
A C core (libcurl transport, OAuth token state machine, schema-driven JSON
encoding and validation generated from the API contract) exposed as
purecloud.core, with Lua modules: purecloud (client), purecloud.users (the 36
Users API operations), and pagination / bounded-concurrency helpers.
Runtime dependency: lua-cjson (Debian: apt-get install lua-cjson).
]],
   license = "MIT",
   labels = { "purecloud", "genesys", "api", "http", "curl" },
}
external_dependencies = {
   CURL = { library = "curl" },
}
build = {
   type = "make",
   build_target = "all",
   build_variables = {
      CFLAGS = "$(CFLAGS)",
      LIBFLAG = "$(LIBFLAG)",
      LUA_INCDIR = "$(LUA_INCDIR)",
      LUA = "$(LUA)",
      CURL_LIBS = "-L$(CURL_LIBDIR) -lcurl",
   },
   install_target = "install",
   install_variables = {
      LIBDIR = "$(LIBDIR)",
      LUADIR = "$(LUADIR)",
      BINDIR = "$(BINDIR)",
   },
}
test = {
   type = "command",
   command = "make test",
}
