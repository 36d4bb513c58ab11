/// The result of walking an IPv6 extension-header chain (RFC 8200 §4).
public struct IPv6ExtensionChain: Hashable, Sendable {
    /// Bytes of extension headers after the fixed header.
    public var length: Int
    /// The upper-layer protocol after the last extension header.
    public var upperLayerProtocol: UInt8
    /// Set when a Fragment header is present.
    public var isFragment: Bool
    /// Fragment offset in bytes; non-zero means no upper-layer header in this packet.
    public var fragmentOffset: Int
    public var headerCount: Int

    @inlinable
    public init(length: Int, upperLayerProtocol: UInt8, isFragment: Bool, fragmentOffset: Int, headerCount: Int) {
        self.length = length
        self.upperLayerProtocol = upperLayerProtocol
        self.isFragment = isFragment
        self.fragmentOffset = fragmentOffset
        self.headerCount = headerCount
    }

    /// At most this many extension headers: real traffic has one or two, so a longer chain
    /// is an attack or garbage, and it bounds the walk.
    public static let maximumHeaders = 8

    @inlinable public static func isExtensionHeader(_ next: UInt8) -> Bool {
        next == IPProtocol.hopByHop || next == IPProtocol.ipv6Routing || next == IPProtocol.ipv6Fragment
            || next == IPProtocol.ipv6DestinationOptions
    }

    /// Walks hop-by-hop, routing, fragment and destination-options headers in `area` (the
    /// IPv6 payload), starting from the fixed header's Next Header value.
    ///
    /// Rejects: a header running past the area, hop-by-hop anywhere but first, a header type
    /// seen twice (destination options may appear twice, RFC 8200 §4.1), more than
    /// `maximumHeaders` headers.
    @inlinable
    public static func walk(_ area: UnsafeRawBufferPointer, firstNextHeader: UInt8) throws(WireError) -> IPv6ExtensionChain {
        var next = firstNextHeader
        var offset = 0
        var count = 0
        var seen: UInt8 = 0  // bit 0 hop-by-hop, 1 routing, 2 fragment
        var destinationOptions = 0
        var isFragment = false
        var fragmentOffset = 0
        while isExtensionHeader(next) {
            guard count < maximumHeaders else { throw WireError(.ipv6ExtensionHeader, .extensionHeaderLoop) }
            guard offset + 8 <= area.count else {
                throw WireError(.ipv6ExtensionHeader, .truncated, needed: offset + 8, available: area.count)
            }
            let length: Int
            switch next {
            case IPProtocol.hopByHop:
                guard count == 0 else { throw WireError(.ipv6ExtensionHeader, .extensionHeaderLoop) }
                seen |= 1
                length = (Int(area.u8(offset + 1)) + 1) * 8
            case IPProtocol.ipv6Routing:
                guard seen & 2 == 0 else { throw WireError(.ipv6ExtensionHeader, .extensionHeaderLoop) }
                seen |= 2
                length = (Int(area.u8(offset + 1)) + 1) * 8
            case IPProtocol.ipv6Fragment:
                guard seen & 4 == 0 else { throw WireError(.ipv6ExtensionHeader, .extensionHeaderLoop) }
                seen |= 4
                length = 8
                isFragment = true
                fragmentOffset = Int(area.be16(offset + 2) & 0xFFF8)
            default:  // destination options
                guard destinationOptions < 2 else { throw WireError(.ipv6ExtensionHeader, .extensionHeaderLoop) }
                destinationOptions += 1
                length = (Int(area.u8(offset + 1)) + 1) * 8
            }
            guard offset + length <= area.count else {
                throw WireError(.ipv6ExtensionHeader, .optionOverrun, needed: offset + length, available: area.count)
            }
            next = area.u8(offset)
            offset += length
            count += 1
        }
        return IPv6ExtensionChain(
            length: offset, upperLayerProtocol: next, isFragment: isFragment,
            fragmentOffset: fragmentOffset, headerCount: count)
    }
}
