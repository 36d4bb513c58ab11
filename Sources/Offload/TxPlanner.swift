import CDPDK
import DPDK
import Wire

/// Chooses, per packet, who segments it and who fills which checksum on one egress port: the
/// port (TSO, USO, tunnel TSO, checksum offloads), Swift (Segmenter, PacketChecksums), or
/// both; and writes the mbuf metadata for the port's part.
///
/// Per packet (csum engine, egress port P, after parsing):
///
///     let plan = planner[P].plan(packet, layout: layout, segmentSize: receivedSegsz)
///     counters[plan.kind] += 1; counters[plan.reason] += 1
///     guard TxPlanner.apply(plan, to: packet, layout: layout) else { drop: headers-too-long }
///     switch plan.cut {
///     case .none, .port: output packet (then rte_eth_tx_prepare; on rejection
///                        plan = planner.softwarePlan(..., reason: .txPrepareRejected) and again)
///     case .swift: segmenter.segment(packet, layout, options: plan.segmentationOptions(mtu:), ...)
///                  then TxPlanner.applyToSegment(plan, each segment)
///     }
///     (kind .oversize: drop and count.)
///
/// A plain value (no references): each worker keeps a copy per port.
public struct TxPlanner: Hashable, Sendable {
    public let capabilities: TxCapabilities
    public let settings: TxPlannerSettings
    @usableFromInline let features: TxFeatures
    @usableFromInline let mtu: Int
    @usableFromInline let maxSegments: Int
    @usableFromInline let tsoSize: Int
    @usableFromInline let tunnelTSOSize: Int
    @usableFromInline let softwareGSO: Bool
    @usableFromInline let userHardware: HardwareChecksums
    @usableFromInline let zeroOuterUDP: Bool
    @usableFromInline let gsoFrameSize: Int
    @usableFromInline let tsoMinimum: Int
    @usableFromInline let tsoMaximum: Int

    public init(capabilities: TxCapabilities, settings: TxPlannerSettings) {
        self.capabilities = capabilities
        self.settings = settings
        features = capabilities.features
        mtu = capabilities.mtu
        maxSegments = capabilities.maxSegmentsPerPacket
        tsoSize = max(0, settings.tsoSegmentSize)
        tunnelTSOSize = max(0, settings.tunnelTSOSegmentSize)
        softwareGSO = settings.softwareGSO
        userHardware = settings.hardwareChecksums
        zeroOuterUDP = settings.outerUDPZero
        gsoFrameSize = max(0, settings.gsoFrameSize)
        tsoMinimum = capabilities.tsoSegmentSizes.lowerBound
        tsoMaximum = capabilities.tsoSegmentSizes.upperBound
    }

    // MARK: per packet

    /// The plan for `packet` (its length, chain length and GRE checksum bit are read from it).
    /// `segmentSize`: payload bytes per segment the packet asks for (e.g. an LRO/virtio
    /// super-frame's tso_segsz); 0 = the port's tso/tunnel_tso setting, or the MTU's limit.
    /// `datagramCut`: see `plan(layout:...)`; an engine passes `asksForDatagramCut(flags)`.
    public func plan(_ packet: Mbuf, layout: PacketLayout, segmentSize: Int = 0, datagramCut: Bool = true) -> TxPlan {
        plan(
            layout: layout, packetLength: Int(packet.packetLength), mbufSegments: Int(packet.segmentCount),
            greChecksum: Self.greChecksumPresent(packet, layout: layout), segmentSize: segmentSize,
            datagramCut: datagramCut)
    }

    /// Whether a UDP packet may be cut into several datagrams: only a USO super-frame (UDP_SEG,
    /// or received as one: LRO). Cutting a plain datagram would hand the receiver several
    /// datagrams where the sender sent one (testpmd's GSO fragments UDP at the IP layer instead).
    @inlinable
    public static func asksForDatagramCut(_ flags: MbufFlags) -> Bool {
        !flags.isDisjoint(with: [.txUDPSegmentation, .rxLRO])
    }

    /// The plan from the layout and the packet's length alone. `greChecksum`: the GRE header
    /// has its C bit (see `greChecksumPresent`). `datagramCut`: a UDP packet is a USO
    /// super-frame that may be cut (`asksForDatagramCut`); otherwise it leaves whole.
    @inlinable
    public func plan(
        layout: PacketLayout, packetLength: Int, mbufSegments: Int = 1, greChecksum: Bool = false,
        segmentSize: Int = 0, datagramCut: Bool = true
    ) -> TxPlan {
        let g = Geometry(layout, packetLength: packetLength, mtu: mtu)
        let zero = g.udpTunnel && g.outerV4 && (zeroOuterUDP || layout.flags.rawValue & 0x20 != 0)
        if !g.segmentable || (g.l4 == .udp && !datagramCut) {
            var plan = checksumPlan(g, layout, zero: zero, greChecksum: greChecksum, reason: .none)
            if !g.fitsMTU {
                plan.kind = .oversize
                plan.reason = .notSegmentable
            }
            return plan
        }
        let hardwareSetting = g.tunnelled || g.isSTT ? tunnelTSOSize : tsoSize
        // The port's cut: also within the driver's tso_segsz maximum (smaller is always allowed).
        let hardwareSize = min(g.bound(segmentSize > 0 ? segmentSize : hardwareSetting), tsoMaximum)
        if hardwareSize < 1 {
            var plan = checksumPlan(g, layout, zero: zero, greChecksum: greChecksum, reason: .mtuTooSmall)
            plan.kind = .oversize
            return plan
        }
        var reason = hardwareSetting > 0 ? TxPlanReason.none : .tsoOff
        if g.cutPayload > hardwareSize {
            let hardware = hardwarePlan(
                g, layout, size: hardwareSize, count: (g.cutPayload + hardwareSize - 1) / hardwareSize,
                hardwareSize: hardwareSetting, mbufSegments: mbufSegments, zero: zero, greChecksum: greChecksum)
            if hardware.reason == .none { return hardware }
            reason = hardware.reason
        }
        let size = softwareSize(g, segmentSize: segmentSize, hardwareSetting: hardwareSetting)
        if softwareGSO && g.cutPayload > size {
            return swiftCutPlan(g, layout, size: size, count: (g.cutPayload + size - 1) / size, zero: zero, reason: reason)
        }
        if g.cutPayload <= hardwareSize && g.cutPayload <= size { reason = .none }  // nothing to cut
        var plan = checksumPlan(g, layout, zero: zero, greChecksum: greChecksum, reason: reason)
        if !g.fitsMTU {
            plan.kind = .oversize
            plan.reason = .gsoOff
        }
        return plan
    }

    /// Payload per segment when Swift cuts: the packet's own; else the smaller of the two
    /// limits the user may have set, the tso/tunnel_tso size (what the port would have cut
    /// at: `tunnel_tso set 1410` on a port without tunnel TSO cuts at 1410) and the GSO frame
    /// size less the headers; else the MTU's limit.
    @inlinable
    func softwareSize(_ g: Geometry, segmentSize: Int, hardwareSetting: Int) -> Int {
        if segmentSize > 0 { return g.bound(segmentSize) }
        let setting = g.bound(hardwareSetting)
        guard gsoFrameSize > 0 else { return setting }
        return min(setting, g.bound(gsoFrameSize - g.headersLength))
    }

    /// Everything in Swift: after rte_eth_tx_prepare refused the hardware metadata (or when
    /// the engine wants no offload at all). Cut by Swift when the packet is larger than its
    /// segment size, whatever the GSO setting.
    @inlinable
    public func softwarePlan(
        layout: PacketLayout, packetLength: Int, segmentSize: Int = 0, reason: TxPlanReason = .txPrepareRejected,
        datagramCut: Bool = true
    ) -> TxPlan {
        let g = Geometry(layout, packetLength: packetLength, mtu: mtu)
        let zero = g.udpTunnel && g.outerV4 && (zeroOuterUDP || layout.flags.rawValue & 0x20 != 0)
        let size = softwareSize(g, segmentSize: segmentSize, hardwareSetting: g.tunnelled || g.isSTT ? tunnelTSOSize : tsoSize)
        let software = g.relevantChecksums(zero: zero)
        if g.segmentable && (g.l4 != .udp || datagramCut) && g.cutPayload > size && size >= 1 {
            return TxPlan(
                kind: .software, reason: reason, cut: .swift, segmentSize: size,
                segmentCount: (g.cutPayload + size - 1) / size, software: software, outerUDPZero: zero)
        }
        return TxPlan(kind: .software, reason: reason, cut: .none, software: software, outerUDPZero: zero)
    }

    /// One frame, every checksum in Swift, nothing cut: for engines that keep frames whole
    /// (io, mac) when the port cannot take the packet's offload request as it stands.
    @inlinable
    public func wholeFramePlan(layout: PacketLayout) -> TxPlan {
        let g = Geometry(layout, packetLength: 0, mtu: mtu)
        let zero = g.udpTunnel && g.outerV4 && (zeroOuterUDP || layout.flags.contains(.outerUDPChecksumZero))
        return TxPlan(kind: .software, reason: .none, cut: .none, software: g.relevantChecksums(zero: zero), outerUDPZero: zero)
    }

    /// The port segments: the offload bits for the kind, every per-segment checksum by the
    /// port, lengths that fit; else the first reason it cannot (plan.reason != .none).
    @inlinable
    func hardwarePlan(
        _ g: Geometry, _ layout: PacketLayout, size: Int, count: Int, hardwareSize: Int, mbufSegments: Int,
        zero: Bool, greChecksum: Bool
    ) -> TxPlan {
        let f = features
        guard hardwareSize > 0 else { return Self.refuse(.tsoOff) }
        guard size >= tsoMinimum else { return Self.refuse(.segmentSizeOutOfRange) }
        if mbufSegments > 1 {
            guard f.contains(.multiSegments), maxSegments == 0 || mbufSegments <= maxSegments else {
                return Self.refuse(.tooManyMbufSegments)
            }
        }
        var flags: MbufFlags
        if g.tunnelled {
            guard g.l4 == .tcp else { return Self.refuse(.tunnelledUDP) }
            let type = tunnelType(layout)
            guard !type.isEmpty else { return Self.refuse(.noSegmentationOffload) }
            flags = MbufFlags.txTCPSegmentation.union(type)
        } else if g.l4 == .tcp {
            guard f.contains(.tcpTSO), !f.contains(.tsoIPv4TCPOnly) || g.ipv4 else {
                return Self.refuse(.noSegmentationOffload)
            }
            flags = .txTCPSegmentation
        } else {
            guard f.contains(.udpTSO) else { return Self.refuse(.noSegmentationOffload) }
            flags = .txUDPSegmentation
        }
        var hardware = Checksums.innerL4
        if g.ipv4 {
            guard f.contains(.ipv4Checksum) || f.contains(.tsoFillsIPv4Checksum) else {
                return Self.refuse(.noChecksumOffload)
            }
            flags.formUnion([.txIPv4, .txIPChecksum])
            hardware.formUnion(Checksums.innerIPv4)
        } else {
            flags.formUnion(.txIPv6)
        }
        if greChecksum { return Self.refuse(.greChecksum) }
        var outerUDPZero = false
        if g.tunnelled {
            if g.outerV4 {
                guard f.contains(.outerIPv4Checksum) else { return Self.refuse(.noChecksumOffload) }
                flags.formUnion([.txOuterIPv4, .txOuterIPChecksum])
                hardware.formUnion(Checksums.outerIPv4)
            } else {
                flags.formUnion(.txOuterIPv6)
            }
            if g.udpTunnel {
                if zero {
                    outerUDPZero = true
                } else if f.contains(.outerUDPChecksum) {
                    flags.formUnion(.txOuterUDPChecksum)
                    hardware.formUnion(Checksums.outerUDP)
                } else {
                    return Self.refuse(.outerUDPChecksum)
                }
            }
        }
        guard TxOffloadLengths.fits(
            l2: g.l2, l3: g.l3Length, l4: g.l4Length, tsoSegmentSize: size, outerL2: g.outerL2, outerL3: g.outerL3)
        else { return Self.refuse(.lengthsOverflow) }
        return TxPlan(
            kind: .hardware, reason: .none, cut: .port, flags: flags,
            lengths: TxOffloadLengths(
                l2: g.l2, l3: g.l3Length, l4: g.l4Length, tsoSegmentSize: size, outerL2: g.outerL2, outerL3: g.outerL3),
            segmentSize: size, segmentCount: count, hardware: hardware, outerUDPZero: outerUDPZero)
    }

    @inlinable static func refuse(_ reason: TxPlanReason) -> TxPlan {
        TxPlan(kind: .software, reason: reason, cut: .none)
    }

    /// Swift cuts; the port fills the checksums the user placed on it where it can.
    @inlinable
    func swiftCutPlan(
        _ g: Geometry, _ layout: PacketLayout, size: Int, count: Int, zero: Bool, reason: TxPlanReason
    ) -> TxPlan {
        let split = checksumSplit(g, layout, zero: zero)
        return TxPlan(
            kind: split.hardware.isEmpty ? .software : .partial, reason: reason, cut: .swift, flags: split.flags,
            lengths: split.lengths, segmentSize: size, segmentCount: count, software: split.software,
            hardware: split.hardware, outerUDPZero: zero)
    }

    /// One frame: checksums split between the port (where the user placed them and the port
    /// can) and Swift.
    @inlinable
    func checksumPlan(
        _ g: Geometry, _ layout: PacketLayout, zero: Bool, greChecksum: Bool, reason: TxPlanReason
    ) -> TxPlan {
        let split = checksumSplit(g, layout, zero: zero)
        let swiftWork = !split.software.isEmpty || greChecksum || g.isSTT
        let kind: TxPlanKind = split.hardware.isEmpty ? .software : swiftWork ? .partial : .hardware
        return TxPlan(
            kind: kind, reason: reason == .none ? split.reason : reason, cut: .none, flags: split.flags,
            lengths: split.lengths, software: split.software, hardware: split.hardware, outerUDPZero: zero)
    }

    @usableFromInline
    struct Split {
        @usableFromInline var software: SoftwareChecksums
        @usableFromInline var hardware: SoftwareChecksums
        @usableFromInline var flags: MbufFlags
        @usableFromInline var lengths: TxOffloadLengths
        @usableFromInline var reason: TxPlanReason
        @inlinable init(software: SoftwareChecksums) {
            self.software = software
            hardware = Checksums.none
            flags = []
            lengths = TxOffloadLengths(rawValue: 0)
            reason = .none
        }
        /// Moves `checksum` from Swift to the port when allowed.
        @inlinable mutating func toPort(_ checksum: SoftwareChecksums, _ allowed: Bool) {
            if allowed && software.contains(checksum) {
                software.subtract(checksum)
                hardware.formUnion(checksum)
            }
        }
    }

    /// Checksum offloads without segmentation. Outer offloads need a tunnel type the port
    /// knows; without them the outer headers count as L2 (l2_len = outer L2 + outer L3 +
    /// l2_len), which every port understands.
    @inlinable
    func checksumSplit(_ g: Geometry, _ layout: PacketLayout, zero: Bool) -> Split {
        let f = features
        let user = userHardware
        var split = Split(software: g.relevantChecksums(zero: zero))
        split.toPort(Checksums.innerIPv4, user.contains(.ip) && f.contains(.ipv4Checksum))
        if g.l4 == .tcp { split.toPort(Checksums.innerL4, user.contains(.tcp) && f.contains(.tcpChecksum)) }
        if g.l4 == .udp { split.toPort(Checksums.innerL4, user.contains(.udp) && f.contains(.udpChecksum)) }
        // A tunnel that carries no IP keeps its outer checksums in Swift: the offload flags
        // would have to describe an inner L3 that is not there.
        let type = g.tunnelled && g.l3 != .none ? tunnelType(layout) : []
        if !type.isEmpty {
            split.toPort(Checksums.outerIPv4, user.contains(.outerIP) && f.contains(.outerIPv4Checksum))
            split.toPort(Checksums.outerUDP, user.contains(.outerUDP) && f.contains(.outerUDPChecksum))
        }
        if split.hardware.isEmpty { return split }
        var flags: MbufFlags = g.ipv4 ? .txIPv4 : .txIPv6
        if split.hardware.contains(Checksums.innerIPv4) { flags.formUnion(.txIPChecksum) }
        if split.hardware.contains(Checksums.innerL4) {
            flags.formUnion(g.l4 == .tcp ? .txTCPChecksum : .txUDPChecksum)
        }
        let outer = !split.hardware.isDisjoint(with: Checksums.outer)
        var l2 = g.l2, outerL2 = 0, outerL3 = 0
        if g.tunnelled && outer {
            flags.formUnion(g.outerV4 ? .txOuterIPv4 : .txOuterIPv6)
            if split.hardware.contains(Checksums.outerIPv4) { flags.formUnion(.txOuterIPChecksum) }
            if split.hardware.contains(Checksums.outerUDP) { flags.formUnion(.txOuterUDPChecksum) }
            flags.formUnion(type)
            outerL2 = g.outerL2
            outerL3 = g.outerL3
        } else if g.tunnelled {
            l2 = g.outerL2 + g.outerL3 + g.l2
        }
        guard TxOffloadLengths.fits(l2: l2, l3: g.l3Length, l4: g.l4Length, tsoSegmentSize: 0, outerL2: outerL2, outerL3: outerL3)
        else {
            split.software.formUnion(split.hardware)
            split.hardware = Checksums.none
            split.reason = .lengthsOverflow
            return split
        }
        split.flags = flags
        split.lengths = TxOffloadLengths(l2: l2, l3: g.l3Length, l4: g.l4Length, outerL2: outerL2, outerL3: outerL3)
        return split
    }

    /// The tunnel type bits for the layout's tunnel on this port: the specific type when the
    /// port has that kind's tunnel TSO, else the generic UDP/IP type when it has the generic
    /// capability, else none (the port cannot be told about this tunnel).
    @inlinable
    func tunnelType(_ layout: PacketLayout) -> MbufFlags {
        let f = features
        let udp = layout.outerL4 == .udp
        switch layout.tunnel {
        case .vxlan where f.contains(.vxlanTunnelTSO): return .txTunnelVXLAN
        case .vxlanGPE where f.contains(.vxlanTunnelTSO) && f.contains(.vxlanGPETunnelType): return .txTunnelVXLANGPE
        case .geneve where f.contains(.geneveTunnelTSO): return .txTunnelGENEVE
        case .gre, .nvgre:
            if f.contains(.greTunnelTSO) { return .txTunnelGRE }
        case .ipInIP where f.contains(.ipipTunnelTSO): return .txTunnelIPIP
        case .none, .stt: return []
        default: break
        }
        if udp { return f.contains(.udpTunnelTSO) ? .txTunnelUDP : [] }
        return f.contains(.ipTunnelTSO) ? .txTunnelIP : []
    }

    // MARK: writing the plan into mbufs

    /// Makes `packet` ready for the plan: for `cut == .none` the software checksums, for
    /// `.none`/`.port` the pseudo-header sums and zeroed IPv4 checksums the port starts from
    /// (without the length when the port segments), an outer UDP checksum of 0 when asked,
    /// STT's carried frame checksums (always Swift's), then ol_flags and the lengths. For
    /// `.swift` only STT's carried frame and clearing stale tx flags: the Segmenter does the
    /// rest. False (packet unchanged or partly prepared, drop it) when the headers are not in
    /// the first segment or disagree with the layout. No allocation.
    @discardableResult
    public static func apply(_ plan: TxPlan, to packet: Mbuf, layout: PacketLayout) -> Bool {
        let keep = packet.offloadFlags.intersection([.indirect, .externalBuffer])
        let headersEnd = layout.isTunnel ? layout.payloadOffset : layout.tunnelOffset
        if layout.l3 != .none || layout.isTunnel {
            guard headersEnd <= Int(packet.dataLength) else { return false }
        }
        if layout.tunnel == .stt {
            PacketChecksums.fillCarriedFrame(packet, layout: layout, ipv4: true, l4: true)
        }
        switch plan.cut {
        case .swift:
            packet.offloadFlags = keep
            packet.txOffload = TxOffloadLengths(rawValue: 0)
            return true
        case .port:
            if plan.outerUDPZero && layout.outerL4 == .udp {
                packet.data.storeBytes(of: 0 as UInt16, toByteOffset: layout.outerL4Offset + 6, as: UInt16.self)
            }
            guard PacketChecksums.preparePseudoHeaders(
                packet, layout: layout, hardware: plan.hardware, forSegmentation: true)
            else { return false }
        case .none:
            // Tunnels with a non-IP inner frame (ARP) still have outer checksums.
            if layout.l3 != .none || layout.isTunnel {
                guard PacketChecksums.fill(
                    packet, layout: layout, software: plan.software, outerUDPZero: plan.outerUDPZero)
                else { return false }
                if !plan.hardware.isEmpty {
                    guard PacketChecksums.preparePseudoHeaders(
                        packet, layout: layout, hardware: plan.hardware, forSegmentation: false)
                    else { return false }
                }
            }
        }
        packet.offloadFlags = keep.union(plan.flags)
        packet.txOffload = plan.lengths
        return true
    }

    /// The metadata of one segment the Segmenter made for a `cut == .swift` plan (its headers
    /// already hold what the port starts from).
    @inlinable @inline(__always)
    public static func applyToSegment(_ plan: TxPlan, _ segment: Mbuf) {
        let keep = segment.offloadFlags.intersection([.indirect, .externalBuffer])
        segment.offloadFlags = keep.union(plan.flags)
        segment.txOffload = plan.lengths
    }

    /// Whether the packet's GRE header (GRE over IP, or over FOU/GUE) has the checksum bit.
    public static func greChecksumPresent(_ packet: Mbuf, layout: PacketLayout) -> Bool {
        switch layout.tunnel {
        case .gre, .nvgre, .fou, .gue: break
        default: return false
        }
        guard layout.payloadOffset <= Int(packet.dataLength) else { return false }
        return SegmentHeaders.greOffset(packet.data, layout) >= 0
    }
}

/// SoftwareChecksums values as literals (its static lets are lazily initialised globals when
/// read from another module).
@usableFromInline
enum Checksums {
    @inlinable static var none: SoftwareChecksums { SoftwareChecksums(rawValue: 0) }
    @inlinable static var innerIPv4: SoftwareChecksums { SoftwareChecksums(rawValue: 1 << 0) }
    @inlinable static var innerL4: SoftwareChecksums { SoftwareChecksums(rawValue: 1 << 1) }
    @inlinable static var outerIPv4: SoftwareChecksums { SoftwareChecksums(rawValue: 1 << 2) }
    @inlinable static var outerUDP: SoftwareChecksums { SoftwareChecksums(rawValue: 1 << 3) }
    @inlinable static var outer: SoftwareChecksums { SoftwareChecksums(rawValue: 1 << 2 | 1 << 3) }
}

/// The facts about one packet the planner decides on, from its layout.
@usableFromInline
struct Geometry {
    @usableFromInline let isSTT: Bool
    @usableFromInline let tunnelled: Bool
    @usableFromInline let l3: L3Kind
    @usableFromInline let l4: L4Kind
    @usableFromInline let ipv4: Bool
    @usableFromInline let outerV4: Bool
    @usableFromInline let udpTunnel: Bool
    /// rte_mbuf_core.h lengths (tunnel form when tunnelled).
    @usableFromInline let outerL2: Int
    @usableFromInline let outerL3: Int
    @usableFromInline let l2: Int
    @usableFromInline let l3Length: Int
    @usableFromInline let l4Length: Int
    /// Bytes after the headers the port or Swift replicates (STT: after the outer TCP header).
    @usableFromInline let cutPayload: Int
    /// Bytes of the frame before the cut payload (the headers every segment repeats).
    @usableFromInline let headersLength: Int
    /// Largest tso_segsz the MTU allows: every segment, headers included, must fit it.
    @usableFromInline let mtuMax: Int
    @usableFromInline let segmentable: Bool
    @usableFromInline let fitsMTU: Bool
    @usableFromInline let l4Checksummed: Bool

    @inlinable
    init(_ layout: PacketLayout, packetLength: Int, mtu: Int) {
        isSTT = layout.tunnel == .stt
        tunnelled = layout.tunnel != .none && !isSTT
        l3 = tunnelled ? layout.innerL3 : layout.outerL3
        l4 = tunnelled ? layout.innerL4 : layout.outerL4
        ipv4 = l3 == .ipv4
        outerV4 = tunnelled && layout.outerL3 == .ipv4
        udpTunnel = tunnelled && layout.outerL4 == .udp
        if tunnelled {
            outerL2 = Int(layout.outerL2Length)
            outerL3 = Int(layout.outerL3Length)
            l2 = Int(layout.outerL4Length) + Int(layout.tunnelLength) + Int(layout.innerL2Length)
            l3Length = Int(layout.innerL3Length)
            l4Length = Int(layout.innerL4Length)
        } else {
            outerL2 = 0
            outerL3 = 0
            l2 = Int(layout.outerL2Length)
            l3Length = Int(layout.outerL3Length)
            l4Length = Int(layout.outerL4Length)
        }
        let headersEnd = tunnelled ? layout.payloadOffset : layout.tunnelOffset
        cutPayload = Int(layout.payloadLength) + layout.payloadOffset - headersEnd
        headersLength = headersEnd
        // tso_segsz <= MTU - (outer_l2_len - 14) - outer_l3_len - l2_len - l3_len - l4_len;
        // untunnelled: MTU - (l2_len - 14) - l3_len - l4_len.
        mtuMax = tunnelled
            ? mtu - (outerL2 - 14) - outerL3 - l2 - l3Length - l4Length
            : mtu - (l2 - 14) - l3Length - l4Length
        // Fragments (1, 2), control messages (8), STT fragments (16) are not cut.
        let uncuttable = layout.flags.rawValue & 0x1B != 0
        let fragment = layout.flags.rawValue & (tunnelled ? 0x2 : 0x1) != 0
        l4Checksummed = (l4 == .tcp || l4 == .udp) && !fragment
        segmentable = (l4 == .tcp || l4 == .udp) && l3 != .none && !uncuttable
            && !(isSTT && layout.innerL3 == .none)
        fitsMTU = segmentable ? cutPayload <= mtuMax : packetLength - Int(layout.outerL2Length) <= mtu
    }

    /// A segment size within the MTU's limit (0 or less: the limit).
    @inlinable
    func bound(_ size: Int) -> Int { size <= 0 || size > mtuMax ? mtuMax : size }

    /// Every checksum the packet has (the outer UDP one unless it is sent as 0).
    @inlinable
    func relevantChecksums(zero: Bool) -> SoftwareChecksums {
        var set = Checksums.none
        if ipv4 { set.formUnion(Checksums.innerIPv4) }
        if l4Checksummed { set.formUnion(Checksums.innerL4) }
        if outerV4 { set.formUnion(Checksums.outerIPv4) }
        if udpTunnel && !zero { set.formUnion(Checksums.outerUDP) }
        return set
    }
}
