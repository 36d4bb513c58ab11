# Offload (issue 4, segmenter half): the GSO benchmark. Included by the top-level Makefile.
# The tests (OffloadTests) use tshark and scapy, which mk/wire.mk already installs.
OFFLOAD_APT_PACKAGES :=
OFFLOAD_PIP_PACKAGES :=
GSO_BENCH_ROUNDS ?= 7
GSO_BENCH_SECONDS ?= 0.3

.PHONY: bench-gso

# Swift GSO against librte_gso (+ software checksum fix-up), alternated in one process.
bench-gso:
	swift build -c release --scratch-path .build-bench --product gso-bench
	.build-bench/release/gso-bench $(GSO_BENCH_ROUNDS) $(GSO_BENCH_SECONDS)

.PHONY: check-gso-hotloop

# The segmenter's functions in the release bench binary call no Swift runtime: no retain/
# release, allocation, dynamic cast or metadata lookup. Allowed: Segmenter.init's one
# swift_slowAlloc (the scratch array) and swift_willThrowTypedImpl on the failure paths.
check-gso-hotloop:
	swift build -c release --scratch-path .build-bench --product gso-bench
	@objdump -d --no-show-raw-insn .build-bench/release/gso-bench | swift demangle --simplified | \
	  awk '/^[0-9a-f]+ <(specialized )?(static )?(Segmenter|SegmentHeaders|PayloadSlicer|PacketChecksums|ChecksumGeometry|ChecksumAccumulator)\./ \
	         { p = 1; name = $$0; n++; next } p && /^$$/ { p = 0 } p && /call.*swift_/ { print name " :: " $$NF } \
	       END { if (n < 5) { print "check-gso-hotloop: segmenter functions not found" > "/dev/stderr"; exit 2 } }' | \
	  grep -vE 'Segmenter\.init.*swift_slowAlloc|swift_willThrowTypedImpl' > .build-bench/gso-hotloop.txt || true
	@if [ -s .build-bench/gso-hotloop.txt ]; then cat .build-bench/gso-hotloop.txt; \
	  echo "check-gso-hotloop: Swift runtime calls in the segmenter (above)" >&2; exit 1; fi
	@echo "check-gso-hotloop: no retain/release/allocation/runtime call in the segmenter: OK"
