import CDPDK
import DPDK
import Offload
import Wire

/// testpmd's csum engine, done right: parse each packet (tunnels included), then per the
/// egress port's settings either cut it with Swift GSO or fill its checksums — in software,
/// or as offload requests the NIC completes (ol_flags, lengths, pseudo-header sums) — and
/// hand the result to tx_prepare and tx_burst.
public struct CsumEngine: ForwardingEngine {
    public static let mode = ForwardingMode.csum
    public static let worksInPlace = false

    private let context: EngineContext
    private var segmenter: Segmenter
    /// Headers of multi-segment frames are copied here so the parser sees them contiguous.
    private let scratch: UnsafeMutableRawPointer
    static let headerCopyLength = 512

    public init(context: EngineContext) {
        self.context = context
        segmenter = Segmenter(headerPool: context.pool, indirectPool: context.indirectPool)
        scratch = context.scratch
    }

    /// Releases the segmenter's scratch array when the worker stops.
    public func finish() { segmenter.deallocate() }

    public mutating func process(
        _ input: UnsafeMutablePointer<OpaquePointer?>, count: Int,
        output: UnsafeMutablePointer<OpaquePointer?>, capacity: Int, stream: Stream
    ) -> Int {
        let rx = context.settings(stream.rxPort)
        let tx = context.settings(stream.txPort)
        let slots = stream.engineCounters
        var produced = 0
        for index in 0..<count {
            let packet = Mbuf(input[index].unsafelyUnwrapped)
            countReceiveVerdicts(packet.offloadFlags, slots)
            guard let layout = parse(packet, parseTunnel: rx.pointee.parseTunnel, tunnels: rx, slots: slots) else {
                packet.free()
                stream.counters.pointee.engineDropped &+= 1
                continue
            }
            let plan = ChecksumPlan(layout: layout, settings: tx)
            if tx.pointee.gso, let segmentSize = segmentSize(packet, layout, tx) {
                slots[EngineCounter.gsoInputFrames] &+= 1
                let result = segmenter.segment(
                    packet, layout: layout,
                    options: SegmentationOptions(
                        segmentSize: segmentSize, mtu: tx.pointee.mtu, software: plan.software,
                        outerUDPChecksumZero: plan.outerUDPZero),
                    into: output + produced, capacity: capacity - produced)
                switch result {
                case .segmented(count: let made):
                    for segment in 0..<made { plan.request(Mbuf(output[produced + segment]!), layout: layout, headersPrepared: true) }
                    if context.verbosity > 0 { CsumDump.packet(stream, layout, plan, segments: made) }
                    slots[EngineCounter.gsoOutputSegments] &+= UInt64(made)
                    produced &+= made
                case .failed(let reason):
                    slots[EngineCounter.gsoFailure(Int(reason.rawValue))] &+= 1
                    stream.counters.pointee.engineDropped &+= 1
                    if context.verbosity > 0 { CsumDump.failure(stream, layout, reason) }
                }
                continue
            }
            guard PacketChecksums.fill(packet, layout: layout, software: plan.software, outerUDPZero: plan.outerUDPZero) else {
                // The headers do not sit in the first segment, where checksumming reads them.
                slots[EngineCounter.headersTooLong] &+= 1
                stream.counters.pointee.engineDropped &+= 1
                packet.free()
                continue
            }
            plan.request(packet, layout: layout, headersPrepared: false)
            if context.verbosity > 0 { CsumDump.packet(stream, layout, plan, segments: 0) }
            output[produced] = input[index]
            produced &+= 1
        }
        return prepare(output, count: produced, stream: stream)
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

    /// The packet's layout, or nil (counted by reason) when it is malformed.
    @inline(__always)
    private func parse(
        _ packet: Mbuf, parseTunnel: Bool, tunnels: UnsafePointer<PortOffloadSettings>,
        slots: UnsafeMutablePointer<UInt64>
    ) -> PacketLayout? {
        let length = Int(packet.packetLength)
        var frame = UnsafeRawBufferPointer(start: packet.data, count: Int(packet.dataLength))
        var copied = length
        if packet.segmentCount > 1 {
            // The parser checks lengths against the whole packet but reads only headers: give it
            // the headers copied in front of a buffer as long as the packet.
            guard length <= EngineContext.scratchSize else {
                slots[EngineCounter.headersTooLong] &+= 1
                return nil
            }
            copied = min(length, Self.headerCopyLength)
            guard let headers = packet.read(offset: 0, count: copied, scratch: scratch) else {
                slots[EngineCounter.parseFailure(.truncated)] &+= 1
                return nil
            }
            if headers != UnsafeRawPointer(scratch) { scratch.copyMemory(from: headers, byteCount: copied) }
            frame = UnsafeRawBufferPointer(start: scratch, count: length)
        }
        do {
            let layout = try PacketLayout.parse(
                frame, tunnels: parseTunnel ? tunnels.pointee.tunnelPorts : TunnelPortTable())
            guard layout.payloadOffset <= copied else {
                slots[EngineCounter.headersTooLong] &+= 1
                return nil
            }
            return layout
        } catch {
            slots[EngineCounter.parseFailure(error.reason)] &+= 1
            return nil
        }
    }

    /// Inner L4 payload per segment when the packet must be cut, else nil. A packet that came
    /// with a segment size (virtio/LRO super-frames) keeps it; others get testpmd's segsz.
    @inline(__always)
    private func segmentSize(_ packet: Mbuf, _ layout: PacketLayout, _ tx: UnsafePointer<PortOffloadSettings>) -> Int? {
        guard layout.l4 == .tcp || layout.l4 == .udp else { return nil }
        let headers = layout.payloadOffset
        let received = packet.offloadFlags.contains(.rxLRO) ? packet.txOffload.tsoSegmentSize : 0
        let size = received > 0 ? received : context.gsoSegmentSize - headers
        guard size > 0, Int(packet.packetLength) > headers + size else { return nil }
        return size
    }

    /// rte_eth_tx_prepare checks (and for some PMDs completes) the offload requests; a packet
    /// it rejects is dropped and counted, and the rest are prepared again.
    @inline(__always)
    private func prepare(_ packets: UnsafeMutablePointer<OpaquePointer?>, count: Int, stream: Stream) -> Int {
        var count = count
        var start = 0
        while start < count {
            let ready = Int(stream.txPort.prepare(
                queue: stream.txQueue, packets + start, count: UInt16(truncatingIfNeeded: count - start)))
            start &+= ready
            guard start < count else { break }
            Mbuf(packets[start]!).free()
            stream.engineCounters[EngineCounter.txPrepareRejected] &+= 1
            stream.counters.pointee.engineDropped &+= 1
            (packets + start).update(from: packets + start + 1, count: count - start - 1)
            count &-= 1
        }
        return count
    }
}
