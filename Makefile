# purecloud — build, test and tooling entry points.
#   make            build the C modules for $(LUA) (default lua5.4) into build/lua5.4/purecloud/:
#                   core.so (no libcurl) and transport/curl.so (libcurl, loaded at a client's first request)
#   make test       bootstrap, build, start the emulator, run every spec, stop it
#   make demo       bootstrap, build, start the emulator, run examples/demo.lua
#   make check      luacheck + cppcheck + -Werror builds (5.4 and LuaJIT)
#   make luajit     build for LuaJIT / nginx into build/luajit/purecloud/
#   make lua5.1 | lua5.2 | lua5.3 | lua5.4   build for that Lua into build/lua5.X/purecloud/
#   make test-matrix  run the spec suite on Lua 5.1, 5.2, 5.3, 5.4 (and LuaJIT inside nginx)
#   make rock       a source rock and a binary rock into build/rock (offline)
#   make rockspec   the release rockspec rockspecs/purecloud-$(VERSION)-1.rockspec (tag v$(VERSION)) from the dev one
#   make specs      build and run the specs without bootstrapping (what `luarocks test` runs)
#   make derive     derive api/today/swagger.json from the pinned official JS SDK (tools/package-lock.json)
#   make generate   derive, then regenerate csrc/models/generated.c, lua/purecloud/{users,presence,
#                   authorization,routing,groups}.lua and docs/operations.md from api/today/swagger.json
#   make contract   run the specs through Prism's validating proxy (see tools/contract-check)
#   make fresh-check  make test on a throwaway minimal Debian 12 root (debootstrap; slow; as root)
#   make valgrind | asan-test | fuzz   memory checks and fuzzing of the C core (slow; not part of test)
#   make bench | docs                  benchmarks (bench/) and LDoc reference (build/doc)
#   make nginx-example  start examples/nginx (two workers) against a running emulator; prints its URLs
# Variables LuaRocks passes (LUA, CFLAGS, LIBFLAG, LUA_INCDIR, LIBDIR, LUADIR, WERROR) are honoured.
# One version, in one place: the VERSION file (rock version, core._VERSION, purecloud --version).

LUA        ?= lua5.4
# build/<LUAV>: one output folder per Lua (lua5.1 … lua5.4, luajit), so a
# build for one Lua is never installed for another.
LUAV       := $(patsubst luajit%,luajit,$(notdir $(LUA)))
LUA_SHORT  := $(if $(filter luajit,$(LUAV)),5.1,$(patsubst lua%,%,$(LUAV)))
LUA_INCDIR ?= /usr/include/$(LUAV)
LUAJIT_INCDIR ?= /usr/include/luajit-2.1
CC         ?= cc
CFLAGS     ?= -O2 -fPIC
LIBFLAG    ?= -shared
CURL_LIBS  ?= -lcurl
# The rock build passes WERROR= (a newer compiler's new warning must not break
# a user's install); every other build, and `make check`, keep -Werror.
WERROR     ?= -Werror
WARN       := -Wall -Wextra $(WERROR) -std=c99 -D_POSIX_C_SOURCE=200809L -fvisibility=hidden
BUSTED     ?= $(LUA) /usr/bin/busted
LUADIR     ?= $(DESTDIR)/usr/local/share/lua/$(LUA_SHORT)
LIBDIR     ?= $(DESTDIR)/usr/local/lib/lua/$(LUA_SHORT)
BINDIR     ?= $(DESTDIR)/usr/local/bin
PC_VERSION := $(shell cat VERSION)

SRCS := $(sort $(wildcard csrc/*.c csrc/*/*.c))
HDRS := $(sort $(wildcard csrc/*.h csrc/*/*.h))
LUASRC := $(sort $(wildcard lua/purecloud/*.lua lua/purecloud/*/*.lua))
# Two modules: purecloud.core (JSON, models, protocol, auth; no libcurl, so
# `require "purecloud"` stays cheap) and purecloud.transport.curl (libcurl
# and the few shared helpers it needs: errors.c builds error objects with the
# metatable core registered, the module requires core first; text.c is the
# header rule and the wipe, which buf.c uses). It decodes a
# 2xx body straight from the transfer's buffer with core's own decoder,
# found in the registry (csrc/json/json.h, PC_JSON_API): one decoder and one
# string cache per Lua state.
CURL_SRCS := csrc/transport/curl.c csrc/buf.c csrc/class.c csrc/protocol/errors.c csrc/text.c
CORE_SRCS := $(filter-out csrc/transport/% csrc/store/%,$(SRCS))
# purecloud.store.hiredis: the Redis connection of purecloud.store.redis
# outside nginx, the only module linked with libhiredis (loaded at a Redis
# store's first use). The password is one of the scrub's secrets (errors.c).
HIREDIS_SRCS := csrc/store/hiredis.c csrc/class.c csrc/protocol/errors.c csrc/buf.c csrc/text.c
HIREDIS_LIBS ?= -lhiredis

MOD    := build/$(LUAV)/purecloud/core.so
MODCURL := build/$(LUAV)/purecloud/transport/curl.so
MODREDIS := build/$(LUAV)/purecloud/store/hiredis.so
MODJIT := build/luajit/purecloud/core.so build/luajit/purecloud/transport/curl.so build/luajit/purecloud/store/hiredis.so
MATRIX ?= 5.1 5.2 5.3 5.4
MATRIX_TIMEOUT ?= 1800

.PHONY: derive all luajit lua5.1 lua5.2 lua5.3 lua5.4 test demo check lint cppcheck emulator generate generate-check \
        contract install clean bootstrap asan asan-test valgrind bench docs fuzz rock specs test-matrix \
        fresh-check nginx-example

all: $(MOD) $(MODCURL) $(MODREDIS)

lua5.1 lua5.2 lua5.3 lua5.4: %: build/%/purecloud/core.so build/%/purecloud/transport/curl.so build/%/purecloud/store/hiredis.so
luajit: $(MODJIT)

# Headers for build/<stem>: LUA_INCDIR for the Lua being built (LuaRocks
# passes it), the Debian path for the others.
incdir = $(if $(filter $(1),$(LUAV)),$(LUA_INCDIR),$(if $(filter luajit,$(1)),$(LUAJIT_INCDIR),/usr/include/$(1)))

build/%/purecloud/core.so: $(CORE_SRCS) $(HDRS) Makefile VERSION
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(WARN) -DPC_VERSION='"$(PC_VERSION)"' -I$(call incdir,$*) -Icsrc $(LIBFLAG) -o $@ $(CORE_SRCS)

build/%/purecloud/transport/curl.so: $(CURL_SRCS) $(HDRS) Makefile VERSION
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(WARN) -DPC_VERSION='"$(PC_VERSION)"' -I$(call incdir,$*) -Icsrc $(LIBFLAG) -o $@ $(CURL_SRCS) $(CURL_LIBS)

build/%/purecloud/store/hiredis.so: $(HIREDIS_SRCS) $(HDRS) Makefile VERSION
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(WARN) -DPC_VERSION='"$(PC_VERSION)"' -I$(call incdir,$*) -Icsrc $(LIBFLAG) -o $@ $(HIREDIS_SRCS) $(HIREDIS_LIBS)

bootstrap:
	@./tools/bootstrap

# The README's test command. Bootstraps, builds, runs every spec against a
# freshly started emulator and exits non-zero on any failure.
test: bootstrap
	@$(MAKE) --no-print-directory all luajit asan
	@./tools/asan-specs
	@./tools/run-specs

# (the demo needs no npm package: neither Prism nor the SDK the contract is derived from)
demo:
	@PURECLOUD_BOOTSTRAP_PRISM=0 ./tools/bootstrap
	@$(MAKE) --no-print-directory all
	@./tools/run-demo

emulator:
	@./emulator/ctl run

# `make test` on a throwaway bare Debian 12 (debootstrap minbase, cached in
# build/fresh/), from a clean clone plus the working tree, as root. Slow; not
# part of `make test`. See tools/fresh-check.
fresh-check:
	@./tools/fresh-check

check: bootstrap lint cppcheck
	@$(MAKE) --no-print-directory -B all luajit
	@$(MAKE) --no-print-directory generate-check

lint:
	luacheck -q lua spec emulator tools examples bench bin/purecloud bin/purecloud-emulator

cppcheck:
	cppcheck --quiet --error-exitcode=1 --enable=warning,performance,portability \
	  --inline-suppr --suppress=missingIncludeSystem --suppress=toomanyconfigs -I csrc -I $(LUA_INCDIR) csrc

# Today's contract, derived from the pinned official JS SDK (tools/package-lock.json),
# then the generated C tables, one Lua module per API class and docs/operations.md.
GEN_OUT := csrc/models/generated.c lua/purecloud docs/operations.md
derive:
	$(LUA) tools/derive-contract.lua

generate: derive
	$(LUA) tools/gen-models.lua api/today/swagger.json $(GEN_OUT)

generate-check:
	@$(LUA) tools/derive-contract.lua --check
	@$(LUA) tools/gen-models.lua --check api/today/swagger.json $(GEN_OUT)

contract: bootstrap
	@$(MAKE) --no-print-directory all
	@./tools/contract-check

# What the emulator reads at start (emulator/ctl, emu.state, emu.contract).
EMULATOR_API := api/users-api.json api/today.lua api/today/swagger.json
install: $(MOD) $(MODCURL) $(MODREDIS)
	install -d $(LIBDIR)/purecloud/transport $(LIBDIR)/purecloud/store $(LUADIR)/purecloud
	install -m 0755 $(MOD) $(LIBDIR)/purecloud/core.so
	install -m 0755 $(MODCURL) $(LIBDIR)/purecloud/transport/curl.so
	install -m 0755 $(MODREDIS) $(LIBDIR)/purecloud/store/hiredis.so
	cd lua && for f in $$(find purecloud -name '*.lua'); do install -D -m 0644 $$f $(LUADIR)/$$f; done
	install -D -m 0755 bin/purecloud $(BINDIR)/purecloud
	@# The emulator, for users' own specs (purecloud.testing, purecloud-emulator): its ctl, Lua and
	@# conf files, and the contract files it reads at start, beside the purecloud.testing module.
	for f in $$(cd emulator && find . -type f ! -name README.md | sort); do \
	  install -D -m 0644 emulator/$$f $(LUADIR)/purecloud/emulator/$$f; done
	chmod 0755 $(LUADIR)/purecloud/emulator/ctl
	for f in $(EMULATOR_API); do install -D -m 0644 $$f $(LUADIR)/purecloud/emulator/$$f; done
	install -D -m 0755 bin/purecloud-emulator $(BINDIR)/purecloud-emulator

# The C core under ASan + UBSan (tools/asan-specs runs specs over it in `make test`).
MODASAN := build/asan/purecloud/core.so
MODASANCURL := build/asan/purecloud/transport/curl.so
MODASANREDIS := build/asan/purecloud/store/hiredis.so
ASAN_CC := clang -g -O1 -fPIC -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer \
  $(WARN) -I$(LUA_INCDIR) -Icsrc -shared
asan: $(MODASAN) $(MODASANCURL) $(MODASANREDIS)
$(MODASAN): $(CORE_SRCS) $(HDRS) Makefile
	@mkdir -p $(dir $@)
	$(ASAN_CC) -o $@ $(CORE_SRCS)
$(MODASANCURL): $(CURL_SRCS) $(HDRS) Makefile
	@mkdir -p $(dir $@)
	$(ASAN_CC) -o $@ $(CURL_SRCS) $(CURL_LIBS)
$(MODASANREDIS): $(HIREDIS_SRCS) $(HDRS) Makefile
	@mkdir -p $(dir $@)
	$(ASAN_CC) -o $@ $(HIREDIS_SRCS) $(HIREDIS_LIBS)

# Memory checks over the C-heavy specs (slow: minutes). busted re-executes
# itself under lua5.4, hence --trace-children; only definite leaks fail.
VG_SPECS ?= spec/protocol spec/journal spec/users/validation_spec.lua spec/users/operations_spec.lua
valgrind: all
	@./tools/with-emulator valgrind -q --trace-children=yes --leak-check=full --errors-for-leak-kinds=definite \
	  --error-exitcode=9 lua5.4 /usr/bin/busted -o plainTerminal $(VG_SPECS)

asan-test: asan
	@./tools/with-emulator env LD_PRELOAD="$$(clang -print-file-name=libclang_rt.asan-x86_64.so)" \
	  lua5.4 tools/asan-smoke.lua

# libFuzzer with ASan/UBSan, FUZZ_SECONDS per target: the C core's parsers and
# encoders (fuzz/fuzz_core.c, seeds fuzz/corpus), then the JSON decoder with
# its cjson differential oracle (fuzz/fuzz_decode.c, seeds fuzz/corpus-json).
FUZZ_SECONDS ?= 60
fuzz:
	@mkdir -p build/fuzz build/fuzz/corpus build/fuzz/corpus-json
	clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-omit-frame-pointer -Wall -Wextra -Werror -std=c99 \
	  -D_POSIX_C_SOURCE=200809L -I$(LUA_INCDIR) -Icsrc -o build/fuzz/fuzz_core fuzz/fuzz_core.c $(CORE_SRCS) \
	  -llua5.4
	clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer \
	  -Wall -Wextra -Werror -std=c99 -D_POSIX_C_SOURCE=200809L -I$(LUA_INCDIR) -Icsrc \
	  -o build/fuzz/fuzz_decode fuzz/fuzz_decode.c csrc/json/decode.c -llua5.4
	build/fuzz/fuzz_core -max_total_time=$(FUZZ_SECONDS) -max_len=4096 -artifact_prefix=build/fuzz/ build/fuzz/corpus fuzz/corpus
	build/fuzz/fuzz_decode -max_total_time=$(FUZZ_SECONDS) -max_len=4096 -artifact_prefix=build/fuzz/decode- \
	  build/fuzz/corpus-json fuzz/corpus-json
	lua5.4 fuzz/http1.lua $(FUZZ_SECONDS)

# Reference docs (LDoc, Debian package lua-ldoc) into build/doc.
docs:
	@command -v ldoc >/dev/null || PURECLOUD_BOOTSTRAP_DOCS=1 ./tools/bootstrap
	ldoc .

# Benchmarks, never part of `make test` (see README "Measured"): purecloud vs
# raw libcurl C, naive Lua and the official JS SDK (npm ci from
# bench/js/package-lock.json) on a canned-response nginx, pinned to one CPU
# (BENCH_RUNS runs, median [min–max]); then pagination concurrency and RSS.
BENCH_RUNS ?= 5
bench: all
	lua5.4 bench/run.lua $(BENCH_RUNS)
	lua5.4 bench/pagination.lua
	lua5.4 bench/journal.lua

# The nginx recipe (examples/nginx): needs an emulator (emulator/ctl start) or
# PURECLOUD_BASE_URL + credentials; `examples/nginx/run stop` stops it.
nginx-example: luajit
	@./examples/nginx/run

# The spec suite on each PUC Lua of MATRIX (busted under that Lua, its own
# build/lua5.X, a fresh emulator per version on PURECLOUD_EMULATOR_PORT or a
# free port), then
# the LuaJIT specs, which run inside nginx. One "Lua X: N passed, N failed"
# line each; non-zero if any version failed. On 5.1/5.2 a busted helper maps
# the specs' 5.3-style read formats ("a", "l"); the library gets no help.
# Per-version specs: all but the contract check (Prism re-runs the 5.4 specs),
# the nginx/LuaJIT embedding (its own row) and packaging (LuaRocks, once).
MATRIX_SPECS ?= $(filter-out spec/contract spec/embedding spec/packaging spec/support,$(wildcard spec/*))
test-matrix:
	@for v in $(MATRIX); do $(MAKE) --no-print-directory lua$$v || exit 1; done
	@$(MAKE) --no-print-directory luajit lua5.4
	@status=0; mkdir -p build; \
	for v in $(MATRIX) luajit; do \
	  out=build/matrix-$$v.out; \
	  if [ $$v = luajit ]; then lua=lua5.4; cpath=./build/lua5.4/?.so; specs=spec/embedding; helper=; \
	  else lua=lua$$v; cpath="./build/lua$$v/?.so"; specs="$(MATRIX_SPECS)"; helper=; \
	    case $$v in 5.1|5.2) helper=--helper=spec/packaging/compat_helper.lua;; esac; fi; \
	  PURECLOUD_AUX_PORT=$${PURECLOUD_EMULATOR_PORT:-0} timeout $(MATRIX_TIMEOUT) ./tools/with-emulator \
	    $$lua /usr/bin/busted --lua=$$lua --cpath="$$cpath" $$helper -o plainTerminal $$specs >$$out 2>&1; \
	  sum=$$(grep -E '^[0-9]+ success(es)? / ' $$out | tail -n 1); \
	  ok=$$(echo "$$sum" | sed -nE 's/^([0-9]+) success.*/\1/p'); \
	  bad=$$(echo "$$sum" | sed -nE 's/^[0-9]+ success(es)? \/ ([0-9]+) failures? \/ ([0-9]+) error.*/\2 \3/p'); \
	  if [ -n "$$bad" ]; then bad=$$(( $${bad% *} + $${bad#* } )); else bad=1; fi; \
	  note=; [ -n "$$ok" ] || { ok=0; bad=1; note=", no summary: timed out after $(MATRIX_TIMEOUT) s or crashed"; }; \
	  echo "Lua $$v: $$ok passed, $$bad failed (log: $$out$$note)"; \
	  [ "$$bad" -eq 0 ] || status=1; \
	done; exit $$status

# What `luarocks test` runs: build for $(LUA) and run its specs against a
# fresh emulator. Never bootstraps (no apt, no npm): run ./tools/bootstrap first.
SPECS ?=
specs: all
	@PURECLOUD_AUX_PORT=$${PURECLOUD_EMULATOR_PORT:-0} ./tools/with-emulator \
	  $(LUA) /usr/bin/busted --lua=$(LUA) --cpath='./build/$(LUAV)/?.so' -o plainTerminal $(SPECS)

# The release rockspec, generated from the dev rockspec and VERSION
# (tools/release-rockspec.lua; --check says whether it is up to date).
.PHONY: rockspec
rockspec:
	@lua5.4 tools/release-rockspec.lua

# A source rock and a binary rock of this working tree, offline, into
# build/rock: the release rockspec (version from VERSION) points at a local
# tarball of the tracked files; the binary rock is packed from a scratch tree.
ROCK_DIR := build/rock
ROCK_VER := $(PC_VERSION)-1
rock:
	@rm -rf $(ROCK_DIR) && mkdir -p $(ROCK_DIR)
	@git ls-files -z --cached --others --exclude-standard | \
	  grep -zv '^build/' | grep -zv '^tools/node_modules/' | \
	  xargs -0 sh -c 'for f; do [ -f "$$f" ] && printf "%s\0" "$$f"; done' sh | \
	  tar --null -T - --transform 's,^,purecloud-$(PC_VERSION)/,' -czf $(ROCK_DIR)/purecloud-$(PC_VERSION).tar.gz
	@sed -e 's|^version = .*|version = "$(ROCK_VER)"|' \
	     -e 's|^   url = .*|   url = "file://$(CURDIR)/$(ROCK_DIR)/purecloud-$(PC_VERSION).tar.gz",\n   dir = "purecloud-$(PC_VERSION)",|' \
	     purecloud-scm-1.rockspec >$(ROCK_DIR)/purecloud-$(ROCK_VER).rockspec
	@cd $(ROCK_DIR) && luarocks --lua-version=$(LUA_SHORT) pack purecloud-$(ROCK_VER).rockspec >pack.log 2>&1 \
	  || { cat pack.log; exit 1; }
	@tree=$$(mktemp -d) && trap 'rm -rf "$$tree"' EXIT && \
	  luarocks --lua-version=$(LUA_SHORT) --tree="$$tree" install --deps-mode=none \
	    $(ROCK_DIR)/purecloud-$(ROCK_VER).src.rock >$(ROCK_DIR)/build.log 2>&1 || { cat $(ROCK_DIR)/build.log; exit 1; }; \
	  cd $(ROCK_DIR) && luarocks --lua-version=$(LUA_SHORT) --tree="$$tree" pack purecloud $(ROCK_VER) >>pack.log 2>&1 \
	  || { cat pack.log; exit 1; }
	@ls $(ROCK_DIR)/*.rock

clean:
	rm -rf build
