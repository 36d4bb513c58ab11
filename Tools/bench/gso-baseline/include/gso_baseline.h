// GSOBaseline: DPDK's own GSO (librte_gso) as an application has to use it to put valid
// VXLAN/TCP-IPv4 frames on a port without checksum offload: segment, then fix every checksum
// in software. The C side of `make bench-gso`; also a malloc counter for the Swift side.
#ifndef GSO_BASELINE_H
#define GSO_BASELINE_H

#include <stdint.h>

struct rte_mbuf;
struct rte_mempool;

// Cuts `packet` (ol_flags and lengths set as librte_gso wants them) into segments of at most
// `frame_size` bytes each, frees the input, and when `fix_checksums` is set computes the
// outer IPv4, inner IPv4, inner TCP and outer UDP checksums of each segment in software
// (what librte_gso leaves stale). Returns the segment count, or a negative errno.
int gso_baseline_segment(struct rte_mbuf *packet, struct rte_mempool *direct_pool,
                         struct rte_mempool *indirect_pool, uint16_t frame_size, int fix_checksums,
                         struct rte_mbuf **out, uint16_t capacity);

// Calls to malloc, calloc, realloc and posix_memalign in this process so far (this object
// interposes them), to show a loop allocates nothing.
uint64_t gso_baseline_malloc_calls(void);

#endif
