# Wire (issue 3): tests, fuzzing and the checksum benchmark. Included by the top-level
# Makefile (include mk/*.mk); `make deps` installs the packages named here.

# tshark is the independent checksum oracle in WireTests; scapy builds the fuzz seeds.
WIRE_APT_PACKAGES := tshark
WIRE_PIP_PACKAGES := scapy

FUZZ_SECONDS ?= 60
FUZZ_DIR := .build-fuzz
WIRE_SOURCES := $(wildcard Sources/Wire/*.swift)
FUZZ_TARGETS := parser virtio
# -O keeps the fuzzers fast; ASan still sees every out-of-bounds access.
FUZZ_SWIFTC := swiftc -sanitize=fuzzer,address -parse-as-library -O -module-name WireFuzz -package-name tunnelpmd

.PHONY: test-wire fuzz fuzz-build bench-cksum

test-wire:
	TUNNELPMD_WIRE_ONLY=1 swift test --scratch-path .build-wire

# Wire's own dependencies, built as SwiftPM builds them: CCPU (C, with a module map made
# here), ChecksumKernel, and ChecksumKernelV3 for x86-64-v3 where the machine is x86-64.
FUZZ_V3_FLAGS := $(if $(filter x86_64,$(shell uname -m)),-target-cpu haswell)
FUZZ_DEPS := $(FUZZ_DIR)/deps/ccpu.o $(FUZZ_DIR)/deps/ChecksumKernel.o $(FUZZ_DIR)/deps/ChecksumKernelV3.o
FUZZ_SWIFTC_DEPS := -I $(FUZZ_DIR)/deps -Xcc -fmodule-map-file=$(FUZZ_DIR)/deps/ccpu.modulemap $(FUZZ_DEPS)

$(FUZZ_DIR)/deps/ccpu.o: CShims/CCPU/ccpu.c CShims/CCPU/include/ccpu.h
	@mkdir -p $(FUZZ_DIR)/deps
	printf 'module CCPU {\n  header "%s"\n  export *\n}\n' "$(CURDIR)/CShims/CCPU/include/ccpu.h" > $(FUZZ_DIR)/deps/ccpu.modulemap
	cc -O2 -c -I CShims/CCPU/include CShims/CCPU/ccpu.c -o $@

$(FUZZ_DIR)/deps/ChecksumKernel.o: $(wildcard Sources/ChecksumKernel/*.swift)
	@mkdir -p $(FUZZ_DIR)/deps
	swiftc -parse-as-library -O -wmo -module-name ChecksumKernel -emit-module \
	  -emit-module-path $(FUZZ_DIR)/deps/ChecksumKernel.swiftmodule -c $^ -o $@

$(FUZZ_DIR)/deps/ChecksumKernelV3.o: $(wildcard Sources/ChecksumKernelV3/*.swift) $(FUZZ_DIR)/deps/ChecksumKernel.o
	swiftc -parse-as-library -O -wmo $(FUZZ_V3_FLAGS) -module-name ChecksumKernelV3 -I $(FUZZ_DIR)/deps -emit-module \
	  -emit-module-path $(FUZZ_DIR)/deps/ChecksumKernelV3.swiftmodule -c $(wildcard Sources/ChecksumKernelV3/*.swift) -o $@

$(FUZZ_DIR)/parser-fuzz: $(WIRE_SOURCES) Tools/fuzz/ParserFuzz.swift $(FUZZ_DEPS)
	@mkdir -p $(FUZZ_DIR)
	$(FUZZ_SWIFTC) $(FUZZ_SWIFTC_DEPS) $(WIRE_SOURCES) Tools/fuzz/ParserFuzz.swift -o $@ 2>&1 | grep -v 'Cannot export local symbol' || true
	@test -x $@

$(FUZZ_DIR)/virtio-fuzz: $(WIRE_SOURCES) Tools/fuzz/VirtioFuzz.swift $(FUZZ_DEPS)
	@mkdir -p $(FUZZ_DIR)
	$(FUZZ_SWIFTC) $(FUZZ_SWIFTC_DEPS) $(WIRE_SOURCES) Tools/fuzz/VirtioFuzz.swift -o $@ 2>&1 | grep -v 'Cannot export local symbol' || true
	@test -x $@

fuzz-build: $(FUZZ_DIR)/parser-fuzz $(FUZZ_DIR)/virtio-fuzz

# Each target runs FUZZ_SECONDS on its corpus (kept between runs), seeded from scapy frames.
# A crash leaves crash-* files in $(FUZZ_DIR) and fails the target.
fuzz: fuzz-build
	python3 Tools/fuzz/make_seeds.py $(FUZZ_DIR)/seeds-parser $(FUZZ_DIR)/seeds-virtio
	@for t in $(FUZZ_TARGETS); do \
	  mkdir -p $(FUZZ_DIR)/corpus-$$t; \
	  echo "== fuzz $$t for $(FUZZ_SECONDS)s"; \
	  $(FUZZ_DIR)/$$t-fuzz -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
	    -artifact_prefix=$(FUZZ_DIR)/$$t- $(FUZZ_DIR)/corpus-$$t $(FUZZ_DIR)/seeds-$$t \
	    > $(FUZZ_DIR)/$$t.log 2>&1 || { tail -40 $(FUZZ_DIR)/$$t.log; exit 1; }; \
	  grep -E '^stat::(number_of_executed_units|new_units_added|peak_rss_mb)' $(FUZZ_DIR)/$$t.log; \
	done

bench-cksum:
	swift run -c release --scratch-path .build-bench cksum-bench
