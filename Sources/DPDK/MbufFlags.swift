import CDPDK

/// `rte_mbuf.ol_flags`: rx results and tx offload requests (rte_mbuf_core.h).
@frozen
public struct MbufFlags: OptionSet, Hashable, Sendable {
    public let rawValue: UInt64
    @inlinable @inline(__always) public init(rawValue: UInt64) { self.rawValue = rawValue }
    @inline(__always) init(_ value: UInt64) { self.rawValue = value }

    // Receive side.
    public static let rxVLAN = MbufFlags(1 << 0)
    public static let rxRSSHash = MbufFlags(1 << 1)
    public static let rxFDIR = MbufFlags(1 << 2)
    public static let rxOuterIPChecksumBad = MbufFlags(1 << 5)
    public static let rxVLANStripped = MbufFlags(1 << 6)
    public static let rxIEEE1588PTP = MbufFlags(1 << 9)
    public static let rxIEEE1588Timestamp = MbufFlags(1 << 10)
    public static let rxQinQStripped = MbufFlags(1 << 15)
    public static let rxLRO = MbufFlags(1 << 16)
    public static let rxQinQ = MbufFlags(1 << 20)
    // Two-bit fields: both set means "none" (unknown), one bit each for bad/good.
    public static let rxIPChecksumBad = MbufFlags(1 << 4)
    public static let rxIPChecksumGood = MbufFlags(1 << 7)
    public static let rxL4ChecksumBad = MbufFlags(1 << 3)
    public static let rxL4ChecksumGood = MbufFlags(1 << 8)
    public static let rxOuterL4ChecksumBad = MbufFlags(1 << 21)
    public static let rxOuterL4ChecksumGood = MbufFlags(1 << 22)

    // Transmit side.
    public static let txOuterUDPChecksum = MbufFlags(1 << 41)
    public static let txUDPSegmentation = MbufFlags(1 << 42)
    public static let txSecurityOffload = MbufFlags(1 << 43)
    public static let txMACsec = MbufFlags(1 << 44)
    public static let txTunnelVXLAN = MbufFlags(0x1 << 45)
    public static let txTunnelGRE = MbufFlags(0x2 << 45)
    public static let txTunnelIPIP = MbufFlags(0x3 << 45)
    public static let txTunnelGENEVE = MbufFlags(0x4 << 45)
    public static let txTunnelMPLSInUDP = MbufFlags(0x5 << 45)
    public static let txTunnelVXLANGPE = MbufFlags(0x6 << 45)
    public static let txTunnelGTP = MbufFlags(0x7 << 45)
    public static let txTunnelESP = MbufFlags(0x8 << 45)
    public static let txTunnelIP = MbufFlags(0xD << 45)
    public static let txTunnelUDP = MbufFlags(0xE << 45)
    public static let txTunnelMask = MbufFlags(0xF << 45)
    public static let txQinQ = MbufFlags(1 << 49)
    public static let txTCPSegmentation = MbufFlags(1 << 50)
    public static let txIEEE1588Timestamp = MbufFlags(1 << 51)
    public static let txTCPChecksum = MbufFlags(1 << 52)
    public static let txSCTPChecksum = MbufFlags(2 << 52)
    public static let txUDPChecksum = MbufFlags(3 << 52)
    public static let txL4Mask = MbufFlags(3 << 52)
    public static let txIPChecksum = MbufFlags(1 << 54)
    public static let txIPv4 = MbufFlags(1 << 55)
    public static let txIPv6 = MbufFlags(1 << 56)
    public static let txVLAN = MbufFlags(1 << 57)
    public static let txOuterIPChecksum = MbufFlags(1 << 58)
    public static let txOuterIPv4 = MbufFlags(1 << 59)
    public static let txOuterIPv6 = MbufFlags(1 << 60)

    // Mbuf attributes.
    public static let externalBuffer = MbufFlags(1 << 61)
    public static let indirect = MbufFlags(1 << 62)

    /// The tunnel type field (bits 45-48) alone.
    public var tunnelType: MbufFlags { intersection(.txTunnelMask) }
}
