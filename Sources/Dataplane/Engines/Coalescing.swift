import CDPDK
import DPDK
import Offload
import Wire

/// Receive coalescing (GRO) in front of any engine: segments from a port with GRO on are
/// offered to the stream's `Coalescer` before the engine sees them. What the coalescer hands
/// back unchanged goes through the engine as without GRO; a super-frame goes through the
/// engine's addressing (mac, csum) and then the egress path, which cuts it again where the tx
/// port cannot take it whole (so coalescing is never a loss, whatever the mode). Held flows
/// leave once no segment came for them for the timeout (TSC), every `flushRounds` polls when
/// set, and at stop, through the engine's poll and flush hooks.
///
/// STT segments (whole or not) go to the stream's `STTReassembler` instead: a reassembled
/// STT frame leaves as a super-frame does; a partial one leaves as its segments, under the
/// same timeout, flush rounds and stop.
public struct Coalescing<Inner: ForwardingEngine>: ForwardingEngine {
    public static var mode: ForwardingMode { Inner.mode }
    public static var worksInPlace: Bool { false }
    public static var rewritesAddresses: Bool { Inner.rewritesAddresses }

    private var inner: Inner
    private var egress: Egress
    private let options: CoalescingOptions
    /// One table per stream this lcore serves, found by the address of the stream's counters.
    /// Allocated up front for every stream of the lcore; a stream takes one on its first burst.
    private let tags: UnsafeMutablePointer<UInt>
    private let tables: UnsafeMutablePointer<Coalescer>
    /// Each stream's STT reassembly table, at the index of its `Coalescer`.
    private let sttTables: UnsafeMutablePointer<STTReassembler>
    private let rounds: UnsafeMutablePointer<UInt64>
    private let tableCapacity: Int
    private var tableCount = 0
    /// Frames that go through the inner engine next, in order.
    private let staged: UnsafeMutablePointer<OpaquePointer?>
    private let stagedCapacity: Int
    private let superFrames: UnsafeMutablePointer<OpaquePointer?>
    private let superFrameIDs: UnsafeMutablePointer<FixedIPv4IDs>
    /// The timeout in TSC ticks.
    private let timeoutTicks: UInt64

    public init(context: EngineContext) {
        inner = Inner(context: context)
        egress = Egress(context: context)
        options = context.coalescing
        timeoutTicks = UInt64(options.timeoutMicroseconds) &* (cdpdk_tsc_hz() / 1_000_000)
        tableCapacity = max(1, context.streamCount)
        tags = .allocate(capacity: tableCapacity)
        tables = .allocate(capacity: tableCapacity)
        sttTables = .allocate(capacity: tableCapacity)
        rounds = .allocate(capacity: tableCapacity)
        tags.initialize(repeating: 0, count: tableCapacity)
        rounds.initialize(repeating: 0, count: tableCapacity)
        for index in 0..<tableCapacity {
            (tables + index).initialize(to: Coalescer(options: options))
            (sttTables + index).initialize(to: STTReassembler(options: options))
        }
        // Room for a burst, a flush of the table, or a partial STT frame with one more segment.
        stagedCapacity = max(2 * context.burst, options.flows, STTReassembler.maximumRelease) + 2
        staged = .allocate(capacity: stagedCapacity)
        superFrames = .allocate(capacity: options.flows + 2)
        superFrameIDs = .allocate(capacity: options.flows + 2)
    }

    public func finish() {
        for index in 0..<tableCapacity {
            tables[index].deallocate()
            sttTables[index].deallocate()
        }
        tables.deinitialize(count: tableCapacity)
        tables.deallocate()
        sttTables.deinitialize(count: tableCapacity)
        sttTables.deallocate()
        tags.deallocate()
        rounds.deallocate()
        staged.deallocate()
        superFrames.deallocate()
        superFrameIDs.deallocate()
        egress.finish()
        inner.finish()
    }

    public mutating func process(
        _ input: UnsafeMutablePointer<OpaquePointer?>, count: Int,
        output: UnsafeMutablePointer<OpaquePointer?>, capacity: Int, stream: Stream
    ) -> Int {
        guard egress.context.settings(stream.rxPort).pointee.gro, let table = table(for: stream) else {
            return runInner(input, count: count, output: output, capacity: capacity, stream: stream)
        }
        let slots = stream.engineCounters + EngineCounter.coalescingBase
        let now = cdpdk_rdtsc()
        var produced = 0
        var waiting = 0
        var index = 0
        while index < count {
            let packet = Mbuf(input[index].unsafelyUnwrapped)
            index &+= 1
            let released: Coalescer.Released
            // Most segments are the ones a held flow expects next: no parse for those.
            if let joined = tables[table].offerToExpectingFlow(packet, now: now, slots: slots) {
                released = joined
                // A sender's run, or senders taking turns: the ones behind this one join in one go.
                if joined.count == 0 {
                    index &+= tables[table].takeFollowing(input + index, count: count &- index, now: now, slots: slots)
                }
            } else {
                guard let layout = egress.parse(packet, rxPort: stream.rxPort, slots: stream.engineCounters, counting: false) else {
                    // The engine judges it as it would without GRO.
                    slots[CoalescingCounter.bypass(.notParsed)] &+= 1
                    staged[waiting] = packet.pointer
                    waiting &+= 1
                    continue
                }
                if layout.tunnel == .stt {
                    // Reassembly, not coalescing: whatever it hands back unchanged waits with
                    // the rest; a frame it completes leaves after them.
                    if waiting &+ STTReassembler.maximumRelease > stagedCapacity {
                        produced = runStaged(waiting, output: output, produced: produced, capacity: capacity, stream: stream)
                        waiting = 0
                    }
                    let out = sttTables[table].offer(packet, layout: layout, now: now, slots: slots, singles: staged + waiting)
                    waiting &+= out.singles
                    if let frame = out.frame {
                        produced = runStaged(waiting, output: output, produced: produced, capacity: capacity, stream: stream)
                        waiting = 0
                        produced = send(frame, fixedIDs: out.fixedIDs, output: output, produced: produced,
                                        capacity: capacity, stream: stream)
                    }
                    continue
                }
                released = tables[table].offer(packet, layout: layout, now: now, slots: slots, expressTried: true)
            }
            for item in 0..<released.count {
                guard released.isSuperFrame(item) else {
                    staged[waiting] = released[item].pointer
                    waiting &+= 1
                    continue
                }
                // Whatever of its flow came before leaves before it.
                produced &+= runInner(staged, count: waiting, output: output + produced, capacity: capacity - produced, stream: stream)
                waiting = 0
                produced = send(released[item], fixedIDs: released.fixedIDs(item), output: output, produced: produced,
                                capacity: capacity, stream: stream)
            }
        }
        return runStaged(waiting, output: output, produced: produced, capacity: capacity, stream: stream)
    }

    public mutating func poll(output: UnsafeMutablePointer<OpaquePointer?>, capacity: Int, stream: Stream) -> Int {
        var produced = 0
        if let table = existingTable(for: stream), tables[table].count > 0 || sttTables[table].count > 0 {
            rounds[table] &+= 1
            if options.flushRounds > 0, rounds[table] % UInt64(options.flushRounds) == 0 {
                produced = release(table, idleSince: .max, reason: .endOfPoll, output: output, capacity: capacity, stream: stream)
                produced = releaseSTT(table, idleSince: .max, reason: .endOfPoll, output: output, produced: produced,
                                      capacity: capacity, stream: stream)
            } else {
                // One clock read per poll while flows are held; none while the table is empty.
                let now = cdpdk_rdtsc()
                if tables[table].count > 0, tables[table].longestIdle &+ timeoutTicks <= now {
                    produced = release(table, idleSince: now &- timeoutTicks, reason: .timeout,
                                       output: output, capacity: capacity, stream: stream)
                }
                if sttTables[table].count > 0, sttTables[table].longestIdle &+ timeoutTicks <= now {
                    produced = releaseSTT(table, idleSince: now &- timeoutTicks, reason: .timeout, output: output,
                                          produced: produced, capacity: capacity, stream: stream)
                }
            }
        }
        return produced &+ inner.poll(output: output + produced, capacity: capacity - produced, stream: stream)
    }

    public mutating func flush(output: UnsafeMutablePointer<OpaquePointer?>, capacity: Int, stream: Stream) -> Int {
        var produced = 0
        if let table = existingTable(for: stream) {
            while sttTables[table].count > 0 {
                produced = releaseSTT(table, idleSince: .max, reason: .stop, output: output, produced: produced,
                                      capacity: capacity, stream: stream)
            }
            // Frames the egress drops make no output: keep going until the table is empty or
            // the output has no room for another flow.
            while tables[table].count > 0, capacity - produced >= Self.roomPerFlow {
                produced &+= release(table, idleSince: .max, reason: .stop, output: output + produced,
                                     capacity: capacity - produced, stream: stream)
            }
        }
        return produced &+ inner.flush(output: output + produced, capacity: capacity - produced, stream: stream)
    }

    /// Output room one released flow may need once cut again.
    static var roomPerFlow: Int { 64 }

    /// Hands flows of `table` idle since `idleSince` to the inner engine (single segments) and
    /// to the egress (super-frames), as many as the output has room for.
    private mutating func release(
        _ table: Int, idleSince: UInt64, reason: CoalescingFlushReason,
        output: UnsafeMutablePointer<OpaquePointer?>, capacity: Int, stream: Stream
    ) -> Int {
        let room = min(max(capacity / Self.roomPerFlow, 1), stagedCapacity)
        let slots = stream.engineCounters + EngineCounter.coalescingBase
        let (made, singles) = tables[table].flush(
            idleSince: idleSince, reason: reason, slots: slots, superFrames: superFrames, fixedIDs: superFrameIDs,
            singles: staged, room: room)
        var produced = runInner(staged, count: singles, output: output, capacity: capacity, stream: stream)
        for index in 0..<made {
            produced = send(Mbuf(superFrames[index].unsafelyUnwrapped), fixedIDs: superFrameIDs[index], output: output,
                            produced: produced, capacity: capacity, stream: stream)
        }
        return produced
    }

    /// Hands partial STT frames of `table` idle since `idleSince` to the inner engine as the
    /// segments they came in, at least one frame; after `output[0..<produced]`, returning the
    /// new count.
    private mutating func releaseSTT(
        _ table: Int, idleSince: UInt64, reason: STTFlushReason,
        output: UnsafeMutablePointer<OpaquePointer?>, produced: Int, capacity: Int, stream: Stream
    ) -> Int {
        let slots = stream.engineCounters + EngineCounter.coalescingBase
        let singles = sttTables[table].flush(idleSince: idleSince, reason: reason, slots: slots, singles: staged,
                                             room: stagedCapacity)
        return runStaged(singles, output: output, produced: produced, capacity: capacity, stream: stream)
    }

    /// The inner engine on `staged[0..<count]` after `output[0..<produced]`, returning the new
    /// count: when the output has no room left for them, what it holds is sent first (a
    /// partial STT frame can hand back more segments than a small burst's output holds).
    @inline(__always)
    private mutating func runStaged(
        _ count: Int, output: UnsafeMutablePointer<OpaquePointer?>, produced: Int, capacity: Int, stream: Stream
    ) -> Int {
        var produced = produced
        var done = 0
        while done < count {
            if produced > 0, count &- done > capacity &- produced {
                egress.context.control.transmit(stream, output, ready: produced, retry: true)
                produced = 0
            }
            let chunk = min(count &- done, capacity &- produced)
            produced &+= runInner(staged + done, count: chunk, output: output + produced, capacity: capacity &- produced,
                                  stream: stream)
            done &+= chunk
        }
        return produced
    }

    /// The inner engine on `packets[0..<count]`, its output written to `output`.
    @inline(__always)
    private mutating func runInner(
        _ packets: UnsafeMutablePointer<OpaquePointer?>, count: Int,
        output: UnsafeMutablePointer<OpaquePointer?>, capacity: Int, stream: Stream
    ) -> Int {
        guard count > 0 else { return 0 }
        guard Inner.worksInPlace else {
            return inner.process(packets, count: count, output: output, capacity: capacity, stream: stream)
        }
        let kept = inner.process(packets, count: count, output: packets, capacity: count, stream: stream)
        if packets != output { output.update(from: packets, count: kept) }
        return kept
    }

    /// A super-frame leaves as the csum engine sends any packet: addressed as the engine
    /// addresses, planned for the tx port, cut in Swift where the port cannot, prepared; after
    /// `output[0..<produced]` (prepared already), returning the new count.
    @inline(__always)
    private mutating func send(
        _ frame: Mbuf, fixedIDs: FixedIPv4IDs, output: UnsafeMutablePointer<OpaquePointer?>, produced: Int, capacity: Int,
        stream: Stream
    ) -> Int {
        if egress.context.verbosity > 0 { PacketDump.coalesced(stream, frame) }
        if Inner.rewritesAddresses {
            let header = frame.data
            header.storeBytes(of: stream.peerMAC.bytes, as: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8).self)
            (header + 6).storeBytes(of: stream.txSourceMAC.bytes, as: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8).self)
        }
        guard let layout = egress.parse(frame, rxPort: stream.rxPort, slots: stream.engineCounters) else {
            egress.drop(frame, stream)
            return produced
        }
        let plan = egress.context.planner(stream.txPort).pointee.plan(
            frame, layout: layout, segmentSize: frame.txOffload.tsoSegmentSize)
        var produced = produced
        // A cut that will not fit in the room left leaves in rounds, sent as they are made:
        // what came before it (of its flow, too) leaves first. So does a full output.
        let segments = Int(frame.packetLength) / max(frame.txOffload.tsoSegmentSize, 1) &+ 1
        if produced > 0, produced >= capacity || (plan.cut == .swift && segments > capacity &- produced) {
            egress.context.control.transmit(stream, output, ready: produced, retry: true)
            produced = 0
        }
        // Cut again, the segments keep the IDs they came with (fixed or incrementing).
        let made = egress.carryOut(plan, frame, layout, into: output + produced, capacity: capacity - produced, stream, fixedIDs: fixedIDs)
        return produced &+ egress.prepare(output + produced, count: made, capacity: capacity - produced, stream: stream)
    }

    /// The stream's table, taken the first time the stream has something to offer.
    @inline(__always)
    private mutating func table(for stream: Stream) -> Int? {
        if let found = existingTable(for: stream) { return found }
        guard tableCount < tableCapacity else { return nil }
        tags[tableCount] = UInt(bitPattern: stream.counters)
        tableCount &+= 1
        return tableCount - 1
    }

    @inline(__always)
    private func existingTable(for stream: Stream) -> Int? {
        let tag = UInt(bitPattern: stream.counters)
        for index in 0..<tableCount where tags[index] == tag { return index }
        return nil
    }
}
