// GROBaseline: DPDK's own receive coalescing (librte_gro, 22.11) as an application calls it,
// for TCP/IPv4 and VXLAN-TCP/IPv4: the C side of `make bench-gro` and of the differential
// test (Tests/OffloadTests/GRODifferentialTests.swift). Also refills packets from templates
// the same way for every contender.
#ifndef GRO_BASELINE_H
#define GRO_BASELINE_H

#include <stdint.h>

struct rte_mbuf;
struct rte_mempool;

// The ptype a NIC would report: librte_gro dispatches on m->packet_type and reads the
// headers at the offsets the length fields give (it parses nothing itself).
enum gro_baseline_kind {
    GRO_BASELINE_OTHER = 0,      // no ptype librte_gro takes (Geneve, IPv6 outer, ...)
    GRO_BASELINE_TCP4 = 1,       // L2_ETHER | L3_IPV4 | L4_TCP
    GRO_BASELINE_VXLAN_TCP4 = 2  // L2_ETHER | L3_IPV4 | L4_UDP | TUNNEL_VXLAN | INNER_L2_ETHER | INNER_L3_IPV4 | INNER_L4_TCP
};

uint32_t gro_baseline_packet_type(enum gro_baseline_kind kind);

// One frame to copy into a fresh mbuf, with the metadata an rx path would leave: packet
// type, rx checksum verdicts (ol_flags), and the lengths librte_gro needs (for VXLAN:
// outer_l2_len, outer_l3_len, l2_len = UDP + VXLAN + inner Ethernet, inner l3_len, l4_len).
struct gro_baseline_template {
    const uint8_t *bytes;
    uint16_t length;
    uint8_t l2_len, l4_len, outer_l2_len;
    uint16_t l3_len, outer_l3_len;
    uint32_t packet_type;
    uint64_t ol_flags;
};

// Allocates `count` mbufs from `pool` and fills each from its template (data copied,
// metadata set). Returns 0, or a negative errno when the pool is short (nothing allocated).
int gro_baseline_refill(struct rte_mempool *pool, const struct gro_baseline_template *templates, uint16_t count,
                        struct rte_mbuf **out);

// The GRO types used throughout: RTE_GRO_TCP_IPV4 | RTE_GRO_IPV4_VXLAN_TCP_IPV4.
uint64_t gro_baseline_types(void);

// Lightweight mode: rte_gro_reassemble_burst on pkts[0..<count] in place (tables on the
// stack, everything flushed before it returns). Returns the packets left in pkts.
uint16_t gro_baseline_burst(struct rte_mbuf **pkts, uint16_t count, uint16_t max_flows, uint16_t max_items_per_flow);

// Heavyweight mode: a context (rte_gro_ctx_create), rte_gro_reassemble (packets it could not
// take stay in pkts, the count is returned), rte_gro_timeout_flush (flows whose first
// segment arrived at least `timeout_cycles` TSC cycles ago; 0 flushes all), the held count.
void *gro_baseline_context(uint16_t max_flows, uint16_t max_items_per_flow);
uint16_t gro_baseline_reassemble(void *context, struct rte_mbuf **pkts, uint16_t count);
uint16_t gro_baseline_flush(void *context, uint64_t timeout_cycles, struct rte_mbuf **out, uint16_t capacity);
uint64_t gro_baseline_held(void *context);
void gro_baseline_context_free(void *context);

#endif
