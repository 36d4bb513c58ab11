import DPDK
import Wire

/// Who does a packet's transmit work; one counter each (`show port <p> offload plan`).
public enum TxPlanKind: UInt8, CaseIterable, Hashable, Sendable {
    /// The port does it all: it segments (TSO, USO, tunnel TSO) and/or fills every checksum;
    /// Swift writes metadata and pseudo-header sums only (and, for STT, the carried frame's
    /// checksums; a UDP tunnel's outer checksum may be sent as 0).
    case hardware
    /// Split: Swift cuts and the port fills checksums, or one frame's checksums are part
    /// Swift's, part the port's.
    case partial
    /// Swift does everything (Segmenter and/or PacketChecksums); no offload flags.
    case software
    /// Larger than the MTU and nobody may cut it (GSO off, or not a TCP/UDP packet): the
    /// engine should drop it and count it, as a NIC would.
    case oversize

    public static let count = allCases.count

    public var name: String {
        switch self {
        case .hardware: "hardware"
        case .partial: "partial"
        case .software: "software"
        case .oversize: "oversize"
        }
    }
}

/// Why a plan is less than full hardware offload; one counter each. `none` when nothing was
/// given up (or nothing was asked).
public enum TxPlanReason: UInt8, CaseIterable, Hashable, Sendable {
    case none
    /// `tso set 0` / `tunnel_tso set 0` for this kind of packet: the port may not segment.
    case tsoOff
    /// The port lacks the segmentation capability for this kind (TCP_TSO, UDP_TSO, the tunnel
    /// TSO bit, or the generic UDP/IP tunnel TSO), or a quirk distrusts it.
    case noSegmentationOffload
    /// Segmenting needs a checksum offload the port lacks (inner IPV4_CKSUM, OUTER_IPV4_CKSUM).
    case noChecksumOffload
    /// A UDP tunnel's outer checksum must be right in every segment (IPv6, or zero not
    /// allowed) and the port has no (trusted) OUTER_UDP_CKSUM.
    case outerUDPChecksum
    /// GRE with the checksum bit: no port rewrites it per segment.
    case greChecksum
    /// A length does not fit its mbuf bit-field (e.g. Geneve options overflow l2_len's 7 bits).
    case lengthsOverflow
    /// UDP inside a tunnel: no tunnel USO is planned; Swift cuts.
    case tunnelledUDP
    /// The mbuf chain has more segments than the port takes (or it lacks MULTI_SEGS).
    case tooManyMbufSegments
    /// The segment size is below what the driver's tx_prepare accepts (i40e: 256).
    case segmentSizeOutOfRange
    /// Needs cutting, the port cannot and Swift GSO is off.
    case gsoOff
    /// Larger than the MTU but not TCP/UDP (fragment, control message, other protocol).
    case notSegmentable
    /// The MTU leaves no room for payload after the headers.
    case mtuTooSmall
    /// rte_eth_tx_prepare refused the hardware metadata: planned again in software.
    case txPrepareRejected

    public static let count = allCases.count

    public var name: String {
        switch self {
        case .none: "none"
        case .tsoOff: "tso-off"
        case .noSegmentationOffload: "no-segmentation-offload"
        case .noChecksumOffload: "no-checksum-offload"
        case .outerUDPChecksum: "outer-udp-checksum"
        case .greChecksum: "gre-checksum"
        case .lengthsOverflow: "lengths-overflow"
        case .tunnelledUDP: "tunnelled-udp"
        case .tooManyMbufSegments: "too-many-mbuf-segments"
        case .segmentSizeOutOfRange: "segment-size-out-of-range"
        case .gsoOff: "gso-off"
        case .notSegmentable: "not-segmentable"
        case .mtuTooSmall: "mtu-too-small"
        case .txPrepareRejected: "tx-prepare-rejected"
        }
    }

    /// One line for `set verbose`.
    public var explanation: String {
        switch self {
        case .none: "nothing given up"
        case .tsoOff: "tso/tunnel_tso is 0 on the port"
        case .noSegmentationOffload: "the port cannot segment this kind of packet"
        case .noChecksumOffload: "segmenting needs a checksum offload the port lacks"
        case .outerUDPChecksum: "the outer UDP checksum must be computed per segment and the port cannot"
        case .greChecksum: "the GRE checksum must be computed per segment"
        case .lengthsOverflow: "a header length does not fit its mbuf field"
        case .tunnelledUDP: "UDP in a tunnel is cut by Swift"
        case .tooManyMbufSegments: "more mbuf segments than the port accepts"
        case .segmentSizeOutOfRange: "tso_segsz below the driver's minimum"
        case .gsoOff: "larger than the MTU, and GSO is off"
        case .notSegmentable: "larger than the MTU and not TCP/UDP"
        case .mtuTooSmall: "the MTU leaves no room for payload"
        case .txPrepareRejected: "tx_prepare refused the metadata"
        }
    }
}

/// Who cuts the packet.
public enum TxCut: UInt8, Hashable, Sendable {
    /// It leaves as one frame.
    case none
    /// The port segments it (TCP_SEG / UDP_SEG with tso_segsz).
    case port
    /// Swift's Segmenter cuts it; `flags`/`lengths` go on every segment it makes.
    case swift
}

/// The checksums the user placed on the port (testpmd `csum set <x> hw <port>`): the planner
/// uses the port for these where it can, and Swift for the rest.
@frozen
public struct HardwareChecksums: OptionSet, Hashable, Sendable {
    public let rawValue: UInt8
    @inlinable public init(rawValue: UInt8) { self.rawValue = rawValue }
    @inlinable public static var ip: HardwareChecksums { HardwareChecksums(rawValue: 1 << 0) }
    @inlinable public static var tcp: HardwareChecksums { HardwareChecksums(rawValue: 1 << 1) }
    @inlinable public static var udp: HardwareChecksums { HardwareChecksums(rawValue: 1 << 2) }
    @inlinable public static var outerIP: HardwareChecksums { HardwareChecksums(rawValue: 1 << 3) }
    @inlinable public static var outerUDP: HardwareChecksums { HardwareChecksums(rawValue: 1 << 4) }
    @inlinable public static var all: HardwareChecksums { HardwareChecksums(rawValue: 0x1F) }
}

/// A port's user settings the planner reads (testpmd's words). Plain inputs: the console
/// and Dataplane own them.
public struct TxPlannerSettings: Hashable, Sendable {
    /// `tso set <n> <port>`: payload bytes per segment for untunnelled TCP/UDP the port
    /// segments; 0 = the port does not segment them.
    public var tsoSegmentSize: Int
    /// `tunnel_tso set <n> <port>`: the same for tunnelled packets (STT included); 0 = off.
    public var tunnelTSOSegmentSize: Int
    /// `set port <p> gso on`: Swift may cut what the port cannot.
    public var softwareGSO: Bool
    /// `csum set <x> hw`: checksums the port fills on frames Swift emits (a port that segments
    /// fills every checksum that changes per segment, as testpmd has it).
    public var hardwareChecksums: HardwareChecksums
    /// `csum set outer-udp zero`: an IPv4 outer UDP checksum may be sent as 0.
    public var outerUDPZero: Bool
    /// `set gso segsz <n>` / `--gso-segsz`: the largest frame Swift GSO makes, headers
    /// included (testpmd's meaning); 0 = as large as the MTU allows. A packet's own segment
    /// size wins.
    public var gsoFrameSize: Int

    public init(
        tsoSegmentSize: Int = 0, tunnelTSOSegmentSize: Int = 0, softwareGSO: Bool = false,
        hardwareChecksums: HardwareChecksums = [], outerUDPZero: Bool = false, gsoFrameSize: Int = 0
    ) {
        self.gsoFrameSize = gsoFrameSize
        self.tsoSegmentSize = tsoSegmentSize
        self.tunnelTSOSegmentSize = tunnelTSOSegmentSize
        self.softwareGSO = softwareGSO
        self.hardwareChecksums = hardwareChecksums
        self.outerUDPZero = outerUDPZero
    }
}

/// One packet's transmit plan: who cuts it, who fills which checksum, and the mbuf metadata
/// that asks the port for its part. A plain value, made per packet without allocating.
@frozen
public struct TxPlan: Hashable, Sendable {
    public var kind: TxPlanKind
    public var reason: TxPlanReason
    public var cut: TxCut
    /// ol_flags for the packet (cut none/port) or for each segment Swift makes (cut swift);
    /// empty when Swift does everything.
    public var flags: MbufFlags
    /// outer_l2_len .. tso_segsz as rte_mbuf_core.h wants them for `flags`.
    public var lengths: TxOffloadLengths
    /// Payload bytes per segment (inner L4 payload; STT: outer TCP payload), 0 when not cut.
    public var segmentSize: Int
    /// Frames the packet becomes (1 when not cut).
    public var segmentCount: Int
    /// Checksums Swift computes (Segmenter / PacketChecksums semantics: "inner" is the
    /// innermost, or the only, IP/L4; for STT the outer TCP-like header and its carried frame).
    public var software: SoftwareChecksums
    /// Checksums left to the port (pseudo-header sums pre-filled by `apply`).
    public var hardware: SoftwareChecksums
    /// The IPv4 outer UDP checksum is sent as 0.
    public var outerUDPZero: Bool

    @inlinable
    public init(
        kind: TxPlanKind, reason: TxPlanReason, cut: TxCut, flags: MbufFlags = [],
        lengths: TxOffloadLengths = TxOffloadLengths(rawValue: 0), segmentSize: Int = 0, segmentCount: Int = 1,
        software: SoftwareChecksums = SoftwareChecksums(rawValue: 0),
        hardware: SoftwareChecksums = SoftwareChecksums(rawValue: 0), outerUDPZero: Bool = false
    ) {
        self.kind = kind
        self.reason = reason
        self.cut = cut
        self.flags = flags
        self.lengths = lengths
        self.segmentSize = segmentSize
        self.segmentCount = segmentCount
        self.software = software
        self.hardware = hardware
        self.outerUDPZero = outerUDPZero
    }

    /// The Segmenter options for a `cut == .swift` plan.
    public func segmentationOptions(mtu: Int) -> SegmentationOptions {
        SegmentationOptions(
            segmentSize: segmentSize, mtu: mtu, software: software, outerUDPChecksumZero: outerUDPZero,
            udp: .datagrams)
    }

    /// "hardware (tunnel TSO, tso_segsz 1410, 46 segments)" style text for `set verbose`.
    public var summary: String {
        var text = kind.name
        switch cut {
        case .none: text += " (one frame"
        case .port: text += " (port segments, tso_segsz \(segmentSize), \(segmentCount) segments"
        case .swift: text += " (Swift GSO, \(segmentSize) bytes per segment, \(segmentCount) segments"
        }
        if !software.isEmpty { text += "; sw csum \(software.names)" }
        if !hardware.isEmpty { text += "; hw csum \(hardware.names)" }
        if outerUDPZero { text += "; outer UDP csum 0" }
        text += ")"
        if reason != .none { text += ": \(reason.name): \(reason.explanation)" }
        return text
    }
}

extension SoftwareChecksums {
    /// "ip,l4,outer-ip,outer-udp" (empty for none), for `set verbose` and plan summaries.
    public var names: String {
        var parts: [String] = []
        if contains(.innerIPv4) { parts.append("ip") }
        if contains(.innerL4) { parts.append("l4") }
        if contains(.outerIPv4) { parts.append("outer-ip") }
        if contains(.outerUDP) { parts.append("outer-udp") }
        return parts.joined(separator: ",")
    }
}
