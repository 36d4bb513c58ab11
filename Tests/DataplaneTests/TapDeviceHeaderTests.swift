@testable import Dataplane
import FrameSupport
@testable import VnetTap
import DPDK
import Foundation
import TestSupport
import Wire
import XCTest

/// The tap port's header <-> metadata mapping on crafted frames: what receiving makes of
/// each header (through the same reserve, checks and metadata code as a read), every
/// rejection reason, and what transmitting refuses or the kernel refuses (EINVAL).
final class TapDeviceHeaderTests: XCTestCase {
    private var topology: TapTopology!
    private var pool: Mempool!
    private var devices: [TapDevice] = []

    override func setUpWithError() throws {
        try TestEAL.start()
        pool = try Mempool.createPacketPool(name: TestEAL.uniqueName("tap_hdr_"), count: 2047)
        topology = try TapTopology()
    }

    override func tearDown() {
        for device in devices { device.close() }
        devices.removeAll()
        topology?.down()
        if let pool {
            XCTAssertTrue(pool.isFull, "\(pool.availableCount) of \(pool.size) mbufs back")
            pool.free()
        }
    }

    private func device(_ offloads: String = "tso,uso,tunnel,tunnel-csum", side: String = "a") throws -> TapDevice {
        let ns = side == "a" ? topology.namespaceA : topology.namespaceB
        let device = try TapDevice(options: TapOptions(parsing: "name=vtap0,netns=\(ns),offloads=\(offloads)"), pool: pool)
        devices.append(device)
        return device
    }

    private func receive(_ device: TapDevice, _ bytes: [UInt8]) -> Result<Mbuf, TapRxDropReason> {
        bytes.withUnsafeBytes { device.receive(bytes: $0) }
    }

    private func receive(_ device: TapDevice, _ built: TapFrames.Built) -> Result<Mbuf, TapRxDropReason> {
        receive(device, built.readBytes)
    }

    // MARK: receive

    func testTunnelSuperFrameBecomesTunnelTSOMetadataAndBackTheSameHeader() throws {
        let tap = try device()
        for (outerIPv6, outerChecksum) in [(false, true), (false, false), (true, true), (true, false)] {
            let built = TapFrames.vxlanTCP(outerIPv6: outerIPv6, outerChecksum: outerChecksum)
            guard case .success(let packet) = receive(tap, built) else { return XCTFail("dropped: \(receive(tap, built))") }
            defer { packet.free() }
            XCTAssertEqual(Int(packet.packetLength), built.frame.count)
            XCTAssertGreaterThan(packet.segmentCount, 20, "a 60 KB frame in a chain of 2 KB mbufs")
            var expected: MbufFlags = [.txTCPSegmentation, .txIPv4, .txIPChecksum, .txTunnelVXLAN, .rxLRO, .rxL4ChecksumBad, .rxL4ChecksumGood]
            expected.formUnion(outerIPv6 ? .txOuterIPv6 : [.txOuterIPv4, .txOuterIPChecksum])
            if outerChecksum { expected.insert(.txOuterUDPChecksum) }
            XCTAssertEqual(packet.offloadFlags, expected)
            XCTAssertEqual(packet.txOffload, TxOffloadLengths(
                l2: 30, l3: 20, l4: 32, tsoSegmentSize: 1398, outerL2: 14, outerL3: outerIPv6 ? 40 : 20))
            // Partial checksums in DPDK's TSO form: pseudo-header sums without the length.
            let bytes = Frames.bytes(of: packet)
            let outerTH = built.outerTransport, l4 = built.l4
            let innerIP = Array(bytes[(outerTH + 30)..<(outerTH + 50)])
            XCTAssertEqual(TapFrames.be16(Int(TapFrames.pseudo(innerIP, proto: 6, length: 0))), Array(bytes[(l4 + 16)..<(l4 + 18)]))
            let outerIP = Array(bytes[14..<outerTH])
            XCTAssertEqual(
                Array(bytes[(outerTH + 6)..<(outerTH + 8)]),
                outerChecksum ? TapFrames.be16(Int(TapFrames.pseudo(outerIP, proto: 17, length: 0))) : [0, 0])
            // Every other byte as read.
            var masked = bytes, original = built.frame
            for offset in [l4 + 16, l4 + 17, outerTH + 6, outerTH + 7] { masked[offset] = 0; original[offset] = 0 }
            XCTAssertEqual(masked, original)

            // Transmit's header for this metadata is the kernel's header, and the frame is the
            // kernel's frame again.
            XCTAssertNil(tap.prepareHeader(packet))
            let header = try VirtioNetHeader.decode(UnsafeRawBufferPointer(start: tap.txHeader, count: 24), format: .tunnel)
            XCTAssertEqual(header, built.header)
            XCTAssertEqual(Frames.bytes(of: packet), built.frame)
        }
        XCTAssertEqual(tap.statistics().rxTunnelSuperFrames, 4)
    }

    func testPlainSuperFramesAndChecksumRequests() throws {
        let tap = try device()
        // TSO without a tunnel.
        let tso = TapFrames.tcp(payload: 30_000, gso: true)
        guard case .success(let a) = receive(tap, tso) else { return XCTFail("\(receive(tap, tso))") }
        XCTAssertEqual(a.offloadFlags, [.txTCPSegmentation, .txIPv4, .txIPChecksum, .rxLRO, .rxL4ChecksumBad, .rxL4ChecksumGood])
        XCTAssertEqual(a.txOffload, TxOffloadLengths(l2: 14, l3: 20, l4: 32, tsoSegmentSize: 1448))
        XCTAssertNil(tap.prepareHeader(a))
        XCTAssertEqual(try VirtioNetHeader.decode(UnsafeRawBufferPointer(start: tap.txHeader, count: 24), format: .tunnel), tso.header)
        XCTAssertEqual(Frames.bytes(of: a), tso.frame)
        a.free()
        // USO.
        let uso = TapFrames.udp(payload: 8000, gsoSize: 1400)
        guard case .success(let b) = receive(tap, uso) else { return XCTFail("\(receive(tap, uso))") }
        XCTAssertEqual(b.offloadFlags, [.txUDPSegmentation, .txIPv4, .txIPChecksum, .rxLRO, .rxL4ChecksumBad, .rxL4ChecksumGood])
        XCTAssertEqual(b.txOffload, TxOffloadLengths(l2: 14, l3: 20, l4: 8, tsoSegmentSize: 1400))
        XCTAssertNil(tap.prepareHeader(b))
        XCTAssertEqual(try VirtioNetHeader.decode(UnsafeRawBufferPointer(start: tap.txHeader, count: 24), format: .tunnel), uso.header)
        XCTAssertEqual(Frames.bytes(of: b), uso.frame)
        b.free()
        // NEEDS_CSUM alone on a plain TCP frame: a TCP checksum request.
        var partial = TapFrames.tcp(payload: 100, gso: false)
        guard case .success(let c) = receive(tap, partial) else { return XCTFail() }
        XCTAssertEqual(c.offloadFlags, [.txTCPChecksum, .txIPv4, .rxL4ChecksumBad, .rxL4ChecksumGood])
        XCTAssertEqual(c.txOffload, TxOffloadLengths(l2: 14, l3: 20, l4: 32))
        XCTAssertEqual(Frames.bytes(of: c), partial.frame, "plain checksum offload keeps the length in the pseudo-header")
        XCTAssertNil(tap.prepareHeader(c))
        var sent = try VirtioNetHeader.decode(UnsafeRawBufferPointer(start: tap.txHeader, count: 24), format: .tunnel)
        partial.header.headerLength = 66
        XCTAssertEqual(sent, partial.header)
        c.free()
        // ... and on the inner TCP of a VXLAN frame: a tunnel checksum request.
        var vxlan = TapFrames.vxlanTCP(outerChecksum: false, payload: 1000)
        vxlan.header.gsoType = .none
        vxlan.header.gsoSize = 0
        vxlan.header.outerTransportOffset = 0
        vxlan.header.innerNetworkOffset = 0
        guard case .success(let d) = receive(tap, vxlan) else { return XCTFail("\(receive(tap, vxlan))") }
        XCTAssertEqual(d.offloadFlags, [.txTCPChecksum, .txIPv4, .txTunnelVXLAN, .txOuterIPv4, .rxL4ChecksumBad, .rxL4ChecksumGood])
        XCTAssertEqual(d.txOffload, TxOffloadLengths(l2: 30, l3: 20, l4: 32, outerL2: 14, outerL3: 20))
        XCTAssertNil(tap.prepareHeader(d))
        sent = try VirtioNetHeader.decode(UnsafeRawBufferPointer(start: tap.txHeader, count: 24), format: .tunnel)
        XCTAssertEqual(sent.checksumStart, 84)
        XCTAssertEqual(sent.flags, .needsChecksum)
        d.free()
        // A partial checksum no mbuf flag can ask for (ICMP) is completed here.
        let icmp = TapFrames.icmpPartial(payload: 56)
        guard case .success(let e) = receive(tap, icmp) else { return XCTFail() }
        XCTAssertEqual(e.offloadFlags, .rxL4ChecksumGood)
        let bytes = Frames.bytes(of: e)
        XCTAssertEqual(bytes.withUnsafeBytes { InternetChecksum.sum(UnsafeRawBufferPointer(rebasing: $0[34...])) }, 0xFFFF)
        e.free()
        // DATA_VALID, and nothing at all.
        var valid = TapFrames.tcp(payload: 100, gso: false)
        valid.header = VirtioNetHeader()
        guard case .success(let f) = receive(tap, valid) else { return XCTFail() }
        XCTAssertEqual(f.offloadFlags, [])
        f.free()
        valid.header.flags = .dataValid
        guard case .success(let g) = receive(tap, valid) else { return XCTFail() }
        XCTAssertEqual(g.offloadFlags, .rxL4ChecksumGood)
        XCTAssertNil(tap.prepareHeader(g))
        XCTAssertEqual(try VirtioNetHeader.decode(UnsafeRawBufferPointer(start: tap.txHeader, count: 24), format: .tunnel), VirtioNetHeader())
        g.free()
        let statistics = tap.statistics()
        XCTAssertEqual(statistics.rxPackets, 7)
        XCTAssertEqual(statistics.rxSuperFrames, 2)
        XCTAssertEqual(statistics.rxChecksumsCompleted, 1)
        XCTAssertEqual(statistics.rxDrops, [:])
    }

    /// Every reason a received frame is dropped, each counted once under its name.
    /// NEEDS_CSUM is protocol agnostic: past anything a parser knows (an unknown ethertype,
    /// an odd offset) the checksum is finished as skb_checksum_help finishes it; offsets that
    /// leave the frame or start inside the first 20 bytes are refused and counted.
    func testChecksumRequestsPastTheParserAreFinishedOrRefused() throws {
        let tap = try device()
        let body = (0..<200).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 3) }
        func request(start: Int, offset: Int, seed: UInt16) -> TapFrames.Built {
            var frame = TapFrames.ethernetHeader + [0x88, 0xB5] + body  // IEEE local experimental
            frame[start + offset] = UInt8(seed >> 8)
            frame[start + offset + 1] = UInt8(seed & 0xFF)
            var header = VirtioNetHeader()
            header.flags = .needsChecksum
            header.checksumStart = UInt16(start)
            header.checksumOffset = UInt16(offset)
            return TapFrames.Built(header: header, frame: frame)
        }
        for (start, offset, seed) in [(22, 4, UInt16(0x1234)), (20, 0, 0), (33, 9, 0xFFFF), (150, 62, 7)] {
            let built = request(start: start, offset: offset, seed: seed)
            guard case .success(let packet) = receive(tap, built) else { return XCTFail("start \(start) offset \(offset)") }
            XCTAssertEqual(packet.offloadFlags, .rxL4ChecksumGood)
            let bytes = Frames.bytes(of: packet)
            packet.free()
            // skb_checksum_help: the complement of the region's sum, seed in the field, written
            // at csum_start + csum_offset (even or odd distance alike); 0 goes out as 0xFFFF.
            let sum = built.frame.withUnsafeBytes { InternetChecksum.sum(UnsafeRawBufferPointer(rebasing: $0[start...])) }
            let expected = ~sum == 0 ? 0xFFFF : ~sum
            XCTAssertEqual(UInt16(bytes[start + offset]) << 8 | UInt16(bytes[start + offset + 1]), expected, "start \(start) offset \(offset)")
            if offset % 2 == 0 {
                let region = bytes.withUnsafeBytes { InternetChecksum.sum(UnsafeRawBufferPointer(rebasing: $0[start...])) }
                XCTAssertEqual(InternetChecksum.add(region, seed), 0xFFFF, "start \(start) offset \(offset)")
            }
            var others = bytes
            others[start + offset] = built.frame[start + offset]
            others[start + offset + 1] = built.frame[start + offset + 1]
            XCTAssertEqual(others, built.frame, "only the checksum field changes")
        }
        let refusals: [(Int, Int, TapRxDropReason)] = [
            (200, 20, .header(.checksumPastFrame)), (214, 0, .header(.checksumPastFrame)), (0, 12, .header(.checksumStartBeforeTransport)),
            (19, 2, .header(.checksumStartBeforeTransport)), (30, 65_000, .header(.checksumPastFrame)),
        ]
        for (start, offset, reason) in refusals {
            var built = request(start: 22, offset: 0, seed: 0)
            built.header.checksumStart = UInt16(start)
            built.header.checksumOffset = UInt16(offset)
            switch receive(tap, built) {
            case .success(let packet):
                packet.free()
                XCTFail("start \(start) offset \(offset) accepted")
            case .failure(let refused): XCTAssertEqual(refused, reason, "start \(start) offset \(offset)")
            }
        }
        XCTAssertEqual(tap.statistics().rxDrops.values.reduce(0, +), UInt64(refusals.count))
        // The same drops by their schema names (what xstats and telemetry list), and as the
        // basic statistics' rx errors (`show port stats`).
        let statistics = tap.statistics()
        let named = Dictionary(statistics.entries, uniquingKeysWith: { first, _ in first })
        XCTAssertEqual(named["rx_dropped"], UInt64(refusals.count))
        let byReason = TapStatistics.schema.filter { $0.kind == .dropReason && $0.descriptor.side == .rx }.map { named[$0.name] ?? 0 }
        XCTAssertEqual(byReason.reduce(0, +), UInt64(refusals.count))
        for reason in Set(refusals.map(\.2)) {
            XCTAssertEqual(named["rx_dropped_" + CounterDescriptor.snakeCase(reason.description)], statistics.rxDrops[reason], "\(reason)")
        }
        XCTAssertEqual(statistics.basic.rxErrors, UInt64(refusals.count))
        XCTAssertEqual(statistics.basic.rxPackets, named["rx_good_packets"])
    }

    func testEveryRejectionIsCountedByReason() throws {
        let full = try device()
        typealias Case = (TapRxDropReason, TapDevice?, [UInt8])
        func mutated(_ built: TapFrames.Built = TapFrames.vxlanTCP(payload: 8000), _ change: (inout VirtioNetHeader) -> Void) -> [UInt8] {
            var b = built
            change(&b.header)
            return b.readBytes
        }
        var cases: [Case] = [
            (.frameTooShort, full, Array(TapFrames.tcp(payload: 10, gso: false).readBytes.prefix(24 + 10))),
            (.frameTooLong, full, TapFrames.vxlanTCP(payload: 72_000).readBytes),
            (.header(.unknownGSOType), full, mutated { $0.gsoType = .init(rawValue: 0x02) }),
            (.header(.gsoSizeZero), full, mutated { $0.gsoSize = 0 }),
            (.header(.gsoSizeReserved), full, mutated { $0.gsoSize = 0xFFFF }),
            (.header(.checksumPastFrame), full, mutated { $0.checksumStart = 9000 }),
            (.header(.checksumStartBeforeTransport), full, mutated(TapFrames.tcp(payload: 4000, gso: true)) { $0.checksumStart = 10 }),
            (.header(.checksumOffsetMismatch), full, mutated { $0.checksumOffset = 6 }),
            (.header(.udpSegmentationWithoutChecksum), full, mutated(TapFrames.udp(payload: 4000, gsoSize: 1400)) { $0.flags = [] }),
            (.header(.tooManyUDPSegments), full, TapFrames.udp(payload: 4000, gsoSize: 8).readBytes),
            (.header(.tunnelBothIPVersions), full, mutated { $0.gsoType = .init(rawValue: 0x61) }),
            (.header(.tunnelWithoutInnerGSO), full, mutated { $0.gsoType = .init(rawValue: 0x23) }),
            (.header(.tunnelWithoutNeedsChecksum), full, mutated { $0.flags = [] }),
            (.header(.outerTransportOffsetTooSmall), full, mutated { $0.outerTransportOffset = 30 }),
            (.header(.innerNetworkOffsetTooSmall), full, mutated { $0.innerNetworkOffset = 36 }),
            (.header(.innerTransportOffsetTooSmall), full, mutated { $0.checksumStart = 70 }),
            (.header(.dataValidWithTunnelGSO), full, mutated { $0.flags = [.needsChecksum, .dataValid] }),
            // Headers Linux accepts whose offsets are not this frame's.
            (.layoutMismatch, full, mutated { $0.innerNetworkOffset = 50 }),
            (.layoutMismatch, full, mutated { $0.outerTransportOffset = 40 }),
            (.layoutMismatch, full, mutated(TapFrames.vxlanTCP(outerIPv6: true, payload: 8000)) {
                $0.gsoType = .tunnel(.tcpv4, outerIPv6: false)  // an IPv6 outer header called IPv4
            }),
            (.layoutMismatch, full, mutated {
                $0.gsoType = .tunnel(.tcpv6, outerIPv6: false)  // inner TCPv6 on an IPv4 inner packet
                $0.checksumStart = 104
            }),
            (.layoutMismatch, full, mutated {
                $0.gsoType = .tunnel(.udpL4, outerIPv6: false)  // USO on a TCP segment
                $0.checksumOffset = 6
            }),
            (.layoutMismatch, full, mutated(TapFrames.tcp(payload: 4000, gso: true)) { $0.checksumStart = 38 }),
            (.headersTooLong, full, TapFrames.geneveWithLongOptions().readBytes),
        ]
        // A frame whose headers do not parse (inner IPv4 version 5).
        var broken = TapFrames.vxlanTCP(payload: 8000)
        broken.frame[broken.outerTransport + 30] = 0x55
        cases.append((.frameUnparsable, full, broken.readBytes))
        // Padding after the IP packet of a super-frame.
        var padded = TapFrames.tcp(payload: 4000, gso: true)
        padded.frame += [0, 0, 0, 0]
        cases.append((.layoutMismatch, full, padded.readBytes))
        var results = cases.map { (expected, device, bytes) in (expected, receive(device!, bytes)) }
        // Offloads the tap did not grant.
        full.close()
        let noTunnel = try device("tso")
        cases.append((.header(.tunnelNotNegotiated), noTunnel, []))
        results.append((.header(.tunnelNotNegotiated), receive(noTunnel, TapFrames.vxlanTCP(payload: 8000).readBytes)))
        noTunnel.close()
        let noTunnelChecksum = try device("tso,tunnel")
        let last = receive(noTunnelChecksum, TapFrames.vxlanTCP(payload: 8000).readBytes)
        for (index, (expected, result)) in (results + [(.header(.tunnelChecksumNotNegotiated), last)]).enumerated() {
            switch result {
            case .success(let packet):
                packet.free()
                XCTFail("case \(index) (\(expected)) accepted")
            case .failure(let reason):
                XCTAssertEqual(reason, expected, "case \(index)")
            }
        }
        var counted: [TapRxDropReason: UInt64] = [:]
        for device in devices {
            for (reason, count) in device.statistics().rxDrops { counted[reason, default: 0] += count }
        }
        var wanted: [TapRxDropReason: UInt64] = [:]
        for (reason, _, _) in cases { wanted[reason, default: 0] += 1 }
        wanted[.header(.tunnelChecksumNotNegotiated)] = 1
        XCTAssertEqual(counted, wanted)
        // Every reason but the unreachable one (a 24-byte header always decodes) was exercised.
        XCTAssertEqual(Set(TapRxDropReason.allCases).subtracting(wanted.keys), [.header(.truncated), .header(.formatCannotCarryTunnel), .header(.draftFrameUnparsable)])
    }

    // MARK: transmit

    func testTransmitRefusesMetadataItCannotExpressAndCountsKernelEINVAL() throws {
        let tsoOnly = try device("tso")
        let built = TapFrames.vxlanTCP(payload: 8000)
        func packet(on tap: TapDevice, _ b: TapFrames.Built = built) throws -> Mbuf {
            guard case .success(let p) = receive(tap, b) else { throw XCTSkip("receive failed") }
            return p
        }
        let burst = UnsafeMutablePointer<OpaquePointer?>.allocate(capacity: 8)
        defer { burst.deallocate() }
        // Tunnel TSO on a tap that was not granted it. (Read on a full tap, written on tso-only.)
        let full = try device(side: "b")
        burst[0] = try packet(on: full).pointer
        // GRE tunnel TSO: no virtio-net header carries it.
        let gre = try packet(on: full)
        gre.offloadFlags = gre.offloadFlags.subtracting(.txTunnelMask).union(.txTunnelGRE)
        burst[1] = gre.pointer
        // TSO without IPV4/IPV6.
        let noIP = try packet(on: full, TapFrames.tcp(payload: 4000, gso: true))
        noIP.offloadFlags = noIP.offloadFlags.subtracting([.txIPv4, .txIPChecksum])
        burst[2] = noIP.pointer
        // Lengths that put the inner IP header past the headers.
        let badLengths = try packet(on: full, TapFrames.tcp(payload: 4000, gso: true))
        var lengths = badLengths.txOffload
        lengths = TxOffloadLengths(l2: 100, l3: lengths.l3, l4: lengths.l4, tsoSegmentSize: lengths.tsoSegmentSize)
        badLengths.txOffload = lengths
        burst[3] = badLengths.pointer
        // A plain TSO frame the tso-only tap does take.
        burst[4] = try packet(on: full, TapFrames.tcp(payload: 4000, gso: true)).pointer
        XCTAssertEqual(tsoOnly.transmit(burst, count: 5), 5)
        var statistics = tsoOnly.statistics()
        XCTAssertEqual(statistics.txDrops, [.offloadNotGranted: 1, .unsupportedMetadata: 2, .badLengths: 1])
        XCTAssertEqual(statistics.txPackets, 1)
        XCTAssertEqual(statistics.txSuperFrames, 1)
        XCTAssertEqual(statistics.txErrors, [:])

        // Headers the kernel itself refuses: EINVAL, counted by errno, packet freed.
        var wrong = built.header
        wrong.outerTransportOffset = 20  // < 14 + 20
        XCTAssertTrue(full.transmit(try packet(on: full), header: wrong))
        wrong = built.header
        wrong.innerNetworkOffset = wrong.outerTransportOffset + 4
        XCTAssertTrue(full.transmit(try packet(on: full), header: wrong))
        wrong = built.header
        wrong.checksumOffset = 6  // TCP GSO with a UDP checksum offset
        XCTAssertTrue(full.transmit(try packet(on: full), header: wrong))
        wrong = built.header
        wrong.flags = .udpTunnelChecksum  // tunnel GSO without NEEDS_CSUM
        XCTAssertTrue(full.transmit(try packet(on: full), header: wrong))
        // The right header goes through.
        XCTAssertTrue(full.transmit(try packet(on: full), header: built.header))
        statistics = full.statistics()
        XCTAssertEqual(statistics.txErrors, [EINVAL: 4])
        XCTAssertEqual(statistics.txPackets, 1)
        XCTAssertEqual(statistics.txTunnelSuperFrames, 1)
        // TUNSETOFFLOAD governs what the kernel hands us, not what it takes: seen here (6.18),
        // a tap without tunnel offloads still accepts a tunnel GSO header on write. Either
        // outcome is counted exactly once.
        XCTAssertTrue(tsoOnly.transmit(try packet(on: full), header: built.header))
        statistics = tsoOnly.statistics()
        XCTAssertEqual(statistics.txPackets + statistics.txErrorCount, 2)
        print("tunnel GSO header written to a tap without TUN_F_UDP_TUNNEL_GSO: \(statistics.txErrors.isEmpty ? "accepted" : "refused \(statistics.txErrors)")")
    }
}
