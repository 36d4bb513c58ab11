// librte_gro (lib/gro/rte_gro.c, gro_tcp4.c, gro_vxlan_tcp4.c in 22.11) as an application
// uses it. The heavyweight API (rte_gro_ctx_create, rte_gro_reassemble, ...) is experimental.
#define ALLOW_EXPERIMENTAL_API
#include "gro_baseline.h"

#include <errno.h>
#include <string.h>
#include <rte_gro.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mbuf_ptype.h>

uint32_t gro_baseline_packet_type(enum gro_baseline_kind kind) {
    switch (kind) {
    case GRO_BASELINE_TCP4:
        return RTE_PTYPE_L2_ETHER | RTE_PTYPE_L3_IPV4 | RTE_PTYPE_L4_TCP;
    case GRO_BASELINE_VXLAN_TCP4:
        return RTE_PTYPE_L2_ETHER | RTE_PTYPE_L3_IPV4 | RTE_PTYPE_L4_UDP | RTE_PTYPE_TUNNEL_VXLAN |
               RTE_PTYPE_INNER_L2_ETHER | RTE_PTYPE_INNER_L3_IPV4 | RTE_PTYPE_INNER_L4_TCP;
    default:
        return 0;
    }
}

int gro_baseline_refill(struct rte_mempool *pool, const struct gro_baseline_template *templates, uint16_t count,
                        struct rte_mbuf **out) {
    int status = rte_pktmbuf_alloc_bulk(pool, out, count);
    if (status != 0)
        return status < 0 ? status : -ENOBUFS;
    for (uint16_t i = 0; i < count; i++) {
        struct rte_mbuf *m = out[i];
        const struct gro_baseline_template *t = &templates[i];
        memcpy(rte_pktmbuf_mtod(m, void *), t->bytes, t->length);
        m->data_len = t->length;
        m->pkt_len = t->length;
        m->packet_type = t->packet_type;
        m->ol_flags = t->ol_flags;
        m->l2_len = t->l2_len;
        m->l3_len = t->l3_len;
        m->l4_len = t->l4_len;
        m->outer_l2_len = t->outer_l2_len;
        m->outer_l3_len = t->outer_l3_len;
    }
    return 0;
}

uint64_t gro_baseline_types(void) { return RTE_GRO_TCP_IPV4 | RTE_GRO_IPV4_VXLAN_TCP_IPV4; }

uint16_t gro_baseline_burst(struct rte_mbuf **pkts, uint16_t count, uint16_t max_flows, uint16_t max_items_per_flow) {
    const struct rte_gro_param param = {
        .gro_types = RTE_GRO_TCP_IPV4 | RTE_GRO_IPV4_VXLAN_TCP_IPV4,
        .max_flow_num = max_flows,
        .max_item_per_flow = max_items_per_flow,
        .socket_id = 0,
    };
    return rte_gro_reassemble_burst(pkts, count, &param);
}

void *gro_baseline_context(uint16_t max_flows, uint16_t max_items_per_flow) {
    const struct rte_gro_param param = {
        .gro_types = RTE_GRO_TCP_IPV4 | RTE_GRO_IPV4_VXLAN_TCP_IPV4,
        .max_flow_num = max_flows,
        .max_item_per_flow = max_items_per_flow,
        .socket_id = (uint16_t)rte_socket_id(),
    };
    return rte_gro_ctx_create(&param);
}

uint16_t gro_baseline_reassemble(void *context, struct rte_mbuf **pkts, uint16_t count) {
    return rte_gro_reassemble(pkts, count, context);
}

uint16_t gro_baseline_flush(void *context, uint64_t timeout_cycles, struct rte_mbuf **out, uint16_t capacity) {
    return rte_gro_timeout_flush(context, timeout_cycles, RTE_GRO_TCP_IPV4 | RTE_GRO_IPV4_VXLAN_TCP_IPV4, out,
                                 capacity);
}

uint64_t gro_baseline_held(void *context) { return rte_gro_get_pkt_count(context); }

void gro_baseline_context_free(void *context) { rte_gro_ctx_destroy(context); }
