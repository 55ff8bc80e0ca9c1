# siphelper: a SIP ALG for Linux routers.
#
#   make demo          boot a VM, load the module, show it at work
#   make test          every test layer on every kernel of the matrix
#   make test-quick    unit tests + the 6.1 kernel (inner loop)
#   make               siphelper.ko for KVER + all userspace code
#   make modules KVER=<release|6.1|6.12|debug>
#   make deps          install what the project needs (apt), idempotent
#   make dkms-install  sources into /usr/src/siphelper-<version> + dkms add
#   make fuzz [FUZZ_SECONDS=600]   make bench   make clean
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

.PHONY: all deps modules user test test-quick demo dkms-install fuzz \
	bench debug-kernel clean stress

all: deps modules user

deps:
	@scripts/deps.sh

modules: deps
	@scripts/build-module.sh $(KVER)

user: deps
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

dkms-install: deps
	@scripts/dkms-install.sh

fuzz: deps
	@fuzz/run.sh $(FUZZ_SECONDS)

stress: deps
	@scripts/stress.sh $(or $(STRESS_KERNEL),debug)

bench: deps user
	@build/user/bench/siphelper_bench_core

clean:
	rm -rf build
