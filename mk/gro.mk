# Receive coalescing (issue 10): the GRO benchmark. Included by the top-level Makefile.
GRO_APT_PACKAGES :=
GRO_PIP_PACKAGES :=
GRO_BENCH_ROUNDS ?= 7
GRO_BENCH_SECONDS ?= 0.2

.PHONY: bench-gro

# The Swift coalescer against librte_gro (lightweight and heavyweight), interleaved in one process.
bench-gro: deps
	swift build -c release --scratch-path .build-bench --product gro-bench
	.build-bench/release/gro-bench $(GRO_BENCH_ROUNDS) $(GRO_BENCH_SECONDS)
