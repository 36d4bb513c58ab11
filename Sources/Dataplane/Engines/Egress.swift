import CDPDK
import DPDK
import Offload
import Wire

/// The transmit half the engines share: parse a packet, finish what its sender left pending,
/// plan it for the tx port, carry the plan out (checksums, metadata, Swift GSO) and hand the
/// result to tx_prepare. The csum engine runs every packet through it; io and mac run only
/// the packets whose metadata asks for transmit work (`PendingChecksum.attentionFlags`), so
/// a partial checksum never leaves through a port that will not complete it.
struct Egress {
    let context: EngineContext
    private var segmenter: Segmenter
    /// Headers of multi-segment frames are copied here so the parser sees them contiguous.
    private let scratch: UnsafeMutableRawPointer
    static let headerCopyLength = 512
    /// txonly's pcap replay: its frames carry no metadata, so a UDP frame larger than the
    /// segment size is taken as the USO super-frame the user replays it as.
    var cutsPlainDatagrams = false

    init(context: EngineContext) {
        self.context = context
        segmenter = Segmenter(headerPool: context.headerPool, indirectPool: context.indirectPool)
        scratch = context.scratch
    }

    /// Releases the segmenter's scratch array when the worker stops.
    func finish() { segmenter.deallocate() }

    // MARK: ingress side

    /// The packet's layout, or nil (counted by reason when `counting`) when it is malformed.
    @inline(__always)
    func parse(_ packet: Mbuf, rxPort: Port, slots: UnsafeMutablePointer<UInt64>, counting: Bool = true) -> PacketLayout? {
        let rx = context.settings(rxPort)
        let length = Int(packet.packetLength)
        var frame = UnsafeRawBufferPointer(start: packet.data, count: Int(packet.dataLength))
        var copied = length
        if packet.segmentCount > 1 {
            // The parser checks lengths against the whole packet but reads only headers: give it
            // the headers copied in front of a buffer as long as the packet.
            guard length <= EngineContext.scratchSize else {
                if counting { slots[EngineCounter.headersTooLong] &+= 1 }
                return nil
            }
            copied = min(length, Self.headerCopyLength)
            guard let headers = packet.read(offset: 0, count: copied, scratch: scratch) else {
                if counting { slots[EngineCounter.parseFailure(.truncated)] &+= 1 }
                return nil
            }
            if headers != UnsafeRawPointer(scratch) { scratch.copyMemory(from: headers, byteCount: copied) }
            frame = UnsafeRawBufferPointer(start: scratch, count: length)
        }
        do {
            let layout = try PacketLayout.parse(
                frame, tunnels: rx.pointee.parseTunnel ? rx.pointee.tunnelPorts : TunnelPortTable())
            guard layout.payloadOffset <= copied else {
                if counting { slots[EngineCounter.headersTooLong] &+= 1 }
                return nil
            }
            return layout
        } catch {
            if counting { slots[EngineCounter.parseFailure(error.reason)] &+= 1 }
            return nil
        }
    }

    /// Finishes a checksum the sender left pending that the plan will not rewrite (ARP or
    /// ND inside a tunnel, an unknown port, parse-tunnel off, ...). False: it cannot be reached
    /// (counted); the caller drops the packet rather than send it with a broken checksum.
    @inline(__always)
    func completePending(_ packet: Mbuf, layout: PacketLayout?, slots: UnsafeMutablePointer<UInt64>) -> Bool {
        guard let pending = PendingChecksum.of(packet, layout: layout) else { return true }
        if let layout, pending.isRewritten(for: layout) { return true }
        guard pending.complete(in: packet) else {
            slots[EngineCounter.pendingChecksumUnreachable] &+= 1
            return false
        }
        slots[EngineCounter.pendingChecksumsCompleted] &+= 1
        return true
    }

    /// Whether a UDP packet may leave cut into several datagrams: a USO super-frame, or any
    /// frame when the engine replays frames that carry no metadata (`cutsPlainDatagrams`).
    @inline(__always)
    func datagramCut(_ packet: Mbuf) -> Bool {
        cutsPlainDatagrams || TxPlanner.asksForDatagramCut(packet.offloadFlags)
    }

    /// A super-frame that arrived with a segment size (LRO, virtio, a vnet tap) keeps it.
    @inline(__always)
    func requestedSegmentSize(_ packet: Mbuf) -> Int {
        let flags = packet.offloadFlags
        guard !flags.isDisjoint(with: [.rxLRO, .txTCPSegmentation, .txUDPSegmentation]) else { return 0 }
        return packet.txOffload.tsoSegmentSize
    }

    // MARK: egress side

    /// Executes `plan` for `packet`; returns the frames it put in `output` (0: dropped, counted,
    /// or cut and already sent in rounds).
    @inline(__always)
    mutating func carryOut(
        _ plan: TxPlan, _ packet: Mbuf, _ layout: PacketLayout,
        into output: UnsafeMutablePointer<OpaquePointer?>, capacity: Int, _ stream: Stream,
        fixedIDs: FixedIPv4IDs? = nil
    ) -> Int {
        carryOut(plan, packet, layout, into: output, produced: 0, capacity: capacity, stream, fixedIDs: fixedIDs)
    }

    /// Executes `plan` for `packet`, appending to `output[0..<produced]` (frames not yet
    /// prepared); returns the new count. A frame Swift cuts into more segments than there is
    /// room for leaves in rounds: the output so far is prepared and sent, the cut goes on in
    /// the emptied array, and every round of it is sent (0 returned), so no segment is lost
    /// for lack of a slot and the frames before it leave before it.
    @inline(__always)
    mutating func carryOut(
        _ plan: TxPlan, _ packet: Mbuf, _ layout: PacketLayout,
        into output: UnsafeMutablePointer<OpaquePointer?>, produced: Int, capacity: Int, _ stream: Stream,
        fixedIDs: FixedIPv4IDs? = nil
    ) -> Int {
        var produced = produced
        if produced >= capacity { produced = sendRound(output, count: produced, capacity: capacity, stream) }
        guard apply(plan, packet, layout, stream) else { return produced }
        guard plan.cut == .swift else {
            output[produced] = packet.pointer
            return produced &+ 1
        }
        var options = plan.segmentationOptions(mtu: context.settings(stream.txPort).pointee.mtu)
        options.knownFixedIDs = fixedIDs
        var result = segmenter.segment(
            packet, layout: layout, options: options, into: output + produced, capacity: capacity - produced)
        var made = 0
        while true {
            guard case .segmented(let count) = result else { break }
            for segment in produced..<(produced &+ count) {
                TxPlanner.applyToSegment(plan, Mbuf(output[segment].unsafelyUnwrapped))
            }
            made &+= count
            produced &+= count
            guard segmenter.isCutting || made > count else { break }  // one round: the caller sends it
            produced = sendRound(output, count: produced, capacity: capacity, stream)
            guard segmenter.isCutting else { break }
            result = segmenter.resume(into: output, capacity: capacity)
        }
        return countCut(made: made, result.failure, layout, stream, produced: produced)
    }

    /// The GSO counters for one input: cut (its segments, however many rounds) or dropped by
    /// its failure reason. A cut that fails after some segments left counts as cut (they are
    /// in tx or tx-dropped) and under its reason; only a frame that made nothing is a drop,
    /// so rx + segments made − frames cut = tx + tx-dropped + engine-dropped holds.
    @inline(__always)
    private func countCut(
        made: Int, _ failure: SegmentationFailure?, _ layout: PacketLayout, _ stream: Stream,
        produced: Int
    ) -> Int {
        let slots = stream.engineCounters
        if made > 0 {
            slots[EngineCounter.gsoInputFrames] &+= 1
            slots[EngineCounter.gsoOutputSegments] &+= UInt64(made)
        }
        if let failure {
            slots[EngineCounter.gsoFailure(Int(failure.rawValue))] &+= 1
            if made == 0 { stream.counters.pointee.engineDropped &+= 1 }
            if context.verbosity > 0 { CsumDump.failure(stream, layout, failure) }
        }
        return produced
    }

    /// Prepares and sends `output[0..<count]` now (a cut needs the room); returns 0.
    @inline(never)
    private mutating func sendRound(
        _ output: UnsafeMutablePointer<OpaquePointer?>, count: Int, capacity: Int, _ stream: Stream
    ) -> Int {
        let ready = prepare(output, count: count, capacity: capacity, stream: stream)
        if ready > 0 { context.control.transmit(stream, output, ready: ready, retry: true) }
        return 0
    }

    /// Counts the plan and writes it into the packet (checksums, metadata); false: dropped.
    @inline(__always)
    func apply(_ plan: TxPlan, _ packet: Mbuf, _ layout: PacketLayout, _ stream: Stream) -> Bool {
        let slots = stream.engineCounters
        slots[EngineCounter.plan(plan.kind)] &+= 1
        if plan.reason != .none { slots[EngineCounter.planReason(plan.reason)] &+= 1 }
        if context.verbosity > 0 { CsumDump.packet(stream, layout, plan) }
        guard plan.kind != .oversize else {
            drop(packet, stream)
            return false
        }
        guard TxPlanner.apply(plan, to: packet, layout: layout) else {
            // The headers do not sit in the first segment, where the checksums are written.
            slots[EngineCounter.headersTooLong] &+= 1
            drop(packet, stream)
            return false
        }
        return true
    }

    @inline(__always)
    func drop(_ packet: Mbuf, _ stream: Stream) {
        packet.free()
        stream.counters.pointee.engineDropped &+= 1
    }

    /// rte_eth_tx_prepare checks (and for some PMDs completes) the offload requests. A packet
    /// it rejects is planned again in software (counted), its frames appended at the end.
    @inline(__always)
    mutating func prepare(
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
        guard let layout = parse(packet, rxPort: stream.rxPort, slots: stream.engineCounters) else {
            drop(packet, stream)
            return 0
        }
        let plan = context.planner(stream.txPort).pointee.softwarePlan(
            layout: layout, packetLength: Int(packet.packetLength), segmentSize: requestedSegmentSize(packet),
            datagramCut: datagramCut(packet))
        return carryOut(plan, packet, layout, into: output, capacity: capacity, stream)
    }

    // MARK: engines that keep frames whole

    /// The loop of the engines that rewrite each frame's addresses in place (mac, macswap,
    /// 5tswap): a frame too short for two MAC addresses is dropped and counted, the others
    /// are rewritten and kept in order; then transmit work their metadata asks for is done
    /// as io does (`finishWhole`). Returns how many are in `output`.
    @inline(__always)
    func rewriteEach<Rewrite: FrameRewrite>(
        _ input: UnsafeMutablePointer<OpaquePointer?>, count: Int, output: UnsafeMutablePointer<OpaquePointer?>,
        _ stream: Stream, _ rewrite: Rewrite
    ) -> Int {
        var kept = 0
        var flags: UInt64 = 0
        for index in 0..<count {
            let mbuf = Mbuf(input[index].unsafelyUnwrapped)
            guard mbuf.dataLength >= 12 else {
                // Too short to carry two addresses: count it rather than write past the data.
                mbuf.free()
                stream.counters.pointee.engineDropped &+= 1
                stream.engineCounters[EngineCounter.tooShortForAddresses] &+= 1
                continue
            }
            rewrite.rewrite(mbuf.data, length: Int(mbuf.dataLength))
            flags |= mbuf.offloadFlags.rawValue
            output[kept] = input[index]
            kept &+= 1
        }
        guard flags & PendingChecksum.attentionFlags.rawValue != 0, context.settings(stream.rxPort).pointee.mayAskForTransmitWork
        else { return kept }
        return Egress.finishWhole(output, count: kept, self, stream)
    }

    /// `finishWhole` for each packet of `packets[0..<count]` that asks for transmit work, in
    /// place; returns how many are left (the dropped ones are removed, order kept).
    @inline(never)
    static func finishWhole(
        _ packets: UnsafeMutablePointer<OpaquePointer?>, count: Int, _ egress: Egress, _ stream: Stream
    ) -> Int {
        var kept = 0
        for index in 0..<count {
            let packet = Mbuf(packets[index].unsafelyUnwrapped)
            if !packet.offloadFlags.isDisjoint(with: PendingChecksum.attentionFlags) {
                guard egress.finishWhole(packet, stream) else { continue }
            }
            packets[kept] = packets[index]
            kept &+= 1
        }
        return kept
    }

    /// For io and mac, which forward every frame as one frame: a packet whose metadata asks
    /// for transmit work leaves ready for `stream.txPort`. What the port can do stays its job
    /// (a vnet tap with tunnel offloads still gets the super-frame); what it cannot is done
    /// here, except cutting: a super-frame the port cannot segment leaves whole with every
    /// checksum final (the csum engine cuts it). False: dropped, freed and counted.
    @inline(never)
    func finishWhole(_ packet: Mbuf, _ stream: Stream) -> Bool {
        let flags = packet.offloadFlags
        // RX_L4_CKSUM_BAD alone is a verdict, not a request: a bad checksum is not ours to fix.
        guard flags.intersection([.rxL4ChecksumBad, .rxL4ChecksumGood]) == [.rxL4ChecksumBad, .rxL4ChecksumGood]
            || !flags.isDisjoint(with: PendingChecksum.attentionFlags.subtracting(.rxL4ChecksumBad))
        else { return true }
        let slots = stream.engineCounters
        guard let layout = parse(packet, rxPort: stream.rxPort, slots: slots, counting: false) else {
            // Not ours to judge: finish the request by its metadata alone and let it go.
            guard completePending(packet, layout: nil, slots: slots) else {
                drop(packet, stream)
                return false
            }
            packet.offloadFlags = packet.offloadFlags.intersection([.indirect, .externalBuffer])
            return true
        }
        guard completePending(packet, layout: layout, slots: slots) else {
            drop(packet, stream)
            return false
        }
        let planner = context.planner(stream.txPort)
        var plan = planner.pointee.plan(packet, layout: layout, segmentSize: requestedSegmentSize(packet))
        if plan.cut == .swift || plan.kind == .oversize { plan = planner.pointee.wholeFramePlan(layout: layout) }
        return apply(plan, packet, layout, stream)
    }
}

/// An in-place rewrite of a frame's first bytes (at least 12 are there), for `rewriteEach`.
protocol FrameRewrite {
    func rewrite(_ frame: UnsafeMutableRawPointer, length: Int)
}
