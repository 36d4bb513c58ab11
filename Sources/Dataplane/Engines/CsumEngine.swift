import CDPDK
import DPDK
import Offload
import Wire

/// testpmd's csum engine, done right: parse each packet (tunnels included), ask the egress
/// port's planner who cuts it and who fills which checksum — the port (tunnel TSO, checksum
/// offload), Swift (GSO, checksums), or both — carry the plan out, and hand the result to
/// tx_prepare and tx_burst. A packet tx_prepare refuses is planned again in software.
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
        let planner = context.planner(stream.txPort)
        let slots = stream.engineCounters
        var produced = 0
        for index in 0..<count {
            let packet = Mbuf(input[index].unsafelyUnwrapped)
            countReceiveVerdicts(packet.offloadFlags, slots)
            guard let layout = parse(packet, parseTunnel: rx.pointee.parseTunnel, tunnels: rx, slots: slots) else {
                drop(packet, stream)
                continue
            }
            let plan = planner.pointee.plan(packet, layout: layout, segmentSize: requestedSegmentSize(packet))
            produced &+= carryOut(plan, packet, layout, into: output + produced, capacity: capacity - produced, stream)
        }
        return prepare(output, count: produced, capacity: capacity, stream: stream)
    }

    /// Executes `plan` for `packet`; returns the frames it put in `output`.
    @inline(__always)
    private mutating func carryOut(
        _ plan: TxPlan, _ packet: Mbuf, _ layout: PacketLayout,
        into output: UnsafeMutablePointer<OpaquePointer?>, capacity: Int, _ stream: Stream
    ) -> Int {
        let slots = stream.engineCounters
        slots[EngineCounter.plan(plan.kind)] &+= 1
        if plan.reason != .none { slots[EngineCounter.planReason(plan.reason)] &+= 1 }
        if context.verbosity > 0 { CsumDump.packet(stream, layout, plan) }
        guard plan.kind != .oversize else {
            drop(packet, stream)
            return 0
        }
        guard TxPlanner.apply(plan, to: packet, layout: layout) else {
            // The headers do not sit in the first segment, where the checksums are written.
            slots[EngineCounter.headersTooLong] &+= 1
            drop(packet, stream)
            return 0
        }
        guard plan.cut == .swift else {
            output[0] = packet.pointer
            return 1
        }
        slots[EngineCounter.gsoInputFrames] &+= 1
        let result = segmenter.segment(
            packet, layout: layout, options: plan.segmentationOptions(mtu: context.settings(stream.txPort).pointee.mtu),
            into: output, capacity: capacity)
        switch result {
        case .segmented(count: let made):
            for segment in 0..<made { TxPlanner.applyToSegment(plan, Mbuf(output[segment].unsafelyUnwrapped)) }
            slots[EngineCounter.gsoOutputSegments] &+= UInt64(made)
            return made
        case .failed(let reason):
            slots[EngineCounter.gsoFailure(Int(reason.rawValue))] &+= 1
            stream.counters.pointee.engineDropped &+= 1
            if context.verbosity > 0 { CsumDump.failure(stream, layout, reason) }
            return 0
        }
    }

    @inline(__always)
    private func drop(_ packet: Mbuf, _ stream: Stream) {
        packet.free()
        stream.counters.pointee.engineDropped &+= 1
    }

    /// A super-frame that arrived with a segment size (LRO, virtio, a vnet tap) keeps it.
    @inline(__always)
    private func requestedSegmentSize(_ packet: Mbuf) -> Int {
        let flags = packet.offloadFlags
        guard !flags.isDisjoint(with: [.rxLRO, .txTCPSegmentation, .txUDPSegmentation]) else { return 0 }
        return packet.txOffload.tsoSegmentSize
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

    /// rte_eth_tx_prepare checks (and for some PMDs completes) the offload requests. A packet
    /// it rejects is planned again in software (counted), its frames appended at the end.
    @inline(__always)
    private mutating func prepare(
        _ packets: UnsafeMutablePointer<OpaquePointer?>, count: Int, capacity: Int, stream: Stream
    ) -> Int {
        var count = count
        var start = 0
        while start < count {
            let ready = Int(stream.txPort.prepare(
                queue: stream.txQueue, packets + start, count: UInt16(truncatingIfNeeded: count - start)))
            start &+= ready
            guard start < count else { break }
            let rejected = Mbuf(packets[start].unsafelyUnwrapped)
            (packets + start).update(from: packets + start + 1, count: count - start - 1)
            count &-= 1
            count &+= planInSoftware(rejected, into: packets + count, capacity: capacity - count, stream)
        }
        return count
    }

    /// The fallback for a packet the port refused: everything in Swift.
    @inline(never)
    private mutating func planInSoftware(
        _ packet: Mbuf, into output: UnsafeMutablePointer<OpaquePointer?>, capacity: Int, _ stream: Stream
    ) -> Int {
        let slots = stream.engineCounters
        let rx = context.settings(stream.rxPort)
        guard let layout = parse(packet, parseTunnel: rx.pointee.parseTunnel, tunnels: rx, slots: slots) else {
            drop(packet, stream)
            return 0
        }
        let plan = context.planner(stream.txPort).pointee.softwarePlan(
            layout: layout, packetLength: Int(packet.packetLength), segmentSize: requestedSegmentSize(packet))
        return carryOut(plan, packet, layout, into: output, capacity: capacity, stream)
    }
}
