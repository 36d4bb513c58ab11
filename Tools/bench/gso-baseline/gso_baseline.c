// librte_gso plus the software checksum fix-up an application needs on a port without
// checksum offload (lib/gso/gso_common.c, gso_tcp4.c: librte_gso computes no checksum).
// rte_ipv4_udptcp_cksum_mbuf is still marked experimental in 22.11.
#define ALLOW_EXPERIMENTAL_API
#include "gso_baseline.h"

#include <errno.h>
#include <stddef.h>
#include <rte_gso.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_tcp.h>
#include <rte_udp.h>
#include <rte_ethdev.h>

static void fix_vxlan_tcp4(struct rte_mbuf *m) {
    // Header offsets from the lengths librte_gso copied into every segment.
    uint16_t outer_l3 = m->outer_l2_len;
    uint16_t outer_l4 = outer_l3 + m->outer_l3_len;
    uint16_t inner_l3 = outer_l4 + m->l2_len;
    uint16_t inner_l4 = inner_l3 + m->l3_len;
    struct rte_ipv4_hdr *outer_ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, outer_l3);
    struct rte_udp_hdr *udp = rte_pktmbuf_mtod_offset(m, struct rte_udp_hdr *, outer_l4);
    struct rte_ipv4_hdr *inner_ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, inner_l3);
    struct rte_tcp_hdr *tcp = rte_pktmbuf_mtod_offset(m, struct rte_tcp_hdr *, inner_l4);

    inner_ip->hdr_checksum = 0;
    inner_ip->hdr_checksum = rte_ipv4_cksum(inner_ip);
    tcp->cksum = 0;
    tcp->cksum = rte_ipv4_udptcp_cksum_mbuf(m, inner_ip, inner_l4);
    udp->dgram_cksum = 0;
    udp->dgram_cksum = rte_ipv4_udptcp_cksum_mbuf(m, outer_ip, outer_l4);
    outer_ip->hdr_checksum = 0;
    outer_ip->hdr_checksum = rte_ipv4_cksum(outer_ip);
}

int gso_baseline_segment(struct rte_mbuf *packet, struct rte_mempool *direct_pool,
                         struct rte_mempool *indirect_pool, uint16_t frame_size, int fix_checksums,
                         struct rte_mbuf **out, uint16_t capacity) {
    struct rte_gso_ctx ctx = {
        .direct_pool = direct_pool,
        .indirect_pool = indirect_pool,
        .flag = 0,
        .gso_types = RTE_ETH_TX_OFFLOAD_TCP_TSO | RTE_ETH_TX_OFFLOAD_VXLAN_TNL_TSO | RTE_ETH_TX_OFFLOAD_GRE_TNL_TSO,
        .gso_size = frame_size,
    };
    int count = rte_gso_segment(packet, &ctx, out, capacity);
    rte_pktmbuf_free(packet);  // librte_gso never frees its input; the segments hold its buffers
    if (count <= 0)
        return count == 0 ? -EINVAL : count;
    if (fix_checksums && (out[0]->ol_flags & RTE_MBUF_F_TX_TUNNEL_MASK) == RTE_MBUF_F_TX_TUNNEL_VXLAN)
        for (int i = 0; i < count; i++)
            fix_vxlan_tcp4(out[i]);
    return count;
}

// malloc interposition: this object is linked into the executable, so its definitions win
// over libc's for the whole process. Counting only; glibc does the work.
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);

static uint64_t malloc_calls;

void *malloc(size_t size) {
    __atomic_fetch_add(&malloc_calls, 1, __ATOMIC_RELAXED);
    return __libc_malloc(size);
}
void *calloc(size_t count, size_t size) {
    __atomic_fetch_add(&malloc_calls, 1, __ATOMIC_RELAXED);
    return __libc_calloc(count, size);
}
void *realloc(void *pointer, size_t size) {
    __atomic_fetch_add(&malloc_calls, 1, __ATOMIC_RELAXED);
    return __libc_realloc(pointer, size);
}
int posix_memalign(void **pointer, size_t alignment, size_t size) {
    __atomic_fetch_add(&malloc_calls, 1, __ATOMIC_RELAXED);
    void *p = __libc_memalign(alignment, size);
    if (p == NULL)
        return ENOMEM;
    *pointer = p;
    return 0;
}

uint64_t gso_baseline_malloc_calls(void) { return __atomic_load_n(&malloc_calls, __ATOMIC_RELAXED); }
