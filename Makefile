# siphelper: a SIP ALG for Linux routers.
#
#   make demo          boot a VM, load the module, show it at work
#   make test          every test layer on every kernel of the matrix
#   make test-quick    unit tests + the 6.1 kernel (inner loop)
#   make               siphelper.ko for KVER + all userspace code
#   make modules KVER=<release|6.1|6.12|debug>
#   make deps          install what the project needs (apt), idempotent;
#                      never a kernel image into the host
#   make deps-build    only what make and make install need
#   make dkms-install  sources into /usr/src/siphelper-<version> + dkms add
#   make deb           Debian packages siphelper-dkms and siphelperctl in
#                      build/deb (dpkg-buildpackage), checked by lintian
#   make install [DESTDIR=] [PREFIX=/usr/local]   make uninstall
#                      siphelperctl, man page, bash completion, systemd
#                      unit, /etc examples (the module: make dkms-install)
#   make check         sparse over the module for every kernel of the matrix
#   make fuzz [FUZZ_SECONDS=600] [FUZZ_JOBS=nproc] [FUZZ_RUNS=N]
#                      stops at SECONDS or after N inputs in all
#   make clean
#   make bench         core + kernel benchmarks, rewrites docs/performance.md
#   make compare       siphelper vs the in-tree helper, rewrites
#                      docs/comparison.md (make test writes it under build/)
#   make stress [STRESS_PACKETS=1000000] [STRESS_KERNEL=debug]
#                      hostile SIP through the router, long version
#
# Caches (kernels, debug kernel, initramfs) live in $(SIPHELPER_CACHE),
# default /var/cache/siphelper, outside the repository.

SHELL := /bin/bash
export SIPHELPER_CACHE ?= /var/cache/siphelper
# Default: the running kernel when it has headers, else the newest
# installed headers (build machines often run another kernel).
KVER ?= $(shell if [ -d /lib/modules/$$(uname -r)/build ]; then uname -r; \
	else ls -d /lib/modules/*/build 2>/dev/null | sort -V | tail -n1 | \
	cut -d/ -f4; fi)
FUZZ_SECONDS ?= 600
export FUZZ_JOBS ?= $(shell nproc)
export FUZZ_RUNS ?= -1
PREFIX ?= /usr/local
SYSCONFDIR ?= /etc
UNITDIR ?= $(PREFIX)/lib/systemd/system

.PHONY: all deps deps-build modules user check test test-quick demo dkms-install fuzz \
	bench compare debug-kernel clean install uninstall stress deb

all: deps-build modules user

deps:
	@scripts/deps.sh test

deps-build:
	@KVER=$(KVER) scripts/deps.sh build

modules: deps-build
	@scripts/build-module.sh $(KVER)

check: deps
	@for k in 6.1 6.12; do SHP_SPARSE=1 scripts/build-module.sh $$k \
		>/dev/null || exit 1; echo "sparse: $$k clean"; done

user: deps-build
	@cmake -S . -B build/user -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build build/user -j$$(nproc)

debug-kernel: deps
	@scripts/build-debug-kernel.sh

test: deps
	@tests/run-all.sh

test-quick: deps
	@tests/run-all.sh quick

demo: deps
	@scripts/demo.sh

compare: deps
	@scripts/build-module.sh 6.12 >/dev/null
	@tests/e2e/compare.sh 6.12 docs/comparison.md

dkms-install: deps-build
	@scripts/dkms-install.sh

deb: deps-deb
	@scripts/deb.sh

deps-deb:
	@scripts/deps.sh deb

fuzz: deps
	@fuzz/run.sh $(FUZZ_SECONDS)

# cmake --install puts the tool, man page and completion under PREFIX (it
# honours DESTDIR); the config examples never overwrite an existing file.
install: user
	@DESTDIR=$(DESTDIR) cmake --install build/user --prefix $(PREFIX) >/dev/null
	@sed 's|@SBINDIR@|$(PREFIX)/sbin|g' etc/siphelper.service.in | \
		install -D -m 644 /dev/stdin $(DESTDIR)$(UNITDIR)/siphelper.service
	@[ -e $(DESTDIR)$(SYSCONFDIR)/siphelper.conf ] || \
		install -D -m 644 etc/siphelper.conf $(DESTDIR)$(SYSCONFDIR)/siphelper.conf
	@[ -e $(DESTDIR)$(SYSCONFDIR)/modprobe.d/siphelper.conf ] || \
		install -D -m 644 etc/modprobe.d-siphelper.conf \
		$(DESTDIR)$(SYSCONFDIR)/modprobe.d/siphelper.conf
	@echo "installed under $(DESTDIR)$(PREFIX); then: systemctl enable --now siphelper"

# The /etc files are the admin's now: left in place.
uninstall:
	rm -f $(DESTDIR)$(PREFIX)/sbin/siphelperctl \
		$(DESTDIR)$(PREFIX)/share/man/man8/siphelperctl.8 \
		$(DESTDIR)$(PREFIX)/share/bash-completion/completions/siphelperctl \
		$(DESTDIR)$(UNITDIR)/siphelper.service

stress: deps
	@scripts/stress.sh $(or $(STRESS_KERNEL),debug)

bench: deps user
	@bench/run.sh

clean:
	rm -rf build
