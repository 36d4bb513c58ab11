/// IPv6 fixed header (RFC 8200 §3). Extension headers are walked by `IPv6ExtensionChain`.
///
/// The initialiser checks: 40 bytes, version 6, 40 + payload length <= buffer. Jumbograms
/// (RFC 2675, payload length 0) are not supported: their upper layer then reads as truncated.
public struct IPv6Packet<Storage: WireStorage> {
    public static var headerLength: Int { 40 }
    public let storage: Storage

    @inlinable @inline(__always) public init(_ storage: Storage) throws(WireError) {
        let b = storage.wireBytes
        try requireBytes(b, 40, .ipv6)
        guard b.u8(0) >> 4 == 6 else { throw WireError(.ipv6, .unsupportedVersion) }
        let payload = Int(b.be16(4))
        guard 40 + payload <= b.count else {
            throw WireError(.ipv6, .truncated, needed: 40 + payload, available: b.count)
        }
        self.storage = storage
    }

    @inlinable var bytes: UnsafeRawBufferPointer { storage.wireBytes }
    @inlinable public var version: UInt8 { bytes.u8(0) >> 4 }
    @inlinable public var trafficClass: UInt8 { UInt8(truncatingIfNeeded: bytes.be16(0) >> 4) }
    @inlinable public var flowLabel: UInt32 { bytes.be32(0) & 0xF_FFFF }
    @inlinable public var payloadLength: Int { Int(bytes.be16(4)) }
    @inlinable public var nextHeader: UInt8 { bytes.u8(6) }
    @inlinable public var hopLimit: UInt8 { bytes.u8(7) }
    @inlinable public var sourceAddress: IPv6Address { IPv6Address(reading: bytes, at: 8) }
    @inlinable public var destinationAddress: IPv6Address { IPv6Address(reading: bytes, at: 24) }
    /// Everything after the fixed header up to `payloadLength` (extension headers included).
    @inlinable public var payload: UnsafeRawBufferPointer { bytes.slice(40, payloadLength) }
}

extension IPv6Packet where Storage: MutableWireStorage {
    @inlinable var mutableBytes: UnsafeMutableRawBufferPointer { storage.wireMutableBytes }
    /// Sets payload length; the caller keeps it within the buffer.
    @inlinable public func setPayloadLength(_ v: UInt16) { mutableBytes.setBE16(4, v) }
    @inlinable public func setNextHeader(_ v: UInt8) { mutableBytes.setU8(6, v) }
    @inlinable public func setHopLimit(_ v: UInt8) { mutableBytes.setU8(7, v) }
    @inlinable public func setSourceAddress(_ a: IPv6Address) { a.write(to: mutableBytes, at: 8) }
    @inlinable public func setDestinationAddress(_ a: IPv6Address) { a.write(to: mutableBytes, at: 24) }
    @inlinable public func setTrafficClass(_ tc: UInt8) {
        let word = bytes.be32(0) & 0xF00F_FFFF | UInt32(tc) << 20
        mutableBytes.setBE32(0, word)
    }
}

public typealias IPv6Header = IPv6Packet<UnsafeRawBufferPointer>
public typealias MutableIPv6Header = IPv6Packet<UnsafeMutableRawBufferPointer>

public struct IPv6Fields: Hashable, Sendable {
    public var trafficClass: UInt8 = 0
    public var flowLabel: UInt32 = 0
    public var nextHeader: UInt8
    public var hopLimit: UInt8 = 64
    public var sourceAddress: IPv6Address
    public var destinationAddress: IPv6Address

    public init(
        nextHeader: UInt8, sourceAddress: IPv6Address, destinationAddress: IPv6Address,
        hopLimit: UInt8 = 64, trafficClass: UInt8 = 0, flowLabel: UInt32 = 0
    ) {
        self.nextHeader = nextHeader
        self.sourceAddress = sourceAddress
        self.destinationAddress = destinationAddress
        self.hopLimit = hopLimit
        self.trafficClass = trafficClass
        self.flowLabel = flowLabel
    }

    @inlinable public init<S>(_ p: IPv6Packet<S>) {
        trafficClass = p.trafficClass
        flowLabel = p.flowLabel
        nextHeader = p.nextHeader
        hopLimit = p.hopLimit
        sourceAddress = p.sourceAddress
        destinationAddress = p.destinationAddress
    }

    public var headerLength: Int { 40 }

    /// Writes the fixed header for `payloadLength` bytes after it (extension headers included).
    @inlinable @discardableResult
    public func emit(into buffer: UnsafeMutableRawBufferPointer, payloadLength: Int) throws(WireError) -> Int {
        guard payloadLength >= 0, payloadLength <= 0xFFFF, flowLabel <= 0xF_FFFF else {
            throw WireError(.ipv6, .fieldOutOfRange)
        }
        try requireSpace(buffer, 40, .ipv6)
        buffer.setBE32(0, 6 << 28 | UInt32(trafficClass) << 20 | flowLabel)
        buffer.setBE16(4, UInt16(payloadLength))
        buffer.setU8(6, nextHeader)
        buffer.setU8(7, hopLimit)
        sourceAddress.write(to: buffer, at: 8)
        destinationAddress.write(to: buffer, at: 24)
        return 40
    }
}

extension IPv6Packet { public typealias Fields = IPv6Fields }
