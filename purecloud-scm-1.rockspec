-- LuaRocks 3.8 on Debian 12, offline: the only dependency is the Lua range
-- (lua-cjson comes from Debian's lua-cjson package, which LuaRocks cannot
-- see), libcurl declared by library only (its header lives in the multiarch
-- include dir, which gcc finds but LuaRocks 3.8 does not). The version lives
-- in the VERSION file: `make rockspec` writes the release rockspec
-- rockspecs/purecloud-<VERSION>-1.rockspec from this one (tag v<VERSION>),
-- and `make rock` one with a local source URL, then packs the source and
-- binary rocks. Installed, the rock also ships the emulator (purecloud.testing,
-- purecloud-emulator): nginx with lua-nginx-module (Debian: nginx,
-- libnginx-mod-http-lua) and the curl command line are needed only to run it.
rockspec_format = "3.0"
package = "purecloud"
version = "scm-1"
source = {
   url = "git+https://github.com/purecloud-lua/purecloud.git",
}
description = {
   summary = "PureCloud (Genesys Cloud) Platform API v2 Users API for Lua, with a C core",
   detailed = [[
A C core (libcurl transport, OAuth token state machine, schema-driven JSON
encoding and validation generated from the API contract) exposed as
purecloud.core, with Lua modules: purecloud (client), purecloud.users (the 36
Users API operations), and pagination / bounded-concurrency helpers, and the
purecloud command line. Lua 5.1 to 5.4 and LuaJIT 2.1. The emulator for testing
automation offline ships with it: purecloud.testing and purecloud-emulator.
Runtime dependencies: lua-cjson (Debian: apt-get install lua-cjson); for profiles and the
token cache lua-filesystem (apt-get install lua-filesystem); for the command line lua-argparse.
]],
   license = "MIT",
   labels = { "purecloud", "genesys", "api", "http", "curl" },
}
dependencies = {
   "lua >= 5.1, < 5.5",
}
external_dependencies = {
   CURL = { library = "curl" },
   HIREDIS = { header = "hiredis/hiredis.h" },
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
      HIREDIS_LIBS = "-L$(HIREDIS_LIBDIR) -lhiredis",
      WERROR = "",
   },
   install_target = "install",
   install_variables = {
      LUA = "$(LUA)",
      LIBDIR = "$(LIBDIR)",
      LUADIR = "$(LUADIR)",
      BINDIR = "$(BINDIR)",
   },
}
test = {
   -- Run by LuaRocks' own Lua: builds for it and runs the specs (make specs);
   -- installs no system package.
   type = "command",
   script = "spec/packaging/luarocks_test.lua",
}
