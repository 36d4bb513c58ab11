/// The virtio-net header that precedes every frame on a virtio queue or an IFF_VNET_HDR tap
/// (virtio 1.4 §5.1.6; Linux include/uapi/linux/virtio_net.h). All fields little-endian.
///
/// Layout: flags u8 | gso_type u8 | hdr_len | gso_size | csum_start | csum_offset |
/// num_buffers (v1, 12 bytes) | hash_value le32 | hash_report le16 | padding le16 (hash, 20) |
/// outer_th_offset le16 @20 | inner_nh_offset le16 @22 (UDP-tunnel form, 24 bytes).
public struct VirtioNetHeader: Hashable, Sendable {
    public struct Flags: OptionSet, Hashable, Sendable {
        public var rawValue: UInt8
        @inlinable public init(rawValue: UInt8) { self.rawValue = rawValue }
        public static let needsChecksum = Flags(rawValue: 1)
        public static let dataValid = Flags(rawValue: 2)
        public static let rscInfo = Flags(rawValue: 4)
        /// The outer UDP checksum of a tunnel GSO packet must be computed too.
        public static let udpTunnelChecksum = Flags(rawValue: 8)
    }

    /// gso_type: a base type, optionally OR-ed with a UDP-tunnel bit and ECN.
    public struct GSOType: RawRepresentable, Hashable, Sendable {
        public var rawValue: UInt8
        @inlinable public init(rawValue: UInt8) { self.rawValue = rawValue }
        public static let none = GSOType(rawValue: 0)
        public static let tcpv4 = GSOType(rawValue: 1)
        public static let udp = GSOType(rawValue: 3)  // UFO, deprecated
        public static let tcpv6 = GSOType(rawValue: 4)
        public static let udpL4 = GSOType(rawValue: 5)
        public static let udpTunnelIPv4: UInt8 = 0x20
        public static let udpTunnelIPv6: UInt8 = 0x40
        public static let ecn: UInt8 = 0x80
        /// The seed draft's single tunnel bit (superseded; same value as `udpTunnelIPv6`).
        public static let draftUDPTunnel: UInt8 = 0x40

        /// The type without tunnel and ECN bits.
        @inlinable public var base: GSOType { GSOType(rawValue: rawValue & 0x1F) }
        @inlinable public var tunnelBits: UInt8 { rawValue & 0x60 }
        @inlinable public var isTunnel: Bool { tunnelBits != 0 }
        @inlinable public var ecn: Bool { rawValue & 0x80 != 0 }
        /// `base` tunnelled over an outer IPv4 or IPv6 header.
        public static func tunnel(_ base: GSOType, outerIPv6: Bool, ecn: Bool = false) -> GSOType {
            GSOType(rawValue: base.rawValue | (outerIPv6 ? udpTunnelIPv6 : udpTunnelIPv4) | (ecn ? 0x80 : 0))
        }
    }

    public enum Format: Int, Hashable, Sendable {
        /// virtio_net_hdr_v1 (also the legacy mergeable-buffers header).
        case v1 = 12
        /// virtio_net_hdr_v1_hash.
        case hash = 20
        /// virtio_net_hdr_v1_hash_tunnel: what TUNSETVNETHDRSZ 24 selects.
        case tunnel = 24
        @inlinable public var length: Int { rawValue }
    }

    public var flags: Flags = []
    public var gsoType: GSOType = .none
    /// hdr_len: bytes of headers (for a tunnel, through the inner L4 header).
    public var headerLength: UInt16 = 0
    public var gsoSize: UInt16 = 0
    public var checksumStart: UInt16 = 0
    public var checksumOffset: UInt16 = 0
    public var numBuffers: UInt16 = 0
    public var hashValue: UInt32 = 0
    public var hashReport: UInt16 = 0
    /// outer_th_offset: start of the outer UDP header.
    public var outerTransportOffset: UInt16 = 0
    /// inner_nh_offset: start of the inner IP header.
    public var innerNetworkOffset: UInt16 = 0

    @inlinable public init() {}

    /// Reads a header of `format` from the start of `bytes`. Only the length can be wrong
    /// here; whether the values make sense is `validate`'s job.
    @inlinable
    public static func decode(_ bytes: UnsafeRawBufferPointer, format: Format) throws(VirtioNetHeaderError) -> VirtioNetHeader {
        guard bytes.count >= format.length else {
            throw .truncated(needed: format.length, available: bytes.count)
        }
        var h = VirtioNetHeader()
        h.flags = Flags(rawValue: bytes.u8(0))
        h.gsoType = GSOType(rawValue: bytes.u8(1))
        h.headerLength = bytes.le16(2)
        h.gsoSize = bytes.le16(4)
        h.checksumStart = bytes.le16(6)
        h.checksumOffset = bytes.le16(8)
        h.numBuffers = bytes.le16(10)
        if format != .v1 {
            h.hashValue = bytes.le32(12)
            h.hashReport = bytes.le16(16)
        }
        if format == .tunnel {
            h.outerTransportOffset = bytes.le16(20)
            h.innerNetworkOffset = bytes.le16(22)
        }
        return h
    }

    /// Writes the header in `format` (padding zeroed). A tunnel GSO type needs `.tunnel`.
    @inlinable @discardableResult
    public func encode(into buffer: UnsafeMutableRawBufferPointer, format: Format) throws(VirtioNetHeaderError) -> Int {
        guard buffer.count >= format.length else {
            throw .truncated(needed: format.length, available: buffer.count)
        }
        if format != .tunnel, gsoType.isTunnel || outerTransportOffset != 0 || innerNetworkOffset != 0 {
            throw .formatCannotCarryTunnel
        }
        buffer.setU8(0, flags.rawValue)
        buffer.setU8(1, gsoType.rawValue)
        buffer.setLE16(2, headerLength)
        buffer.setLE16(4, gsoSize)
        buffer.setLE16(6, checksumStart)
        buffer.setLE16(8, checksumOffset)
        buffer.setLE16(10, numBuffers)
        if format != .v1 {
            buffer.setLE32(12, hashValue)
            buffer.setLE16(16, hashReport)
            buffer.setLE16(18, 0)
        }
        if format == .tunnel {
            buffer.setLE16(20, outerTransportOffset)
            buffer.setLE16(22, innerNetworkOffset)
        }
        return format.length
    }
}

/// Feature bits of the merged UDP-tunnel GSO extension (virtio 1.4, Linux 6.17).
public enum VirtioNetFeatureBit {
    public static let guestUDPTunnelGSO = 65
    public static let guestUDPTunnelGSOChecksum = 66
    public static let hostUDPTunnelGSO = 67
    public static let hostUDPTunnelGSOChecksum = 68
    /// The superseded seed draft's bits.
    public static let draftGuestUDPTunnel = 54
    public static let draftHostUDPTunnel = 55
}

/// What the two ends negotiated, as far as header validation cares.
public struct VirtioNetTunnelOffloads: OptionSet, Hashable, Sendable {
    public var rawValue: UInt8
    @inlinable public init(rawValue: UInt8) { self.rawValue = rawValue }
    /// UDP_TUNNEL_GSO (or TUN_F_UDP_TUNNEL_GSO on a tap).
    public static let udpTunnelGSO = VirtioNetTunnelOffloads(rawValue: 1)
    /// UDP_TUNNEL_GSO_CSUM (or TUN_F_UDP_TUNNEL_GSO_CSUM).
    public static let udpTunnelGSOChecksum = VirtioNetTunnelOffloads(rawValue: 2)
}
