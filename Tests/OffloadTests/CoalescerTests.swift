import CDPDK
import DPDK
import Foundation
import FrameSupport
@testable import Offload
import TestSupport
import Wire
import XCTest

/// `Coalescer` on mbufs: which segments merge and which end a flow (one rule at a time), the
/// table's capacity and caps, the super-frame's headers and metadata, and that every mbuf
/// offered comes back exactly once.
final class CoalescerTests: XCTestCase {
    nonisolated(unsafe) private static var cachedPool: Mempool?

    private var pool: Mempool!
    private var slots: UnsafeMutablePointer<UInt64>!

    override func setUpWithError() throws {
        try TestEAL.start()
        if Self.cachedPool == nil {
            Self.cachedPool = try Mempool.createPacketPool(name: TestEAL.uniqueName("gro_unit"), count: 1024, cacheSize: 0, dataRoomSize: 2176)
        }
        pool = Self.cachedPool
        slots = .allocate(capacity: CoalescingCounter.slotCount)
        slots.initialize(repeating: 0, count: CoalescingCounter.slotCount)
    }

    override func tearDown() {
        slots.deallocate()
        if let pool { XCTAssertEqual(pool.availableCount, pool.size, "every mbuf back in the pool") }
    }

    // MARK: segments

    /// One TCP segment, VXLAN/IPv4 (or plain IPv4), every checksum right unless asked.
    struct Segment {
        var seq: UInt32 = 0x1000
        var payload = 1000
        var flags: TCPFlags = [.ack]
        var ack: UInt32 = 7
        var window: UInt16 = 500
        var tsval: UInt32 = 100
        var innerID: UInt16 = 0x100
        var outerID: UInt16 = 0x200
        var ttl: UInt8 = 64
        var tos: UInt8 = 0
        var outerTTL: UInt8 = 64
        var sport: UInt16 = 33000
        var vni: UInt32 = 42
        var tunnel = true
        var badTCP = false

        func payloadBytes() -> [UInt8] { (0..<payload).map { UInt8(truncatingIfNeeded: (Int(seq) &+ $0) &* 7 &+ Int(sport)) } }

        func build() -> [UInt8] {
            let inner = Endpoints(v6: false, src4: IPv4Address(10, 0, 0, 1), dst4: IPv4Address(10, 0, 0, 2))
            var fields = TCPFields(sourcePort: sport, destinationPort: 80, sequenceNumber: seq, acknowledgmentNumber: ack,
                                   flags: flags, window: window)
            var options = TCPOptions()
            options.timestamps = (value: tsval, echoReply: 200)
            fields.options = options.encode()
            if flags.contains(.urg) { fields.urgentPointer = 1 }
            var tcp = Build.emit(fields.headerLength) { try fields.emit(into: $0) } + payloadBytes()
            tcp.withUnsafeMutableBytes { b in
                try! MutableTCPHeader(b).fillChecksum(pseudoHeaderSum: inner.pseudoHeaderSum(IPProtocol.tcp, length: b.count))
            }
            if badTCP { tcp[16] ^= 0x5A }
            var ipFields = IPv4Fields(protocol: IPProtocol.tcp, sourceAddress: inner.src4, destinationAddress: inner.dst4,
                                      identification: innerID, dontFragment: true)
            ipFields.timeToLive = ttl
            ipFields.typeOfService = tos
            let ip = Build.emit(20) { try ipFields.emit(into: $0, payloadLength: tcp.count) } + tcp
            guard tunnel else { return Build.ethernet(EtherType.ipv4, vlan: nil, body: ip) }
            let innerFrame = Build.ethernet(EtherType.ipv4, vlan: nil, body: ip)
            let outer = Endpoints(v6: false)
            let vxlan = Build.emit(8) { try VXLANFields(vni: vni).emit(into: $0) } + innerFrame
            let udp = Build.udpDatagram(outer, sport: 49152, dport: 4789, body: vxlan)
            var outerFields = IPv4Fields(protocol: IPProtocol.udp, sourceAddress: outer.src4, destinationAddress: outer.dst4,
                                         identification: outerID, dontFragment: true)
            outerFields.timeToLive = outerTTL
            let outerIP = Build.emit(20) { try outerFields.emit(into: $0, payloadLength: udp.count) } + udp
            return Build.ethernet(EtherType.ipv4, vlan: nil, body: outerIP)
        }

        /// The next segment of the same flow (sequence and IDs move on).
        func next(_ change: (inout Segment) -> Void = { _ in }) -> Segment {
            var segment = self
            segment.seq &+= UInt32(payload)
            segment.innerID &+= innerID == 0 ? 0 : 1
            segment.outerID &+= outerID == 0 ? 0 : 1
            change(&segment)
            return segment
        }
    }

    /// A run of `count` segments of one flow.
    private func run(_ count: Int, from first: Segment = Segment()) -> [Segment] {
        var segments = [first]
        while segments.count < count { segments.append(segments.last!.next()) }
        return segments
    }

    // MARK: the harness

    /// What the coalescer handed back, in order, with whether each is a super-frame.
    private var released: [(packet: Mbuf, isSuperFrame: Bool)] = []
    private var offered: [UInt] = []
    /// Offer as the engine does: to a flow expecting it first (no parse), the
    /// full `offer` only when that declines. Both orders must give the same verdicts.
    private var viaExpressLane = false
    /// Segments `offerToExpectingFlow` took.
    private var joinedBeforeParse = 0
    /// Segments `takeFollowing` took (`offerBurst`).
    private var extendedRuns = 0

    /// Runs `body` with the plain `offer`, then in the engine's order, counters reset between.
    private func onBothPaths(_ body: () throws -> Void) rethrows {
        for recent in [false, true] {
            viaExpressLane = recent
            joinedBeforeParse = 0
            slots.update(repeating: 0, count: CoalescingCounter.slotCount)
            try body()
        }
        viaExpressLane = false
    }

    /// Offers one segment (a burst of one); returns how many frames came back.
    private func offer(_ coalescer: inout Coalescer, _ segment: Segment, round: UInt64 = 0,
                       file: StaticString = #filePath, line: UInt = #line) throws -> Int {
        try offerBurst(&coalescer, [segment], round: round, file: file, line: line)
    }

    /// Offers a burst as the engine does: each packet to the flow expecting it first and, when
    /// it handed nothing back, the packets behind it to `takeFollowing`; the rest with
    /// their layouts. Returns how many frames came back.
    @discardableResult
    private func offerBurst(_ coalescer: inout Coalescer, _ segments: [Segment], round: UInt64 = 0,
                            file: StaticString = #filePath, line: UInt = #line) throws -> Int {
        let burst = UnsafeMutablePointer<OpaquePointer?>.allocate(capacity: max(1, segments.count))
        defer { burst.deallocate() }
        var layouts: [PacketLayout] = []
        for (index, segment) in segments.enumerated() {
            let frame = segment.build()
            layouts.append(try frame.withUnsafeBytes { try PacketLayout.parse($0, tunnels: .defaults) })
            let packet = try XCTUnwrap(Frames.mbuf(frame, pool: pool), file: file, line: line)
            offered.append(UInt(bitPattern: packet.pointer))
            burst[index] = packet.pointer
        }
        var index = 0
        var handedBack = 0
        while index < segments.count {
            let packet = Mbuf(burst[index]!)
            let layout = layouts[index]
            index += 1
            var result: Coalescer.Released
            if viaExpressLane, let joined = coalescer.offerToExpectingFlow(packet, now: round, slots: slots) {
                result = joined
                joinedBeforeParse += 1
                if joined.count == 0 {
                    let taken = coalescer.takeFollowing(burst + index, count: segments.count - index, now: round, slots: slots)
                    extendedRuns += taken
                    joinedBeforeParse += taken
                    index += taken
                }
            } else {
                result = coalescer.offer(packet, layout: layout, now: round, slots: slots)
            }
            for item in 0..<result.count { released.append((result[item], result.isSuperFrame(item))) }
            handedBack += result.count
        }
        return handedBack
    }

    private func flushAll(_ coalescer: inout Coalescer) {
        let capacity = coalescer.options.flows + 2
        let superFrames = UnsafeMutablePointer<OpaquePointer?>.allocate(capacity: capacity)
        let singles = UnsafeMutablePointer<OpaquePointer?>.allocate(capacity: capacity)
        let fixedIDs = UnsafeMutablePointer<FixedIPv4IDs>.allocate(capacity: capacity)
        defer { superFrames.deallocate(); singles.deallocate(); fixedIDs.deallocate() }
        while coalescer.count > 0 {
            let (made, alone) = coalescer.flush(idleSince: .max, reason: .stop, slots: slots, superFrames: superFrames,
                                                fixedIDs: fixedIDs, singles: singles, room: capacity)
            for index in 0..<made { released.append((Mbuf(superFrames[index]!), true)) }
            for index in 0..<alone { released.append((Mbuf(singles[index]!), false)) }
        }
    }

    /// Flushes what is held, checks that every offered mbuf came back exactly once, frees all.
    private func finish(_ coalescer: inout Coalescer, file: StaticString = #filePath, line: UInt = #line) {
        flushAll(&coalescer)
        var back: [UInt] = []
        for (packet, _) in released {
            for segment in packet.segments { back.append(UInt(bitPattern: segment.pointer)) }
        }
        XCTAssertEqual(back.sorted(), offered.sorted(), "every mbuf offered comes back once", file: file, line: line)
        for (packet, _) in released { packet.free() }
        released = []
        offered = []
        coalescer.deallocate()
    }

    private func counter(_ reason: CoalescingFlushReason) -> UInt64 { slots[CoalescingCounter.flush(reason)] }
    private func counter(_ reason: CoalescingBypassReason) -> UInt64 { slots[CoalescingCounter.bypass(reason)] }
    private var superFramesOut: UInt64 { slots[CoalescingCounter.superFramesOut] }

    // MARK: the super-frame

    func testInOrderSegmentsBecomeOneSuperFrameWithTheMetadataToCutItAgain() throws {
        try onBothPaths {
            var coalescer = Coalescer(options: CoalescingOptions())
            var segments = run(10)
            segments[9].flags = [.ack, .psh]
            for segment in segments.dropLast() { XCTAssertEqual(try offer(&coalescer, segment), 0, "held") }
            XCTAssertEqual(try offer(&coalescer, segments[9]), 1, "PSH ends the super-frame")
            // The flow's header mask is made when its second segment joins (by the full rules).
            XCTAssertEqual(joinedBeforeParse, viaExpressLane ? 8 : 0, "every segment after the second joins without a parse")
            XCTAssertEqual(coalescer.count, 0)
            let (head, isSuperFrame) = try XCTUnwrap(released.first)
            XCTAssertTrue(isSuperFrame)
            let first = segments[0].build()
            let layout = try first.withUnsafeBytes { try PacketLayout.parse($0, tunnels: .defaults) }
            let headers = layout.payloadOffset
            let bytes = Frames.bytes(of: head)
            XCTAssertEqual(Int(head.segmentCount), 10)
            XCTAssertEqual(Int(head.packetLength), headers + 10 * 1000)
            XCTAssertEqual(bytes.count, headers + 10 * 1000, "pkt_len agrees with the chain")
            XCTAssertEqual(Array(bytes[headers...]), segments.flatMap { $0.payloadBytes() }, "the payloads in order, nothing else")
            // Headers: the first segment's, lengths describing the whole, IPv4 checksums refilled.
            func be16(_ at: Int) -> Int { Int(bytes[at]) << 8 | Int(bytes[at + 1]) }
            XCTAssertEqual(be16(layout.outerL3Offset + 2), bytes.count - layout.outerL3Offset, "outer IPv4 total length")
            XCTAssertEqual(be16(layout.outerL4Offset + 4), bytes.count - layout.outerL4Offset, "outer UDP length")
            XCTAssertEqual(be16(layout.innerL3Offset + 2), bytes.count - layout.innerL3Offset, "inner IPv4 total length")
            for at in [layout.outerL3Offset, layout.innerL3Offset] {
                let sum = bytes[at..<at + 20].withUnsafeBytes { InternetChecksum.sum($0) }
                XCTAssertEqual(sum, 0xFFFF, "IPv4 header checksum at \(at)")
            }
            XCTAssertEqual(be16(layout.innerL3Offset + 4), 0x100, "the first segment's inner ID")
            XCTAssertEqual(be16(layout.outerL3Offset + 4), 0x200, "the first segment's outer ID")
            XCTAssertEqual(bytes[layout.innerL4Offset + 13], TCPFlagBits.ack | TCPFlagBits.psh, "the last segment's PSH")
            XCTAssertEqual(Array(bytes[0..<layout.innerL4Offset + 13]), Array(first[0..<layout.innerL4Offset + 13]).enumerated().map { index, byte in
                // Only the lengths and IPv4 checksums may differ before the TCP flags.
                let patched: Set<Int> = [layout.outerL3Offset + 2, layout.outerL3Offset + 3, layout.outerL3Offset + 10, layout.outerL3Offset + 11,
                                         layout.outerL4Offset + 4, layout.outerL4Offset + 5, layout.innerL3Offset + 2, layout.innerL3Offset + 3,
                                         layout.innerL3Offset + 10, layout.innerL3Offset + 11]
                return patched.contains(index) ? bytes[index] : byte
            }, "the rest of the headers is the first segment's")
            // Metadata.
            let flags = head.offloadFlags
            XCTAssertTrue(flags.contains(.rxLRO))
            XCTAssertTrue(flags.isSuperset(of: [.rxIPChecksumGood, .rxL4ChecksumGood, .rxOuterL4ChecksumGood]), "verified before merging")
            let lengths = layout.offloadLengths
            let tx = head.txOffload
            XCTAssertEqual(tx.tsoSegmentSize, 1000, "tso_segsz = the flow's segment size")
            XCTAssertEqual(tx.l2, Int(lengths.l2Len))
            XCTAssertEqual(tx.l3, Int(lengths.l3Len))
            XCTAssertEqual(tx.l4, Int(lengths.l4Len))
            XCTAssertEqual(tx.outerL2, Int(lengths.outerL2Len))
            XCTAssertEqual(tx.outerL3, Int(lengths.outerL3Len))
            XCTAssertEqual(slots[CoalescingCounter.segmentsIn], 10)
            XCTAssertEqual(superFramesOut, 1)
            XCTAssertEqual(slots[CoalescingCounter.segmentsMerged], 10)
            XCTAssertEqual(slots[CoalescingCounter.histogramBase + 2], 1, "one super-frame of 8-15 segments")
            XCTAssertEqual(counter(.pushOrFin), 1)
            finish(&coalescer)
        }
    }

    func testPlainTCPMergesAndTheLastShortSegmentEndsIt() throws {
        var coalescer = Coalescer(options: CoalescingOptions())
        var segments = run(6, from: Segment(tunnel: false))
        segments[5].payload = 300
        for segment in segments { _ = try offer(&coalescer, segment) }
        XCTAssertEqual(released.count, 1)
        XCTAssertEqual(counter(.shortSegment), 1)
        let head = try XCTUnwrap(released.first?.packet)
        XCTAssertEqual(Int(head.segmentCount), 6)
        XCTAssertEqual(head.txOffload.tsoSegmentSize, 1000, "the first segment's size, not the short one's")
        XCTAssertEqual(Int(head.packetLength), 14 + 20 + 32 + 5300)
        finish(&coalescer)
    }

    // MARK: one rule at a time

    /// Two segments held, then a third that breaks one rule: the two leave as a super-frame
    /// with the rule's reason, and the third starts a flow of its own (or leaves alone).
    func testEachRuleEndsTheFlowWithItsReason() throws {
        try onBothPaths {
            let cases: [(String, (inout Segment) -> Void, CoalescingFlushReason, CoalescingBypassReason?)] = [
                ("seq gap", { $0.seq &+= 1 }, .sequenceGap, nil),
                ("earlier seq", { $0.seq &-= 2000 }, .sequenceGap, nil),
                ("ack", { $0.ack &+= 1 }, .ackDiffers, nil),
                ("window", { $0.window = 501 }, .windowDiffers, nil),
                ("timestamp", { $0.tsval = 101 }, .optionsDiffer, nil),
                ("ttl", { $0.ttl = 63 }, .ttlOrTOS, nil),
                ("tos", { $0.tos = 0x10 }, .ttlOrTOS, nil),
                ("outer ttl", { $0.outerTTL = 1 }, .ttlOrTOS, nil),
                ("inner id jumps", { $0.innerID &+= 5 }, .ipID, nil),
                ("outer id jumps", { $0.outerID &+= 5 }, .ipID, nil),
                ("longer", { $0.payload = 1001 }, .longerSegment, nil),
                ("urg", { $0.flags = [.ack, .urg] }, .flags, .flags),
                ("rst", { $0.flags = [.ack, .rst] }, .flags, .flags),
                ("syn", { $0.flags = [.ack, .syn] }, .flags, .flags),
                ("cwr", { $0.flags = [.ack, .cwr] }, .flags, .flags),
                ("ece", { $0.flags = [.ack, .ece] }, .flags, .flags),
                ("no ack", { $0.flags = [] }, .flags, .flags),
                ("pure ack", { $0.payload = 0 }, .noPayload, .noPayload),
                ("bad tcp checksum", { $0.badTCP = true }, .checksumBad, .checksumBad),
            ]
            for (name, change, reason, bypass) in cases {
                slots.update(repeating: 0, count: CoalescingCounter.slotCount)
                var coalescer = Coalescer(options: CoalescingOptions())
                let segments = run(2)
                for segment in segments { XCTAssertEqual(try offer(&coalescer, segment), 0, name) }
                let third = segments[1].next(change)
                let count = try offer(&coalescer, third)
                XCTAssertEqual(counter(reason), 1, "\(name): flushed for \(reason.name)")
                XCTAssertEqual(superFramesOut, 1, name)
                XCTAssertTrue(released.first?.isSuperFrame == true, name)
                XCTAssertEqual(released.first.map { Int($0.packet.segmentCount) }, 2, name)
                if let bypass {
                    XCTAssertEqual(count, 2, "\(name): the flow, then the segment unchanged")
                    XCTAssertEqual(counter(bypass), 1, name)
                    XCTAssertEqual(Frames.bytes(of: released[1].packet), third.build(), "\(name): left as it came")
                    XCTAssertEqual(coalescer.count, 0, name)
                } else {
                    XCTAssertEqual(count, 1, name)
                    XCTAssertEqual(coalescer.count, 1, "\(name): the segment starts a flow")
                }
                finish(&coalescer)
            }
        }
    }

    /// Segments that are not the same flow never meet, whatever their sequence numbers.
    func testOtherFlowsAreKeptApart() throws {
        try onBothPaths {
            var coalescer = Coalescer(options: CoalescingOptions())
            let a = run(3)
            let b = run(3, from: Segment(sport: 33001))
            let c = run(3, from: Segment(vni: 43))
            for index in 0..<3 {
                for flow in [a, b, c] { XCTAssertEqual(try offer(&coalescer, flow[index]), 0) }
            }
            XCTAssertEqual(coalescer.count, 3, "three flows held")
            flushAll(&coalescer)
            XCTAssertEqual(released.count, 3)
            XCTAssertTrue(released.allSatisfy { $0.isSuperFrame && $0.packet.segmentCount == 3 })
            XCTAssertEqual(counter(.stop), 3)
            finish(&coalescer)
        }
    }

    /// IDs that do not move are merged only when they are 0 (with DF): the one fixed ID a
    /// super-frame can carry through GSO (IPv4IDPolicy.automatic). A fixed ID of 0x1234 would
    /// come back out as 0x1234, 0x1235, ... (found by gro_streams.py: ipid:fixed).
    func testFixedIDsMergeOnlyWhenZero() throws {
        try onBothPaths {
            var coalescer = Coalescer(options: CoalescingOptions())
            let fixed = Segment(innerID: 0x1234, outerID: 0x5678)
            var second = fixed
            second.seq &+= 1000
            XCTAssertEqual(try offer(&coalescer, fixed), 0)
            XCTAssertEqual(try offer(&coalescer, second), 1, "not merged: the first leaves alone")
            XCTAssertEqual(counter(.ipID), 1)
            XCTAssertEqual(superFramesOut, 0)
            finish(&coalescer)

            slots.update(repeating: 0, count: CoalescingCounter.slotCount)
            coalescer = Coalescer(options: CoalescingOptions())
            for segment in run(5, from: Segment(innerID: 0, outerID: 0)) { XCTAssertEqual(try offer(&coalescer, segment), 0) }
            XCTAssertEqual(coalescer.count, 1, "fixed at zero: merged")
            // Inner incrementing, outer fixed at 0 (Linux's VXLAN): merged too.
            var mixed = run(4, from: Segment(innerID: 9, outerID: 0, sport: 34000))
            for index in mixed.indices { mixed[index].outerID = 0 }
            for segment in mixed { XCTAssertEqual(try offer(&coalescer, segment), 0) }
            // Once a flow increments, a repeated ID ends it.
            let repeated = mixed[3].next { $0.innerID &-= 1; $0.outerID = 0 }
            XCTAssertEqual(try offer(&coalescer, repeated), 1)
            XCTAssertEqual(counter(.ipID), 1)
            flushAll(&coalescer)
            XCTAssertEqual(superFramesOut, 2)
            finish(&coalescer)
        }
    }

    // MARK: capacity and caps

    func testAFullTableEvictsTheOldestFlow() throws {
        var coalescer = Coalescer(options: CoalescingOptions(flows: 2))
        XCTAssertEqual(try offer(&coalescer, Segment(sport: 1), round: 5), 0)
        XCTAssertEqual(try offer(&coalescer, Segment(sport: 2), round: 3), 0)
        XCTAssertEqual(try offer(&coalescer, Segment(sport: 3), round: 7), 1, "the third flow makes room")
        XCTAssertEqual(counter(.tableFull), 1)
        let evicted = Frames.bytes(of: try XCTUnwrap(released.first?.packet))
        XCTAssertEqual(evicted, Segment(sport: 2).build(), "the flow started in the oldest round leaves")
        XCTAssertEqual(coalescer.count, 2)
        XCTAssertEqual(coalescer.longestIdle, 5, "the flow last touched at 5 is the longest idle")
        finish(&coalescer)
    }

    func testSegmentAndSizeCaps() throws {
        try onBothPaths {
            var coalescer = Coalescer(options: CoalescingOptions(segments: 4))
            for segment in run(9) { _ = try offer(&coalescer, segment) }
            XCTAssertEqual(released.map { Int($0.packet.segmentCount) }, [4, 4], "cut every 4 segments")
            XCTAssertEqual(counter(.segmentCap), 2)
            finish(&coalescer)

            // VXLAN/IPv4 with 1000-byte segments: 1102 bytes of outer IP packet, 1000 more per segment.
            slots.update(repeating: 0, count: CoalescingCounter.slotCount)
            coalescer = Coalescer(options: CoalescingOptions(size: 4200))
            for segment in run(8) { _ = try offer(&coalescer, segment) }
            XCTAssertEqual(released.map { Int($0.packet.segmentCount) }, [4, 4], "4102 bytes fit in 4200, 5102 would not")
            XCTAssertEqual(counter(.sizeCap), 2)
            for (packet, _) in released {
                let bytes = Frames.bytes(of: packet)
                XCTAssertLessThanOrEqual(Int(bytes[16]) << 8 | Int(bytes[17]), 4200)
            }
            finish(&coalescer)
        }
    }

    // MARK: every mbuf once

    /// Many interleaved flows, each rule somewhere, rounds passing with timeouts: every mbuf
    /// comes back exactly once, and the pool is full again after freeing what came back.
    func testEveryMbufIsReleasedExactlyOnce() throws {
        try onBothPaths {
            var coalescer = Coalescer(options: CoalescingOptions(flows: 4, segments: 6))
            var flows = (0..<6).map { Segment(sport: UInt16(40000 + $0)) }
            let superFrames = UnsafeMutablePointer<OpaquePointer?>.allocate(capacity: 8)
            let singles = UnsafeMutablePointer<OpaquePointer?>.allocate(capacity: 8)
            let fixedIDs = UnsafeMutablePointer<FixedIPv4IDs>.allocate(capacity: 8)
            defer { superFrames.deallocate(); singles.deallocate(); fixedIDs.deallocate() }
            var state: UInt32 = 12345
            func random(_ n: UInt32) -> UInt32 {
                state = state &* 1_103_515_245 &+ 12345
                return (state >> 16) % n
            }
            for round in 0..<60 {
                for _ in 0..<5 {
                    let index = Int(random(UInt32(flows.count)))
                    var segment = flows[index]
                    switch random(12) {
                    case 0: segment.seq &+= 1
                    case 1: segment.flags = [.ack, .psh]
                    case 2: segment.payload = 0
                    case 3: segment.badTCP = true
                    case 4: segment.tsval &+= 1
                    case 5: segment.payload = 400
                    default: break
                    }
                    _ = try offer(&coalescer, segment, round: UInt64(round))
                    flows[index] = segment.next { $0.badTCP = false; $0.payload = 1000; $0.flags = [.ack] }
                }
                if round % 3 == 2 {
                    let (made, alone) = coalescer.flush(idleSince: UInt64(round - 2), reason: .timeout, slots: slots,
                                                        superFrames: superFrames, fixedIDs: fixedIDs, singles: singles, room: 8)
                    for index in 0..<made { released.append((Mbuf(superFrames[index]!), true)) }
                    for index in 0..<alone { released.append((Mbuf(singles[index]!), false)) }
                }
            }
            XCTAssertGreaterThan(superFramesOut, 0)
            XCTAssertGreaterThan(pool.size - pool.availableCount, 0, "mbufs held or handed back")
            XCTAssertEqual(UInt64(released.filter(\.isSuperFrame).count), superFramesOut,
                           "the counter agrees with what was handed back so far")
            finish(&coalescer)
        }
    }

    /// The express lane, and the ghosts that start a flow again after a flush, change no
    /// verdict: a random mix of flows (tunnelled and plain) with every kind of rule break,
    /// timeouts and ends of polls goes through the engine's order (express lane first) and through
    /// the full rules alone (no express lane), and both hand back the same frames, byte for
    /// byte with the same metadata, in the same order, with the same counters.
    func testTheExpressLaneDecidesAsTheFullRules() throws {
        // The caps as the test has always had them, and a size cap that ends flows first.
        for (seed, segmentCap, sizeCap) in [(UInt32(1), 12, 65535), (77, 12, 65535), (4242, 12, 65535), (9, 64, 7000)] {
            var outcomes: [[[UInt8]]] = []
            var counters: [[UInt64]] = []
            var joinedBeforeParse: [Int] = []
            var ghostStarts: [Int] = []
            var takenInTurns: [Int] = []
            var restartedInTurns: [Int] = []
            var extended: [Int] = []
            for express in [true, false] {
                viaExpressLane = express
                self.joinedBeforeParse = 0
                self.extendedRuns = 0
                slots.update(repeating: 0, count: CoalescingCounter.slotCount)
                var coalescer = Coalescer(options: CoalescingOptions(flows: 3, segments: segmentCap, size: sizeCap))
                coalescer.expressLane = express
                var flows = (0..<4).map { Segment(sport: UInt16(41000 + $0), tunnel: $0 % 2 == 0) }
                flows[3].innerID = 0  // a flow whose IPv4 ID stays 0 (DF set)
                var state = seed
                func random(_ n: UInt32) -> UInt32 {
                    state = state &* 1_103_515_245 &+ 12345
                    return (state >> 16) % n
                }
                let superFrames = UnsafeMutablePointer<OpaquePointer?>.allocate(capacity: 8)
                let singles = UnsafeMutablePointer<OpaquePointer?>.allocate(capacity: 8)
                let fixedIDs = UnsafeMutablePointer<FixedIPv4IDs>.allocate(capacity: 8)
                defer { superFrames.deallocate(); singles.deallocate(); fixedIDs.deallocate() }
                // Scripted first: a ghost beside a held flow of its own key. A, B and F start
                // (F last); F and then B end on PSH and stay as ghosts in slots 2 and 1; F
                // skips a segment, so its new flow takes slot 1 and F's ghost still expects
                // the skipped one, which then comes: the held flow decides it (a gap), not the ghost.
                let a1 = Segment(sport: 40001), b1 = Segment(sport: 40002, tunnel: false), f1 = Segment(sport: 40003)
                let f3 = f1.next().next { $0.flags = [.ack, .psh] }
                for segment in [a1, b1, f1, a1.next(), b1.next(), f1.next(), f3, b1.next().next { $0.flags = [.ack, .psh] },
                                f3.next { $0.flags = [.ack] }.next(), f3.next { $0.flags = [.ack] }] {
                    _ = try offer(&coalescer, segment)
                }
                // A sender's run in one burst, PSH in the middle: the run joins in one go up to
                // the segment before PSH, which goes the full way and ends the flow.
                var g = Segment(sport: 40004)
                var run: [Segment] = []
                for step in 0..<8 {
                    var segment = g
                    if step == 5 { segment.flags = [.ack, .psh] }
                    run.append(segment)
                    g = g.next()
                }
                try offerBurst(&coalescer, run)
                // A run that reaches a cap at its last segment: the flow ends there, not when
                // its next segment comes.
                var h = Segment(sport: 40005)
                run = []
                for _ in 0..<(segmentCap == 12 ? 12 : 6) {  // 6 x 1000 bytes and headers: the size cap
                    run.append(h)
                    h = h.next()
                }
                try offerBurst(&coalescer, run)
                // Three senders taking turns (as many as the table holds), six bursts of nine:
                // once they took turns, the rest join in one go (takeExpected), up to a PSH in
                // the middle of the third burst and a segment out of turn in the fifth; the
                // fourth and sixth begin after an end of poll (the flows start again from
                // their ghosts in that loop).
                flushAll(&coalescer)
                var turns = (0..<3).map { Segment(sport: UInt16(42000 + $0), tunnel: $0 != 1) }
                for turn in 0..<6 {
                    if turn == 3 || turn == 5 {
                        let (made, alone) = coalescer.flush(
                            idleSince: .max, reason: .endOfPoll, slots: slots, superFrames: superFrames, fixedIDs: fixedIDs,
                            singles: singles, room: 8)
                        for index in 0..<made { released.append((Mbuf(superFrames[index]!), true)) }
                        for index in 0..<alone { released.append((Mbuf(singles[index]!), false)) }
                    }
                    var burst: [Segment] = []
                    for step in 0..<9 {
                        let index = turn == 4 && step == 4 ? 0 : step % 3
                        var segment = turns[index]
                        if turn == 2, step == 4 { segment.flags = [.ack, .psh] }
                        burst.append(segment)
                        turns[index] = segment.next { $0.flags = [.ack] }
                    }
                    try offerBurst(&coalescer, burst)
                }
                for round in 0..<150 {
                    // A burst of four, offered as the engine offers one (runs joined in one go).
                    var burst: [Segment] = []
                    for _ in 0..<4 {
                        // Mostly back to back, sometimes interleaved.
                        let index = random(3) == 0 ? Int(random(4)) : round % 4
                        var segment = flows[index]
                        switch random(40) {
                        case 0: segment.seq &+= 1
                        case 1: segment.seq &-= UInt32(segment.payload)
                        case 2: segment.flags = [.ack, .psh]
                        case 3: segment.flags = [.ack, .fin]
                        case 4: segment.flags = [.ack, .urg]
                        case 5: segment.flags = [.ack, .cwr]
                        case 6: segment.payload = 0
                        case 7: segment.badTCP = true
                        case 8: segment.tsval &+= 1
                        case 9: segment.payload = 400
                        case 10: segment.ttl &-= 1
                        case 11: segment.tos = 4
                        case 12: segment.innerID &+= 5
                        case 13: segment.outerID &+= 5
                        case 14: segment.window &+= 1
                        case 15: segment.ack &+= 1000
                        case 16: segment.outerTTL &-= 1
                        case 17: segment.payload = 1200
                        default: break
                        }
                        burst.append(segment)
                        flows[index] = segment.next {
                            $0.badTCP = false
                            $0.payload = 1000
                            $0.flags = [.ack]
                            $0.tos = 0
                        }
                    }
                    try offerBurst(&coalescer, burst, round: UInt64(round))
                    // Timeouts (some flows leave) and ends of polls (all leave): the flows that
                    // go on start again from their ghosts.
                    if round % 5 == 4 || round % 7 == 6 {
                        let (made, alone) = coalescer.flush(
                            idleSince: round % 5 == 4 ? UInt64(round - 1) : .max, reason: round % 5 == 4 ? .timeout : .endOfPoll,
                            slots: slots, superFrames: superFrames, fixedIDs: fixedIDs, singles: singles, room: 8)
                        for index in 0..<made { released.append((Mbuf(superFrames[index]!), true)) }
                        for index in 0..<alone { released.append((Mbuf(singles[index]!), false)) }
                    }
                }
                flushAll(&coalescer)
                outcomes.append(released.map { packet, isSuperFrame in
                    let head = packet
                    var record = Frames.bytes(of: head)
                    withUnsafeBytes(of: head.offloadFlags.rawValue) { record += $0 }
                    withUnsafeBytes(of: head.txOffload.rawValue) { record += $0 }
                    record += [UInt8(head.segmentCount), isSuperFrame ? 1 : 0]
                    return record
                })
                counters.append(Array(UnsafeBufferPointer(start: slots, count: CoalescingCounter.slotCount)))
                joinedBeforeParse.append(self.joinedBeforeParse)
                ghostStarts.append(coalescer.ghostStarts)
                takenInTurns.append(coalescer.takenInTurns)
                restartedInTurns.append(coalescer.restartedInTurns)
                extended.append(self.extendedRuns)
                finish(&coalescer)
            }
            XCTAssertEqual(outcomes[0].count, outcomes[1].count, "seed \(seed): as many frames back")
            for (index, (a, b)) in zip(outcomes[0], outcomes[1]).enumerated() where a != b {
                XCTFail("seed \(seed): frame \(index) differs with and without the express lane")
                break
            }
            XCTAssertEqual(counters[0], counters[1], "seed \(seed): the same counters")
            XCTAssertGreaterThan(counters[0][CoalescingCounter.superFramesOut], 20, "seed \(seed): super-frames made")
            XCTAssertGreaterThan(joinedBeforeParse[0], 50, "seed \(seed): the express lane took segments")
            XCTAssertEqual(joinedBeforeParse[1], 0)
            XCTAssertGreaterThan(ghostStarts[0], 10, "seed \(seed): flows went on from their ghosts")
            XCTAssertEqual(ghostStarts[1], 0)
            XCTAssertGreaterThan(takenInTurns[0], 10, "seed \(seed): senders taking turns joined in one go (takeExpected)")
            XCTAssertEqual(takenInTurns[1], 0)
            XCTAssertGreaterThan(restartedInTurns[0], 1, "seed \(seed): flows started again from their ghosts in turn")
            XCTAssertGreaterThan(extended[0], 5, "seed \(seed): runs joined in one go (takeFollowing)")
            XCTAssertEqual(extended[1], 0)
        }
        viaExpressLane = false
    }

    // MARK: the header mask

    /// The fast tests see every header bit but those a flow's segments may change, read from
    /// the RFCs' field positions here rather than from HeaderMask. The flow's mask leaves out
    /// IPv4 total length, identification and header checksum (RFC 791), UDP length and checksum
    /// (RFC 768), TCP sequence number, checksum, urgent pointer and the PSH/FIN bits (RFC 9293);
    /// the express lane's strict mask only the checksums (a UDP checksum the flow sends), the
    /// urgent pointer, PSH/FIN, the IDs and the sequence number (which the lane compares with
    /// the flow's next values): it compares the lengths with a full segment's.
    func testTheHeaderMasksSeeEveryBitButTheOnesSegmentsChange() throws {
        for segment in [Segment(), Segment(tunnel: false)] {
            let frame = segment.build()
            let layout = try frame.withUnsafeBytes { try PacketLayout.parse($0, tunnels: .defaults) }
            var variable: [Int: UInt8] = [:]
            var strictVariable: [Int: UInt8] = [:]
            func field(_ at: Int, _ count: Int, strict: Bool = false) {
                for offset in at..<(at + count) {
                    variable[offset] = 0xFF
                    if strict { strictVariable[offset] = 0xFF }
                }
            }
            if layout.isTunnel {
                field(layout.outerL3Offset + 2, 4)
                field(layout.outerL3Offset + 4, 2, strict: true)
                field(layout.outerL3Offset + 10, 2, strict: true)
                field(layout.outerL4Offset + 4, 2)
                let sendsChecksum = frame[layout.outerL4Offset + 6] != 0 || frame[layout.outerL4Offset + 7] != 0
                XCTAssertTrue(sendsChecksum, "the test frame's outer UDP checksum is set")
                field(layout.outerL4Offset + 6, 2, strict: sendsChecksum)
            }
            field(layout.l3Offset + 2, 4)
            field(layout.l3Offset + 4, 2, strict: true)
            field(layout.l3Offset + 10, 2, strict: true)
            field(layout.l4Offset + 4, 4, strict: true)
            variable[layout.l4Offset + 13] = TCPFlagBits.psh | TCPFlagBits.fin
            strictVariable[layout.l4Offset + 13] = TCPFlagBits.psh | TCPFlagBits.fin
            field(layout.l4Offset + 16, 4, strict: true)
            let words = HeaderMask.words(payloadOffset: layout.payloadOffset, dataLength: frame.count)
            XCTAssertGreaterThan(words, 0)
            let slot = UnsafeMutablePointer<UInt64>.allocate(capacity: HeaderMask.slotWords)
            defer { slot.deallocate() }
            frame.withUnsafeBytes { HeaderMask.build(slot, words: words, layout: layout, header: $0.baseAddress!) }
            for (mask, fields, name) in [(slot, variable, "flow"), (slot + HeaderMask.strictMask, strictVariable, "strict")] {
                for offset in 0..<(words * 8) {
                    for bit in 0..<8 {
                        var changed = frame
                        changed[offset] ^= UInt8(1) << UInt8(bit)
                        let agrees = frame.withUnsafeBytes { a in
                            changed.withUnsafeBytes { b in HeaderMask.agree(a.baseAddress!, b.baseAddress!, mask, words: words) }
                        }
                        let mayChange = offset >= layout.payloadOffset || (fields[offset] ?? 0) & (UInt8(1) << UInt8(bit)) != 0
                        XCTAssertEqual(agrees, mayChange, "\(name) mask, tunnel \(layout.isTunnel): byte \(offset) bit \(bit)")
                    }
                }
            }
        }
    }
}
