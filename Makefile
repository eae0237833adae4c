# certrack — plain Makefile.  See README.md for the two commands.
#
#   make              build bin/certrackd and bin/certrack
#   make run          install missing packages, build, start a private
#                     PostgreSQL under .run/, migrate, serve on 127.0.0.1
#   make test         install missing packages, build with -Werror, run every
#                     test layer against a throw-away PostgreSQL
#   make bench        benchmarks (see docs/)
#   make install      PREFIX=/usr/local DESTDIR=
#
# Knobs: WERROR=1 adds -Werror; SANITIZE=address,undefined builds with
# sanitizers (objects go to a separate build folder).

CC      ?= cc
PREFIX  ?= /usr/local
DESTDIR ?=
PKG_CONFIG ?= pkg-config

BUILD   := build/$(if $(SANITIZE),san,default)
BIN     := bin

WARN    := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
           -Wpointer-arith -Wformat=2 -Wno-format-nonliteral
CSTD    := -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE
OPT     ?= -O2 -g
# V=1 shows the full commands.
ifeq ($(V),1)
Q :=
say = @true
else
Q := @
say = @echo '  $(1)	$(2)'
endif
ifeq ($(WERROR),1)
WARN    += -Werror
endif
ifneq ($(SANITIZE),)
SANFLAGS := -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
endif

# pkg-config is asked lazily (recursive '=') so that `make test` can install
# missing packages before anything needs their flags.
SRV_PKGS  := libpq libmicrohttpd jansson libsodium
CLI_PKGS  := libcurl jansson
TEST_PKGS := cmocka libpq jansson libsodium libmicrohttpd libcurl
# cracklib (password policy) has no pkg-config file
SRV_LIBS  := -lcrack
pc_cflags = $(shell $(PKG_CONFIG) --cflags $(1))
pc_libs   = $(shell $(PKG_CONFIG) --libs $(1))

CPPFLAGS += -Iinclude -I$(BUILD) -DCERTRACK_VERSION='"$(VERSION)"' \
            -DCERTRACK_SQLDIR='"$(PREFIX)/share/certrack/sql"'
CFLAGS   += $(CSTD) $(OPT) $(WARN) $(SANFLAGS) -MMD -MP -pthread
LDFLAGS  += $(SANFLAGS) -pthread

VERSION  := $(shell cat VERSION 2>/dev/null || echo 0.0.0)

# ---- sources (explicit lists) -------------------------------------------

# Pure modules shared by the daemon and the CLI (lib/: neither reaches into
# the other's folder).
COMMON_SRC := lib/strnum.c lib/npi.c lib/strbuf.c lib/certnum.c \
              lib/csvread.c
COMMON_SRC += lib/value.c

# Every daemon module but main(), so tests can link the real code.
SRV_SRC := server/log.c server/cterr.c server/config.c server/router.c \
           server/db.c server/migrate.c server/auth.c server/http.c \
           server/apiutil.c server/api_health.c server/routes.c \
           server/users.c server/api_auth.c server/api_clinicians.c \
           server/api_users.c server/api_audit.c server/metrics.c \
           server/importmap.c server/import.c
# resources, one line per group of files
SRV_SRC += server/apifields.c
SRV_SRC += server/api_status.c server/api_certificates.c server/api_programs.c server/api_enrollments.c server/api_exams.c
SRV_SRC += server/api_lists.c
SRV_SRC += server/api_renewals.c
# notifications: the worker (webhooks and email by libcurl) and its API
SRV_SRC += server/notify.c server/api_webhooks.c
SRV_PKGS += libcurl
# the web pages, QR codes and printable certificates
SRV_SRC += server/web.c server/web_verify.c server/qr.c server/pdf.c
SRV_SRC += server/web_find.c
# logged-in pages: session cookie and CSRF, a clinician's own, session sheets
SRV_SRC += server/web_session.c server/web_me.c server/web_staff.c
SRV_PKGS  += libqrencode cairo
TEST_PKGS += libqrencode cairo

CLI_SRC := cli/client.c cli/opts.c cli/cmd_health.c cli/commands.c
CLI_SRC += cli/util.c cli/cmd_login.c cli/cmd_clinicians.c cli/cmd_users.c \
           cli/cmd_audit.c cli/cmd_enroll.c cli/cmd_results.c \
           cli/cmd_status.c cli/cmd_certificates.c cli/cmd_programs.c \
           cli/cmd_import.c
CLI_SRC += cli/cmd_renewals.c
CLI_SRC += cli/cmd_webhooks.c
CLI_SRC += cli/config.c cli/cmd_context.c cli/output.c cli/complete.c
CLI_SRC += cli/cmd_directory.c

SQL_FILES := $(sort $(wildcard sql/*.sql))

UNIT_TESTS  := unit_strnum unit_npi unit_config unit_router unit_certnum unit_csvread
INTEG_TESTS := integ_migrate integ_schema
E2E_TESTS   := e2e_readyz e2e_health e2e_status e2e_api e2e_rules e2e_import e2e_authz
E2E_TESTS   += e2e_cli e2e_docs e2e_cli_import
E2E_TESTS   += e2e_quickstart e2e_install e2e_tls
UNIT_TESTS  += unit_strbuf
INTEG_TESTS += integ_db
UNIT_TESTS  += unit_value
E2E_TESTS   += e2e_parity
E2E_TESTS   += e2e_accounts
E2E_TESTS   += e2e_holes
E2E_TESTS   += e2e_deadclient
E2E_TESTS   += e2e_abuse
E2E_TESTS   += e2e_lists
E2E_TESTS   += e2e_logins
E2E_TESTS   += e2e_ce_renew
E2E_TESTS += e2e_web2
E2E_TESTS += e2e_cache_window
E2E_TESTS   += e2e_dbtime
E2E_TESTS   += e2e_standby
E2E_TESTS   += e2e_cli_contract
E2E_TESTS   += e2e_renewals
UNIT_TESTS  += unit_fuzz
UNIT_TESTS  += unit_importmap
UNIT_TESTS  += unit_cterr
E2E_TESTS   += e2e_notify
UNIT_TESTS  += unit_web
E2E_TESTS   += e2e_web
# the lookup cache
SRV_SRC     += server/cache.c
UNIT_TESTS  += unit_cache
E2E_TESTS   += e2e_cache
E2E_TESTS   += e2e_celimits
E2E_TESTS   += e2e_dirimport
# a running import's progress, seen from any connection (issue 14)
SRV_SRC     += server/importprogress.c
E2E_TESTS   += e2e_import_progress
# the lookup cache: token checks, two daemons
E2E_TESTS   += e2e_tokencache
# the certificates an import issued (issue 13)
E2E_TESTS   += e2e_import_certs
# an import's report in pages: bounded memory (issue 10)
E2E_TESTS   += e2e_import_pages
TESTS       := $(UNIT_TESTS) $(INTEG_TESTS) $(E2E_TESTS)

COMMON_OBJ := $(COMMON_SRC:%.c=$(BUILD)/%.o)
SRV_OBJ    := $(SRV_SRC:%.c=$(BUILD)/%.o) $(BUILD)/embedded_sql.o
SRV_OBJ    += $(BUILD)/embedded_web.o
CLI_OBJ    := $(CLI_SRC:%.c=$(BUILD)/%.o)
TESTLIB_OBJ := $(BUILD)/tests/testlib.o

.PHONY: all run test check tests bench install uninstall clean deps
all: $(BIN)/certrackd $(BIN)/certrack

$(BIN)/certrackd: $(BUILD)/server/main.o $(SRV_OBJ) $(COMMON_OBJ) $(BIN)/.build | $(BIN)
	$(call say,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) $(call pc_libs,$(SRV_PKGS)) -lcsv $(SRV_LIBS)

$(BIN)/certrack: $(BUILD)/cli/main.o $(CLI_OBJ) $(COMMON_OBJ) $(BIN)/.build | $(BIN)
	$(call say,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) $(call pc_libs,$(CLI_PKGS)) -lcsv

$(BUILD)/%.o: %.c $(BUILD)/.flags
	@mkdir -p $(dir $@)
	$(call say,CC,$<)
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) $(call pc_cflags,$(SRV_PKGS) $(CLI_PKGS)) -c -o $@ $<

# The migrations are compiled into the daemon, so an installed certrackd
# needs no path to find them (a --migrations DIR override reads a folder).
# Their list is a prerequisite too: a migration removed or renamed makes no
# file newer, and was left compiled in.
$(BUILD)/embedded_sql.c: $(SQL_FILES) $(BUILD)/.sql-files scripts/embed-sql | $(BUILD)/.flags
	$(call say,GEN,$@)
	$(Q)scripts/embed-sql $(SQL_FILES) > $@.tmp && mv $@.tmp $@

$(BUILD)/.sql-files: FORCE
	@mkdir -p $(BUILD)
	@echo '$(SQL_FILES)' | cmp -s - $@ || echo '$(SQL_FILES)' > $@

$(BUILD)/embedded_sql.o: $(BUILD)/embedded_sql.c
	$(call say,CC,$<)
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) $(call pc_cflags,$(SRV_PKGS)) -c -o $@ $<

# The web pages' templates and stylesheet, compiled in the same way.
WEB_FILES := $(sort $(wildcard web/templates/*.html web/static/*.css))

$(BUILD)/embedded_web.c: $(WEB_FILES) scripts/embed-web | $(BUILD)/.flags
	$(call say,GEN,$@)
	$(Q)scripts/embed-web $(WEB_FILES) > $@.tmp && mv $@.tmp $@

$(BUILD)/embedded_web.o: $(BUILD)/embedded_web.c
	$(call say,CC,$<)
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) $(call pc_cflags,$(SRV_PKGS)) -c -o $@ $<

# Rebuild everything when the compiler flags change.
$(BUILD)/.flags: FORCE
	@mkdir -p $(BUILD)
	@echo '$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS)' | cmp -s - $@ || \
	  echo '$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS)' > $@
FORCE:

# Which build (default or sanitizer) the binaries in bin/ were linked from:
# switching builds relinks them all, so a sanitizer build's binaries are
# never left behind for a plain `make test` (or the other way round).
$(BIN)/.build: FORCE | $(BIN)
	@echo '$(BUILD)' | cmp -s - $@ || echo '$(BUILD)' > $@

$(BIN) $(BIN)/tests:
	@mkdir -p $@

# ---- tests ------------------------------------------------------------------

TEST_BINS := $(TESTS:%=$(BIN)/tests/%)
tests: all $(TEST_BINS)

$(BIN)/tests/%: $(BUILD)/tests/%.o $(TESTLIB_OBJ) $(SRV_OBJ) $(COMMON_OBJ) $(BIN)/.build | $(BIN)/tests
	$(call say,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) $(call pc_libs,$(TEST_PKGS)) -lcsv $(SRV_LIBS)

$(BUILD)/tests/%.o: tests/%.c $(BUILD)/.flags
	@mkdir -p $(dir $@)
	$(call say,CC,$<)
	$(Q)$(CC) $(CPPFLAGS) -Itests $(CFLAGS) $(call pc_cflags,$(TEST_PKGS)) -c -o $@ $<

deps:
	@scripts/install-deps

# ---- fuzzing (libFuzzer; docs/fuzzing.md) -----------------------------------
# `make fuzz` builds build/fuzz/fuzz_NAME with clang for each of FUZZ_TARGETS
# and runs each for FUZZ_SECONDS over its seed corpus (fuzz/corpus/NAME),
# printing executions and coverage.  `make test` first runs each for
# FUZZ_SMOKE_SECONDS (fuzz-smoke), and tests/unit_fuzz replays every corpus
# file through the same entry points in the cmocka summary, so a crash
# found once (its reproducer added to the corpus) stays found.
FUZZ_CC            ?= clang
FUZZ_SECONDS       ?= 60
FUZZ_SMOKE_SECONDS ?= 5
FUZZ_OUT           := build/fuzz
FUZZ_SAN           := -fsanitize=address,undefined -fno-sanitize-recover=all \
                      -fno-omit-frame-pointer
FUZZ_CFLAGS        := $(CSTD) -g -O1 $(WARN) $(FUZZ_SAN) -pthread -MMD -MP \
                      -fsanitize=fuzzer-no-link -DFUZZ_LIBFUZZER
FUZZ_TARGETS_ALL   := csvread importmap config router json certnum
FUZZ_TARGETS       ?= $(FUZZ_TARGETS_ALL)
# What each target links: only the modules it runs (the router's table
# names every handler, so it takes the whole daemon, run without a database).
FUZZ_MODS_csvread   := lib/csvread.c lib/strbuf.c
FUZZ_LIBS_csvread   := -lcsv
FUZZ_MODS_importmap := server/importmap.c lib/npi.c lib/strnum.c \
                       lib/value.c lib/csvread.c lib/strbuf.c
FUZZ_LIBS_importmap := -lcsv
FUZZ_MODS_config    := server/config.c server/log.c lib/strnum.c
FUZZ_MODS_router    := $(SRV_SRC) $(COMMON_SRC) $(BUILD)/embedded_sql.c \
                       $(BUILD)/embedded_web.c
FUZZ_LIBS_router    = $(call pc_libs,$(SRV_PKGS)) -lcsv $(SRV_LIBS)
FUZZ_MODS_json      := server/apifields.c server/cterr.c lib/value.c
FUZZ_LIBS_json      = $(call pc_libs,jansson)
FUZZ_MODS_certnum   := lib/certnum.c
fuzz_objs = $(patsubst %.c,$(FUZZ_OUT)/obj/%.o,fuzz/fuzzutil.c \
            fuzz/fuzz_$(1).c $(FUZZ_MODS_$(1)))

.PHONY: fuzz fuzz-build fuzz-smoke
fuzz-build: $(FUZZ_TARGETS:%=$(FUZZ_OUT)/fuzz_%)

fuzz: deps
	@$(MAKE) --no-print-directory fuzz-build
	@fuzz/run $(FUZZ_SECONDS) $(FUZZ_TARGETS)

fuzz-smoke: deps
	@$(MAKE) --no-print-directory fuzz-build
	@fuzz/run --smoke $(FUZZ_SMOKE_SECONDS) $(FUZZ_TARGETS)

test: fuzz-smoke

$(FUZZ_OUT)/obj/%.o: %.c $(FUZZ_OUT)/.flags
	@mkdir -p $(dir $@)
	$(call say,FUZZCC,$<)
	$(Q)$(FUZZ_CC) $(CPPFLAGS) $(FUZZ_CFLAGS) $(call pc_cflags,$(SRV_PKGS)) -c -o $@ $<

$(FUZZ_OUT)/.flags: FORCE
	@mkdir -p $(FUZZ_OUT)
	@echo '$(FUZZ_CC) $(FUZZ_CFLAGS)' | cmp -s - $@ || \
	  echo '$(FUZZ_CC) $(FUZZ_CFLAGS)' > $@

define fuzz_link
$(FUZZ_OUT)/fuzz_$(1): $(call fuzz_objs,$(1))
	$$(call say,FUZZLD,$$@)
	$$(Q)$$(FUZZ_CC) -fsanitize=fuzzer $$(FUZZ_SAN) -pthread -o $$@ $$^ \
	  $$(FUZZ_LIBS_$(1))
endef
$(foreach t,$(FUZZ_TARGETS_ALL),$(eval $(call fuzz_link,$(t))))

# The corpora replayed in the cmocka summary (ordinary build, no libFuzzer;
# unit_fuzz is listed with the other unit tests above).
$(BIN)/tests/unit_fuzz: $(patsubst %.c,$(BUILD)/%.o,fuzz/fuzzutil.c \
                        $(FUZZ_TARGETS_ALL:%=fuzz/fuzz_%.c))
# ---- end of fuzzing ---------------------------------------------------------


# `make test`: packages first (a sub-make, so no flag is asked of a missing
# pkg-config file), then a -Werror build, then every layer.
test: deps
	@$(MAKE) --no-print-directory WERROR=1 tests
	@scripts/test $(TEST_BINS)

check: tests
	@scripts/test $(TEST_BINS)

run: deps
	@$(MAKE) --no-print-directory all
	@scripts/run

bench: deps
	@$(MAKE) --no-print-directory all
	@scripts/bench
	@scripts/bench.d/import

# What `make install` puts where (see docs/deployment.md); `make uninstall`
# removes exactly these, and the share/certrack folders it created.
SHAREDIR := $(PREFIX)/share/certrack
UNITDIR  := $(PREFIX)/lib/systemd/system

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(SHAREDIR)/sql
	install -m 0755 $(BIN)/certrackd $(BIN)/certrack $(DESTDIR)$(PREFIX)/bin/
	install -m 0644 $(SQL_FILES) $(DESTDIR)$(SHAREDIR)/sql/
	install -m 0644 docs/certrackd.conf.example $(DESTDIR)$(SHAREDIR)/certrackd.conf.example
	install -d $(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/man/man8 $(DESTDIR)$(PREFIX)/share/bash-completion/completions
	install -m 0644 docs/certrack.1 $(DESTDIR)$(PREFIX)/share/man/man1/certrack.1
	install -m 0644 docs/certrackd.8 $(DESTDIR)$(PREFIX)/share/man/man8/certrackd.8
	install -m 0644 scripts/certrack-completion.bash $(DESTDIR)$(PREFIX)/share/bash-completion/completions/certrack
	install -d $(DESTDIR)$(PREFIX)/share/zsh/site-functions $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d
	install -m 0644 scripts/certrack-completion.zsh $(DESTDIR)$(PREFIX)/share/zsh/site-functions/_certrack
	install -m 0644 scripts/certrack-completion.fish $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/certrack.fish
	install -d $(DESTDIR)$(UNITDIR)
	sed 's|@BINDIR@|$(PREFIX)/bin|g' scripts/certrackd.service > $(DESTDIR)$(UNITDIR)/certrackd.service.tmp
	chmod 0644 $(DESTDIR)$(UNITDIR)/certrackd.service.tmp
	mv $(DESTDIR)$(UNITDIR)/certrackd.service.tmp $(DESTDIR)$(UNITDIR)/certrackd.service

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/certrackd $(DESTDIR)$(PREFIX)/bin/certrack
	rm -f $(addprefix $(DESTDIR)$(SHAREDIR)/sql/,$(notdir $(SQL_FILES)))
	rm -f $(DESTDIR)$(SHAREDIR)/certrackd.conf.example
	-rmdir $(DESTDIR)$(SHAREDIR)/sql $(DESTDIR)$(SHAREDIR)
	rm -f $(DESTDIR)$(PREFIX)/share/man/man1/certrack.1
	rm -f $(DESTDIR)$(PREFIX)/share/man/man8/certrackd.8
	rm -f $(DESTDIR)$(PREFIX)/share/bash-completion/completions/certrack
	rm -f $(DESTDIR)$(PREFIX)/share/zsh/site-functions/_certrack $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/certrack.fish
	$(if $(DESTDIR),cd $(DESTDIR) && { rmdir -p --ignore-fail-on-non-empty .$(PREFIX)/share/zsh/site-functions .$(PREFIX)/share/fish/vendor_completions.d 2>/dev/null || true; })
	rm -f $(DESTDIR)$(UNITDIR)/certrackd.service
	@# A staged install (DESTDIR set) leaves no empty folders behind either;
	@# outside DESTDIR the shared ones (bin, share/man, ...) are left alone.
	$(if $(DESTDIR),cd $(DESTDIR) && { rmdir -p --ignore-fail-on-non-empty \
	  .$(PREFIX)/share/man/man1 .$(PREFIX)/share/man/man8 \
	  .$(PREFIX)/share/bash-completion/completions .$(UNITDIR) .$(PREFIX)/bin \
	  2>/dev/null || true; })

clean:
	rm -rf build bin

.PRECIOUS: $(BUILD)/%.o $(BUILD)/tests/%.o
-include $(shell find build -name '*.d' 2>/dev/null)
