import CDPDK
import DPDK

/// Sizing of the pool Swift GSO takes segment header mbufs from (librte_gso's direct pool).
/// Headers never come from the packet pool: with `--mbuf-size=65535` each would pin a 64 KB
/// buffer for at most a few hundred bytes.
enum GSOHeaderPool {
    /// Header bytes a segment may carry: the most the egress parser reads of a multi-segment
    /// frame (`Egress.headerCopyLength`); longer headers fail as `headers-too-long`.
    static var headerRoom: Int { Egress.headerCopyLength }
    static var dataRoomSize: UInt16 { UInt16(Int(CDPDK_PKTMBUF_HEADROOM) + headerRoom) }

    /// Every header that can be in flight: each forwarding lcore's output array full of
    /// segments (at the largest burst, rounds keep a cut within it) plus its pool cache, and
    /// every tx ring full of segments the port has not sent yet.
    static func size(options: ForwardingOptions, ports: Int, lcores: Int) -> UInt32 {
        let perLcore = Worker<IOEngine>.outputCapacity(burst: ForwardingOptions.maxBurst) + 250
        let rings = ports * Int(options.txQueues) * Int(options.txDescriptors)
        return UInt32(lcores * perLcore + rings)
    }
}
