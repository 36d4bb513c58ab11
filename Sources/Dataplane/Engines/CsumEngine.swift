import CDPDK
import DPDK
import Offload
import Wire

/// testpmd's csum engine, done right: parse each packet (tunnels included), finish any
/// checksum its sender left pending that the plan will not rewrite, write the Ethernet
/// addresses as testpmd does (destination = the tx port's peer, source = the tx port's own),
/// ask the egress port's planner who cuts it and who fills which checksum — the port (tunnel
/// TSO, checksum offload), Swift (GSO, checksums), or both — carry the plan out, and hand the
/// result to tx_prepare and tx_burst. A packet tx_prepare refuses is planned again in software.
public struct CsumEngine: ForwardingEngine {
    public static let mode = ForwardingMode.csum
    public static let worksInPlace = false
    public static let rewritesAddresses = true

    private var egress: Egress

    public init(context: EngineContext) {
        egress = Egress(context: context)
    }

    /// For frames from a pcap, without metadata (see `Egress.cutsPlainDatagrams`).
    init(replayingWith context: EngineContext) {
        egress = Egress(context: context)
        egress.cutsPlainDatagrams = true
    }

    public func finish() { egress.finish() }

    public mutating func process(
        _ input: UnsafeMutablePointer<OpaquePointer?>, count: Int,
        output: UnsafeMutablePointer<OpaquePointer?>, capacity: Int, stream: Stream
    ) -> Int {
        let planner = egress.context.planner(stream.txPort)
        let slots = stream.engineCounters
        let destination = stream.peerMAC.bytes
        let source = stream.txSourceMAC.bytes
        var produced = 0
        for index in 0..<count {
            let packet = Mbuf(input[index].unsafelyUnwrapped)
            countReceiveVerdicts(packet.offloadFlags, slots)
            guard let layout = egress.parse(packet, rxPort: stream.rxPort, slots: slots),
                egress.completePending(packet, layout: layout, slots: slots)
            else {
                egress.drop(packet, stream)
                continue
            }
            if packet.dataLength >= 12 {
                let header = packet.data
                header.storeBytes(of: destination, as: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8).self)
                (header + 6).storeBytes(of: source, as: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8).self)
            }
            let plan = planner.pointee.plan(
                packet, layout: layout, segmentSize: egress.requestedSegmentSize(packet), datagramCut: egress.datagramCut(packet))
            // A frame cut into more segments than there is room for sends what came before it.
            produced = egress.carryOut(plan, packet, layout, into: output, produced: produced, capacity: capacity, stream)
        }
        return egress.prepare(output, count: produced, capacity: capacity, stream: stream)
    }

    /// Hardware verdicts the rx port left in ol_flags (no software verification on rx).
    @inline(__always)
    private func countReceiveVerdicts(_ flags: MbufFlags, _ slots: UnsafeMutablePointer<UInt64>) {
        let ip = flags.intersection([.rxIPChecksumBad, .rxIPChecksumGood])
        if ip == .rxIPChecksumBad { slots[EngineCounter.rxBadIPChecksum] &+= 1 }
        let l4 = flags.intersection([.rxL4ChecksumBad, .rxL4ChecksumGood])
        if l4 == .rxL4ChecksumBad { slots[EngineCounter.rxBadL4Checksum] &+= 1 }
        if flags.contains(.rxOuterIPChecksumBad) { slots[EngineCounter.rxBadOuterIPChecksum] &+= 1 }
        let outerL4 = flags.intersection([.rxOuterL4ChecksumBad, .rxOuterL4ChecksumGood])
        if outerL4 == .rxOuterL4ChecksumBad { slots[EngineCounter.rxBadOuterL4Checksum] &+= 1 }
    }
}
