/// Which checksums Swift computes. Those not in the set are left the way a port's checksum
/// offload wants them (rte_mbuf_core.h): an IPv4 header checksum of 0, an L4 checksum holding
/// the pseudo-header sum. "Inner" is the innermost IP/L4 (the only ones for a plain packet,
/// as DPDK's IP_CKSUM/TCP_CKSUM flags mean); "outer" exists only for a tunnel.
public struct SoftwareChecksums: OptionSet, Hashable, Sendable {
    public let rawValue: UInt8
    @inlinable public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let innerIPv4 = SoftwareChecksums(rawValue: 1 << 0)
    public static let innerL4 = SoftwareChecksums(rawValue: 1 << 1)
    public static let outerIPv4 = SoftwareChecksums(rawValue: 1 << 2)
    public static let outerUDP = SoftwareChecksums(rawValue: 1 << 3)

    public static let all: SoftwareChecksums = [.innerIPv4, .innerL4, .outerIPv4, .outerUDP]
}

/// How the IPv4 identification of each segment is chosen (inner and outer headers alike).
public enum IPv4IDPolicy: UInt8, Hashable, Sendable {
    /// Like Linux: the input's ID + segment index, unless the input says IDs are fixed
    /// (DF set and ID 0, which is what GRO leaves for a flow with fixed IDs).
    case automatic
    /// Always the input's ID + segment index.
    case increment
    /// Always the input's ID (RFC 6864 allows it for atomic datagrams, DF set).
    case fixed
}

/// Which IPv4 headers of a super-frame keep one ID in every segment, when the sender knows
/// (receive coalescing learnt it from the segments): overrides `IPv4IDPolicy` per header.
public struct FixedIPv4IDs: OptionSet, Hashable, Sendable {
    public let rawValue: UInt8
    @inlinable public init(rawValue: UInt8) { self.rawValue = rawValue }
    public static let inner = FixedIPv4IDs(rawValue: 1)
    public static let outer = FixedIPv4IDs(rawValue: 2)
}

/// What a UDP super-datagram becomes.
public enum UDPSegmentation: UInt8, Hashable, Sendable {
    /// USO: each segment a whole UDP datagram of `segmentSize` payload bytes.
    case datagrams
    /// UFO: IP fragments of the one datagram (IPv6 gets a fragment header).
    case fragments
}

public struct SegmentationOptions: Hashable, Sendable {
    /// tso_segsz semantics: inner L4 payload bytes per segment. For UDP fragmentation, IP
    /// payload bytes per fragment (rounded down to a multiple of 8).
    public var segmentSize: Int
    /// The egress MTU (L3). No output frame exceeds MTU + the outer L2 header: the segment
    /// size is clamped to fit.
    public var mtu: Int?
    public var software: SoftwareChecksums
    /// Leave the outer UDP checksum 0 (absent). Honoured for an IPv4 outer header only: over
    /// IPv6 the checksum is mandatory and is computed (or left to the port) anyway.
    public var outerUDPChecksumZero: Bool
    public var ipv4ID: IPv4IDPolicy
    /// Set: which headers keep a fixed ID, the others increment (`ipv4ID` is not consulted).
    public var knownFixedIDs: FixedIPv4IDs?
    public var udp: UDPSegmentation

    public init(
        segmentSize: Int, mtu: Int? = nil, software: SoftwareChecksums = .all, outerUDPChecksumZero: Bool = false,
        ipv4ID: IPv4IDPolicy = .automatic, udp: UDPSegmentation = .datagrams
    ) {
        self.segmentSize = segmentSize
        self.mtu = mtu
        self.software = software
        self.outerUDPChecksumZero = outerUDPChecksumZero
        self.ipv4ID = ipv4ID
        self.knownFixedIDs = nil
        self.udp = udp
    }
}
