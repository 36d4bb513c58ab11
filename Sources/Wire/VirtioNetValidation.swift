/// Why a virtio-net header was refused: one case per check Linux makes in
/// `__virtio_net_hdr_to_skb`, `virtio_net_hdr_tnl_to_skb` and
/// `virtio_net_handle_csum_offload` (include/linux/virtio_net.h, 6.17+).
public enum VirtioNetHeaderError: Error, Hashable, Sendable, CustomStringConvertible {
    case truncated(needed: Int, available: Int)
    /// A header format shorter than 24 bytes was asked to carry tunnel fields.
    case formatCannotCarryTunnel
    case unknownGSOType(UInt8)
    case gsoSizeZero
    /// gso_size 0xFFFF is the kernel's internal GSO_BY_FRAGS.
    case gsoSizeReserved
    /// csum_start/csum_offset (or the transport header) reach past the frame.
    case checksumPastFrame(needed: Int, frameLength: Int)
    /// csum_start lies before the smallest possible network header end.
    case checksumStartBeforeTransport(checksumStart: Int, minimum: Int)
    /// csum_offset is not the checksum field of the GSO type's transport header.
    case checksumOffsetMismatch(expected: Int, actual: Int)
    /// USO (UDP_L4) without NEEDS_CSUM.
    case udpSegmentationWithoutChecksum
    /// More than 128 USO segments.
    case tooManyUDPSegments
    /// A tunnel GSO bit without UDP_TUNNEL_GSO negotiated.
    case tunnelNotNegotiated
    /// Both UDP_TUNNEL_IPV4 and UDP_TUNNEL_IPV6 set.
    case tunnelBothIPVersions
    /// A tunnel bit with no inner GSO type, or with UFO inside.
    case tunnelWithoutInnerGSO
    /// Tunnel GSO requires NEEDS_CSUM.
    case tunnelWithoutNeedsChecksum
    /// outer_th_offset < 14 + 20 (IPv4) or 14 + 40 (IPv6).
    case outerTransportOffsetTooSmall(offset: Int, minimum: Int)
    /// inner_nh_offset < outer_th_offset + 8.
    case innerNetworkOffsetTooSmall(offset: Int, minimum: Int)
    /// csum_start (the inner transport header) < inner_nh_offset + 20/40.
    case innerTransportOffsetTooSmall(offset: Int, minimum: Int)
    /// UDP_TUNNEL_CSUM without UDP_TUNNEL_GSO_CSUM negotiated.
    case tunnelChecksumNotNegotiated
    /// DATA_VALID on a tunnel GSO packet (receive side: it needs NEEDS_CSUM instead).
    case dataValidWithTunnelGSO
    /// The seed draft's form could not be converted: the frame's outer headers do not parse.
    case draftFrameUnparsable(WireError)

    public var description: String {
        switch self {
        case .truncated(let n, let a): "virtio-net header: truncated (needed \(n) bytes, have \(a))"
        case .formatCannotCarryTunnel: "virtio-net header: tunnel fields need the 24-byte header (TUNSETVNETHDRSZ 24)"
        case .unknownGSOType(let t): "virtio-net header: unknown gso_type 0x\(String(t, radix: 16))"
        case .gsoSizeZero: "virtio-net header: GSO packet with gso_size 0"
        case .gsoSizeReserved: "virtio-net header: gso_size 0xFFFF is reserved"
        case .checksumPastFrame(let n, let l): "virtio-net header: checksum area ends at \(n), past the \(l)-byte frame"
        case .checksumStartBeforeTransport(let s, let m): "virtio-net header: csum_start \(s) below minimum \(m)"
        case .checksumOffsetMismatch(let e, let a): "virtio-net header: csum_offset \(a), the GSO type needs \(e)"
        case .udpSegmentationWithoutChecksum: "virtio-net header: UDP_L4 GSO without NEEDS_CSUM"
        case .tooManyUDPSegments: "virtio-net header: more than 128 UDP segments"
        case .tunnelNotNegotiated: "virtio-net header: UDP tunnel GSO not negotiated"
        case .tunnelBothIPVersions: "virtio-net header: both UDP_TUNNEL_IPV4 and UDP_TUNNEL_IPV6 set"
        case .tunnelWithoutInnerGSO: "virtio-net header: UDP tunnel bit without an inner TCP/USO GSO type"
        case .tunnelWithoutNeedsChecksum: "virtio-net header: UDP tunnel GSO without NEEDS_CSUM"
        case .outerTransportOffsetTooSmall(let o, let m): "virtio-net header: outer_th_offset \(o) < \(m)"
        case .innerNetworkOffsetTooSmall(let o, let m): "virtio-net header: inner_nh_offset \(o) < \(m)"
        case .innerTransportOffsetTooSmall(let o, let m): "virtio-net header: csum_start \(o) < inner_nh_offset + L3 (\(m))"
        case .tunnelChecksumNotNegotiated: "virtio-net header: UDP_TUNNEL_CSUM flag without UDP_TUNNEL_GSO_CSUM negotiated"
        case .dataValidWithTunnelGSO: "virtio-net header: DATA_VALID with UDP tunnel GSO"
        case .draftFrameUnparsable(let e): "virtio-net header (draft form): frame does not parse: \(e)"
        }
    }
}

extension VirtioNetHeaderError {
    /// The check that failed, without its values: what a port counts its refusals by.
    public enum Reason: UInt8, CaseIterable, Hashable, Sendable, CustomStringConvertible {
        case truncated, formatCannotCarryTunnel, unknownGSOType, gsoSizeZero, gsoSizeReserved, checksumPastFrame
        case checksumStartBeforeTransport, checksumOffsetMismatch, udpSegmentationWithoutChecksum, tooManyUDPSegments
        case tunnelNotNegotiated, tunnelBothIPVersions, tunnelWithoutInnerGSO, tunnelWithoutNeedsChecksum
        case outerTransportOffsetTooSmall, innerNetworkOffsetTooSmall, innerTransportOffsetTooSmall
        case tunnelChecksumNotNegotiated, dataValidWithTunnelGSO, draftFrameUnparsable

        public var description: String {
            switch self {
            case .truncated: "header truncated"
            case .formatCannotCarryTunnel: "header format cannot carry tunnel fields"
            case .unknownGSOType: "unknown gso_type"
            case .gsoSizeZero: "gso_size 0"
            case .gsoSizeReserved: "gso_size 0xffff"
            case .checksumPastFrame: "checksum past frame"
            case .checksumStartBeforeTransport: "csum_start too small"
            case .checksumOffsetMismatch: "csum_offset mismatch"
            case .udpSegmentationWithoutChecksum: "USO without NEEDS_CSUM"
            case .tooManyUDPSegments: "USO over 128 segments"
            case .tunnelNotNegotiated: "tunnel GSO not negotiated"
            case .tunnelBothIPVersions: "tunnel IPv4 and IPv6 bits"
            case .tunnelWithoutInnerGSO: "tunnel without inner GSO type"
            case .tunnelWithoutNeedsChecksum: "tunnel GSO without NEEDS_CSUM"
            case .outerTransportOffsetTooSmall: "outer_th_offset too small"
            case .innerNetworkOffsetTooSmall: "inner_nh_offset too small"
            case .innerTransportOffsetTooSmall: "inner csum_start too small"
            case .tunnelChecksumNotNegotiated: "UDP_TUNNEL_CSUM not negotiated"
            case .dataValidWithTunnelGSO: "DATA_VALID with tunnel GSO"
            case .draftFrameUnparsable: "draft header frame unparsable"
            }
        }
    }

    public var reason: Reason {
        switch self {
        case .truncated: .truncated
        case .formatCannotCarryTunnel: .formatCannotCarryTunnel
        case .unknownGSOType: .unknownGSOType
        case .gsoSizeZero: .gsoSizeZero
        case .gsoSizeReserved: .gsoSizeReserved
        case .checksumPastFrame: .checksumPastFrame
        case .checksumStartBeforeTransport: .checksumStartBeforeTransport
        case .checksumOffsetMismatch: .checksumOffsetMismatch
        case .udpSegmentationWithoutChecksum: .udpSegmentationWithoutChecksum
        case .tooManyUDPSegments: .tooManyUDPSegments
        case .tunnelNotNegotiated: .tunnelNotNegotiated
        case .tunnelBothIPVersions: .tunnelBothIPVersions
        case .tunnelWithoutInnerGSO: .tunnelWithoutInnerGSO
        case .tunnelWithoutNeedsChecksum: .tunnelWithoutNeedsChecksum
        case .outerTransportOffsetTooSmall: .outerTransportOffsetTooSmall
        case .innerNetworkOffsetTooSmall: .innerNetworkOffsetTooSmall
        case .innerTransportOffsetTooSmall: .innerTransportOffsetTooSmall
        case .tunnelChecksumNotNegotiated: .tunnelChecksumNotNegotiated
        case .dataValidWithTunnelGSO: .dataValidWithTunnelGSO
        case .draftFrameUnparsable: .draftFrameUnparsable
        }
    }
}

extension VirtioNetHeader {
    /// Applies Linux's checks. `frame` is the packet after the header (its length bounds the
    /// checksum area; USO inside a tunnel reads the inner IP version from it). `receiving`
    /// adds the driver-side rules for DATA_VALID.
    @inlinable
    public func validate(
        offloads: VirtioNetTunnelOffloads, frame: UnsafeRawBufferPointer, receiving: Bool = false
    ) throws(VirtioNetHeaderError) {
        if receiving {
            if gsoType.isTunnel {
                if flags.contains(.dataValid) { throw .dataValidWithTunnelGSO }
            } else if flags.contains(.dataValid), flags.contains(.udpTunnelChecksum),
                !offloads.contains(.udpTunnelGSOChecksum)
            {
                throw .tunnelChecksumNotNegotiated
            }
        }
        guard gsoType.isTunnel else {
            try validatePlain(gsoType: gsoType, frame: frame)
            return
        }
        guard offloads.contains(.udpTunnelGSO) else { throw .tunnelNotNegotiated }
        guard gsoType.tunnelBits != 0x60 else { throw .tunnelBothIPVersions }
        let inner = GSOType(rawValue: gsoType.rawValue & ~(0x60 | 0x80))
        guard inner != .none, inner != .udp else { throw .tunnelWithoutInnerGSO }
        guard flags.contains(.needsChecksum) else { throw .tunnelWithoutNeedsChecksum }
        let outerIPv6 = gsoType.tunnelBits == GSOType.udpTunnelIPv6
        var innerL3Min = inner == .tcpv6 ? 40 : 20
        let outerMin = 14 + (outerIPv6 ? 40 : 20)
        let outerTH = Int(outerTransportOffset), innerNH = Int(innerNetworkOffset), innerTH = Int(checksumStart)
        guard outerTH >= outerMin else { throw .outerTransportOffsetTooSmall(offset: outerTH, minimum: outerMin) }
        guard innerNH >= outerTH + 8 else { throw .innerNetworkOffsetTooSmall(offset: innerNH, minimum: outerTH + 8) }
        guard innerTH >= innerNH + innerL3Min else {
            throw .innerTransportOffsetTooSmall(offset: innerTH, minimum: innerNH + innerL3Min)
        }
        try validatePlain(gsoType: GSOType(rawValue: gsoType.rawValue & ~0x60), frame: frame)
        if inner == .udpL4 {  // USO: the inner IP version is only known from the packet
            guard innerNH < frame.count else { throw .checksumPastFrame(needed: innerNH + 1, frameLength: frame.count) }
            innerL3Min = frame.u8(innerNH) >> 4 == 6 ? 40 : 20
            guard innerTH >= innerNH + innerL3Min else {
                throw .innerTransportOffsetTooSmall(offset: innerTH, minimum: innerNH + innerL3Min)
            }
        }
        if flags.contains(.udpTunnelChecksum), !offloads.contains(.udpTunnelGSOChecksum) {
            throw .tunnelChecksumNotNegotiated
        }
    }

    /// `__virtio_net_hdr_to_skb` for a gso_type without tunnel bits.
    @inlinable
    func validatePlain(gsoType type: GSOType, frame: UnsafeRawBufferPointer) throws(VirtioNetHeaderError) {
        var thlen = 0
        var nhMin = 20
        let base = GSOType(rawValue: type.rawValue & ~0x80)
        if type != .none {
            switch base {
            case .tcpv4: thlen = 20
            case .tcpv6:
                thlen = 20
                nhMin = 40
            case .udp, .udpL4: thlen = 8
            default: throw .unknownGSOType(type.rawValue)
            }
            guard gsoSize != 0 else { throw .gsoSizeZero }
        }
        var payloadOffset = nhMin + thlen
        if flags.contains(.needsChecksum) {
            let start = Int(checksumStart), off = Int(checksumOffset)
            let needed = start + Swift.max(thlen, off + 2)
            guard needed <= frame.count else { throw .checksumPastFrame(needed: needed, frameLength: frame.count) }
            guard start >= nhMin else { throw .checksumStartBeforeTransport(checksumStart: start, minimum: nhMin) }
            payloadOffset = start + thlen
        }
        guard type != .none else { return }
        switch base {
        case .udpL4:
            guard flags.contains(.needsChecksum) else { throw .udpSegmentationWithoutChecksum }
            guard checksumOffset == 6 else { throw .checksumOffsetMismatch(expected: 6, actual: Int(checksumOffset)) }
            guard frame.count - payloadOffset <= Int(gsoSize) * 128 else { throw .tooManyUDPSegments }
            guard type.rawValue & 0x80 == 0 else { throw .unknownGSOType(type.rawValue) }  // no ECN with USO
        case .tcpv4, .tcpv6:
            if flags.contains(.needsChecksum), checksumOffset != 16 {
                throw .checksumOffsetMismatch(expected: 16, actual: Int(checksumOffset))
            }
        default: break
        }
        guard gsoSize != 0xFFFF else { throw .gsoSizeReserved }
    }

    /// Reads the seed draft's form (12-byte header, gso_type bit 0x40 = "UDP tunnel",
    /// hdr_len = inner network header offset) and returns the merged form: the tunnel bit
    /// for the outer IP version, `outerTransportOffset` from parsing `frame`'s outer headers,
    /// `innerNetworkOffset` from hdr_len, and hdr_len through the inner L4 header.
    /// Use only for peers known to speak the draft: in the merged form 0x40 means IPv6.
    @inlinable
    public static func decodeDraft(_ bytes: UnsafeRawBufferPointer, frame: UnsafeRawBufferPointer) throws(VirtioNetHeaderError) -> VirtioNetHeader {
        var h = try decode(bytes, format: .v1)
        guard h.gsoType.rawValue & GSOType.draftUDPTunnel != 0 else { return h }
        let outer: (isIPv6: Bool, transport: Int)
        do throws(WireError) {
            let l2 = try PacketLayout.parseL2(frame, at: 0)
            guard let kind = PacketLayout.l3Kind(etherType: l2.etherType) else {
                throw WireError(.ethernet, .lengthMismatch)
            }
            let l3 = try PacketLayout.parseL3(frame, at: l2.length, kind: kind)
            outer = (kind == .ipv6, l2.length + l3.headerLength)
        } catch {
            throw .draftFrameUnparsable(error)
        }
        let base = GSOType(rawValue: h.gsoType.rawValue & ~(GSOType.draftUDPTunnel | 0x20))
        h.gsoType = .tunnel(base.base, outerIPv6: outer.isIPv6, ecn: base.ecn)
        h.innerNetworkOffset = h.headerLength
        h.outerTransportOffset = UInt16(truncatingIfNeeded: outer.transport)
        // Merged hdr_len runs through the inner transport header.
        let th = Int(h.checksumStart)
        if h.flags.contains(.needsChecksum), th + 13 <= frame.count {
            let l4 = base.base == .udpL4 ? 8 : Int(frame.u8(th + 12) >> 4) * 4
            h.headerLength = UInt16(truncatingIfNeeded: th + l4)
        }
        return h
    }
}
