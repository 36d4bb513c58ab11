import CDPDK

/// `rte_mbuf.ol_flags`: rx results and tx offload requests (rte_mbuf_core.h).
@frozen
public struct MbufFlags: OptionSet, Hashable, Sendable {
    public let rawValue: UInt64
    @inlinable @inline(__always) public init(rawValue: UInt64) { self.rawValue = rawValue }
    @inline(__always) init(_ value: UInt64) { self.rawValue = value }

    // Receive side.
    @inlinable public static var rxVLAN: MbufFlags { MbufFlags(rawValue: 1 << 0) }
    @inlinable public static var rxRSSHash: MbufFlags { MbufFlags(rawValue: 1 << 1) }
    @inlinable public static var rxFDIR: MbufFlags { MbufFlags(rawValue: 1 << 2) }
    @inlinable public static var rxOuterIPChecksumBad: MbufFlags { MbufFlags(rawValue: 1 << 5) }
    @inlinable public static var rxVLANStripped: MbufFlags { MbufFlags(rawValue: 1 << 6) }
    @inlinable public static var rxIEEE1588PTP: MbufFlags { MbufFlags(rawValue: 1 << 9) }
    @inlinable public static var rxIEEE1588Timestamp: MbufFlags { MbufFlags(rawValue: 1 << 10) }
    @inlinable public static var rxQinQStripped: MbufFlags { MbufFlags(rawValue: 1 << 15) }
    @inlinable public static var rxLRO: MbufFlags { MbufFlags(rawValue: 1 << 16) }
    @inlinable public static var rxQinQ: MbufFlags { MbufFlags(rawValue: 1 << 20) }
    // Two-bit fields: both set means "none" (unknown), one bit each for bad/good.
    @inlinable public static var rxIPChecksumBad: MbufFlags { MbufFlags(rawValue: 1 << 4) }
    @inlinable public static var rxIPChecksumGood: MbufFlags { MbufFlags(rawValue: 1 << 7) }
    @inlinable public static var rxL4ChecksumBad: MbufFlags { MbufFlags(rawValue: 1 << 3) }
    @inlinable public static var rxL4ChecksumGood: MbufFlags { MbufFlags(rawValue: 1 << 8) }
    @inlinable public static var rxOuterL4ChecksumBad: MbufFlags { MbufFlags(rawValue: 1 << 21) }
    @inlinable public static var rxOuterL4ChecksumGood: MbufFlags { MbufFlags(rawValue: 1 << 22) }

    // Transmit side.
    @inlinable public static var txOuterUDPChecksum: MbufFlags { MbufFlags(rawValue: 1 << 41) }
    @inlinable public static var txUDPSegmentation: MbufFlags { MbufFlags(rawValue: 1 << 42) }
    @inlinable public static var txSecurityOffload: MbufFlags { MbufFlags(rawValue: 1 << 43) }
    @inlinable public static var txMACsec: MbufFlags { MbufFlags(rawValue: 1 << 44) }
    @inlinable public static var txTunnelVXLAN: MbufFlags { MbufFlags(rawValue: 0x1 << 45) }
    @inlinable public static var txTunnelGRE: MbufFlags { MbufFlags(rawValue: 0x2 << 45) }
    @inlinable public static var txTunnelIPIP: MbufFlags { MbufFlags(rawValue: 0x3 << 45) }
    @inlinable public static var txTunnelGENEVE: MbufFlags { MbufFlags(rawValue: 0x4 << 45) }
    @inlinable public static var txTunnelMPLSInUDP: MbufFlags { MbufFlags(rawValue: 0x5 << 45) }
    @inlinable public static var txTunnelVXLANGPE: MbufFlags { MbufFlags(rawValue: 0x6 << 45) }
    @inlinable public static var txTunnelGTP: MbufFlags { MbufFlags(rawValue: 0x7 << 45) }
    @inlinable public static var txTunnelESP: MbufFlags { MbufFlags(rawValue: 0x8 << 45) }
    @inlinable public static var txTunnelIP: MbufFlags { MbufFlags(rawValue: 0xD << 45) }
    @inlinable public static var txTunnelUDP: MbufFlags { MbufFlags(rawValue: 0xE << 45) }
    @inlinable public static var txTunnelMask: MbufFlags { MbufFlags(rawValue: 0xF << 45) }
    @inlinable public static var txQinQ: MbufFlags { MbufFlags(rawValue: 1 << 49) }
    @inlinable public static var txTCPSegmentation: MbufFlags { MbufFlags(rawValue: 1 << 50) }
    @inlinable public static var txIEEE1588Timestamp: MbufFlags { MbufFlags(rawValue: 1 << 51) }
    @inlinable public static var txTCPChecksum: MbufFlags { MbufFlags(rawValue: 1 << 52) }
    @inlinable public static var txSCTPChecksum: MbufFlags { MbufFlags(rawValue: 2 << 52) }
    @inlinable public static var txUDPChecksum: MbufFlags { MbufFlags(rawValue: 3 << 52) }
    @inlinable public static var txL4Mask: MbufFlags { MbufFlags(rawValue: 3 << 52) }
    @inlinable public static var txIPChecksum: MbufFlags { MbufFlags(rawValue: 1 << 54) }
    @inlinable public static var txIPv4: MbufFlags { MbufFlags(rawValue: 1 << 55) }
    @inlinable public static var txIPv6: MbufFlags { MbufFlags(rawValue: 1 << 56) }
    @inlinable public static var txVLAN: MbufFlags { MbufFlags(rawValue: 1 << 57) }
    @inlinable public static var txOuterIPChecksum: MbufFlags { MbufFlags(rawValue: 1 << 58) }
    @inlinable public static var txOuterIPv4: MbufFlags { MbufFlags(rawValue: 1 << 59) }
    @inlinable public static var txOuterIPv6: MbufFlags { MbufFlags(rawValue: 1 << 60) }

    // Mbuf attributes.
    @inlinable public static var externalBuffer: MbufFlags { MbufFlags(rawValue: 1 << 61) }
    @inlinable public static var indirect: MbufFlags { MbufFlags(rawValue: 1 << 62) }

    /// The tunnel type field (bits 45-48) alone.
    public var tunnelType: MbufFlags { intersection(.txTunnelMask) }
}
