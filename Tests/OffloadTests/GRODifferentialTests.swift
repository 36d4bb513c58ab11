import CDPDK
import DPDK
import Foundation
import FrameSupport
import GROBaseline
import Offload
import TestSupport
import Wire
import XCTest

/// The Swift coalescer against DPDK's librte_gro (22.11) on what librte_gro supports: TCP/IPv4
/// and VXLAN-TCP/IPv4. The same bursts go to `rte_gro_reassemble_burst` (lightweight), to the
/// heavyweight context (`rte_gro_reassemble` + `rte_gro_timeout_flush`) and to `Coalescer`;
/// each answer is read back as which input segments were chained into which frame (both
/// chain the segments' own mbufs, so the mbuf addresses name the inputs).
///
/// Where librte_gro is right the merges must be the same. Where they differ, every merge one
/// side made and the other did not must be explained by a rule librte_gro 22.11 lacks
/// (lib/gro/gro_tcp4.c, gro_tcp4.h, gro_vxlan_tcp4.c), and each scenario states which rules it
/// exercises:
///
///  - `checksum`: librte_gro verifies no checksum; Swift never merges a segment whose IPv4 or
///    TCP checksum is wrong (it leaves unchanged, after its flow).
///  - `ttlOrTOS`: librte_gro compares neither TTL nor TOS (inner or outer); Swift, like Linux's
///    inet_gro_receive, ends the flow when they change.
///  - `window`: librte_gro ignores the TCP window; Swift ends the flow when it changes.
///  - `ipIDWithDF`: librte_gro ignores IPv4 IDs when DF is set; Swift, like Linux since the
///    2025 "restore outer ip ids" series, wants each ID (inner and outer) incrementing by one
///    or fixed, so that GSO on the way out can restore them.
///  - `segmentSize`: librte_gro merges segments of any size in any order of sizes; Swift, like
///    Linux's tcp_gro_receive, ends a super-frame at a segment shorter than the first (its
///    gso_size) and never appends a longer one.
///  - `outOfOrder`: librte_gro keeps segments of a flow that cannot be merged yet and prepends
///    an earlier segment that arrives later; Swift, like Linux, only appends in order.
///  - `heldAcrossGap`: for the same reason librte_gro keeps merging into an older item after a
///    later segment of the flow arrived out of order; Swift (Linux) ends the flow at the first
///    sequence gap.
///  - `pushMerged` (the other way): librte_gro 22.11 takes only segments whose flags are exactly
///    ACK (PSH and FIN ones pass unprocessed, after the flushed flows: out of order); Swift, like
///    Linux, merges a PSH or FIN segment as the super-frame's last and carries the flag.
final class GRODifferentialTests: XCTestCase {
    enum Rule: String, CaseIterable {
        case checksum, ttlOrTOS, window, ipIDWithDF, segmentSize, outOfOrder, heldAcrossGap, pushMerged
    }

    /// One segment of a test stream; `flow` picks the inner TCP source port and, in VXLAN, the
    /// outer UDP source port.
    struct Segment {
        var flow = 0
        var sequence: UInt32
        var payload = 1000
        var flags: TCPFlags = [.ack]
        var ttl: UInt8 = 64
        var tos: UInt8 = 0
        var outerTTL: UInt8 = 64
        var innerID: UInt16
        var outerID: UInt16
        var dontFragment = true
        var window: UInt16 = 500
        var badTCPChecksum = false
    }

    /// Which input segments each output frame chains, in chain order.
    typealias Groups = [[Int]]

    nonisolated(unsafe) private static var cachedPool: Mempool?

    private func pool() throws -> Mempool {
        try TestEAL.start()
        if let pool = Self.cachedPool { return pool }
        let pool = try Mempool.createPacketPool(name: TestEAL.uniqueName("grodiff_"), count: 1023, cacheSize: 0)
        Self.cachedPool = pool
        return pool
    }

    override func tearDownWithError() throws {
        let pool = try pool()
        XCTAssertEqual(pool.availableCount, pool.size, "the segment pool is full again")
    }

    // MARK: frames

    private static func emit(_ size: Int, _ body: (UnsafeMutableRawBufferPointer) throws -> Void) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: size)
        bytes.withUnsafeMutableBytes { try! body($0) }
        return bytes
    }

    /// Ethernet / IPv4 / TCP with the timestamps option (Linux data segments carry it), or the
    /// same inside VXLAN (VNI 42) over IPv4 / UDP with a non-zero checksum. Every checksum right
    /// unless `badTCPChecksum`.
    static func frame(_ s: Segment, vxlan: Bool) -> [UInt8] {
        let source = IPv4Address(10, 0, 0, 1), destination = IPv4Address(10, 0, 0, 2)
        var tcp = TCPFields(sourcePort: UInt16(40000 + s.flow), destinationPort: 5201, sequenceNumber: s.sequence,
                            acknowledgmentNumber: 0x1234_5678, flags: s.flags, window: s.window)
        var options = TCPOptions()
        options.timestamps = (value: 1000, echoReply: 2000)
        tcp.options = options.encode()
        let body = (0..<s.payload).map { UInt8(truncatingIfNeeded: (Int(s.sequence) &+ $0) &* 7 &+ s.flow) }
        var segment = emit(tcp.headerLength) { try tcp.emit(into: $0) } + body
        segment.withUnsafeMutableBytes { b in
            try! MutableTCPHeader(b).fillChecksum(pseudoHeaderSum: InternetChecksum.pseudoHeaderSum(
                source: source, destination: destination, protocol: IPProtocol.tcp, length: b.count))
            if s.badTCPChecksum { b[17] ^= 0x5A }
        }
        var ip = IPv4Fields(protocol: IPProtocol.tcp, sourceAddress: source, destinationAddress: destination,
                            identification: s.innerID, dontFragment: s.dontFragment)
        ip.timeToLive = s.ttl
        ip.typeOfService = s.tos
        let inner = emit(20) { try ip.emit(into: $0, payloadLength: segment.count) } + segment
        let mac = EthernetFields(destination: EthernetAddress(0x02_00_00_00_00_02), source: EthernetAddress(0x02_00_00_00_00_01),
                                 etherType: EtherType.ipv4)
        let innerFrame = emit(14) { try mac.emit(into: $0) } + inner
        guard vxlan else { return innerFrame }
        let outerSource = IPv4Address(192, 0, 2, 1), outerDestination = IPv4Address(192, 0, 2, 2)
        let udpBody = emit(8) { try VXLANFields(vni: 42).emit(into: $0) } + innerFrame
        var udp = emit(8) {
            try UDPFields(sourcePort: UInt16(50000 + s.flow), destinationPort: 4789).emit(into: $0, payloadLength: udpBody.count)
        } + udpBody
        udp.withUnsafeMutableBytes { b in
            try! MutableUDPHeader(b).fillChecksum(pseudoHeaderSum: InternetChecksum.pseudoHeaderSum(
                source: outerSource, destination: outerDestination, protocol: IPProtocol.udp, length: b.count))
        }
        var outer = IPv4Fields(protocol: IPProtocol.udp, sourceAddress: outerSource, destinationAddress: outerDestination,
                               identification: s.outerID, dontFragment: s.dontFragment)
        outer.timeToLive = s.outerTTL
        let outerMAC = EthernetFields(destination: EthernetAddress(0x02_00_00_00_00_04),
                                      source: EthernetAddress(0x02_00_00_00_00_03), etherType: EtherType.ipv4)
        return emit(14) { try outerMAC.emit(into: $0) } + emit(20) { try outer.emit(into: $0, payloadLength: udp.count) } + udp
    }

    /// `count` in-order segments of one flow starting at `first`, IDs incrementing.
    static func stream(flow: Int = 0, count: Int, first: Int = 0, payload: Int = 1000) -> [Segment] {
        (first..<(first + count)).map { index in
            Segment(flow: flow, sequence: 0xFFFF_F000 &+ UInt32(index * payload), payload: payload,
                    innerID: UInt16(truncatingIfNeeded: 0x4000 + index), outerID: UInt16(truncatingIfNeeded: 0x8000 + index))
        }
    }

    /// A deterministic generator for the random-ID cases.
    struct SplitMix: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ z >> 30) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ z >> 27) &* 0x94D0_49BB_1331_11EB
            return z ^ z >> 31
        }
    }

    // MARK: the three engines

    /// The segments as mbufs with the metadata librte_gro needs (an rx path's packet type, the
    /// five lengths); no checksum verdicts (Swift verifies every checksum itself).
    private func mbufs(_ frames: [[UInt8]], vxlan: Bool) throws -> [Mbuf] {
        let pool = try pool()
        return try frames.map { frame in
            let mbuf = try XCTUnwrap(Frames.mbuf(frame, pool: pool))
            let layout = try frame.withUnsafeBytes { try PacketLayout.parse($0, tunnels: TunnelPortTable.defaults) }
            let lengths = layout.offloadLengths
            mbuf.txOffload = TxOffloadLengths(l2: Int(lengths.l2Len), l3: Int(lengths.l3Len), l4: Int(lengths.l4Len),
                                              outerL2: Int(lengths.outerL2Len), outerL3: Int(lengths.outerL3Len))
            mbuf.packetType = gro_baseline_packet_type(vxlan ? GRO_BASELINE_VXLAN_TCP4 : GRO_BASELINE_TCP4)
            return mbuf
        }
    }

    /// Reads the frames back as groups of input indices (and checks each frame), then frees them.
    private func groups(_ output: [Mbuf], inputs: [Mbuf], frames: [[UInt8]], engine: String, vxlan: Bool) throws -> Groups {
        var index: [UInt: Int] = [:]
        for (number, mbuf) in inputs.enumerated() { index[UInt(bitPattern: mbuf.pointer)] = number }
        var result: Groups = []
        for frame in output {
            var members: [Int] = []
            for segment in frame.segments {
                members.append(try XCTUnwrap(index[UInt(bitPattern: segment.pointer)], "\(engine): an output segment that was no input"))
            }
            try checkFrame(frame, members: members, frames: frames, engine: engine, vxlan: vxlan)
            frame.free()
            result.append(members)
        }
        XCTAssertEqual(result.flatMap { $0 }.sorted(), Array(inputs.indices), "\(engine): every input leaves exactly once")
        return result
    }

    /// A merged frame carries its members' payloads back to back and IP lengths of the whole.
    private func checkFrame(_ frame: Mbuf, members: [Int], frames: [[UInt8]], engine: String, vxlan: Bool) throws {
        let bytes = Frames.bytes(of: frame)
        let layout = try frames[members[0]].withUnsafeBytes { try PacketLayout.parse($0, tunnels: TunnelPortTable.defaults) }
        let start = layout.payloadOffset
        let expected = members.flatMap { frames[$0][start...] }
        XCTAssertEqual(Array(bytes[start...]), expected, "\(engine): payload of \(members)")
        let innerIP = vxlan ? layout.innerL3Offset : layout.outerL3Offset
        XCTAssertEqual(Int(bytes[innerIP + 2]) << 8 | Int(bytes[innerIP + 3]), bytes.count - innerIP, "\(engine): inner IPv4 length")
        if vxlan {
            let outerIP = layout.outerL3Offset, udp = layout.outerL4Offset
            XCTAssertEqual(Int(bytes[outerIP + 2]) << 8 | Int(bytes[outerIP + 3]), bytes.count - outerIP, "\(engine): outer IPv4 length")
            XCTAssertEqual(Int(bytes[udp + 4]) << 8 | Int(bytes[udp + 5]), bytes.count - udp, "\(engine): UDP length")
        }
    }

    /// rte_gro_reassemble_burst on each burst.
    private func lightweight(_ frames: [[UInt8]], bursts: [Range<Int>], vxlan: Bool) throws -> Groups {
        let inputs = try mbufs(frames, vxlan: vxlan)
        var output: [Mbuf] = []
        let array = UnsafeMutablePointer<OpaquePointer?>.allocate(capacity: 256)
        defer { array.deallocate() }
        for burst in bursts {
            for (slot, index) in burst.enumerated() { array[slot] = inputs[index].pointer }
            let count = gro_baseline_burst(array, UInt16(burst.count), 64, 32)
            output += (0..<Int(count)).map { Mbuf(array[$0]!) }
        }
        return try groups(output, inputs: inputs, frames: frames, engine: "librte_gro lightweight", vxlan: vxlan)
    }

    /// rte_gro_reassemble on each burst, rte_gro_timeout_flush(0) after the last one: flows
    /// held across the bursts (testpmd's `set gro flush <n>`).
    private func heavyweight(_ frames: [[UInt8]], bursts: [Range<Int>], vxlan: Bool) throws -> Groups {
        let inputs = try mbufs(frames, vxlan: vxlan)
        let context = try XCTUnwrap(gro_baseline_context(64, 32))
        defer { gro_baseline_context_free(context) }
        var output: [Mbuf] = []
        let array = UnsafeMutablePointer<OpaquePointer?>.allocate(capacity: 256)
        defer { array.deallocate() }
        for burst in bursts {
            for (slot, index) in burst.enumerated() { array[slot] = inputs[index].pointer }
            let count = gro_baseline_reassemble(context, array, UInt16(burst.count))
            output += (0..<Int(count)).map { Mbuf(array[$0]!) }
        }
        let flushed = gro_baseline_flush(context, 0, array, 256)
        output += (0..<Int(flushed)).map { Mbuf(array[$0]!) }
        XCTAssertEqual(gro_baseline_held(context), 0, "the heavyweight context is empty after the flush")
        return try groups(output, inputs: inputs, frames: frames, engine: "librte_gro heavyweight", vxlan: vxlan)
    }

    /// The coalescer (every checksum verified in Swift, 64 segments and 64 KB at most as in
    /// librte_gro), flushed after each burst (`holdAcross` false) or only after the last.
    private func swift(_ frames: [[UInt8]], bursts: [Range<Int>], vxlan: Bool, holdAcross: Bool = false) throws -> Groups {
        let inputs = try mbufs(frames, vxlan: vxlan)
        var coalescer = Coalescer(options: CoalescingOptions(flows: 64, segments: 64, size: 65535, verification: .verifyAll))
        defer { coalescer.deallocate() }
        let slots = UnsafeMutablePointer<UInt64>.allocate(capacity: CoalescingCounter.slotCount)
        slots.initialize(repeating: 0, count: CoalescingCounter.slotCount)
        defer { slots.deallocate() }
        let superFrames = UnsafeMutablePointer<OpaquePointer?>.allocate(capacity: 256)
        let singles = UnsafeMutablePointer<OpaquePointer?>.allocate(capacity: 256)
        let fixedIDs = UnsafeMutablePointer<FixedIPv4IDs>.allocate(capacity: 256)
        defer {
            superFrames.deallocate()
            singles.deallocate()
            fixedIDs.deallocate()
        }
        var output: [Mbuf] = []
        func flush() {
            let (made, alone) = coalescer.flush(idleSince: .max, reason: .endOfPoll, slots: slots, superFrames: superFrames,
                                                fixedIDs: fixedIDs, singles: singles, room: 256)
            output += (0..<made).map { Mbuf(superFrames[$0]!) } + (0..<alone).map { Mbuf(singles[$0]!) }
        }
        for (round, burst) in bursts.enumerated() {
            for index in burst {
                let packet = inputs[index]
                let layout = try frames[index].withUnsafeBytes { try PacketLayout.parse($0, tunnels: TunnelPortTable.defaults) }
                let released = coalescer.offer(packet, layout: layout, now: UInt64(round), slots: slots)
                for item in 0..<released.count { output.append(released[item]) }
            }
            if !holdAcross { flush() }
        }
        if holdAcross { flush() }
        XCTAssertEqual(coalescer.count, 0)
        return try groups(output, inputs: inputs, frames: frames, engine: "Swift", vxlan: vxlan)
    }

    // MARK: comparing

    /// Consecutive pairs (a, b) of chains: "b was merged right behind a".
    static func edges(_ groups: Groups) -> Set<[Int]> {
        var result: Set<[Int]> = []
        for group in groups where group.count > 1 {
            for position in 1..<group.count { result.insert([group[position - 1], group[position]]) }
        }
        return result
    }

    /// Why librte_gro may chain b behind a where Swift does not: the first listed rule that applies.
    static func librteOnly(_ a: Int, _ b: Int, _ segments: [Segment], _ groups: Groups) -> Rule? {
        let x = segments[a], y = segments[b]
        if x.badTCPChecksum || y.badTCPChecksum { return .checksum }
        if x.ttl != y.ttl || x.tos != y.tos || x.outerTTL != y.outerTTL { return .ttlOrTOS }
        if x.window != y.window { return .window }
        if x.dontFragment, y.dontFragment, y.innerID != x.innerID &+ 1 || y.outerID != x.outerID &+ 1 { return .ipIDWithDF }
        let first = groups.first { $0.contains(a) }.map { segments[$0[0]].payload } ?? x.payload
        if x.payload < first || y.payload > first { return .segmentSize }
        if b < a { return .outOfOrder }
        // A segment of the same flow arrived in between, and it did not continue a's chain.
        if ((a + 1)..<b).contains(where: { segments[$0].flow == x.flow }) { return .heldAcrossGap }
        return nil
    }

    /// Why Swift may chain b behind a where librte_gro does not.
    static func swiftOnly(_ a: Int, _ b: Int, _ segments: [Segment]) -> Rule? {
        let flags = segments[b].flags
        if flags.contains(.psh) || flags.contains(.fin) { return .pushMerged }
        return nil
    }

    /// Runs the three engines on `segments` and checks: librte_gro's two modes agree with each
    /// other; Swift's merges are librte_gro's but for differences each explained by a rule;
    /// the rules met are exactly `expected`. Returns Swift's and librte_gro's groups.
    @discardableResult
    private func compare(
        _ name: String, _ segments: [Segment], vxlan: Bool, burst: Int = 32, expected: Set<Rule>,
        file: StaticString = #filePath, line: UInt = #line
    ) throws -> (swift: Groups, librte: Groups) {
        let label = "\(vxlan ? "VXLAN-TCP/IPv4" : "TCP/IPv4") \(name)"
        let frames = segments.map { Self.frame($0, vxlan: vxlan) }
        let bursts = stride(from: 0, to: frames.count, by: burst).map { $0..<min($0 + burst, frames.count) }
        let light = try lightweight(frames, bursts: bursts, vxlan: vxlan)
        let heavy = try heavyweight(frames, bursts: [0..<frames.count], vxlan: vxlan)
        let ours = try swift(frames, bursts: bursts, vxlan: vxlan)
        // One burst: librte_gro's two modes make the same merges.
        if bursts.count == 1 {
            XCTAssertEqual(Set(light), Set(heavy), "\(label): lightweight and heavyweight agree", file: file, line: line)
        }
        let librteEdges = Self.edges(light), swiftEdges = Self.edges(ours)
        var met: Set<Rule> = []
        for edge in librteEdges.subtracting(swiftEdges).sorted(by: { $0.lexicographicallyPrecedes($1) }) {
            if let rule = Self.librteOnly(edge[0], edge[1], segments, light) {
                met.insert(rule)
            } else {
                XCTFail("\(label): librte_gro merged \(edge[1]) behind \(edge[0]), Swift did not, and no listed rule says why "
                    + "(librte_gro \(light), Swift \(ours))", file: file, line: line)
            }
        }
        for edge in swiftEdges.subtracting(librteEdges).sorted(by: { $0.lexicographicallyPrecedes($1) }) {
            if let rule = Self.swiftOnly(edge[0], edge[1], segments) {
                met.insert(rule)
            } else {
                XCTFail("\(label): Swift merged \(edge[1]) behind \(edge[0]), librte_gro did not, and no listed rule says why "
                    + "(librte_gro \(light), Swift \(ours))", file: file, line: line)
            }
        }
        XCTAssertEqual(met, expected, "\(label): the differences are the expected rules (librte_gro \(light), Swift \(ours))",
                       file: file, line: line)
        return (ours, light)
    }

    // MARK: scenarios

    func testInOrderOneFlowSameMerges() throws {
        for vxlan in [false, true] {
            let (ours, librte) = try compare("in order", Self.stream(count: 24), vxlan: vxlan, expected: [])
            XCTAssertEqual(ours, [Array(0..<24)])
            XCTAssertEqual(librte, [Array(0..<24)])
        }
    }

    func testSizeCapSameMerges() throws {
        // 1,448-byte payloads, 80 segments in bursts of 64: both stop a frame before its
        // outermost IPv4 packet would pass 65,535 bytes (45 segments, plain or VXLAN).
        for vxlan in [false, true] {
            let (ours, _) = try compare("size cap", Self.stream(count: 80, payload: 1448), vxlan: vxlan, burst: 64, expected: [])
            XCTAssertEqual(ours.map(\.count), [45, 19, 16])
        }
    }

    func testInterleavedFlowsSameMerges() throws {
        for vxlan in [false, true] {
            let flows = (0..<4).map { Self.stream(flow: $0, count: 8) }
            let segments = (0..<8).flatMap { index in flows.map { $0[index] } }
            let (ours, _) = try compare("4 interleaved flows", segments, vxlan: vxlan, expected: [])
            XCTAssertEqual(Set(ours), Set((0..<4).map { flow in (0..<8).map { $0 * 4 + flow } }))
        }
    }

    func testLossGapSameMerges() throws {
        for vxlan in [false, true] {
            var segments = Self.stream(count: 12)
            segments.remove(at: 5)  // lost
            let (ours, _) = try compare("a lost segment", segments, vxlan: vxlan, expected: [])
            XCTAssertEqual(Set(ours), [Array(0..<5), Array(5..<11)])
        }
    }

    func testReorderDiffersByRules() throws {
        for vxlan in [false, true] {
            // 0 1 2 4 3 5 6 7: librte_gro holds 4 and still appends 3 to 0-2; Swift ends at the gap.
            let s = Self.stream(count: 8)
            try compare("reordered", [s[0], s[1], s[2], s[4], s[3], s[5], s[6], s[7]], vxlan: vxlan, expected: [.heldAcrossGap])
            // 1 0 2 3: librte_gro prepends 0.
            try compare("prepended", [s[1], s[0], s[2], s[3]], vxlan: vxlan, expected: [.outOfOrder, .heldAcrossGap])
            // A retransmission of 2 after 0-5: both send it alone.
            try compare("retransmitted", Array(s[0..<6]) + [s[2]], vxlan: vxlan, expected: [])
        }
    }

    func testPushDiffersByRule() throws {
        for vxlan in [false, true] {
            var segments = Self.stream(count: 8)
            segments[7].flags = [.ack, .psh]
            let (ours, librte) = try compare("PSH last", segments, vxlan: vxlan, expected: [.pushMerged])
            XCTAssertEqual(ours, [Array(0..<8)], "Swift ends the frame with the PSH segment")
            XCTAssertEqual(Set(librte), [Array(0..<7), [7]], "librte_gro passes the PSH segment alone")
            var middle = Self.stream(count: 8)
            middle[3].flags = [.ack, .psh]
            try compare("PSH in the middle", middle, vxlan: vxlan, expected: [.pushMerged])
            var fin = Self.stream(count: 4)
            fin[3].flags = [.ack, .fin]
            try compare("FIN last", fin, vxlan: vxlan, expected: [.pushMerged])
            // SYN, RST, URG, ECE, CWR: neither merges (Swift flushes the flow first).
            for flag in [TCPFlags.syn, .rst, .urg, .ece, .cwr] {
                var flagged = Self.stream(count: 6)
                flagged[3].flags = [.ack, flag]
                let (ours, _) = try compare("flag \(flag.rawValue)", flagged, vxlan: vxlan, expected: [])
                XCTAssertEqual(Set(ours), [Array(0..<3), [3], Array(4..<6)])
            }
        }
    }

    func testTTLAndTOSDifferByRule() throws {
        for vxlan in [false, true] {
            var ttl = Self.stream(count: 10)
            for index in 5..<10 { ttl[index].ttl = 63 }
            let (ours, librte) = try compare("inner TTL change", ttl, vxlan: vxlan, expected: [.ttlOrTOS])
            XCTAssertEqual(Set(ours), [Array(0..<5), Array(5..<10)])
            XCTAssertEqual(librte, [Array(0..<10)], "librte_gro merges across the TTL change")
            var tos = Self.stream(count: 10)
            for index in 4..<10 { tos[index].tos = 0x10 }
            try compare("inner TOS change", tos, vxlan: vxlan, expected: [.ttlOrTOS])
            if vxlan {
                var outer = Self.stream(count: 10)
                for index in 6..<10 { outer[index].outerTTL = 60 }
                try compare("outer TTL change", outer, vxlan: true, expected: [.ttlOrTOS])
            }
        }
    }

    func testRandomIPIDs() throws {
        var random = SplitMix(state: 0x5EED)
        for vxlan in [false, true] {
            for dontFragment in [true, false] {
                var segments = Self.stream(count: 16)
                for index in segments.indices {
                    segments[index].innerID = UInt16.random(in: 0...UInt16.max, using: &random)
                    segments[index].outerID = UInt16.random(in: 0...UInt16.max, using: &random)
                    segments[index].dontFragment = dontFragment
                }
                // With DF librte_gro ignores the IDs and merges everything; without DF both want +1.
                let (_, librte) = try compare("random IDs, DF \(dontFragment)", segments, vxlan: vxlan,
                                              expected: dontFragment ? [.ipIDWithDF] : [])
                if dontFragment { XCTAssertEqual(librte, [Array(0..<16)]) }
            }
            // Incrementing IDs without DF: the same merges.
            var plain = Self.stream(count: 10)
            for index in plain.indices { plain[index].dontFragment = false }
            try compare("incrementing IDs, no DF", plain, vxlan: vxlan, expected: [])
        }
    }

    func testBadChecksumDiffersByRule() throws {
        for vxlan in [false, true] {
            var segments = Self.stream(count: 10)
            segments[4].badTCPChecksum = true
            let (ours, librte) = try compare("bad TCP checksum", segments, vxlan: vxlan, expected: [.checksum])
            XCTAssertEqual(Set(ours), [Array(0..<4), [4], Array(5..<10)], "Swift passes the bad segment alone")
            XCTAssertEqual(librte, [Array(0..<10)], "librte_gro merges it")
        }
    }

    func testWindowAndSizeDifferByRules() throws {
        for vxlan in [false, true] {
            var window = Self.stream(count: 10)
            for index in 5..<10 { window[index].window = 501 }
            try compare("window change", window, vxlan: vxlan, expected: [.window])
            // A short segment in the middle: Swift ends the frame with it, librte_gro goes on.
            var short = Self.stream(count: 10)
            short[3].payload = 400
            for index in 4..<10 { short[index].sequence = short[3].sequence &+ 400 &+ UInt32((index - 4) * 1000) }
            let (ours, _) = try compare("short segment", short, vxlan: vxlan, expected: [.segmentSize])
            XCTAssertEqual(Set(ours), [Array(0..<4), Array(4..<10)])
        }
    }

    func testHeldAcrossBurstsAgainstHeavyweight() throws {
        // Three bursts of one flow's in-order segments: the heavyweight context and Swift
        // flushed only at the end make the same single frame.
        for vxlan in [false, true] {
            let segments = Self.stream(count: 40)
            let frames = segments.map { Self.frame($0, vxlan: vxlan) }
            let bursts = [0..<16, 16..<32, 32..<40]
            let heavy = try heavyweight(frames, bursts: bursts, vxlan: vxlan)
            let ours = try swift(frames, bursts: bursts, vxlan: vxlan, holdAcross: true)
            XCTAssertEqual(ours, [Array(0..<40)])
            XCTAssertEqual(heavy, ours)
            // Flushed per burst (lightweight), both cut at the burst boundaries.
            let light = try lightweight(frames, bursts: bursts, vxlan: vxlan)
            let perBurst = try swift(frames, bursts: bursts, vxlan: vxlan)
            XCTAssertEqual(light, perBurst)
            XCTAssertEqual(perBurst, bursts.map { Array($0) })
        }
    }
}
