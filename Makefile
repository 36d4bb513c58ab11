# tunnelpmd — build, demo, test, bench. Every target installs what it is missing first.
SWIFT        ?= swift
RELEASE_BIN  := .build/release/tunnelpmd
DEBUG_BIN    := .build/debug/tunnelpmd

# Debian packages the build, the tests and the benchmarks need (wire.mk adds its own).
APT_PACKAGES := dpdk dpdk-dev libdpdk-dev libnuma-dev pkg-config libpcap-dev libedit-dev \
                binutils iproute2 procps iperf3
PIP_PACKAGES :=

-include mk/*.mk

APT_PACKAGES += $(WIRE_APT_PACKAGES) $(OFFLOAD_APT_PACKAGES) $(TAP_APT_PACKAGES) $(GRO_APT_PACKAGES) $(SOAK_APT_PACKAGES)
PIP_PACKAGES += $(WIRE_PIP_PACKAGES) $(OFFLOAD_PIP_PACKAGES) $(TAP_PIP_PACKAGES) $(GRO_PIP_PACKAGES) $(SOAK_PIP_PACKAGES)

.PHONY: all deps build release demo test test-swift check-hotloop bench bench-io bench-kernel clean

all: build

# Installs only what is missing, so it is quick on a prepared machine.
deps:
	@missing=""; for package in $(APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$package 2>/dev/null | grep -q "ok installed" || missing="$$missing $$package"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	fi
	@for package in $(PIP_PACKAGES); do \
	  python3 -m pip show -q $$package >/dev/null 2>&1 || python3 -m pip install -q $$package; \
	done

build: deps
	$(SWIFT) build --product tunnelpmd

release: deps
	$(SWIFT) build -c release --product tunnelpmd

# The README's first command: two net_null ports, io forwarding, 3 s, statistics every second.
demo: release
	$(RELEASE_BIN) -- --config Configs/demo.yaml

# The README's second command, and what CI runs.
test: deps test-swift check-hotloop $(if $(wildcard mk/wire.mk),test-wire) $(if $(wildcard mk/soak.mk),soak-short)

test-swift: deps
	$(SWIFT) build
	$(SWIFT) test

# The release forwarding loop must hold no retain/release, allocation or dynamic cast.
check-hotloop: release
	python3 Tools/check-hotloop.py $(RELEASE_BIN)

bench: deps release bench-io $(if $(wildcard mk/wire.mk),bench-cksum) $(if $(wildcard mk/offload.mk),bench-gso) $(if $(wildcard mk/gro.mk),bench-gro) bench-kernel

bench-io: release
	Tools/bench/io.sh $(RELEASE_BIN)

# Kernel TCP over VXLAN through tunnelpmd's vnet taps vs a plain relay (root, netns).
bench-kernel: release
	Tools/bench/kernel-vxlan.sh $(RELEASE_BIN)

clean:
	rm -rf .build .build-*
