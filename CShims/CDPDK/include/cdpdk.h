// CDPDK: what DPDK 22.11 hides from Swift, made visible. Static inline accessors for
// mbuf fields (rte_mbuf is cache-line aligned and imports as OpaquePointer), constants
// that are macros Swift cannot import, and errno/mtod helpers. No logic lives here.
#ifndef CDPDK_H
#define CDPDK_H

#include <stdint.h>
#include <stdbool.h>
#include <stdio.h>
#include <rte_config.h>
#include <rte_common.h>
#include <rte_errno.h>
#include <rte_eal.h>
#include <rte_lcore.h>
#include <rte_launch.h>
#include <rte_cycles.h>
#include <rte_mempool.h>
#include <rte_mbuf.h>
#include <rte_mbuf_core.h>
#include <rte_ethdev.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_version.h>
#include <rte_bus_vdev.h>
#include <rte_gso.h>
#include <rte_udp.h>
#include <rte_tcp.h>

// MARK: errno and version

static inline int cdpdk_errno(void) { return rte_errno; }
static inline const char *cdpdk_version(void) { return rte_version(); }

// Swift 6 cannot name C's stdout/stderr (shared mutable globals).
static inline void cdpdk_stdout_line_buffered(void) { setvbuf(stdout, NULL, _IOLBF, 0); }
static inline void cdpdk_stderr_write(const char *text) { fputs(text, stderr); fflush(stderr); }

// MARK: cycles

static inline uint64_t cdpdk_rdtsc(void) { return rte_rdtsc(); }
static inline uint64_t cdpdk_tsc_hz(void) { return rte_get_tsc_hz(); }
static inline void cdpdk_pause(void) { rte_pause(); }

// MARK: lcores

static inline unsigned cdpdk_lcore_id(void) { return rte_lcore_id(); }
static const unsigned CDPDK_LCORE_ID_ANY = LCORE_ID_ANY;
static const unsigned CDPDK_MAX_LCORE = RTE_MAX_LCORE;

// A flag written by one lcore and polled by others: relaxed atomics, never hoisted.
static inline uint32_t cdpdk_load_flag(const volatile uint32_t *flag) {
    return __atomic_load_n(flag, __ATOMIC_ACQUIRE);
}
static inline void cdpdk_store_flag(volatile uint32_t *flag, uint32_t value) {
    __atomic_store_n(flag, value, __ATOMIC_RELEASE);
}
static inline uint64_t cdpdk_load_counter(const volatile uint64_t *counter) {
    return __atomic_load_n(counter, __ATOMIC_RELAXED);
}
// A counter more than one thread adds to (a PMD's event callback, say): an atomic add.
static inline void cdpdk_add_counter(volatile uint64_t *counter, uint64_t value) {
    __atomic_fetch_add(counter, value, __ATOMIC_RELAXED);
}

// MARK: mbuf fields

static inline void *cdpdk_mbuf_mtod(const struct rte_mbuf *m) { return rte_pktmbuf_mtod(m, void *); }
static inline void *cdpdk_mbuf_mtod_offset(const struct rte_mbuf *m, uint32_t off) {
    return rte_pktmbuf_mtod_offset(m, void *, off);
}
static inline void *cdpdk_mbuf_buf_addr(const struct rte_mbuf *m) { return m->buf_addr; }
static inline uint16_t cdpdk_mbuf_buf_len(const struct rte_mbuf *m) { return m->buf_len; }
static inline uint16_t cdpdk_mbuf_data_off(const struct rte_mbuf *m) { return m->data_off; }
static inline void cdpdk_mbuf_set_data_off(struct rte_mbuf *m, uint16_t v) { m->data_off = v; }
static inline uint16_t cdpdk_mbuf_data_len(const struct rte_mbuf *m) { return m->data_len; }
static inline void cdpdk_mbuf_set_data_len(struct rte_mbuf *m, uint16_t v) { m->data_len = v; }
static inline uint32_t cdpdk_mbuf_pkt_len(const struct rte_mbuf *m) { return m->pkt_len; }
static inline void cdpdk_mbuf_set_pkt_len(struct rte_mbuf *m, uint32_t v) { m->pkt_len = v; }
static inline uint16_t cdpdk_mbuf_nb_segs(const struct rte_mbuf *m) { return m->nb_segs; }
static inline void cdpdk_mbuf_set_nb_segs(struct rte_mbuf *m, uint16_t v) { m->nb_segs = v; }
static inline struct rte_mbuf *cdpdk_mbuf_next(const struct rte_mbuf *m) { return m->next; }
static inline void cdpdk_mbuf_set_next(struct rte_mbuf *m, struct rte_mbuf *n) { m->next = n; }
static inline uint16_t cdpdk_mbuf_port(const struct rte_mbuf *m) { return m->port; }
static inline void cdpdk_mbuf_set_port(struct rte_mbuf *m, uint16_t v) { m->port = v; }
static inline uint64_t cdpdk_mbuf_ol_flags(const struct rte_mbuf *m) { return m->ol_flags; }
static inline void cdpdk_mbuf_set_ol_flags(struct rte_mbuf *m, uint64_t v) { m->ol_flags = v; }
static inline uint32_t cdpdk_mbuf_packet_type(const struct rte_mbuf *m) { return m->packet_type; }
static inline void cdpdk_mbuf_set_packet_type(struct rte_mbuf *m, uint32_t v) { m->packet_type = v; }
static inline uint32_t cdpdk_mbuf_rss_hash(const struct rte_mbuf *m) { return m->hash.rss; }
static inline uint16_t cdpdk_mbuf_vlan_tci(const struct rte_mbuf *m) { return m->vlan_tci; }
static inline void cdpdk_mbuf_set_vlan_tci(struct rte_mbuf *m, uint16_t v) { m->vlan_tci = v; }
// All six tx length fields share one 64-bit word: one load, one store.
static inline uint64_t cdpdk_mbuf_tx_offload(const struct rte_mbuf *m) { return m->tx_offload; }
static inline void cdpdk_mbuf_set_tx_offload(struct rte_mbuf *m, uint64_t v) { m->tx_offload = v; }
static inline struct rte_mempool *cdpdk_mbuf_pool(const struct rte_mbuf *m) { return m->pool; }
static inline uint16_t cdpdk_mbuf_refcnt(const struct rte_mbuf *m) { return rte_mbuf_refcnt_read(m); }
static inline bool cdpdk_mbuf_is_indirect(const struct rte_mbuf *m) { return RTE_MBUF_CLONED(m); }
static inline bool cdpdk_mbuf_is_direct(const struct rte_mbuf *m) { return RTE_MBUF_DIRECT(m); }
static inline uint16_t cdpdk_mbuf_headroom(const struct rte_mbuf *m) { return rte_pktmbuf_headroom(m); }
static inline uint16_t cdpdk_mbuf_tailroom(const struct rte_mbuf *m) { return rte_pktmbuf_tailroom(m); }
static inline struct rte_mbuf *cdpdk_mbuf_lastseg(struct rte_mbuf *m) { return rte_pktmbuf_lastseg(m); }

// MARK: mbuf operations (DPDK's own static inlines, named once here)

static inline struct rte_mbuf *cdpdk_mbuf_alloc(struct rte_mempool *mp) { return rte_pktmbuf_alloc(mp); }
static inline int cdpdk_mbuf_alloc_bulk(struct rte_mempool *mp, struct rte_mbuf **mbufs, unsigned count) {
    return rte_pktmbuf_alloc_bulk(mp, mbufs, count);
}
static inline void cdpdk_mbuf_free(struct rte_mbuf *m) { rte_pktmbuf_free(m); }
static inline void cdpdk_mbuf_free_seg(struct rte_mbuf *m) { rte_pktmbuf_free_seg(m); }
// rte_pktmbuf_free_bulk, with the common burst inline: when every mbuf is one direct,
// unshared segment (refcnt 1, no next, no indirect or external buffer) of the first one's
// pool, there is nothing to detach or reset (rte_pktmbuf_prefree_seg would write nothing),
// so the burst goes back to the pool in one rte_mempool_put_bulk into this lcore's cache.
// Any other burst (NULL entries, chains, clones, shared or mixed-pool mbufs) takes
// rte_pktmbuf_free_bulk whole. The library's copy costs a PLT call, __tls_get_addr for the
// lcore id (its TLS is general-dynamic in a shared object) and a staging array per burst;
// testpmd 22.11's rxonly inlines rte_pktmbuf_free per packet instead.
static inline void cdpdk_mbuf_free_bulk(struct rte_mbuf **mbufs, unsigned count) {
    if (count == 0) return;
    struct rte_mbuf *first = mbufs[0];
    if (likely(first != NULL)) {
        struct rte_mempool *pool = first->pool;
        unsigned i = 0;
        for (; i < count; i++) {
            const struct rte_mbuf *m = mbufs[i];
            if (unlikely(m == NULL || m->pool != pool || rte_mbuf_refcnt_read(m) != 1 || m->next != NULL ||
                         m->nb_segs != 1 || (m->ol_flags & (RTE_MBUF_F_INDIRECT | RTE_MBUF_F_EXTERNAL)) != 0))
                break;
        }
        if (likely(i == count)) {
            rte_mempool_put_bulk(pool, (void **)mbufs, count);
            return;
        }
    }
    rte_pktmbuf_free_bulk(mbufs, count);
}
static inline char *cdpdk_mbuf_append(struct rte_mbuf *m, uint16_t len) { return rte_pktmbuf_append(m, len); }
static inline char *cdpdk_mbuf_prepend(struct rte_mbuf *m, uint16_t len) { return rte_pktmbuf_prepend(m, len); }
static inline char *cdpdk_mbuf_adj(struct rte_mbuf *m, uint16_t len) { return rte_pktmbuf_adj(m, len); }
static inline int cdpdk_mbuf_trim(struct rte_mbuf *m, uint16_t len) { return rte_pktmbuf_trim(m, len); }
static inline int cdpdk_mbuf_chain(struct rte_mbuf *head, struct rte_mbuf *tail) { return rte_pktmbuf_chain(head, tail); }
static inline void cdpdk_mbuf_attach(struct rte_mbuf *mi, struct rte_mbuf *m) { rte_pktmbuf_attach(mi, m); }
static inline void cdpdk_mbuf_detach(struct rte_mbuf *m) { rte_pktmbuf_detach(m); }
static inline void cdpdk_mbuf_reset(struct rte_mbuf *m) { rte_pktmbuf_reset(m); }
static inline void cdpdk_mbuf_refcnt_update(struct rte_mbuf *m, int16_t v) { rte_mbuf_refcnt_update(m, v); }
static inline int cdpdk_mbuf_linearize(struct rte_mbuf *m) { return rte_pktmbuf_linearize(m); }
static inline const void *cdpdk_mbuf_read(const struct rte_mbuf *m, uint32_t off, uint32_t len, void *buf) {
    return rte_pktmbuf_read(m, off, len, buf);
}

// MARK: mempool

static inline unsigned cdpdk_mempool_size(const struct rte_mempool *mp) { return mp->size; }
static inline const char *cdpdk_mempool_name(const struct rte_mempool *mp) { return mp->name; }
static inline uint16_t cdpdk_mempool_data_room(struct rte_mempool *mp) { return rte_pktmbuf_data_room_size(mp); }
static const unsigned CDPDK_MBUF_DEFAULT_BUF_SIZE = RTE_MBUF_DEFAULT_BUF_SIZE;
static const unsigned CDPDK_PKTMBUF_HEADROOM = RTE_PKTMBUF_HEADROOM;

// MARK: ethdev

static inline uint16_t cdpdk_eth_find_next(uint16_t port) {
    return rte_eth_find_next_owned_by(port, RTE_ETH_DEV_NO_OWNER);
}
static const uint16_t CDPDK_MAX_ETHPORTS = RTE_MAX_ETHPORTS;
static const unsigned CDPDK_MAX_NUMA_NODES = RTE_MAX_NUMA_NODES;
static inline uint16_t cdpdk_rx_burst(uint16_t port, uint16_t queue, struct rte_mbuf **pkts, uint16_t n) {
    return rte_eth_rx_burst(port, queue, pkts, n);
}
static inline uint16_t cdpdk_tx_burst(uint16_t port, uint16_t queue, struct rte_mbuf **pkts, uint16_t n) {
    return rte_eth_tx_burst(port, queue, pkts, n);
}
static inline uint16_t cdpdk_tx_prepare(uint16_t port, uint16_t queue, struct rte_mbuf **pkts, uint16_t n) {
    return rte_eth_tx_prepare(port, queue, pkts, n);
}
static inline void cdpdk_ether_format(char *buf, uint16_t size, const struct rte_ether_addr *addr) {
    rte_ether_format_addr(buf, size, addr);
}

// Offload capability bits are RTE_BIT64 macros, which Swift does not import.
#define CDPDK_CONST64(name) static const uint64_t CDPDK_##name = name;
CDPDK_CONST64(RTE_ETH_TX_OFFLOAD_VLAN_INSERT)
CDPDK_CONST64(RTE_ETH_TX_OFFLOAD_IPV4_CKSUM)
CDPDK_CONST64(RTE_ETH_TX_OFFLOAD_UDP_CKSUM)
CDPDK_CONST64(RTE_ETH_TX_OFFLOAD_TCP_CKSUM)
CDPDK_CONST64(RTE_ETH_TX_OFFLOAD_SCTP_CKSUM)
CDPDK_CONST64(RTE_ETH_TX_OFFLOAD_TCP_TSO)
CDPDK_CONST64(RTE_ETH_TX_OFFLOAD_UDP_TSO)
CDPDK_CONST64(RTE_ETH_TX_OFFLOAD_OUTER_IPV4_CKSUM)
CDPDK_CONST64(RTE_ETH_TX_OFFLOAD_QINQ_INSERT)
CDPDK_CONST64(RTE_ETH_TX_OFFLOAD_VXLAN_TNL_TSO)
CDPDK_CONST64(RTE_ETH_TX_OFFLOAD_GRE_TNL_TSO)
CDPDK_CONST64(RTE_ETH_TX_OFFLOAD_IPIP_TNL_TSO)
CDPDK_CONST64(RTE_ETH_TX_OFFLOAD_GENEVE_TNL_TSO)
CDPDK_CONST64(RTE_ETH_TX_OFFLOAD_MACSEC_INSERT)
CDPDK_CONST64(RTE_ETH_TX_OFFLOAD_MT_LOCKFREE)
CDPDK_CONST64(RTE_ETH_TX_OFFLOAD_MULTI_SEGS)
CDPDK_CONST64(RTE_ETH_TX_OFFLOAD_MBUF_FAST_FREE)
CDPDK_CONST64(RTE_ETH_TX_OFFLOAD_SECURITY)
CDPDK_CONST64(RTE_ETH_TX_OFFLOAD_UDP_TNL_TSO)
CDPDK_CONST64(RTE_ETH_TX_OFFLOAD_IP_TNL_TSO)
CDPDK_CONST64(RTE_ETH_TX_OFFLOAD_OUTER_UDP_CKSUM)
CDPDK_CONST64(RTE_ETH_TX_OFFLOAD_SEND_ON_TIMESTAMP)

// RSS hash types (rss_type_table of testpmd's config.c names them): RTE_BIT64 macros too.
CDPDK_CONST64(RTE_ETH_RSS_IP)
CDPDK_CONST64(RTE_ETH_RSS_UDP)
CDPDK_CONST64(RTE_ETH_RSS_TCP)
CDPDK_CONST64(RTE_ETH_RSS_SCTP)
CDPDK_CONST64(RTE_ETH_RSS_TUNNEL)
CDPDK_CONST64(RTE_ETH_RSS_VLAN)
CDPDK_CONST64(RTE_ETH_RSS_IPV4)
CDPDK_CONST64(RTE_ETH_RSS_FRAG_IPV4)
CDPDK_CONST64(RTE_ETH_RSS_NONFRAG_IPV4_TCP)
CDPDK_CONST64(RTE_ETH_RSS_NONFRAG_IPV4_UDP)
CDPDK_CONST64(RTE_ETH_RSS_NONFRAG_IPV4_SCTP)
CDPDK_CONST64(RTE_ETH_RSS_NONFRAG_IPV4_OTHER)
CDPDK_CONST64(RTE_ETH_RSS_IPV6)
CDPDK_CONST64(RTE_ETH_RSS_FRAG_IPV6)
CDPDK_CONST64(RTE_ETH_RSS_NONFRAG_IPV6_TCP)
CDPDK_CONST64(RTE_ETH_RSS_NONFRAG_IPV6_UDP)
CDPDK_CONST64(RTE_ETH_RSS_NONFRAG_IPV6_SCTP)
CDPDK_CONST64(RTE_ETH_RSS_NONFRAG_IPV6_OTHER)
CDPDK_CONST64(RTE_ETH_RSS_L2_PAYLOAD)
CDPDK_CONST64(RTE_ETH_RSS_IPV6_EX)
CDPDK_CONST64(RTE_ETH_RSS_IPV6_TCP_EX)
CDPDK_CONST64(RTE_ETH_RSS_IPV6_UDP_EX)
CDPDK_CONST64(RTE_ETH_RSS_PORT)
CDPDK_CONST64(RTE_ETH_RSS_VXLAN)
CDPDK_CONST64(RTE_ETH_RSS_GENEVE)
CDPDK_CONST64(RTE_ETH_RSS_NVGRE)
CDPDK_CONST64(RTE_ETH_RSS_GTPU)
CDPDK_CONST64(RTE_ETH_RSS_ETH)
CDPDK_CONST64(RTE_ETH_RSS_S_VLAN)
CDPDK_CONST64(RTE_ETH_RSS_C_VLAN)
CDPDK_CONST64(RTE_ETH_RSS_ESP)
CDPDK_CONST64(RTE_ETH_RSS_AH)
CDPDK_CONST64(RTE_ETH_RSS_L2TPV3)
CDPDK_CONST64(RTE_ETH_RSS_PFCP)
CDPDK_CONST64(RTE_ETH_RSS_PPPOE)
CDPDK_CONST64(RTE_ETH_RSS_ECPRI)
CDPDK_CONST64(RTE_ETH_RSS_MPLS)
CDPDK_CONST64(RTE_ETH_RSS_IPV4_CHKSUM)
CDPDK_CONST64(RTE_ETH_RSS_L4_CHKSUM)
CDPDK_CONST64(RTE_ETH_RSS_L2TPV2)
CDPDK_CONST64(RTE_ETH_RSS_L3_PRE96)
CDPDK_CONST64(RTE_ETH_RSS_L3_PRE64)
CDPDK_CONST64(RTE_ETH_RSS_L3_PRE56)
CDPDK_CONST64(RTE_ETH_RSS_L3_PRE48)
CDPDK_CONST64(RTE_ETH_RSS_L3_PRE40)
CDPDK_CONST64(RTE_ETH_RSS_L3_PRE32)
CDPDK_CONST64(RTE_ETH_RSS_L2_DST_ONLY)
CDPDK_CONST64(RTE_ETH_RSS_L2_SRC_ONLY)
CDPDK_CONST64(RTE_ETH_RSS_L4_DST_ONLY)
CDPDK_CONST64(RTE_ETH_RSS_L4_SRC_ONLY)
CDPDK_CONST64(RTE_ETH_RSS_L3_DST_ONLY)
CDPDK_CONST64(RTE_ETH_RSS_L3_SRC_ONLY)
CDPDK_CONST64(RTE_ETH_RSS_LEVEL_MASK)
CDPDK_CONST64(RTE_ETH_RSS_LEVEL_INNERMOST)
CDPDK_CONST64(RTE_ETH_RSS_LEVEL_OUTERMOST)
CDPDK_CONST64(RTE_ETH_RX_OFFLOAD_VLAN_STRIP)
CDPDK_CONST64(RTE_ETH_RX_OFFLOAD_IPV4_CKSUM)
CDPDK_CONST64(RTE_ETH_RX_OFFLOAD_UDP_CKSUM)
CDPDK_CONST64(RTE_ETH_RX_OFFLOAD_TCP_CKSUM)
CDPDK_CONST64(RTE_ETH_RX_OFFLOAD_TCP_LRO)
CDPDK_CONST64(RTE_ETH_RX_OFFLOAD_QINQ_STRIP)
CDPDK_CONST64(RTE_ETH_RX_OFFLOAD_OUTER_IPV4_CKSUM)
CDPDK_CONST64(RTE_ETH_RX_OFFLOAD_MACSEC_STRIP)
CDPDK_CONST64(RTE_ETH_RX_OFFLOAD_VLAN_FILTER)
CDPDK_CONST64(RTE_ETH_RX_OFFLOAD_VLAN_EXTEND)
CDPDK_CONST64(RTE_ETH_RX_OFFLOAD_SCATTER)
CDPDK_CONST64(RTE_ETH_RX_OFFLOAD_TIMESTAMP)
CDPDK_CONST64(RTE_ETH_RX_OFFLOAD_SECURITY)
CDPDK_CONST64(RTE_ETH_RX_OFFLOAD_KEEP_CRC)
CDPDK_CONST64(RTE_ETH_RX_OFFLOAD_SCTP_CKSUM)
CDPDK_CONST64(RTE_ETH_RX_OFFLOAD_OUTER_UDP_CKSUM)
CDPDK_CONST64(RTE_ETH_RX_OFFLOAD_RSS_HASH)
CDPDK_CONST64(RTE_ETH_RX_OFFLOAD_BUFFER_SPLIT)
#undef CDPDK_CONST64

// MARK: checksums (for benchmarks that compare against DPDK's own)

static inline uint16_t cdpdk_raw_cksum(const void *buf, size_t len) { return rte_raw_cksum(buf, len); }

// MARK: telemetry (rte_tel_data is an incomplete type: Swift sees OpaquePointer; the
// callbacks are @convention(c) Swift functions)

#include <rte_telemetry.h>

#endif

// MARK: packet capture (Sources/Dataplane/Capture*.swift). rte_pcapng and rte_pdump are
// experimental in 22.11: the calls are wrapped here with the deprecation warning silenced.
#ifndef CDPDK_CAPTURE_H
#define CDPDK_CAPTURE_H
#include <string.h>
#include <unistd.h>
#include <rte_ring.h>
#include <rte_pcapng.h>
#include <rte_pdump.h>
#include <rte_dev.h>
#include <rte_bus.h>

// MARK: queue information (rte_eth_rxq_info/txq_info are cache-aligned: flattened here)

struct cdpdk_queue_info {
    const char *mempool;          // rx only; NULL when the PMD does not say
    uint8_t pthresh, hthresh, wthresh;
    uint16_t free_thresh;
    uint16_t rs_thresh;           // tx only
    uint8_t drop_enabled;         // rx only
    uint8_t deferred_start;
    uint8_t scattered;            // rx only
    uint8_t state;                // RTE_ETH_QUEUE_STATE_*
    uint16_t descriptors;
    uint16_t buffer_size;         // rx only
    uint64_t offloads;
};
static inline int cdpdk_rx_queue_info(uint16_t port, uint16_t queue, struct cdpdk_queue_info *out) {
    struct rte_eth_rxq_info q;
    int rc = rte_eth_rx_queue_info_get(port, queue, &q);
    if (rc != 0) return rc;
    *out = (struct cdpdk_queue_info){
        .mempool = q.mp == NULL ? NULL : q.mp->name,
        .pthresh = q.conf.rx_thresh.pthresh, .hthresh = q.conf.rx_thresh.hthresh,
        .wthresh = q.conf.rx_thresh.wthresh, .free_thresh = q.conf.rx_free_thresh,
        .drop_enabled = q.conf.rx_drop_en, .deferred_start = q.conf.rx_deferred_start,
        .scattered = q.scattered_rx, .state = q.queue_state, .descriptors = q.nb_desc,
        .buffer_size = q.rx_buf_size, .offloads = q.conf.offloads };
    return 0;
}
static inline int cdpdk_tx_queue_info(uint16_t port, uint16_t queue, struct cdpdk_queue_info *out) {
    struct rte_eth_txq_info q;
    int rc = rte_eth_tx_queue_info_get(port, queue, &q);
    if (rc != 0) return rc;
    *out = (struct cdpdk_queue_info){
        .pthresh = q.conf.tx_thresh.pthresh, .hthresh = q.conf.tx_thresh.hthresh,
        .wthresh = q.conf.tx_thresh.wthresh, .free_thresh = q.conf.tx_free_thresh,
        .rs_thresh = q.conf.tx_rs_thresh, .deferred_start = q.conf.tx_deferred_start,
        .state = q.queue_state, .descriptors = q.nb_desc, .offloads = q.conf.offloads };
    return 0;
}
// The burst mode's text into `out` (size bytes); flags' PER_QUEUE bit in *per_queue.
static inline int cdpdk_burst_mode(uint16_t port, uint16_t queue, bool rx, char *out, size_t size, bool *per_queue) {
    struct rte_eth_burst_mode mode;
    int rc = rx ? rte_eth_rx_burst_mode_get(port, queue, &mode) : rte_eth_tx_burst_mode_get(port, queue, &mode);
    if (rc != 0) return rc;
    snprintf(out, size, "%s", mode.info);
    *per_queue = (mode.flags & RTE_ETH_BURST_FLAG_PER_QUEUE) != 0;
    return 0;
}

// MARK: devices (rte_device is opaque since 22.11: its accessors, for `show device info`)

static inline const char *cdpdk_port_device_name(uint16_t port) {
    struct rte_eth_dev_info info;
    if (rte_eth_dev_info_get(port, &info) != 0 || info.device == NULL) return NULL;
    return rte_dev_name(info.device);
}
static inline const char *cdpdk_port_bus_name(uint16_t port) {
    struct rte_eth_dev_info info;
    if (rte_eth_dev_info_get(port, &info) != 0 || info.device == NULL) return NULL;
    return rte_bus_name(rte_dev_bus(info.device));
}
static inline const char *cdpdk_port_bus_info(uint16_t port) {
    struct rte_eth_dev_info info;
    if (rte_eth_dev_info_get(port, &info) != 0 || info.device == NULL) return NULL;
    return rte_dev_bus_info(info.device);
}
static inline const char *cdpdk_port_device_driver(uint16_t port) {
    struct rte_eth_dev_info info;
    if (rte_eth_dev_info_get(port, &info) != 0 || info.device == NULL) return NULL;
    const struct rte_driver *driver = rte_dev_driver(info.device);
    return driver == NULL ? NULL : rte_driver_name(driver);
}
static inline const char *cdpdk_port_devargs(uint16_t port) {
    struct rte_eth_dev_info info;
    if (rte_eth_dev_info_get(port, &info) != 0 || info.device == NULL) return NULL;
    const struct rte_devargs *args = rte_dev_devargs(info.device);
    return args == NULL ? NULL : args->args;
}
static inline int cdpdk_port_numa_node(uint16_t port) {
    struct rte_eth_dev_info info;
    if (rte_eth_dev_info_get(port, &info) != 0 || info.device == NULL) return -1;
    return rte_dev_numa_node(info.device);
}

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

/// One port and direction of a capture, shared by the forwarding lcores (producers) and the
/// writer thread. `armed` is the one word a worker loads per burst; the counters are
/// relaxed atomics added once per burst.
struct cdpdk_capture_slot {
    uint32_t armed;
    uint32_t snaplen;
    struct rte_ring *ring;
    struct rte_mempool *pool;
    uint64_t limit;       // 0: no limit
    uint64_t claimed;     // packets taken toward the limit
    uint64_t seen;        // packets offered while armed
    uint64_t queued;      // copies handed to the writer
    uint64_t ring_full;   // not captured: the ring was full
    uint64_t pool_empty;  // not captured: the capture pool was empty (or the copy failed)
    uint64_t over_limit;  // not captured: the count was reached
    uint64_t pad[6];
};

static inline uint64_t cdpdk_capture_counter(const struct cdpdk_capture_slot *s, int which) {
    const uint64_t *p = &s->seen;
    return __atomic_load_n(p + which, __ATOMIC_RELAXED);
}

/// Copies `pkts[0..<n]` (whole chains, up to the snap length) as pcapng blocks from the
/// capture pool into the ring; never blocks, never allocates outside the capture pool.
static inline void cdpdk_capture_burst(struct cdpdk_capture_slot *s, uint16_t port, uint16_t queue,
                                       struct rte_mbuf **pkts, uint32_t n, int outbound) {
    struct rte_mbuf *copies[64];
    uint32_t held = 0;
    uint64_t queued = 0, full = 0, empty = 0, over = 0;
    uint64_t now = rte_get_tsc_cycles();
    enum rte_pcapng_direction direction = outbound ? RTE_PCAPNG_DIRECTION_OUT : RTE_PCAPNG_DIRECTION_IN;
    for (uint32_t i = 0; i < n; i++) {
        if (s->limit != 0 && __atomic_fetch_add(&s->claimed, 1, __ATOMIC_RELAXED) >= s->limit) {
            over++;
            continue;
        }
        struct rte_mbuf *c = rte_pcapng_copy(port, queue, pkts[i], s->pool, s->snaplen, now, direction);
        if (c == NULL) { empty++; continue; }
        // The writer describes the original: its segment count rides in the copy's hash word
        // (rte_pktmbuf_copy keeps ol_flags and tx_offload).
        c->hash.usr = pkts[i]->nb_segs;
        copies[held++] = c;
        if (held == 64) {
            unsigned done = rte_ring_mp_enqueue_burst(s->ring, (void **)copies, held, NULL);
            queued += done;
            if (done < held) {
                full += held - done;
                rte_pktmbuf_free_bulk(copies + done, held - done);
            }
            held = 0;
        }
    }
    if (held > 0) {
        unsigned done = rte_ring_mp_enqueue_burst(s->ring, (void **)copies, held, NULL);
        queued += done;
        if (done < held) { full += held - done; rte_pktmbuf_free_bulk(copies + done, held - done); }
    }
    __atomic_fetch_add(&s->seen, n, __ATOMIC_RELAXED);
    if (queued) __atomic_fetch_add(&s->queued, queued, __ATOMIC_RELAXED);
    if (full) __atomic_fetch_add(&s->ring_full, full, __ATOMIC_RELAXED);
    if (empty) __atomic_fetch_add(&s->pool_empty, empty, __ATOMIC_RELAXED);
    if (over) __atomic_fetch_add(&s->over_limit, over, __ATOMIC_RELAXED);
}

static inline struct rte_ring *cdpdk_capture_ring_create(const char *name, unsigned count) {
    return rte_ring_create(name, count, SOCKET_ID_ANY, RING_F_SC_DEQ);
}
static inline unsigned cdpdk_capture_dequeue(struct rte_ring *r, struct rte_mbuf **out, unsigned n) {
    return rte_ring_sc_dequeue_burst(r, (void **)out, n, NULL);
}

static inline rte_pcapng_t *cdpdk_pcapng_fdopen(int fd, const char *os, const char *hw, const char *app,
                                                const char *comment) {
    return rte_pcapng_fdopen(fd, os, hw, app, comment);
}
static inline void cdpdk_pcapng_close(rte_pcapng_t *p) { rte_pcapng_close(p); }
static inline ssize_t cdpdk_pcapng_write_packets(rte_pcapng_t *p, struct rte_mbuf **pkts, uint16_t n) {
    return rte_pcapng_write_packets(p, pkts, n);
}

/// Adds a comment option (and the end-of-options marker) to a block made by rte_pcapng_copy
/// (one segment: [EPB][data][options][block length]); false when the tailroom is short.
static inline bool cdpdk_pcapng_add_comment(struct rte_mbuf *m, const char *text, uint16_t len) {
    if (m->next != NULL || m->data_len < 32) return false;
    uint32_t padded = (len + 3u) & ~3u;
    uint32_t extra = 4 + padded + 4;
    if (rte_pktmbuf_tailroom(m) < extra) return false;
    uint8_t *base = rte_pktmbuf_mtod(m, uint8_t *);
    uint8_t *opt = base + m->data_len - 4;  // over the old trailer
    if (rte_pktmbuf_append(m, (uint16_t)extra) == NULL) return false;
    uint16_t code = 1;  // opt_comment
    memcpy(opt, &code, 2);
    memcpy(opt + 2, &len, 2);
    memcpy(opt + 4, text, len);
    memset(opt + 4 + len, 0, padded - len);
    memset(opt + 4 + padded, 0, 4);         // opt_endofopt
    uint32_t total = m->data_len;
    memcpy(base + 4, &total, 4);
    memcpy(base + total - 4, &total, 4);
    return true;
}

/// Writes one block made by rte_pcapng_copy straight to `fd` with the given interface id
/// (rte_pcapng_write_packets maps ethdev ports only).
static inline ssize_t cdpdk_pcapng_write_block(int fd, struct rte_mbuf *m, uint32_t interface_id) {
    uint8_t *base = rte_pktmbuf_mtod(m, uint8_t *);
    memcpy(base + 8, &interface_id, 4);
    return write(fd, base, m->data_len);
}

/// An interface description block (Ethernet, nanosecond timestamps) named `name`.
static inline ssize_t cdpdk_pcapng_write_interface(int fd, const char *name) {
    uint8_t buf[512];
    uint16_t nlen = (uint16_t)strnlen(name, 256);
    uint32_t npad = (nlen + 3u) & ~3u;
    uint32_t len = 16 + 8 + 4 + npad + 4 + 4;
    memset(buf, 0, sizeof(buf));
    uint32_t type = 1; uint16_t link = 1;
    memcpy(buf, &type, 4); memcpy(buf + 4, &len, 4); memcpy(buf + 8, &link, 2);
    uint16_t code = 9, olen = 1;             // if_tsresol: 10^-9
    memcpy(buf + 16, &code, 2); memcpy(buf + 18, &olen, 2); buf[20] = 9;
    code = 2;                                // if_name
    memcpy(buf + 24, &code, 2); memcpy(buf + 26, &nlen, 2); memcpy(buf + 28, name, nlen);
    memcpy(buf + len - 4, &len, 4);
    return write(fd, buf, len);
}

/// ol_flags, tso_segsz, the six lengths and the segment count of the captured original.
static inline int cdpdk_capture_describe(const struct rte_mbuf *m, char *out, size_t size) {
    return snprintf(out, size,
        "tunnelpmd ol_flags=0x%016llx tso_segsz=%u l2_len=%u l3_len=%u l4_len=%u outer_l2_len=%u outer_l3_len=%u segs=%u",
        (unsigned long long)m->ol_flags, (unsigned)m->tso_segsz, (unsigned)m->l2_len, (unsigned)m->l3_len,
        (unsigned)m->l4_len, (unsigned)m->outer_l2_len, (unsigned)m->outer_l3_len, (unsigned)m->hash.usr);
}

static inline int cdpdk_pdump_init(void) { return rte_pdump_init(); }
static inline int cdpdk_pdump_uninit(void) { return rte_pdump_uninit(); }

#pragma GCC diagnostic pop
#endif
