import CDPDK
import DPDK
import Wire

/// Receive coalescing (GRO) for one stream: TCP segments of one flow (and UDP datagrams of
/// equal size, delivered as a USO super-frame), plain or in any tunnel
/// the parser knows (VXLAN, VXLAN-GPE, Geneve, GRE/NVGRE with key and checksum, IPIP/SIT/6in6,
/// FOU, GUE), over IPv4 or IPv6, are chained into one super-frame without copying, under rules
/// at least as strict as Linux's (`CoalescingRules`), every checksum verified first.
///
/// A segment whose headers are the ones a held flow expects next (`ExpressLane`) skips the
/// parse, the classification and the flow rules it is known to meet (`offerToExpectingFlow`
/// before any parse, or first thing in `offer`); everything else takes the full rules.
///
/// The table has a fixed capacity allocated up front; nothing is allocated per packet. A held
/// flow owns its mbufs; `offer` and `flush` hand frames back to the caller (who owns them from
/// then on), each exactly once.
///
/// A super-frame leaves with what any egress needs to cut it again: `RX_LRO`, `tso_segsz` =
/// the flow's segment size, the six lengths, good checksum verdicts, and IP lengths and IPv4
/// header checksums that describe the whole frame. Its TCP checksum (and an outer UDP or GRE
/// checksum) are stale: every egress of a super-frame rewrites them (a NIC's TSO, Swift GSO,
/// the vnet tap's partial checksums), as Linux does after GRO (CHECKSUM_PARTIAL).
///
/// Helpers the compiler may keep out of line are static (over the pointers they need) or
/// mutating: a non-mutating method of this struct is handed a copy of it (a 154-byte memcpy)
/// at every call from a mutating one, per packet on the hot paths.
public struct Coalescer {
    struct Flow {
        var head: Mbuf
        var tail: Mbuf
        var layout: PacketLayout
        /// Header words `HeaderMask` compares (0: the full rules only), and where the payload
        /// starts. The mask is built when a second segment joins (`maskWords` words then):
        /// a flow that never grows never pays for it.
        var headerWords: Int
        var maskWords: Int
        var payloadOffset: Int
        var nextSequence: UInt32
        var segmentSize: Int
        var segments: Int
        /// Bytes of the outermost IP packet so far.
        var ipLength: Int
        var innerID: UInt16
        var outerID: UInt16
        var idModes: IDModes
        /// How its next segments are checked once `headerWords` is set.
        var lane: ExpressLane
        /// When the flow started and when its last segment came (the caller's clock: TSC ticks).
        var born: UInt64
        var touched: UInt64
    }

    /// How the IPv4 IDs of a flow move, learnt from its first two segments.
    struct IDModes: OptionSet {
        var rawValue: UInt8
        static let innerIncrementing = IDModes(rawValue: 1)
        static let innerFixed = IDModes(rawValue: 2)
        static let outerIncrementing = IDModes(rawValue: 4)
        static let outerFixed = IDModes(rawValue: 8)
    }

    public let options: CoalescingOptions
    private let masks = CoalescingRules.Masks()
    private let flows: UnsafeMutablePointer<Flow>
    private let keys: UnsafeMutablePointer<FlowKey>
    /// Each slot's `CoalescingRules.hash` of its flow's first segment, packed apart from the
    /// keys: a new flow's search (no held flow has its hash, mostly) compares four at a time.
    private let hashes: UnsafeMutablePointer<UInt32>
    /// Each flow slot's `HeaderMask` and `ExpressLane` words: `HeaderMask.slotWords` per slot.
    private let headerMasks: UnsafeMutablePointer<UInt64>
    /// Flows in use: `flows[0..<count]`.
    public private(set) var count = 0
    /// The flow a segment last joined or started (-1: none): where the next segment most
    /// likely belongs, since a sender's segments arrive back to back.
    private var recent = -1
    /// Per slot, the flow a segment joined right after one joined this one (-1: none yet):
    /// interleaved senders take turns in about the same order, so beside `recent` it is where
    /// the next segment most likely belongs (tried first while they take turns:
    /// `takingTurns`). A guess, checked like any other.
    private let successors: UnsafeMutablePointer<Int16>
    /// Held flows with an express lane (`headerWords` set): none, and a packet needs no scan.
    private var expressFlows = 0
    /// Slots `count..<ghostEnd` may hold flows already handed back, kept as they were: a
    /// ghost. One that had an express lane still expects its flow's next segment, which then
    /// starts the flow again the short way (`startFromGhost`): a flow cut by a flush at the end
    /// of a poll, a cap or PSH goes on in the next poll without the full rules for its first
    /// two segments. A ghost is never dereferenced for its mbufs (they are handed back).
    private var ghostEnd = 0
    /// Ghost slots a packet is compared with: `count` and the next ones.
    static let ghostWindow = 4
    /// Flows a ghost started (tests check the path is taken).
    private(set) var ghostStarts = 0
    /// Segments `takeExpected` took from senders taking turns, and flows it started again from
    /// their ghosts (tests check both paths are taken).
    private(set) var takenInTurns = 0
    private(set) var restartedInTurns = 0
    /// Whether the last segment `offerToExpectingFlow` took joined `recent`'s successor:
    /// senders are taking turns, so the next segment is tried on the successor first, which
    /// saves the failing look at `recent` per segment. Only the order of two tries.
    private var takingTurns = false
    /// Whether flows get an express lane at all (tests turn it off to judge it by the full rules).
    var expressLane = true

    public init(options: CoalescingOptions) {
        self.options = options
        flows = .allocate(capacity: max(1, options.flows))
        keys = .allocate(capacity: max(1, options.flows))
        hashes = .allocate(capacity: max(1, options.flows))
        headerMasks = .allocate(capacity: max(1, options.flows) * HeaderMask.slotWords)
        headerMasks.initialize(repeating: 0, count: max(1, options.flows) * HeaderMask.slotWords)
        successors = .allocate(capacity: max(1, options.flows))
        successors.initialize(repeating: -1, count: max(1, options.flows))
    }

    /// Frees the table; the caller flushed it first (`flushAll`).
    public func deallocate() {
        precondition(count == 0, "a coalescing table is released with flows held")
        flows.deallocate()
        keys.deallocate()
        hashes.deallocate()
        headerMasks.deallocate()
        successors.deallocate()
    }

    /// What a search for a segment's flow reads first, kept apart from the flows (16 bytes a
    /// slot: a search through a full table touches a few cache lines, not one per flow).
    struct FlowKey {
        /// With an express lane: the flow's ports as stored at `l4`, and the sequence number
        /// its next segment must carry (`sequenced`: TCP).
        var ports: UInt32 = 0
        var sequence: UInt32 = 0
        /// Offset of the L4 header; -1 until the flow has an express lane.
        var l4: Int16 = -1
        var sequenced = false
    }

    /// Up to two frames `offer` hands back, in the order they must leave.
    public struct Released {
        public var count = 0
        public var first: Mbuf?
        public var second: Mbuf?
        /// Which of the two is a super-frame (bit 0: first, bit 1: second).
        public var superFrames: UInt8 = 0
        /// For each super-frame, the IPv4 headers whose ID its segments kept fixed (cutting it
        /// again must keep them so: the segments that came in are the ones that leave).
        public var fixedIDs: (FixedIPv4IDs, FixedIPv4IDs) = ([], [])

        @inline(__always) mutating func append(_ packet: Mbuf, isSuperFrame: Bool, fixedIDs ids: FixedIPv4IDs = []) {
            if count == 0 {
                first = packet
                fixedIDs.0 = ids
            } else {
                second = packet
                fixedIDs.1 = ids
            }
            if isSuperFrame { superFrames |= UInt8(1) << UInt8(count) }
            count &+= 1
        }

        @inline(__always) public func isSuperFrame(_ index: Int) -> Bool { superFrames >> UInt8(index) & 1 != 0 }
        @inline(__always) public subscript(_ index: Int) -> Mbuf { (index == 0 ? first : second).unsafelyUnwrapped }
        @inline(__always) public func fixedIDs(_ index: Int) -> FixedIPv4IDs { index == 0 ? fixedIDs.0 : fixedIDs.1 }
    }

    /// Takes `packet` (parsed as `layout`): holds it in a flow, or hands it back unchanged, and
    /// hands back any flow it ends. `now` is the caller's clock (TSC ticks; a flow started now
    /// is born now); `slots` the stream's `CoalescingCounter` block; `expressTried`: the caller
    /// offered it to `offerToExpectingFlow` already (before parsing it).
    @inline(__always)
    public mutating func offer(
        _ packet: Mbuf, layout: PacketLayout, now: UInt64, slots: UnsafeMutablePointer<UInt64>, expressTried: Bool = false
    ) -> Released {
        if !expressTried, expressFlows != 0 || ghostEnd > count, let released = offerToExpectingFlow(packet, now: now, slots: slots) {
            return released
        }
        var released = Released()
        var segment = CoalescingRules.Segment()
        if let reason = CoalescingRules.segment(
            packet, layout: layout, verification: options.verification, masks: masks, into: &segment)
        {
            slots[CoalescingCounter.bypass(reason)] &+= 1
            released.append(packet, isSuperFrame: false)
            return released
        }
        // Most new flows' hashes match no held flow: one tight loop says so, without the search.
        let candidate = hashed(segment.hash, from: 0)
        let (index, agrees) = candidate < count ? find(segment, layout, packet: packet, from: candidate) : (-1, false)
        if let refusal = segment.refusal {
            // Leaves unchanged, after its flow (if held) so the flow's order holds.
            slots[CoalescingCounter.bypass(refusal.bypass)] &+= 1
            if index >= 0 { release(index, refusal.flush, slots, into: &released) }
            released.append(packet, isSuperFrame: false)
            return released
        }
        if index >= 0 {
            let refusal = agrees
                ? CoalescingRules.sequenceRefusal(flows[index], segment, options)
                : CoalescingRules.mergeRefusal(flows[index], segment, layout, packet, options)
            if let reason = refusal {
                release(index, reason, slots, into: &released)
            } else {
                merge(segment, packet, into: index)
                flows[index].touched = now
                joined(index)
                let flow = flows + index
                if flow.pointee.headerWords != 0 {
                    // A flow a ghost started learnt its ID modes again from this second segment.
                    if flow.pointee.segments == 2 { flow.pointee.lane.follow(flow.pointee.idModes) }
                    expectNext(index)
                } else if flow.pointee.maskWords != 0, expressLane {
                    buildMasks(index, second: packet)
                }
                slots[CoalescingCounter.segmentsIn] &+= 1
                if let end = endOfFlow(flows + index, tcpFlags: segment.tcpFlags, payload: segment.payload) {
                    release(index, end, slots, into: &released)
                }
                return released
            }
        }
        if count == options.flows { release(oldest(), .tableFull, slots, into: &released) }
        start(segment, layout, packet, now: now)
        slots[CoalescingCounter.segmentsIn] &+= 1
        if let end = endOfFlow(flows + (count - 1), tcpFlags: segment.tcpFlags, payload: segment.payload) {
            release(count - 1, end, slots, into: &released)
        }
        return released
    }

    /// Releases flows whose last segment came at or before `idleSince` (all: `UInt64.max`), at
    /// most `room` of them: super-frames to `superFrames` (their fixed-ID headers to `fixedIDs`),
    /// flows of one segment to `singles`.
    public mutating func flush(
        idleSince: UInt64, reason: CoalescingFlushReason, slots: UnsafeMutablePointer<UInt64>,
        superFrames: UnsafeMutablePointer<OpaquePointer?>, fixedIDs: UnsafeMutablePointer<FixedIPv4IDs>,
        singles: UnsafeMutablePointer<OpaquePointer?>, room: Int
    ) -> (superFrames: Int, singles: Int) {
        var made = 0
        var alone = 0
        if idleSince == .max, count <= room {
            // Every flow leaves: no slot needs to move. The order is the one releasing slot 0
            // again and again gives (0, then the last down to 1).
            for step in 0..<count {
                var released = Released()
                Self.hand(flows + (step == 0 ? 0 : count &- step), reason, slots, into: &released)
                Self.deliver(released, superFrames, fixedIDs, &made, singles, &alone)
            }
            // Every slot is kept as it was: ghosts now, worth a look if any had a lane.
            ghostEnd = expressFlows != 0 ? max(ghostEnd, count) : 0
            count = 0
            expressFlows = 0
            recent = -1
            return (made, alone)
        }
        var index = 0
        while index < count, made + alone < room {
            guard flows[index].touched <= idleSince else {
                index &+= 1
                continue
            }
            var released = Released()
            release(index, reason, slots, into: &released)
            Self.deliver(released, superFrames, fixedIDs, &made, singles, &alone)
        }
        return (made, alone)
    }

    /// Puts the one frame of `released` where `flush` returns it.
    @inline(__always)
    private static func deliver(
        _ released: Released, _ superFrames: UnsafeMutablePointer<OpaquePointer?>,
        _ fixedIDs: UnsafeMutablePointer<FixedIPv4IDs>, _ made: inout Int,
        _ singles: UnsafeMutablePointer<OpaquePointer?>, _ alone: inout Int
    ) {
        if released.isSuperFrame(0) {
            superFrames[made] = released[0].pointer
            fixedIDs[made] = released.fixedIDs(0)
            made &+= 1
        } else {
            singles[alone] = released[0].pointer
            alone &+= 1
        }
    }

    /// When the flow idle longest got its last segment (`UInt64.max` when none is held).
    public var longestIdle: UInt64 {
        var oldest = UInt64.max
        for index in 0..<count where flows[index].touched < oldest { oldest = flows[index].touched }
        return oldest
    }

    // MARK: flows

    /// Before any parse: `packet` joins a held flow whose next segment it is (`ExpressLane`:
    /// then it parses as that flow's first segment did) if every rule holds, or starts a flow
    /// again from its ghost. Tried in turn: the flow a segment last joined (a sender's segments
    /// come back to back) and its successor (interleaved senders take turns; the successor
    /// first while they do), the ghosts, the other held flows. nil: `offer` it with its layout.
    @inline(__always)
    public mutating func offerToExpectingFlow(_ packet: Mbuf, now: UInt64, slots: UnsafeMutablePointer<UInt64>) -> Released? {
        guard expressFlows != 0 || ghostEnd > count, packet.segmentCount == 1 else { return nil }
        let flags = packet.offloadFlags
        guard mayTakeShortPath(flags) else { return nil }
        let data = packet.data
        let length = Int(packet.dataLength)
        let first = recent
        var guess = -1
        if first >= 0 {
            guess = Int(successors[first])
            let hasGuess = guess >= 0 && guess < count && guess != first
            if takingTurns, hasGuess, expects(data, length: length, at: guess) {
                return mergeExpress(packet, flags: flags, into: guess, now: now, slots: slots)
            }
            if expects(data, length: length, at: first) {
                takingTurns = false
                return mergeExpress(packet, flags: flags, into: first, now: now, slots: slots)
            }
            if !takingTurns, hasGuess, expects(data, length: length, at: guess) {
                takingTurns = true
                return mergeExpress(packet, flags: flags, into: guess, now: now, slots: slots)
            }
        }
        // A ghost is one of the next few slots (flows come back in about the order they
        // came, each one started again taking the next slot): a bounded look, so that ghosts
        // that never come back cost little. One that declines leaves the held flows to judge.
        let ghostLimit = min(ghostEnd, count &+ Self.ghostWindow)
        var ghost = count
        while ghost < ghostLimit {
            if expects(data, length: length, at: ghost),
                let released = startFromGhost(packet, flags: flags, ghost: ghost, now: now, slots: slots)
            {
                return released
            }
            ghost &+= 1
        }
        var index = expressFlows != 0 ? count &- 1 : -1
        while true {
            index = Self.keyed(data, length: length, from: index, keys: keys)
            guard index >= 0 else { return nil }
            let words = flows[index].headerWords
            if index != first, index != guess, words << 3 <= length, isExpected(data, at: index, words: words) {
                return mergeExpress(packet, flags: flags, into: index, now: now, slots: slots)
            }
            index &-= 1
        }
    }

    /// After `offerToExpectingFlow` took a segment and handed nothing back: the packets behind
    /// it in the burst (up to `count`) that held flows expect next join them in one loop, until
    /// the first that is not one or that would end its flow, which is left to the caller.
    /// Returns how many it took. Senders taking turns (`takingTurns`) take the loop that
    /// follows them in turn; otherwise a run of one sender's segments the loop that keeps
    /// its flow at hand.
    @inline(__always)
    public mutating func takeFollowing(
        _ packets: UnsafeMutablePointer<OpaquePointer?>, count: Int, now: UInt64, slots: UnsafeMutablePointer<UInt64>
    ) -> Int {
        takingTurns
            ? takeExpected(packets, count: count, now: now, slots: slots)
            : extendRecent(packets, count: count, now: now, slots: slots)
    }

    /// After a segment joined a flow (nothing handed back), the packets that follow it in the
    /// burst, up to `count` of them, that are that flow's next segments join it too, in one
    /// loop that keeps the flow at hand: a sender's TSO burst arrives back to back. Each one
    /// meets exactly what `offerToExpectingFlow` would check it for (it would try the same
    /// flow first, as `recent`); the loop stops before the first that is not one, or that
    /// would end the flow (PSH or FIN, a cap), and leaves it to the caller. Returns how many
    /// it took.
    @inline(never)
    private mutating func extendRecent(
        _ packets: UnsafeMutablePointer<OpaquePointer?>, count: Int, now: UInt64, slots: UnsafeMutablePointer<UInt64>
    ) -> Int {
        let index = recent
        guard index >= 0, count > 0 else { return 0 }
        let flow = flows + index
        let words = flow.pointee.headerWords
        guard words != 0 else { return 0 }
        // The flow's fixed state as locals: stores through the table's pointers would make the
        // compiler load it again at every packet.
        let lane = flow.pointee.lane
        let key = keys + index
        let slot = headerMasks + index &* HeaderMask.slotWords
        let verification = options.verification, masks = self.masks
        Self.assertFullSize(flow)
        // Joins that end nothing by a cap.
        let limit = min(count, lane.capFreeBelow &- flow.pointee.segments)
        var taken = 0
        while taken < limit {
            // Two ahead: its header is in cache by the time its turn comes.
            if taken &+ 2 < count { rte_prefetch0(cdpdk_mbuf_mtod(packets[taken &+ 2])) }
            let packet = Mbuf(packets[taken].unsafelyUnwrapped)
            let data = packet.data
            // A full-size frame holds the header words (`buildMasks`).
            guard Int(packet.dataLength) >= lane.frameEnd, Self.keyMatches(data, key.pointee), packet.segmentCount == 1
            else { break }
            let flags = packet.offloadFlags
            let tcpFlags = lane.tcp >= 0 ? data.u8(lane.tcp &+ 13) : 0
            // No `mayTakeShortPath`: `admits` wants the flags the lane was built for, which met it.
            guard tcpFlags & (TCPFlagBits.psh | TCPFlagBits.fin) == 0,
                HeaderMask.agree(
                    UnsafeRawPointer(slot + HeaderMask.expectedHeader), data, slot + HeaderMask.strictMask, words: words),
                lane.carriesNextIDs(data, innerID: flow.pointee.innerID, outerID: flow.pointee.outerID),
                Self.admits(packet, data: data, flags: flags, lane: lane, flow: flow, verification: verification, masks: masks)
            else { break }
            Self.joinExpress(packet, flow, key: key, tcpFlags: tcpFlags)
            taken &+= 1
        }
        if taken != 0 {
            flow.pointee.touched = now
            slots[CoalescingCounter.segmentsIn] &+= UInt64(taken)
        }
        return taken
    }

    /// After a segment joined a flow (nothing handed back), the packets that follow it in the
    /// burst, up to `count` of them, that are the next segments of the flow the one before
    /// joined or of that flow's successor join them, in one loop that keeps the table's state
    /// at hand: a sender's TSO burst arrives back to back, and interleaved senders take turns.
    /// Each one meets exactly what `offerToExpectingFlow` would check it for, tried on the same
    /// two flows in the same order; the loop stops before the first that neither expects, or
    /// that would end its flow (PSH or FIN, a cap), and leaves it to the caller. Returns how
    /// many it took.
    @inline(never)
    private mutating func takeExpected(
        _ packets: UnsafeMutablePointer<OpaquePointer?>, count: Int, now: UInt64, slots: UnsafeMutablePointer<UInt64>
    ) -> Int {
        var last = recent
        guard last >= 0, count > 0 else { return 0 }
        // The table's fields as locals: stores through its pointers would make the compiler
        // load them again from `self` at every packet.
        let keys = self.keys, flows = self.flows, successors = self.successors, headerMasks = self.headerMasks
        var held = self.count
        let verification = options.verification, masks = self.masks
        /// The flow a segment joined after the one at `index` last time (itself when none is held).
        func successor(of index: Int) -> Int {
            let next = Int(successors[index])
            return next >= 0 && next < held ? next : index
        }
        var restarted = 0
        var turns = takingTurns
        // The two flows tried, in order: the one `last` joined and its successor, the
        // successor first while senders take turns.
        var first = turns ? successor(of: last) : last
        var second = turns ? last : successor(of: last)
        var taken = 0
        while taken < count {
            // Two ahead, as `extendRecent`.
            if taken &+ 2 < count { rte_prefetch0(cdpdk_mbuf_mtod(packets[taken &+ 2])) }
            let packet = Mbuf(packets[taken].unsafelyUnwrapped)
            let data = packet.data
            let length = Int(packet.dataLength)
            let index: Int
            if Self.keyed(data, length: length, keys[first]) {
                index = first
            } else if Self.keyed(data, length: length, keys[second]) {
                index = second
            } else {
                // A flow handed back (a flush at the end of a poll) comes back: its ghost is
                // the next slot when the flows come back in the order they left. Started again
                // here only when that ends nothing (nothing to hand back from this loop).
                let ghost = held
                guard ghost < ghostEnd, expects(data, length: length, at: ghost) else { break }
                let lane = flows[ghost].lane
                let tcpFlags = lane.tcp >= 0 ? data.u8(lane.tcp &+ 13) : 0
                // One segment below the bound: the restart reaches no cap.
                guard tcpFlags & (TCPFlagBits.psh | TCPFlagBits.fin) == 0, lane.capFreeBelow >= 1 else { break }
                recent = last
                guard let released = startFromGhost(packet, flags: packet.offloadFlags, ghost: ghost, now: now, slots: slots)
                else { break }
                assert(released.count == 0, "a flow started again from its ghost ended at once")
                last = recent
                held = self.count
                first = turns ? successor(of: last) : last
                second = turns ? last : successor(of: last)
                restarted &+= 1
                taken &+= 1
                continue
            }
            let flow = flows + index
            let words = flow.pointee.headerWords
            let tcp = flow.pointee.lane.tcp
            Self.assertFullSize(flow)
            // A full-size frame holds the header words (`buildMasks`).
            guard length >= flow.pointee.lane.frameEnd, packet.segmentCount == 1,
                flow.pointee.segments < flow.pointee.lane.capFreeBelow
            else { break }
            let flags = packet.offloadFlags
            let tcpFlags = tcp >= 0 ? data.u8(tcp &+ 13) : 0
            // No `mayTakeShortPath`: `admits` wants the flags the lane was built for, which met it.
            guard tcpFlags & (TCPFlagBits.psh | TCPFlagBits.fin) == 0,
                Self.isExpected(data, flow: flow, slot: headerMasks + index &* HeaderMask.slotWords, words: words),
                Self.admits(packet, data: data, flags: flags, flow: flow, verification: verification, masks: masks)
            else { break }
            Self.joinExpress(packet, flow, key: keys + index, tcpFlags: tcpFlags)
            flow.pointee.touched = now
            // As `offerToExpectingFlow` learns it: joining the successor means senders take turns.
            if index != last {
                turns = true
                successors[last] = Int16(truncatingIfNeeded: index)
                last = index
                first = successor(of: index)
                second = index
            } else if turns {
                turns = false
                first = index
                second = successor(of: index)
            }
            taken &+= 1
        }
        if taken != 0 {
            recent = last
            takingTurns = turns
            takenInTurns &+= taken
            restartedInTurns &+= restarted
            // startFromGhost counted its own.
            slots[CoalescingCounter.segmentsIn] &+= UInt64(taken &- restarted)
        }
        return taken
    }

    /// What `capFreeBelow` relies on: every segment the flow holds is full-size.
    @inline(__always)
    private static func assertFullSize(_ flow: UnsafeMutablePointer<Flow>) {
        assert(flow.pointee.ipLength == flow.pointee.lane.frameEnd &- flow.pointee.lane.outerL3
            &+ (flow.pointee.segments &- 1) &* flow.pointee.segmentSize, "a held flow with a short segment")
    }

    /// Whether the held flow with this key (a lane: `l4` set) expects a segment with these L4
    /// words (`keyMatches`), its L4 header within `length`.
    @inline(__always)
    private static func keyed(_ data: UnsafeMutableRawPointer, length: Int, _ key: FlowKey) -> Bool {
        key.l4 >= 0 && Int(key.l4) &+ 8 <= length && keyMatches(data, key)
    }

    /// The first held flow from `start` down whose key the segment's L4 words match
    /// (`keyMatches`; -1: none). A loop of its own, kept out of line: inlined into its caller,
    /// the compiler kept the loop's counters on the stack.
    @inline(never)
    private static func keyed(
        _ data: UnsafeMutableRawPointer, length: Int, from start: Int, keys: UnsafeMutablePointer<FlowKey>
    ) -> Int {
        var index = start
        while index >= 0 {
            if keyed(data, length: length, keys[index]) { return index }
            index &-= 1
        }
        return -1
    }

    /// The first held flow from `start` on whose first segment had `hash` (`count`: none).
    @inline(never)
    private static func hashed(_ hash: UInt32, from start: Int, hashes: UnsafeMutablePointer<UInt32>, count: Int) -> Int {
        var index = start
        let wanted = SIMD4<UInt32>(repeating: hash)
        while index &+ 4 <= count {
            let four = UnsafeRawPointer(hashes + index).loadUnaligned(as: SIMD4<UInt32>.self)
            if any(four .== wanted) { break }
            index &+= 4
        }
        while index < count, hashes[index] != hash { index &+= 1 }
        return index
    }

    @inline(__always)
    private func hashed(_ hash: UInt32, from start: Int) -> Int {
        Self.hashed(hash, from: start, hashes: hashes, count: count)
    }

    /// Whether the flow (or ghost) at `index` has an express lane and expects the segment at
    /// `data` (`length` bytes) next: its key, then its header words (`isExpected`).
    @inline(__always)
    private func expects(_ data: UnsafeMutableRawPointer, length: Int, at index: Int) -> Bool {
        let words = flows[index].headerWords
        return words != 0 && words << 3 <= length && keyMatches(data, at: index) && isExpected(data, at: index, words: words)
    }

    /// Whether the segment's ports and sequence number are the ones the flow at `index` (with
    /// an express lane, whose key covers `headerWords`) expects: two loads that tell the flows
    /// apart, and turn away a wrong guess before the whole compare.
    @inline(__always)
    private func keyMatches(_ data: UnsafeMutableRawPointer, at index: Int) -> Bool { Self.keyMatches(data, keys[index]) }

    @inline(__always)
    private static func keyMatches(_ data: UnsafeMutableRawPointer, _ key: FlowKey) -> Bool {
        let l4 = Int(truncatingIfNeeded: key.l4)
        return data.loadUnaligned(fromByteOffset: l4, as: UInt32.self) == key.ports
            && (!key.sequenced || data.be32(l4 &+ 4) == key.sequence)
    }

    /// Whether `header`, whose key the flow at `index` matched (`keyMatches`: the sequence
    /// number), is what the flow expects next (`ExpressLane`): its words agree with the flow's
    /// under the strict mask, and it carries the flow's next IPv4 IDs.
    @inline(__always)
    private func isExpected(_ header: UnsafeRawPointer, at index: Int, words: Int) -> Bool {
        Self.isExpected(header, flow: flows + index, slot: headerMasks + index &* HeaderMask.slotWords, words: words)
    }

    /// `isExpected` over the flow's pointers (`slot`: its `HeaderMask` words).
    @inline(__always)
    private static func isExpected(
        _ header: UnsafeRawPointer, flow: UnsafeMutablePointer<Flow>, slot: UnsafeMutablePointer<UInt64>, words: Int
    ) -> Bool {
        HeaderMask.agree(UnsafeRawPointer(slot + HeaderMask.expectedHeader), header, slot + HeaderMask.strictMask, words: words)
            && flow.pointee.lane.carriesNextIDs(header, innerID: flow.pointee.innerID, outerID: flow.pointee.outerID)
    }

    /// `packet`, whose headers are the ones the flow at `index` expects next, joins it if
    /// what the strict mask leaves out allows (`ExpressLane`; nil otherwise: the full path
    /// decides and names the reason).
    @inline(__always)
    private mutating func mergeExpress(
        _ packet: Mbuf, flags: MbufFlags, into index: Int, now: UInt64, slots: UnsafeMutablePointer<UInt64>
    ) -> Released? {
        let flow = flows + index
        let segmentSize = flow.pointee.segmentSize
        guard flow.pointee.segments < options.segments, flow.pointee.ipLength &+ segmentSize <= options.size,
            Self.admits(packet, data: packet.data, flags: flags, flow: flow, verification: options.verification, masks: masks)
        else { return nil }
        let tcp = flow.pointee.lane.tcp
        let tcpFlags = tcp >= 0 ? packet.data.u8(tcp &+ 13) : 0
        // Expecting its next segment before it may end: a flow handed back stays a ghost.
        Self.joinExpress(packet, flow, key: keys + index, tcpFlags: tcpFlags)
        flow.pointee.touched = now
        joined(index)
        slots[CoalescingCounter.segmentsIn] &+= 1
        if let end = endOfFlow(flow, tcpFlags: tcpFlags, payload: segmentSize) {
            return released(index, end, slots)
        }
        return Released()
    }

    /// `packet`, a full-size segment with the headers the flow at `flow` (slot `index`) expects
    /// next, becomes its last segment; the flow then expects the one after it.
    @inline(__always)
    private static func joinExpress(
        _ packet: Mbuf, _ flow: UnsafeMutablePointer<Flow>, key: UnsafeMutablePointer<FlowKey>, tcpFlags: UInt8
    ) {
        append(packet, to: flow, frameEnd: flow.pointee.lane.frameEnd, payload: flow.pointee.segmentSize, tcpFlags: tcpFlags)
        flow.pointee.innerID &+= flow.pointee.lane.innerIDStep
        flow.pointee.outerID &+= flow.pointee.lane.outerIDStep
        key.pointee.sequence = flow.pointee.nextSequence
    }

    /// Whether a packet with these flags may take the short path: none of those that keep it
    /// off it (a super-frame, a checksum request), and not both L4 verdicts at once.
    @inline(__always)
    private func mayTakeShortPath(_ flags: MbufFlags) -> Bool {
        flags.isDisjoint(with: masks.notAlone) && flags.intersection(masks.l4Verdicts) != masks.l4Verdicts
    }

    /// The flow at `index` ended: what `release` hands back (out of line: the express path
    /// keeps its registers for the common case, a segment that joins and ends nothing).
    @inline(never)
    private mutating func released(
        _ index: Int, _ reason: CoalescingFlushReason, _ slots: UnsafeMutablePointer<UInt64>
    ) -> Released {
        var released = Released()
        release(index, reason, slots, into: &released)
        return released
    }

    /// Whether `packet`, whose headers are the ones the flow (or ghost) at `flow` expects
    /// next, needs nothing the strict mask left out: the rx flags its lane was built for, the
    /// full size, a UDP checksum where the flow sends one, the checksums the verification leaves.
    @inline(__always)
    private static func admits(
        _ packet: Mbuf, data: UnsafeMutableRawPointer, flags: MbufFlags, flow: UnsafeMutablePointer<Flow>,
        verification: CoalescingOptions.Verification, masks: CoalescingRules.Masks
    ) -> Bool {
        admits(packet, data: data, flags: flags, lane: flow.pointee.lane, flow: flow, verification: verification, masks: masks)
    }

    /// `admits` with the flow's lane at hand (`lane`: `flow`'s; `data`: `packet.data`).
    @inline(__always)
    private static func admits(
        _ packet: Mbuf, data: UnsafeMutableRawPointer, flags: MbufFlags, lane: ExpressLane, flow: UnsafeMutablePointer<Flow>,
        verification: CoalescingOptions.Verification, masks: CoalescingRules.Masks
    ) -> Bool {
        guard flags.rawValue == lane.rxFlags,
            !flags.contains(.rxVLANStripped) || packet.vlanTCI == lane.vlanTCI,
            Int(packet.dataLength) >= lane.frameEnd
        else { return false }
        if lane.outerUDPChecksum >= 0, data.be16(lane.outerUDPChecksum) == 0 { return false }
        if lane.innerUDPChecksum >= 0, data.be16(lane.innerUDPChecksum) == 0 { return false }
        switch lane.checksums {
        case .none: return true
        case .outerIPv4Header: return CoalescingRules.ipv4HeaderSumsToOnes(data + lane.outerL3)
        case .all: return allChecksumsAreGood(data, flow, flags, verification: verification, masks: masks)
        }
    }

    /// The full checksum rules for a segment of `flow`: out of line, so that `admits` (the
    /// rest of it, a few words) is inlined where it is called in a loop (`extendRecent`).
    @inline(never)
    private static func allChecksumsAreGood(
        _ data: UnsafeMutableRawPointer, _ flow: UnsafeMutablePointer<Flow>, _ flags: MbufFlags,
        verification: CoalescingOptions.Verification, masks: CoalescingRules.Masks
    ) -> Bool {
        CoalescingRules.checksumsAreGood(
            data, flow.pointee.layout, flags, frameEnd: flow.pointee.lane.frameEnd, verification: verification, masks: masks)
    }

    /// `packet` is the next segment the ghost at `ghost` expected: it starts the flow again in
    /// slot `count`, as the full rules would start it from a segment of this shape (same
    /// layout, size and first-segment state), and keeps the ghost's masks and lane. nil when
    /// the full path must decide: the lane's checks fail, or a held flow may be this flow
    /// (same hash), which the full rules would judge the segment against.
    @inline(never)
    private mutating func startFromGhost(
        _ packet: Mbuf, flags: MbufFlags, ghost: Int, now: UInt64, slots: UnsafeMutablePointer<UInt64>
    ) -> Released? {
        guard Self.admits(
            packet, data: packet.data, flags: flags, flow: flows + ghost, verification: options.verification, masks: masks),
            hashed(hashes[ghost], from: 0) == count
        else {
            return nil
        }
        if ghost != count { swapSlots(ghost, count) }
        let index = count
        let flow = flows + index
        let lane = flow.pointee.lane
        let segmentSize = flow.pointee.segmentSize
        CoalescingRules.trimPadding(packet, frameEnd: lane.frameEnd)
        flow.pointee.head = packet
        flow.pointee.tail = packet
        flow.pointee.segments = 1
        flow.pointee.ipLength = lane.frameEnd &- lane.outerL3
        flow.pointee.nextSequence &+= UInt32(truncatingIfNeeded: segmentSize)
        flow.pointee.innerID &+= lane.innerIDStep
        flow.pointee.outerID &+= lane.outerIDStep
        flow.pointee.born = now
        flow.pointee.touched = now
        count &+= 1
        expressFlows &+= 1
        joined(index)
        ghostStarts &+= 1
        slots[CoalescingCounter.segmentsIn] &+= 1
        expectNext(index)
        let tcpFlags = lane.tcp >= 0 ? packet.data.u8(lane.tcp &+ 13) : 0
        var released = Released()
        if let end = endOfFlow(flow, tcpFlags: tcpFlags, payload: segmentSize) {
            release(index, end, slots, into: &released)
        }
        return released
    }

    /// Exchanges two slots whole: flow, key and mask words (none when neither had a lane: no
    /// memmove for the many flows that never had a second segment). Mutating, though it writes
    /// only through pointers (see the type's note).
    private mutating func swapSlots(_ a: Int, _ b: Int) {
        swap(&flows[a], &flows[b])
        swap(&keys[a], &keys[b])
        swap(&hashes[a], &hashes[b])
        let words = max(flows[a].headerWords, flows[b].headerWords)
        let x = headerMasks + a &* HeaderMask.slotWords
        let y = headerMasks + b &* HeaderMask.slotWords
        for word in 0..<words {
            swap(&x[word], &y[word])
            swap(&x[HeaderMask.strictMask &+ word], &y[HeaderMask.strictMask &+ word])
            swap(&x[HeaderMask.expectedHeader &+ word], &y[HeaderMask.expectedHeader &+ word])
        }
    }

    /// A flow's second segment joined: its masks and express lane, from its first's headers.
    private mutating func buildMasks(_ index: Int, second packet: Mbuf) {
        let flow = flows + index
        let words = flow.pointee.maskWords
        let layout = flow.pointee.layout
        let header = flow.pointee.head.data
        let slot = headerMasks + index &* HeaderMask.slotWords
        HeaderMask.build(slot, words: words, layout: layout, header: header)
        let expected = UnsafeMutableRawPointer(slot + HeaderMask.expectedHeader)
        expected.copyMemory(from: header, byteCount: words << 3)
        // The loops that take a flow's next segments rely on it: equal flags meet it too.
        assert(mayTakeShortPath(packet.offloadFlags), "a lane built for flags off the short path")
        var lane = ExpressLane(
            layout: layout, header: header, frameEnd: flow.pointee.payloadOffset &+ flow.pointee.segmentSize,
            flags: packet.offloadFlags, vlanTCI: packet.vlanTCI, idModes: flow.pointee.idModes,
            verification: options.verification)
        lane.capFreeBelow = ExpressLane.capFreeBound(
            frameEnd: lane.frameEnd, outerL3: lane.outerL3, segmentSize: flow.pointee.segmentSize,
            segmentCap: options.segments, sizeCap: options.size)
        // The loops check the frame's end, not the words: a full-size segment holds them.
        assert(words << 3 <= lane.frameEnd, "header words past a full-size segment's end")
        flow.pointee.lane = lane
        flow.pointee.headerWords = words
        expressFlows &+= 1
        keys[index].l4 = Int16(truncatingIfNeeded: layout.l4Offset)
        keys[index].ports = header.loadUnaligned(fromByteOffset: layout.l4Offset, as: UInt32.self)
        keys[index].sequenced = layout.l4 == .tcp
        expectNext(index)
    }

    /// A segment joined (or started) the flow at `index`: it becomes `recent`, and the flow the
    /// one before joined learns it as its successor.
    @inline(__always)
    private mutating func joined(_ index: Int) {
        if recent >= 0, recent != index { successors[recent] = Int16(truncatingIfNeeded: index) }
        recent = index
    }

    /// The sequence number the flow at `index` expects of its next segment, in its key (its
    /// IDs are the flow's own, read by `isExpected`).
    @inline(__always)
    private func expectNext(_ index: Int) {
        keys[index].sequence = flows[index].nextSequence
    }

    /// The flow `segment` belongs to (-1: none), and whether `HeaderMask` found every
    /// equality rule met (then only the sequence, ID and caps remain to be checked).
    /// Mutating though it writes nothing (see the type's note): the compiler keeps it out of line.
    @inline(__always)
    private mutating func find(
        _ segment: CoalescingRules.Segment, _ layout: PacketLayout, packet: Mbuf, from first: Int
    ) -> (index: Int, agrees: Bool) {
        var index = first
        while index < count {
            let flow = flows + index
            let words = flow.pointee.headerWords
            if words != 0, segment.payloadOffset == flow.pointee.payloadOffset,
                HeaderMask.agree(flow.pointee.head.data, packet.data, headerMasks + index &* HeaderMask.slotWords, words: words),
                CoalescingRules.sameUnmaskedState(flow.pointee, packet)
            {
                return (index, true)
            }
            if CoalescingRules.sameFlow(flow.pointee, layout, packet) { return (index, false) }
            index = hashed(segment.hash, from: index &+ 1)
        }
        return (-1, false)
    }

    private func oldest() -> Int {
        var found = 0
        for index in 1..<max(count, 1) where flows[index].born < flows[found].born { found = index }
        return found
    }

    @inline(__always)
    private mutating func start(_ segment: CoalescingRules.Segment, _ layout: PacketLayout, _ packet: Mbuf, now: UInt64) {
        segment.trimPadding(packet)
        let words = HeaderMask.words(payloadOffset: segment.payloadOffset, dataLength: Int(packet.dataLength))
        (keys + count).initialize(to: FlowKey())
        hashes[count] = segment.hash
        (flows + count).initialize(to: Flow(
            head: packet, tail: packet, layout: layout,
            headerWords: 0, maskWords: words, payloadOffset: segment.payloadOffset,
            nextSequence: segment.sequence &+ UInt32(truncatingIfNeeded: segment.payload),
            segmentSize: segment.payload, segments: 1, ipLength: segment.ipLength,
            innerID: segment.innerID, outerID: segment.outerID, idModes: [], lane: ExpressLane(), born: now, touched: now))
        joined(count)
        count &+= 1
    }

    /// Chains the segment's payload behind the flow's last segment: no copy.
    @inline(__always)
    private mutating func merge(_ segment: CoalescingRules.Segment, _ packet: Mbuf, into index: Int) {
        let flow = flows + index
        if flow.pointee.segments == 1 {
            flow.pointee.idModes = CoalescingRules.idModes(flow.pointee, segment)
        }
        Self.append(packet, to: flow, frameEnd: segment.frameEnd, payload: segment.payload, tcpFlags: segment.tcpFlags)
        flow.pointee.innerID = segment.innerID
        flow.pointee.outerID = segment.outerID
    }

    /// `packet`'s payload (`payload` bytes ending at `frameEnd`) becomes the flow's last segment.
    @inline(__always)
    private static func append(_ packet: Mbuf, to flow: UnsafeMutablePointer<Flow>, frameEnd: Int, payload: Int, tcpFlags: UInt8) {
        CoalescingRules.trimPadding(packet, frameEnd: frameEnd)
        _ = packet.adjust(UInt16(truncatingIfNeeded: flow.pointee.payloadOffset))
        flow.pointee.tail.next = packet
        flow.pointee.tail = packet
        let head = flow.pointee.head
        head.segmentCount &+= 1
        head.packetLength &+= UInt32(truncatingIfNeeded: payload)
        // PSH and FIN of the last segment belong to the super-frame (Linux's tcp_gro_receive).
        let endFlags = tcpFlags & (TCPFlagBits.psh | TCPFlagBits.fin)
        if endFlags != 0 {
            let flagsAt = flow.pointee.layout.l4Offset &+ 13
            head.data.setU8(flagsAt, head.data.u8(flagsAt) | endFlags)
        }
        flow.pointee.nextSequence &+= UInt32(truncatingIfNeeded: payload)
        flow.pointee.segments &+= 1
        flow.pointee.ipLength &+= payload
    }

    /// Whether the flow must end now that `segment` joined (or started) it.
    @inline(__always)
    private func endOfFlow(_ flow: UnsafeMutablePointer<Flow>, tcpFlags: UInt8, payload: Int) -> CoalescingFlushReason? {
        if tcpFlags & (TCPFlagBits.psh | TCPFlagBits.fin) != 0 { return .pushOrFin }
        let segmentSize = flow.pointee.segmentSize
        if payload < segmentSize { return .shortSegment }
        if flow.pointee.segments >= options.segments { return .segmentCap }
        if flow.pointee.ipLength &+ segmentSize > options.size { return .sizeCap }
        return nil
    }

    /// Hands the flow at `index` back (finished into a super-frame when it has two segments
    /// or more) and frees its slot.
    @inline(__always)
    private mutating func release(
        _ index: Int, _ reason: CoalescingFlushReason, _ slots: UnsafeMutablePointer<UInt64>, into released: inout Released
    ) {
        count &-= 1
        let hadLane = flows[index].headerWords != 0
        if hadLane { expressFlows &-= 1 }
        // The last slot and the freed one change places: the freed flow stays as a ghost
        // (one without a lane keeps a key no packet matches).
        if recent == index { recent = -1 } else if recent == count { recent = index }
        if index != count { swapSlots(index, count) }
        if hadLane { ghostEnd = max(ghostEnd, count &+ 1) }
        Self.hand(flows + count, reason, slots, into: &released)
    }

    /// Counts the flow's end and appends its frame (finished into a super-frame when it has two
    /// segments or more) to `released`; its slot is the caller's business.
    @inline(__always)
    private static func hand(
        _ flow: UnsafeMutablePointer<Flow>, _ reason: CoalescingFlushReason, _ slots: UnsafeMutablePointer<UInt64>,
        into released: inout Released
    ) {
        slots[CoalescingCounter.flush(reason)] &+= 1
        guard flow.pointee.segments > 1 else {
            slots[CoalescingCounter.singlesOut] &+= 1
            released.append(flow.pointee.head, isSuperFrame: false)
            return
        }
        CoalescingRules.finish(flow.pointee)
        slots[CoalescingCounter.superFramesOut] &+= 1
        slots[CoalescingCounter.segmentsMerged] &+= UInt64(flow.pointee.segments)
        slots[CoalescingCounter.histogram(segments: flow.pointee.segments)] &+= 1
        var fixed: FixedIPv4IDs = []
        if flow.pointee.idModes.contains(.innerFixed) { fixed.insert(.inner) }
        if flow.pointee.idModes.contains(.outerFixed) { fixed.insert(.outer) }
        released.append(flow.pointee.head, isSuperFrame: true, fixedIDs: fixed)
    }
}

/// TCP header flag bits (RFC 9293 §3.1, RFC 3168 for CWR/ECE), in the 14th header byte.
public enum TCPFlagBits {
    public static let fin: UInt8 = 0x01
    public static let syn: UInt8 = 0x02
    public static let rst: UInt8 = 0x04
    public static let psh: UInt8 = 0x08
    public static let ack: UInt8 = 0x10
    public static let urg: UInt8 = 0x20
    public static let ece: UInt8 = 0x40
    public static let cwr: UInt8 = 0x80
}
