# purecloud — build, test and tooling entry points.
#   make            build the Lua 5.4 C module into build/lua54/purecloud/core.so
#   make test       bootstrap, build, start the emulator, run every spec, stop it
#   make demo       bootstrap, build, start the emulator, run examples/demo.lua
#   make check      luacheck + cppcheck + -Werror builds (5.4 and LuaJIT)
#   make luajit     build for LuaJIT / nginx into build/luajit/purecloud/core.so
#   make generate   regenerate csrc/models/generated.c and lua/purecloud/users.lua from api/users-api.json
#   make contract   run the specs through Prism's validating proxy (see tools/contract-check)
#   make valgrind | asan-test | fuzz   memory checks and fuzzing of the C core (slow; not part of test)
#   make bench | docs                  benchmarks (bench/) and LDoc reference (build/doc)
# Variables LuaRocks passes (CFLAGS, LIBFLAG, LUA_INCDIR, LIBDIR, LUADIR) are honoured.

LUA        ?= lua5.4
LUA_INCDIR ?= /usr/include/lua5.4
LUAJIT_INCDIR ?= /usr/include/luajit-2.1
CC         ?= cc
CFLAGS     ?= -O2 -fPIC
LIBFLAG    ?= -shared
CURL_LIBS  ?= -lcurl
WARN       := -Wall -Wextra -Werror -std=c99 -D_POSIX_C_SOURCE=200809L -fvisibility=hidden
BUSTED     ?= $(LUA) /usr/bin/busted
LUADIR     ?= $(DESTDIR)/usr/local/share/lua/5.4
LIBDIR     ?= $(DESTDIR)/usr/local/lib/lua/5.4
BINDIR     ?= $(DESTDIR)/usr/local/bin

SRCS := $(sort $(wildcard csrc/*.c csrc/*/*.c))
HDRS := $(sort $(wildcard csrc/*.h csrc/*/*.h))
LUASRC := $(sort $(wildcard lua/purecloud/*.lua lua/purecloud/*/*.lua))

MOD54  := build/lua54/purecloud/core.so
MODJIT := build/luajit/purecloud/core.so

.PHONY: all luajit test demo check lint cppcheck emulator generate generate-check \
        contract install clean bootstrap asan asan-test valgrind bench docs fuzz

all: $(MOD54)

$(MOD54): $(SRCS) $(HDRS) Makefile
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(WARN) -I$(LUA_INCDIR) -Icsrc $(LIBFLAG) -o $@ $(SRCS) $(CURL_LIBS)

luajit: $(MODJIT)
$(MODJIT): $(SRCS) $(HDRS) Makefile
	@mkdir -p $(dir $@)
	$(CC) -O2 -fPIC $(WARN) -I$(LUAJIT_INCDIR) -Icsrc -shared -o $@ $(SRCS) $(CURL_LIBS)

bootstrap:
	@./tools/bootstrap

# The README's test command. Bootstraps, builds, runs every spec against a
# freshly started emulator and exits non-zero on any failure.
test: bootstrap
	@$(MAKE) --no-print-directory all luajit
	@./tools/run-specs

demo: bootstrap
	@$(MAKE) --no-print-directory all
	@./tools/run-demo

emulator:
	@./emulator/ctl run

check: bootstrap lint cppcheck
	@$(MAKE) --no-print-directory -B all luajit
	@$(MAKE) --no-print-directory generate-check

lint:
	luacheck -q lua spec emulator tools examples bench bin/purecloud

cppcheck:
	cppcheck --quiet --error-exitcode=1 --enable=warning,performance,portability \
	  --inline-suppr --suppress=missingIncludeSystem --suppress=toomanyconfigs -I csrc -I $(LUA_INCDIR) csrc

generate:
	$(LUA) tools/gen-models.lua api/users-api.json csrc/models/generated.c lua/purecloud/users.lua

generate-check:
	@$(LUA) tools/gen-models.lua --check api/users-api.json csrc/models/generated.c lua/purecloud/users.lua

contract: bootstrap
	@$(MAKE) --no-print-directory all
	@./tools/contract-check

install: $(MOD54)
	install -d $(LIBDIR)/purecloud $(LUADIR)/purecloud
	install -m 0755 $(MOD54) $(LIBDIR)/purecloud/core.so
	cd lua && for f in $$(find purecloud -name '*.lua'); do install -D -m 0644 $$f $(LUADIR)/$$f; done
	install -D -m 0755 bin/purecloud $(BINDIR)/purecloud

asan:
	@mkdir -p build/asan/purecloud
	clang -g -O1 -fPIC -fsanitize=address,undefined -fno-omit-frame-pointer $(WARN) \
	  -I$(LUA_INCDIR) -Icsrc -shared -o build/asan/purecloud/core.so $(SRCS) $(CURL_LIBS)

# Memory checks over the C-heavy specs (slow: minutes). busted re-executes
# itself under lua5.4, hence --trace-children; only definite leaks fail.
VG_SPECS ?= spec/protocol spec/users/validation_spec.lua spec/users/operations_spec.lua
valgrind: all
	@./tools/with-emulator valgrind -q --trace-children=yes --leak-check=full --errors-for-leak-kinds=definite \
	  --error-exitcode=9 lua5.4 /usr/bin/busted -o plainTerminal $(VG_SPECS)

asan-test: asan
	@./tools/with-emulator env LD_PRELOAD="$$(clang -print-file-name=libclang_rt.asan-x86_64.so)" \
	  lua5.4 tools/asan-smoke.lua

# libFuzzer over the C core's parsers and encoders (fuzz/fuzz_core.c), with
# ASan/UBSan; FUZZ_SECONDS of fuzzing from the seed corpus in fuzz/corpus.
FUZZ_SECONDS ?= 60
fuzz:
	@mkdir -p build/fuzz build/fuzz/corpus
	clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-omit-frame-pointer -Wall -Wextra -Werror -std=c99 \
	  -D_POSIX_C_SOURCE=200809L -I$(LUA_INCDIR) -Icsrc -o build/fuzz/fuzz_core fuzz/fuzz_core.c $(SRCS) \
	  -llua5.4 $(CURL_LIBS)
	build/fuzz/fuzz_core -max_total_time=$(FUZZ_SECONDS) -max_len=4096 -artifact_prefix=build/fuzz/ build/fuzz/corpus fuzz/corpus

# Reference docs (LDoc, Debian package lua-ldoc) into build/doc.
docs:
	@command -v ldoc >/dev/null || PURECLOUD_BOOTSTRAP_DOCS=1 ./tools/bootstrap
	ldoc .

bench: all
	lua5.4 bench/pagination.lua

clean:
	rm -rf build
