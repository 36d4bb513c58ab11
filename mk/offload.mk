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
