import DPDK
import Foundation
import NICModelSupport
import Offload
import TestSupport
import Wire
import XCTest

/// The tx offload planner: the quirk table, the metadata of every hardware plan (flags and
/// rte_mbuf_core.h lengths, pseudo-header sums written by `apply`), the tso_segsz bound, each
/// plan kind and each downgrade reason; Swift-cut and one-frame plans checked by the oracles.
/// Port-segmented plans are carried out by the NIC model in NICModelTests.
final class TxPlannerTests: XCTestCase {
    override func setUpWithError() throws { _ = try Fixture.pools() }
    override func tearDownWithError() throws { try Fixture.assertPoolsFull() }

    static func planner(
        _ capabilities: TxCapabilities, tso: Int = 1448, tunnelTSO: Int = 1448, gso: Bool = true,
        hw: HardwareChecksums = .all, zero: Bool = false
    ) -> TxPlanner {
        TxPlanner(
            capabilities: capabilities,
            settings: TxPlannerSettings(
                tsoSegmentSize: tso, tunnelTSOSegmentSize: tunnelTSO, softwareGSO: gso, hardwareChecksums: hw,
                outerUDPZero: zero))
    }

    static func planner(_ preset: NICPreset, tso: Int = 1448, tunnelTSO: Int = 1448, gso: Bool = true,
                        hw: HardwareChecksums = .all, zero: Bool = false) -> TxPlanner {
        planner(preset.capabilities, tso: tso, tunnelTSO: tunnelTSO, gso: gso, hw: hw, zero: zero)
    }

    /// Plans a frame held in an mbuf (freed before returning).
    func plan(_ planner: TxPlanner, _ frame: [UInt8], chunk: Int? = nil, segmentSize: Int = 0) throws -> (TxPlan, PacketLayout) {
        let layout = try Fixture.layout(frame)
        let packet = try Fixture.mbuf(frame, chunk: chunk, headerBytes: layout.payloadOffset)
        defer { packet.free() }
        return (planner.plan(packet, layout: layout, segmentSize: segmentSize), layout)
    }

    // MARK: capabilities

    func testQuirkTableCorrectsWhatDriversAdvertise() {
        let withOuterUDP: TxOffloads = [.tcpTSO, .vxlanTunnelTSO, .outerIPv4Checksum, .outerUDPChecksum, .ipv4Checksum]
        // i40e: an X710 (0x1572) advertising OUTER_UDP_CKSUM is not believed; an X722 is; an
        // unknown device keeps the driver's word.
        let x710 = TxCapabilities(driverName: "net_i40e", advertised: withOuterUDP, pciDeviceID: 0x1572)
        XCTAssertFalse(x710.features.contains(.outerUDPChecksum))
        XCTAssertEqual(x710.distrusted, .outerUDPChecksum)
        XCTAssertTrue(x710.quirks.contains(.i40eOuterUDPChecksumX722Only))
        XCTAssertTrue(x710.quirkNotes.first?.contains("i40e_ethdev.c") ?? false, "\(x710.quirkNotes)")
        let x722 = TxCapabilities(driverName: "net_i40e", advertised: withOuterUDP, pciDeviceID: 0x37D0)
        XCTAssertTrue(x722.features.contains(.outerUDPChecksum))
        XCTAssertTrue(x722.quirks.isEmpty)
        XCTAssertTrue(TxCapabilities(driverName: "net_i40e", advertised: withOuterUDP).features.contains(.outerUDPChecksum))
        // mlx5 never has it.
        let mlx5 = TxCapabilities(driverName: "mlx5_pci", advertised: withOuterUDP)
        XCTAssertEqual(mlx5.driver, .mlx5)
        XCTAssertFalse(mlx5.features.contains(.outerUDPChecksum))
        // ixgbe: TSO only.
        let ixgbe = TxCapabilities(driverName: "net_ixgbe", advertised: withOuterUDP)
        XCTAssertEqual(ixgbe.offloads, [.tcpTSO, .outerIPv4Checksum, .ipv4Checksum])
        // virtio: TSO fills the IPv4 checksums of its segments; no tunnel or UDP segmentation.
        let virtio = NICPreset.virtio.capabilities
        XCTAssertTrue(virtio.features.contains(.tsoFillsIPv4Checksum))
        XCTAssertFalse(virtio.features.contains(.ipv4Checksum))
        let virtioNoTSO = TxCapabilities(driverName: "net_virtio", advertised: [.tcpChecksum, .udpChecksum])
        XCTAssertFalse(virtioNoTSO.features.contains(.tsoFillsIPv4Checksum), "no TSO from the host, nothing to fill")
        XCTAssertEqual(TxCapabilities(driverName: "net_virtio", advertised: [.udpTSO, .vxlanTunnelTSO, .tcpTSO]).offloads, .tcpTSO)
        // tap: TCP/IPv4 only; software ports: no segmentation at all.
        XCTAssertTrue(NICPreset.tap.capabilities.features.contains(.tsoIPv4TCPOnly))
        XCTAssertEqual(TxCapabilities(driverName: "net_ring", advertised: [.tcpTSO, .multiSegments]).offloads, .multiSegments)
        // ice parses VXLAN-GPE; unknown drivers are taken at their word.
        XCTAssertTrue(NICPreset.ice.capabilities.features.contains(.vxlanGPETunnelType))
        XCTAssertEqual(TxCapabilities(driverName: "net_foo", advertised: withOuterUDP).offloads, withOuterUDP)
        // nb_seg_max UINT16_MAX means no limit; a configuration can take offloads away.
        XCTAssertEqual(TxCapabilities(driverName: "net_foo", advertised: [], maxSegmentsPerPacket: 65535).maxSegmentsPerPacket, 0)
        let restricted = NICPreset.virtio.capabilities.restricted(to: [.tcpChecksum, .multiSegments])
        XCTAssertEqual(restricted.offloads, [.tcpChecksum, .multiSegments])
        XCTAssertTrue(restricted.features.contains(.tsoFillsIPv4Checksum), "behaviours stay")
        // Every quirk has a source, and the presets are what the drivers' dev_info_get advertise.
        for quirk in DriverQuirks.table { XCTAssertFalse(quirk.source.isEmpty) }
        XCTAssertEqual(Set(DriverQuirks.table.map(\.id)), Set(DriverQuirkID.allCases))
        XCTAssertFalse(NICPreset.i40eX710.capabilities.features.contains(.outerUDPChecksum))
        XCTAssertTrue(NICPreset.i40eX722.capabilities.features.contains(.outerUDPChecksum))
        XCTAssertTrue(NICPreset.ice.capabilities.features.contains(.outerUDPChecksum))
        XCTAssertEqual(NICPreset.ixgbe.capabilities.features.intersection(.anyTunnelTSO), [])
    }

    /// From a real port's dev_info (net_null: a vdev, no PCI device ID, no offloads).
    func testCapabilitiesFromDeviceInfo() throws {
        let name = TestEAL.uniqueName("net_null_planner")
        let port = try TestEAL.createPort(name)
        defer { TestEAL.removePort(name) }
        let capabilities = TxCapabilities(info: try port.info(), mtu: 1500)
        XCTAssertEqual(capabilities.driver, .null)
        XCTAssertEqual(capabilities.mtu, 1500)
        XCTAssertTrue(capabilities.features.isDisjoint(with: [.tcpTSO, .udpTSO, .anyTunnelTSO]))
        let plan = try plan(Self.planner(capabilities), SuperFrameSpec(tunnel: .vxlan).build()).0
        XCTAssertEqual(plan.cut, .swift)
        XCTAssertEqual(plan.kind, .software)
        XCTAssertEqual(DriverQuirks.pciDeviceID(deviceName: "net_null0"), nil)
    }

    // MARK: hardware metadata

    /// ice + VXLAN (IPv4 outer, IPv6 inner): tunnel TSO with every rte_mbuf_core.h length,
    /// OUTER_UDP_CKSUM, tso_segsz bounded by the MTU formula, pseudo-headers without length.
    func testVXLANTunnelTSOMetadata() throws {
        var spec = SuperFrameSpec(tunnel: .vxlan, outerV6: false, innerV6: true)
        spec.payloadLength = 30_000
        let frame = spec.build()
        let layout = try Fixture.layout(frame)
        let packet = try Fixture.mbuf(frame)
        defer { packet.free() }
        let planner = Self.planner(.ice)
        let plan = planner.plan(packet, layout: layout)
        XCTAssertEqual(plan.kind, .hardware)
        XCTAssertEqual(plan.reason, TxPlanReason.none)
        XCTAssertEqual(plan.cut, .port)
        XCTAssertEqual(plan.flags, [.txTCPSegmentation, .txIPv6, .txTunnelVXLAN, .txOuterIPv4, .txOuterIPChecksum, .txOuterUDPChecksum])
        // 14 | 20 | UDP 8 + VXLAN 8 + inner Ethernet 14 | 40 | TCP 20 + timestamps 12.
        let l = plan.lengths
        XCTAssertEqual([l.outerL2, l.outerL3, l.l2, l.l3, l.l4], [14, 20, 30, 40, 32])
        // tso_segsz <= 1500 - (14 - 14) - 20 - 30 - 40 - 32 = 1378 (the setting asked 1448).
        XCTAssertEqual(l.tsoSegmentSize, 1378)
        XCTAssertEqual(plan.segmentSize, 1378)
        XCTAssertEqual(plan.segmentCount, (30_000 + 1377) / 1378)
        XCTAssertEqual(plan.hardware, [.innerL4, .outerIPv4, .outerUDP])
        XCTAssertTrue(plan.software.isEmpty)
        XCTAssertTrue(plan.summary.hasPrefix("hardware (port segments, tso_segsz 1378"), plan.summary)

        XCTAssertTrue(TxPlanner.apply(plan, to: packet, layout: layout))
        XCTAssertEqual(packet.offloadFlags, plan.flags)
        XCTAssertEqual(packet.txOffload, plan.lengths)
        let h = packet.data
        let inner = spec.innerEndpoints, outer = spec.outerEndpoints
        XCTAssertEqual(read16(h, layout.innerL4Offset + 16), inner.pseudoHeaderSum(IPProtocol.tcp, length: 0), "TSO: pseudo-header without length")
        XCTAssertEqual(read16(h, layout.outerL4Offset + 6), outer.pseudoHeaderSum(IPProtocol.udp, length: 0), "outer UDP for the port")
        XCTAssertEqual(read16(h, layout.outerL3Offset + 10), 0, "outer IPv4 checksum left to the port")

        // With `csum set outer-udp zero` the IPv4 outer checksum is sent as 0 instead.
        let zeroPlan = Self.planner(.ice, zero: true).plan(packet, layout: layout)
        XCTAssertEqual(zeroPlan.kind, .hardware)
        XCTAssertTrue(zeroPlan.outerUDPZero)
        XCTAssertFalse(zeroPlan.flags.contains(.txOuterUDPChecksum))
        XCTAssertTrue(TxPlanner.apply(zeroPlan, to: packet, layout: layout))
        XCTAssertEqual(read16(h, layout.outerL4Offset + 6), 0)
    }

    /// Plain TCP (TSO), plain UDP (USO on a port that has it), STT (plain TSO of the outer
    /// TCP-like header), and the generic UDP/IP tunnel types for FOU, GUE, VXLAN-GPE, IPIP.
    func testFlagsAndLengthsPerKind() throws {
        let plainTCP = try plan(Self.planner(.mlx5), SuperFrameSpec(tunnel: .none).build()).0
        XCTAssertEqual(plainTCP.flags, [.txTCPSegmentation, .txIPv4, .txIPChecksum])
        XCTAssertEqual([plainTCP.lengths.outerL2, plainTCP.lengths.outerL3, plainTCP.lengths.l2, plainTCP.lengths.l3,
                        plainTCP.lengths.l4, plainTCP.lengths.tsoSegmentSize], [0, 0, 14, 20, 32, 1448])
        // A requested segment size (an LRO/virtio super-frame's) wins over the setting.
        XCTAssertEqual(try plan(Self.planner(.mlx5), SuperFrameSpec(tunnel: .none).build(), segmentSize: 1000).0.segmentSize, 1000)

        // `--gso-segsz` (whole frames) sizes what Swift cuts; the port's cut keeps tso_segsz.
        func gso(_ preset: NICPreset, tunnelTSO: Int) -> TxPlanner {
            TxPlanner(capabilities: preset.capabilities,
                      settings: TxPlannerSettings(tunnelTSOSegmentSize: tunnelTSO, softwareGSO: true, gsoFrameSize: 1000))
        }
        let vxlan = SuperFrameSpec(tunnel: .vxlan).build()  // headers 14 + 20 + 8 + 8 + 14 + 20 + 32 = 116
        let swift = try plan(gso(.ixgbe, tunnelTSO: 1448), vxlan).0
        XCTAssertEqual([swift.segmentSize, swift.segmentCount], [884, (40_000 + 883) / 884])
        XCTAssertEqual(swift.cut, .swift)
        XCTAssertEqual(swift.reason, .noSegmentationOffload)
        XCTAssertEqual(try plan(gso(.ice, tunnelTSO: 1448), vxlan).0.segmentSize, 1398)
        let tsoOff = try plan(gso(.ice, tunnelTSO: 0), vxlan).0
        XCTAssertEqual([tsoOff.segmentSize], [884])
        XCTAssertEqual(tsoOff.reason, .tsoOff)

        let uso = TxCapabilities(driverName: "net_uso", advertised: [.tcpTSO, .udpTSO, .ipv4Checksum, .udpChecksum, .tcpChecksum])
        let udp = try plan(Self.planner(uso), SuperFrameSpec(tunnel: .none, innerV6: true, udp: true).build()).0
        XCTAssertEqual(udp.kind, .hardware)
        XCTAssertEqual(udp.flags, [.txUDPSegmentation, .txIPv6])
        XCTAssertEqual([udp.lengths.l2, udp.lengths.l3, udp.lengths.l4, udp.lengths.tsoSegmentSize], [14, 40, 8, 1448])

        var stt = SuperFrameSpec(tunnel: .stt)
        stt.payloadLength = 20_000
        let sttFrame = stt.build()
        let (sttPlan, sttLayout) = try plan(Self.planner(.ice), sttFrame)
        XCTAssertEqual(sttPlan.kind, .hardware)
        XCTAssertEqual(sttPlan.flags, [.txTCPSegmentation, .txIPv4, .txIPChecksum], "no tunnel bits: STT is plain TCP to the port")
        XCTAssertEqual([sttPlan.lengths.outerL2, sttPlan.lengths.l2, sttPlan.lengths.l3, sttPlan.lengths.l4], [0, 14, 20, 20])
        XCTAssertEqual(sttPlan.segmentSize, 1448, "the setting, under the MTU's 1500 - 20 - 20")
        XCTAssertEqual(sttPlan.segmentCount, (sttFrame.count - sttLayout.tunnelOffset + 1447) / 1448)
        XCTAssertEqual(try plan(Self.planner(.ice, tunnelTSO: 9000), sttFrame).0.segmentSize, 1460)

        let tunnelTypes: [(NICPreset, TunnelKind, Bool, MbufFlags)] = [
            (.mlx5, .fou, false, .txTunnelUDP), (.mlx5, .gue, false, .txTunnelUDP), (.mlx5, .vxlanGPE, false, .txTunnelUDP),
            (.mlx5, .ipInIP, false, .txTunnelIP), (.mlx5, .vxlan, false, .txTunnelVXLAN), (.mlx5, .geneve, false, .txTunnelGENEVE),
            (.mlx5, .nvgre, true, .txTunnelGRE), (.ice, .vxlanGPE, true, .txTunnelVXLANGPE), (.ice, .ipInIP, true, .txTunnelIPIP),
        ]
        for (preset, tunnel, v6, type) in tunnelTypes {
            let spec = SuperFrameSpec(tunnel: tunnel, outerV6: v6, innerV6: v6)
            let p = try plan(Self.planner(preset, zero: true), spec.build()).0
            XCTAssertEqual(p.kind, .hardware, "\(preset) \(spec): \(p.summary)")
            XCTAssertEqual(p.flags.tunnelType, type, "\(preset) \(spec)")
            XCTAssertTrue(p.flags.contains(v6 ? .txOuterIPv6 : [.txOuterIPv4, .txOuterIPChecksum]), "\(preset) \(spec)")
        }
    }

    // MARK: every kind, every reason

    struct Expectation {
        var kind: TxPlanKind
        var reason: TxPlanReason
        var cut: TxCut
    }

    /// One case per plan kind and per downgrade reason.
    func testEveryKindAndDowngradeReason() throws {
        func check(_ name: String, _ p: TxPlan, _ want: Expectation, line: UInt = #line) {
            XCTAssertEqual(p.kind, want.kind, "\(name): \(p.summary)", line: line)
            XCTAssertEqual(p.reason, want.reason, "\(name): \(p.summary)", line: line)
            XCTAssertEqual(p.cut, want.cut, "\(name): \(p.summary)", line: line)
        }
        let vxlan4 = SuperFrameSpec(tunnel: .vxlan).build()
        let vxlan6 = SuperFrameSpec(tunnel: .vxlan, outerV6: true, innerV6: true).build()
        var small = SuperFrameSpec(tunnel: .vxlan)
        small.payloadLength = 1000

        check("hardware", try plan(Self.planner(.ice), vxlan4).0, Expectation(kind: .hardware, reason: .none, cut: .port))
        check("hardware, one frame", try plan(Self.planner(.ice), small.build()).0,
              Expectation(kind: .hardware, reason: .none, cut: .none))
        check("partial, one frame", try plan(Self.planner(.virtio), small.build()).0,
              Expectation(kind: .partial, reason: .none, cut: .none))
        check("software, one frame", try plan(Self.planner(.ice, hw: []), small.build()).0,
              Expectation(kind: .software, reason: .none, cut: .none))
        check("tso off", try plan(Self.planner(.ice, tunnelTSO: 0), vxlan4).0,
              Expectation(kind: .partial, reason: .tsoOff, cut: .swift))
        check("tso off, all sw", try plan(Self.planner(.ice, tunnelTSO: 0, hw: []), vxlan4).0,
              Expectation(kind: .software, reason: .tsoOff, cut: .swift))
        check("no segmentation offload", try plan(Self.planner(.ixgbe), vxlan4).0,
              Expectation(kind: .partial, reason: .noSegmentationOffload, cut: .swift))
        let noOuterIPv4 = TxCapabilities(driverName: "net_foo", advertised: [.tcpTSO, .vxlanTunnelTSO, .ipv4Checksum, .tcpChecksum, .outerUDPChecksum])
        check("no outer IPv4 checksum", try plan(Self.planner(noOuterIPv4), vxlan4).0,
              Expectation(kind: .partial, reason: .noChecksumOffload, cut: .swift))
        let noIPv4 = TxCapabilities(driverName: "net_foo", advertised: [.tcpTSO, .tcpChecksum])
        check("no inner IPv4 checksum", try plan(Self.planner(noIPv4), SuperFrameSpec(tunnel: .none).build()).0,
              Expectation(kind: .partial, reason: .noChecksumOffload, cut: .swift))
        check("outer UDP checksum (mlx5, IPv6)", try plan(Self.planner(.mlx5, zero: true), vxlan6).0,
              Expectation(kind: .partial, reason: .outerUDPChecksum, cut: .swift))
        check("outer UDP checksum (mlx5, IPv4, zero not allowed)", try plan(Self.planner(.mlx5), vxlan4).0,
              Expectation(kind: .partial, reason: .outerUDPChecksum, cut: .swift))
        check("GRE checksum", try plan(Self.planner(.ice), SuperFrameSpec(tunnel: .gre).build()).0,
              Expectation(kind: .partial, reason: .greChecksum, cut: .swift))
        check("GRE without checksum", try plan(Self.planner(.ice), PlannerFrames.greWithoutChecksum(SuperFrameSpec(tunnel: .gre))).0,
              Expectation(kind: .hardware, reason: .none, cut: .port))
        let longOptions = PlannerFrames.geneveOption(dataWords: 24)  // l2_len = 8 + 8 + 100 + 14 = 130 > 127
        check("lengths overflow", try plan(Self.planner(.ice), PlannerFrames.geneve(SuperFrameSpec(tunnel: .geneve), options: longOptions)).0,
              Expectation(kind: .software, reason: .lengthsOverflow, cut: .swift))
        check("tunnelled UDP", try plan(Self.planner(.ice), SuperFrameSpec(tunnel: .vxlan, udp: true).build()).0,
              Expectation(kind: .partial, reason: .tunnelledUDP, cut: .swift))
        var fewSegments = NICPreset.ice.capabilities
        fewSegments.maxSegmentsPerPacket = 8
        check("too many mbuf segments", try plan(Self.planner(fewSegments), vxlan4, chunk: 1999).0,
              Expectation(kind: .partial, reason: .tooManyMbufSegments, cut: .swift))
        check("chain within the limit", try plan(Self.planner(.ice), vxlan4, chunk: 1999).0,
              Expectation(kind: .hardware, reason: .none, cut: .port))
        check("segment size below i40e's minimum", try plan(Self.planner(.i40eX710), vxlan4, segmentSize: 200).0,
              Expectation(kind: .partial, reason: .segmentSizeOutOfRange, cut: .swift))
        var i40eJumbo = NICPreset.i40eX710.capabilities
        i40eJumbo.mtu = 9800
        let clamped = try plan(Self.planner(i40eJumbo, tso: 9800), SuperFrameSpec(tunnel: .none).build()).0
        XCTAssertEqual(clamped.kind, .hardware)
        XCTAssertEqual(clamped.segmentSize, 9674, "i40e's largest tso_segsz, under the MTU's 9800 - 20 - 32")
        check("gso off: oversize", try plan(Self.planner(.ixgbe, gso: false), vxlan4).0,
              Expectation(kind: .oversize, reason: .gsoOff, cut: .none))
        check("gso off but fits the MTU: one frame", try plan(Self.planner(.ixgbe, gso: false), small.build(), segmentSize: 500).0,
              Expectation(kind: .partial, reason: .noSegmentationOffload, cut: .none))
        check("not segmentable", try plan(Self.planner(.ice), PlannerFrames.icmp(length: 3000)).0,
              Expectation(kind: .oversize, reason: .notSegmentable, cut: .none))
        check("small ICMP", try plan(Self.planner(.ice), PlannerFrames.icmp(length: 300)).0,
              Expectation(kind: .hardware, reason: .none, cut: .none))
        var tiny = NICPreset.ice.capabilities
        tiny.mtu = 80
        check("MTU too small", try plan(Self.planner(tiny), vxlan4).0,
              Expectation(kind: .oversize, reason: .mtuTooSmall, cut: .none))

        let layout = try Fixture.layout(vxlan4)
        let fallback = Self.planner(.ice).softwarePlan(layout: layout, packetLength: vxlan4.count)
        check("tx_prepare rejected", fallback, Expectation(kind: .software, reason: .txPrepareRejected, cut: .swift))
        XCTAssertEqual(fallback.software, .all)
        XCTAssertTrue(fallback.flags.isEmpty)

        XCTAssertEqual(Set(TxPlanReason.allCases.map(\.name)).count, TxPlanReason.count, "distinct counter names")
        XCTAssertEqual(Set(TxPlanKind.allCases.map(\.name)).count, TxPlanKind.count)
    }

    /// The expected plan kind (and reason) for each preset and packet kind, with tso and
    /// tunnel_tso on, GSO on, every checksum `hw`, and IPv4 outer UDP checksums sent as 0.
    static func expectation(_ preset: NICPreset, _ spec: SuperFrameSpec) -> (TxPlanKind, TxPlanReason) {
        let hardware = (TxPlanKind.hardware, TxPlanReason.none)
        let noSegmentation = (TxPlanKind.partial, TxPlanReason.noSegmentationOffload)
        let outerUDP = (TxPlanKind.partial, TxPlanReason.outerUDPChecksum)
        let udpTunnel = [.vxlan, .vxlanGPE, .geneve, .fou, .gue].contains(spec.tunnel)
        switch spec.tunnel {
        case .none:
            if spec.udp { return noSegmentation }  // no preset has UDP_TSO
            return preset == .tap && spec.innerV6 ? noSegmentation : hardware
        case .stt:
            return preset == .tap && spec.outerV6 ? noSegmentation : hardware
        default: break
        }
        if spec.udp { return (.partial, .tunnelledUDP) }
        switch preset {
        case .ixgbe, .virtio, .tap:
            return noSegmentation
        case .mlx5:
            if spec.tunnel == .gre { return (.partial, .greChecksum) }
            return udpTunnel && spec.outerV6 ? outerUDP : hardware
        case .ice:
            if spec.tunnel == .gre { return (.partial, .greChecksum) }
            return [.fou, .gue].contains(spec.tunnel) ? noSegmentation : hardware
        case .i40eX710, .i40eX722:
            if spec.tunnel == .gre { return (.partial, .greChecksum) }
            if [.fou, .gue, .vxlanGPE].contains(spec.tunnel) { return noSegmentation }
            return udpTunnel && spec.outerV6 && preset == .i40eX710 ? outerUDP : hardware
        }
    }

    /// Every tunnel kind, IPv4 and IPv6 outer, on every preset.
    static func matrix(payload: Int = 20_000) -> [SuperFrameSpec] {
        var specs: [SuperFrameSpec] = []
        func add(_ spec: SuperFrameSpec) {
            var s = spec
            s.seed = UInt32(specs.count + 1)
            s.payloadLength = payload + specs.count * 37
            s.innerID = 0x1000 &+ UInt16(specs.count) &* 0x100
            specs.append(s)
        }
        for v6 in [false, true] {
            add(SuperFrameSpec(tunnel: .none, innerV6: v6))
            add(SuperFrameSpec(tunnel: .none, innerV6: v6, udp: true))
            add(SuperFrameSpec(tunnel: .stt, outerV6: v6, innerV6: v6))
            for tunnel in SuperFrameSpec.tunnels {
                add(SuperFrameSpec(tunnel: tunnel, outerV6: v6, innerV6: v6))
                if tunnel == .ipInIP { add(SuperFrameSpec(tunnel: tunnel, outerV6: v6, innerV6: !v6)) }  // SIT, 4in6
            }
        }
        add(SuperFrameSpec(tunnel: .vxlan, udp: true))
        return specs
    }

    func testDecisionTableForEveryPreset() throws {
        var seen = Set<String>()
        for preset in NICPreset.allCases {
            let planner = Self.planner(preset, zero: true)
            for spec in Self.matrix(payload: 5000) {
                let p = try plan(planner, spec.build()).0
                let (kind, reason) = Self.expectation(preset, spec)
                XCTAssertEqual(p.kind, kind, "\(preset) \(spec): \(p.summary)")
                XCTAssertEqual(p.reason, reason, "\(preset) \(spec): \(p.summary)")
                XCTAssertEqual(p.cut, kind == .hardware ? .port : .swift, "\(preset) \(spec)")
                seen.insert("\(p.kind.name)/\(p.reason.name)")
            }
        }
        XCTAssertTrue(seen.isSuperset(of: ["hardware/none", "partial/no-segmentation-offload", "partial/outer-udp-checksum",
                                           "partial/gre-checksum", "partial/tunnelled-udp"]), "\(seen)")
    }

    // MARK: plans carried out by Swift, judged by the oracles

    /// Swift-cut plans on ports that cannot segment tunnels (ixgbe, virtio, tap), that cannot
    /// fill the outer UDP checksum (mlx5 over IPv6), or with every checksum in software: the
    /// segments carry the port's part as metadata; the oracle checks the pseudo-headers and
    /// emulates the port.
    func testSwiftCutPlansThroughTheSegmenter() throws {
        // hw [] with tunnel_tso 0 and tso 0: nothing for the port at all.
        var run = try PlanRun()
        defer { run.finish() }
        let cases: [(NICPreset, SuperFrameSpec, HardwareChecksums, TxPlanKind)] = [
            (.ixgbe, SuperFrameSpec(tunnel: .vxlan), .all, .partial),
            (.ixgbe, SuperFrameSpec(tunnel: .geneve, outerV6: true, innerV6: true), .all, .partial),
            (.virtio, SuperFrameSpec(tunnel: .gue, innerV6: true), .all, .partial),
            (.virtio, SuperFrameSpec(tunnel: .nvgre, outerV6: true), .all, .partial),
            (.tap, SuperFrameSpec(tunnel: .none, innerV6: true), .all, .partial),
            (.mlx5, SuperFrameSpec(tunnel: .vxlan, outerV6: true, innerV6: true), .all, .partial),
            (.mlx5, SuperFrameSpec(tunnel: .fou, outerV6: true), .all, .partial),
            (.ice, SuperFrameSpec(tunnel: .gre), .all, .partial),
            (.ice, SuperFrameSpec(tunnel: .vxlan, udp: true), .all, .partial),
            (.i40eX710, SuperFrameSpec(tunnel: .vxlanGPE, outerV6: true), .all, .partial),
            (.ice, SuperFrameSpec(tunnel: .ipInIP), [], .software),
            (.mlx5, SuperFrameSpec(tunnel: .none, udp: true), [], .software),
        ]
        for (index, (preset, spec, hw, kind)) in cases.enumerated() {
            var s = spec
            s.seed = UInt32(100 + index)
            s.payloadLength = 15_000 + index * 111
            let tso = hw.isEmpty ? 0 : 1448
            let plan = try run.add(s, planner: Self.planner(preset, tso: tso, tunnelTSO: tso, hw: hw),
                                   chunk: index % 2 == 1 ? 1999 : nil, label: "\(preset)")
            XCTAssertEqual(plan.kind, kind, "\(preset) \(s): \(plan.summary)")
            XCTAssertEqual(plan.cut, .swift)
            if kind == .partial {
                XCTAssertFalse(plan.flags.isEmpty)
                // Ports that do not know the tunnel see its outer headers as L2.
                if [.ixgbe, .virtio].contains(preset) {
                    XCTAssertTrue(plan.flags.tunnelType.isEmpty)
                    XCTAssertEqual(plan.lengths.outerL2, 0)
                }
            }
        }
        // Geneve with options too long for l2_len: software checksums, Swift cut.
        var geneve = SuperFrameSpec(tunnel: .geneve)
        geneve.seed = 77
        let options = PlannerFrames.geneveOption(dataWords: 24)
        let plan = try run.add(geneve, frame: PlannerFrames.geneve(geneve, options: options), planner: Self.planner(.ice),
                               geneveOptions: options, label: "ice long options")
        XCTAssertEqual(plan.reason, .lengthsOverflow)
        try run.check(label: "planner-swift-cut")
    }

    /// One-frame plans (no cut) with checksums split between Swift and the port, and a
    /// hardware plan refused by tx_prepare planned again in software over the same mbuf.
    func testOneFramePlansAndSoftwareFallback() throws {
        var run = try PlanRun()
        defer { run.finish() }
        let cases: [(NICPreset, SuperFrameSpec, HardwareChecksums)] = [
            (.ice, SuperFrameSpec(tunnel: .vxlan), .all),
            (.ice, SuperFrameSpec(tunnel: .geneve, outerV6: true, innerV6: true, udp: true), .all),
            (.virtio, SuperFrameSpec(tunnel: .vxlan, innerV6: true), .all),
            (.ixgbe, SuperFrameSpec(tunnel: .gre, outerV6: true), .all),
            (.mlx5, SuperFrameSpec(tunnel: .stt, outerV6: true), []),  // STT with port checksums: NICModelTests
            (.i40eX710, SuperFrameSpec(tunnel: .fou, udp: true), [.ip, .outerIP]),
            (.mlx5, SuperFrameSpec(tunnel: .none, innerV6: true), []),
        ]
        for (index, (preset, spec, hw)) in cases.enumerated() {
            var s = spec
            s.seed = UInt32(200 + index)
            s.payloadLength = 1001 + index * 7
            let plan = try run.add(s, planner: Self.planner(preset, hw: hw), chunk: index % 2 == 0 ? 301 : nil, label: "\(preset)")
            XCTAssertEqual(plan.cut, .none, "\(preset) \(s): \(plan.summary)")
            XCTAssertEqual(plan.kind, hw.isEmpty ? .software : preset == .ice && index == 0 ? .hardware : plan.kind)
        }
        // The hardware plan is applied (pseudo-headers written, checksums zeroed), tx_prepare
        // "refuses" it, and the software plan over the same mbuf still gives right frames.
        var spec = SuperFrameSpec(tunnel: .vxlan, outerV6: true)
        spec.seed = 300
        let frame = spec.build()
        let layout = try Fixture.layout(frame)
        let packet = try Fixture.mbuf(frame)
        let planner = Self.planner(.ice)
        let hardware = planner.plan(packet, layout: layout)
        XCTAssertEqual(hardware.kind, .hardware)
        XCTAssertTrue(TxPlanner.apply(hardware, to: packet, layout: layout))
        let fallback = planner.softwarePlan(layout: layout, packetLength: Int(packet.packetLength))
        XCTAssertTrue(TxPlanner.apply(fallback, to: packet, layout: layout))
        XCTAssertTrue(packet.offloadFlags.isEmpty)
        let result = run.segmenter.segment(packet, layout: layout, options: fallback.segmentationOptions(mtu: 1500),
                                           into: run.output, capacity: 512)
        XCTAssertEqual(result.count, fallback.segmentCount)
        let produced = Fixture.frames(run.output, count: result.count)
        let payloadFile = run.directory.appendingPathComponent("fallback.bin")
        try Data(spec.payload()).write(to: payloadFile)
        var c = Oracle.Case(name: "fallback \(spec)", tunnel: "vxlan", transport: "tcp", mtu: 1500, payload: payloadFile.path)
        c.first = run.frames.count
        c.count = produced.count
        c.expected_count = fallback.segmentCount
        c.seq = SuperFrameSpec.tcpSequence
        c.flags = spec.tcpFlags.rawValue
        c.inner_id = spec.innerID
        c.outer_id = spec.outerID
        c.tsharkProtocols = MatrixRun.tsharkProtocols(spec, transport: "tcp")
        run.cases.append(c)
        run.frames += produced
        try run.check(label: "planner-one-frame")
    }
}

/// A big-endian 16-bit field of a packet.
func read16(_ h: UnsafeMutableRawPointer, _ offset: Int) -> UInt16 {
    UInt16(h.load(fromByteOffset: offset, as: UInt8.self)) << 8 | UInt16(h.load(fromByteOffset: offset + 1, as: UInt8.self))
}
