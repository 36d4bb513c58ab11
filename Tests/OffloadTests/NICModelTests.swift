import DPDK
import Foundation
import NICModelSupport
import Offload
import TestSupport
import Wire
import XCTest

/// The planner's plans carried out: port-segmented and port-checksummed ones by the NIC model
/// (which sees only the metadata), Swift-cut ones by the Segmenter (segments with metadata then
/// through the model too), for every tunnel kind, IPv4/IPv6 outer, on every capability preset;
/// all frames judged by tshark (checksums) and the scapy oracle. The model's refusals.
final class NICModelTests: XCTestCase {
    override func setUpWithError() throws { _ = try Fixture.pools() }
    override func tearDownWithError() throws { try Fixture.assertPoolsFull() }

    func port(_ model: NICModel) -> (Mbuf) throws -> [[UInt8]] {
        { packet in try model.transmit(packet) }
    }

    /// Every tunnel kind (VXLAN, VXLAN-GPE, Geneve with options, GRE, NVGRE, IPIP, SIT,
    /// 6in6, 4in6, FOU, GUE, STT, plain TCP/UDP) x IPv4/IPv6 outer on one preset: the plan
    /// kind the preset gets, and valid frames.
    func runMatrix(_ preset: NICPreset, file: StaticString = #filePath, line: UInt = #line) throws {
        var run = try PlanRun()
        defer { run.finish() }
        let planner = TxPlannerTests.planner(preset, zero: true)
        let model = NICModel(preset)
        var kinds = Set<TxPlanKind>()
        for (index, spec) in TxPlannerTests.matrix().enumerated() {
            let plan = try run.add(spec, planner: planner, chunk: index % 3 == 1 ? 1999 : nil, port: port(model),
                                   label: preset.rawValue, file: file, line: line)
            let (kind, reason) = TxPlannerTests.expectation(preset, spec)
            XCTAssertEqual(plan.kind, kind, "\(preset) \(spec): \(plan.summary)", file: file, line: line)
            XCTAssertEqual(plan.reason, reason, "\(preset) \(spec): \(plan.summary)", file: file, line: line)
            kinds.insert(plan.kind)
        }
        XCTAssertTrue(kinds.contains(.hardware), "\(preset): some plan is hardware", file: file, line: line)
        try run.check(label: "nic-\(preset.rawValue)", file: file, line: line)
    }

    func testMLX5() throws { try runMatrix(.mlx5) }
    func testICE() throws { try runMatrix(.ice) }
    func testI40EX710() throws { try runMatrix(.i40eX710) }
    func testI40EX722() throws { try runMatrix(.i40eX722) }
    func testIXGBE() throws { try runMatrix(.ixgbe) }
    func testVirtio() throws { try runMatrix(.virtio) }
    func testTap() throws { try runMatrix(.tap) }

    /// IPv4 outer UDP checksums that must be right (zero not allowed): OUTER_UDP_CKSUM per
    /// segment on ice and X722, Swift's on mlx5 and X710 (Swift cuts); GRE without checksum
    /// and Geneve with long options (software) on ice; a packet asking for its own segment
    /// size; an MTU of 9000.
    func testOuterUDPChecksumsAndOddCases() throws {
        var run = try PlanRun()
        defer { run.finish() }
        let cases: [(NICPreset, TunnelKind, TxPlanKind, TxPlanReason)] = [
            (.ice, .vxlan, .hardware, .none), (.i40eX722, .geneve, .hardware, .none),
            (.mlx5, .vxlan, .partial, .outerUDPChecksum), (.i40eX710, .geneve, .partial, .outerUDPChecksum),
            (.mlx5, .fou, .partial, .outerUDPChecksum), (.ice, .vxlanGPE, .hardware, .none),
        ]
        for (index, (preset, tunnel, kind, reason)) in cases.enumerated() {
            var spec = SuperFrameSpec(tunnel: tunnel)
            spec.seed = UInt32(400 + index)
            spec.payloadLength = 17_000 + index * 3
            let plan = try run.add(spec, planner: TxPlannerTests.planner(preset), chunk: index % 2 == 1 ? 1999 : nil,
                                   port: port(NICModel(preset)), label: "\(preset) udpcsum")
            XCTAssertEqual(plan.kind, kind, "\(preset) \(spec): \(plan.summary)")
            XCTAssertEqual(plan.reason, reason, "\(preset) \(spec): \(plan.summary)")
            XCTAssertFalse(plan.outerUDPZero)
        }
        var gre = SuperFrameSpec(tunnel: .gre, outerV6: true, innerV6: true)
        gre.seed = 450
        gre.payloadLength = 12_345
        let grePlan = try run.add(gre, frame: PlannerFrames.greWithoutChecksum(gre), planner: TxPlannerTests.planner(.ice),
                                  port: port(NICModel(.ice)), label: "ice gre without csum")
        XCTAssertEqual(grePlan.kind, .hardware)
        var geneve = SuperFrameSpec(tunnel: .geneve, outerV6: true, innerV6: true)
        geneve.seed = 451
        let options = PlannerFrames.geneveOption(dataWords: 24)
        let genevePlan = try run.add(geneve, frame: PlannerFrames.geneve(geneve, options: options),
                                     planner: TxPlannerTests.planner(.ice), geneveOptions: options,
                                     port: port(NICModel(.ice)), label: "ice geneve long options")
        XCTAssertEqual(genevePlan.kind, .software)
        XCTAssertEqual(genevePlan.reason, .lengthsOverflow)
        var asked = SuperFrameSpec(tunnel: .nvgre)
        asked.seed = 452
        let askedPlan = try run.add(asked, planner: TxPlannerTests.planner(.mlx5), segmentSize: 777,
                                    port: port(NICModel(.mlx5)), label: "mlx5 segsz 777")
        XCTAssertEqual(askedPlan.segmentSize, 777)
        var jumbo = NICPreset.ice.capabilities
        jumbo.mtu = 9000
        var big = SuperFrameSpec(tunnel: .vxlan, outerV6: true)
        big.seed = 453
        big.payloadLength = 60_000
        let jumboPlan = try run.add(big, planner: TxPlannerTests.planner(jumbo, tunnelTSO: 9000),
                                    port: port(NICModel(capabilities: jumbo)), label: "ice mtu 9000")
        // 9000 - 40 - 30 - 20 - 32
        XCTAssertEqual(jumboPlan.segmentSize, 8878)
        // The oracle's frame size check uses the case's MTU: the run's planner MTU is 9000 here.
        try run.check(label: "nic-udpcsum")
    }

    /// One-frame plans (no segmentation) with checksums split between the port and Swift,
    /// STT with its outer checksums on the port, and small frames of every kind.
    func testOneFramePlans() throws {
        var run = try PlanRun()
        defer { run.finish() }
        let cases: [(NICPreset, SuperFrameSpec, HardwareChecksums)] = [
            (.ice, SuperFrameSpec(tunnel: .vxlan), .all),
            (.ice, SuperFrameSpec(tunnel: .geneve, outerV6: true, innerV6: true, udp: true), .all),
            (.virtio, SuperFrameSpec(tunnel: .vxlan, innerV6: true), .all),
            (.ixgbe, SuperFrameSpec(tunnel: .gre, outerV6: true), .all),
            (.mlx5, SuperFrameSpec(tunnel: .stt), [.ip, .tcp]),
            (.mlx5, SuperFrameSpec(tunnel: .stt, outerV6: true, innerV6: true), .all),
            (.i40eX710, SuperFrameSpec(tunnel: .fou, udp: true), [.ip, .outerIP]),
            (.mlx5, SuperFrameSpec(tunnel: .gue, outerV6: true), [.udp, .tcp, .outerUDP]),
            (.i40eX722, SuperFrameSpec(tunnel: .vxlan, outerV6: true, udp: true), [.udp, .outerUDP]),
            (.tap, SuperFrameSpec(tunnel: .none, udp: true), .all),
            (.mlx5, SuperFrameSpec(tunnel: .ipInIP, outerV6: true), .all),
        ]
        var kinds = Set<TxPlanKind>()
        for (index, (preset, spec, hw)) in cases.enumerated() {
            var s = spec
            s.seed = UInt32(500 + index)
            s.payloadLength = 1001 + index * 7
            let plan = try run.add(s, planner: TxPlannerTests.planner(preset, hw: hw), chunk: index % 2 == 0 ? 301 : nil,
                                   port: port(NICModel(preset)), label: "\(preset) one frame")
            XCTAssertEqual(plan.cut, .none, "\(preset) \(s): \(plan.summary)")
            kinds.insert(plan.kind)
        }
        XCTAssertEqual(kinds, [.hardware, .partial])
        try run.check(label: "nic-one-frame")
    }

    /// The NIC model's frames for a port-segmented plan equal the Segmenter's for the same
    /// super-frame with every checksum in software: two independent implementations of one cut.
    func testModelAndSegmenterAgreeByteForByte() throws {
        var segmenter = try makeSegmenter()
        defer { segmenter.deallocate() }
        let output = UnsafeMutablePointer<OpaquePointer?>.allocate(capacity: 512)
        defer { output.deallocate() }
        let specs: [(NICPreset, SuperFrameSpec)] = [
            (.ice, SuperFrameSpec(tunnel: .vxlan)), (.ice, SuperFrameSpec(tunnel: .geneve, outerV6: true, innerV6: true)),
            (.mlx5, SuperFrameSpec(tunnel: .ipInIP, innerV6: true)), (.mlx5, SuperFrameSpec(tunnel: .gue)),
            (.ixgbe, SuperFrameSpec(tunnel: .none, innerV6: true)), (.virtio, SuperFrameSpec(tunnel: .stt, outerV6: true)),
        ]
        for (preset, spec) in specs {
            let frame = spec.build()
            let layout = try Fixture.layout(frame)
            let planner = TxPlannerTests.planner(preset, zero: true)
            let hardwarePacket = try Fixture.mbuf(frame)
            let plan = planner.plan(hardwarePacket, layout: layout)
            XCTAssertEqual(plan.kind, .hardware, "\(preset) \(spec): \(plan.summary)")
            XCTAssertTrue(TxPlanner.apply(plan, to: hardwarePacket, layout: layout))
            let fromModel = try NICModel(preset).transmit(hardwarePacket)
            hardwarePacket.free()
            let softwarePacket = try Fixture.mbuf(frame)
            let result = segmenter.segment(
                softwarePacket, layout: layout,
                options: SegmentationOptions(segmentSize: plan.segmentSize, mtu: 1500, outerUDPChecksumZero: true, ipv4ID: .increment),
                into: output, capacity: 512)
            let fromSegmenter = Fixture.frames(output, count: result.count)
            XCTAssertEqual(fromModel.count, fromSegmenter.count, "\(preset) \(spec)")
            for (index, (a, b)) in zip(fromModel, fromSegmenter).enumerated() where a != b {
                let first = zip(a, b).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(a.count, b.count)
                XCTFail("\(preset) \(spec): frame \(index) differs at byte \(first) (\(a.count) vs \(b.count) bytes)")
                break
            }
        }
    }

    // MARK: refusals

    func testModelRefusesWhatANICWouldReject() throws {
        var spec = SuperFrameSpec(tunnel: .vxlan)
        spec.payloadLength = 5000
        let frame = spec.build()
        let layout = try Fixture.layout(frame)
        let good = try XCTUnwrap({ () throws -> TxPlan in
            let packet = try Fixture.mbuf(frame)
            defer { packet.free() }
            return TxPlannerTests.planner(.ice).plan(packet, layout: layout)
        }())
        XCTAssertEqual(good.kind, .hardware)
        let ice = NICModel(.ice)
        func expect(
            _ error: NICModelError, model: NICModel? = nil, flags: MbufFlags? = nil, lengths: TxOffloadLengths? = nil,
            bytes: [UInt8]? = nil, segments: Int = 1, line: UInt = #line
        ) {
            do {
                _ = try (model ?? ice).transmit(frame: bytes ?? frame, flags: flags ?? good.flags, lengths: lengths ?? good.lengths,
                                                mbufSegments: segments)
                XCTFail("accepted; expected \(error)", line: line)
            } catch let refusal {
                if case .headerMismatch = error, case .headerMismatch = refusal { return }
                XCTAssertEqual(refusal, error, "\(refusal)", line: line)
            }
        }
        let l = good.lengths
        func lengths(l2: Int? = nil, l3: Int? = nil, l4: Int? = nil, tso: Int? = nil, outerL2: Int? = nil, outerL3: Int? = nil) -> TxOffloadLengths {
            TxOffloadLengths(l2: l2 ?? l.l2, l3: l3 ?? l.l3, l4: l4 ?? l.l4, tsoSegmentSize: tso ?? l.tsoSegmentSize,
                             outerL2: outerL2 ?? l.outerL2, outerL3: outerL3 ?? l.outerL3)
        }
        // rte_validate_tx_offload.
        expect(.tsoWithoutIPChecksum, flags: good.flags.subtracting(.txIPChecksum))
        expect(.zeroSegmentSize, lengths: lengths(tso: 0))
        expect(.ipChecksumOnIPv6, flags: good.flags.subtracting(.txIPv4).union(.txIPv6))
        expect(.missingIPType, flags: good.flags.subtracting([.txIPv4, .txIPChecksum]))
        expect(.outerIPChecksumWithoutOuterIPv4, flags: good.flags.subtracting(.txOuterIPv4).union(.txOuterIPv6))
        // What a NIC needs besides.
        expect(.missingOuterLengths, lengths: lengths(outerL2: 0, outerL3: 0))
        expect(.missingOuterIPType, flags: good.flags.subtracting([.txOuterIPv4, .txOuterIPChecksum]))
        expect(.outerOffloadWithoutTunnelType, flags: good.flags.subtracting(.txTunnelMask))
        expect(.outerUDPChecksumWithoutUDPTunnel, flags: good.flags.subtracting(.txTunnelMask).union(.txTunnelGRE))
        expect(.bothSegmentations, flags: good.flags.union(.txUDPSegmentation))
        expect(.missingLengths, lengths: lengths(l4: 0))
        expect(.lengthsBeyondPacket, bytes: Array(frame[0..<60]))
        expect(.headerMismatch("inner IP header where l2_len says"), lengths: lengths(l2: 32))
        expect(.headerMismatch("TCP data offset vs l4_len 20"), lengths: lengths(l4: 20))
        expect(.frameExceedsMTU(1514 + 48), lengths: lengths(tso: l.tsoSegmentSize + 48))
        // Offloads the port lacks.
        expect(.unsupported("OUTER_UDP_CKSUM"), model: NICModel(.mlx5))
        expect(.unsupported("OUTER_UDP_CKSUM"), model: NICModel(.i40eX710))
        expect(.unsupported("OUTER_IPV4_CKSUM"), model: NICModel(.ixgbe))
        expect(.unsupported("tunnel type 14"), flags: good.flags.subtracting(.txTunnelMask).union(.txTunnelUDP))
        expect(.unsupported("MULTI_SEGS"), model: NICModel(capabilities: TxCapabilities(driverName: "net_foo", advertised: NICPreset.ice.capabilities.offloads.subtracting(.multiSegments))), segments: 3)
        expect(.tooManySegments(300), segments: 300)
        expect(.segmentSizeOutOfRange(50), lengths: lengths(tso: 50))
        // TCP/IPv6 TSO on tap (TCP/IPv4 only).
        let plain6 = SuperFrameSpec(tunnel: .none, innerV6: true).build()
        do {
            _ = try NICModel(.tap).transmit(frame: plain6, flags: [.txTCPSegmentation, .txIPv6],
                                            lengths: TxOffloadLengths(l2: 14, l3: 40, l4: 32, tsoSegmentSize: 1400))
            XCTFail("tap segmented TCP/IPv6")
        } catch {
            XCTAssertEqual(error, .unsupported("TSO of IPv6 (TCP/IPv4 only)"))
        }
        // The good metadata is accepted.
        XCTAssertEqual(try ice.transmit(frame: frame, flags: good.flags, lengths: good.lengths).count, good.segmentCount)
    }
}
