/// IPv4 header (RFC 791) with its options.
///
/// The initialiser checks: 20 bytes present, version 4, IHL >= 5, IHL*4 bytes present,
/// IHL*4 <= total length <= buffer, and that the options are well formed. After that every
/// accessor is in bounds. Bytes after `totalLength` (Ethernet padding) are not part of `payload`.
public struct IPv4Packet<Storage: WireStorage> {
    public static var minimumHeaderLength: Int { 20 }
    public let storage: Storage

    @inlinable @inline(__always) public init(_ storage: Storage) throws(WireError) {
        let b = storage.wireBytes
        try requireBytes(b, 20, .ipv4)
        guard b.u8(0) >> 4 == 4 else { throw WireError(.ipv4, .unsupportedVersion) }
        let ihl = Int(b.u8(0) & 0x0F) * 4
        guard ihl >= 20 else { throw WireError(.ipv4, .headerLengthTooShort, needed: 20, available: ihl) }
        try requireBytes(b, ihl, .ipv4)
        let total = Int(b.be16(2))
        guard total >= ihl else { throw WireError(.ipv4, .lengthMismatch, needed: ihl, available: total) }
        guard total <= b.count else { throw WireError(.ipv4, .truncated, needed: total, available: b.count) }
        try IPv4OptionIterator.validate(b.slice(20, ihl - 20))
        self.storage = storage
    }

    @inlinable var bytes: UnsafeRawBufferPointer { storage.wireBytes }
    @inlinable public var version: UInt8 { bytes.u8(0) >> 4 }
    /// IHL in bytes (the field counts 32-bit words).
    @inlinable public var headerLength: Int { Int(bytes.u8(0) & 0x0F) * 4 }
    @inlinable public var typeOfService: UInt8 { bytes.u8(1) }
    @inlinable public var dscp: UInt8 { bytes.u8(1) >> 2 }
    @inlinable public var ecn: UInt8 { bytes.u8(1) & 3 }
    @inlinable public var totalLength: Int { Int(bytes.be16(2)) }
    @inlinable public var identification: UInt16 { bytes.be16(4) }
    @inlinable public var dontFragment: Bool { bytes.u8(6) & 0x40 != 0 }
    @inlinable public var moreFragments: Bool { bytes.u8(6) & 0x20 != 0 }
    /// Fragment offset in bytes (the field counts 8-byte units).
    @inlinable public var fragmentOffset: Int { Int(bytes.be16(6) & 0x1FFF) * 8 }
    @inlinable public var isFragment: Bool { bytes.be16(6) & 0x3FFF != 0 }
    @inlinable public var timeToLive: UInt8 { bytes.u8(8) }
    @inlinable public var `protocol`: UInt8 { bytes.u8(9) }
    @inlinable public var headerChecksum: UInt16 { bytes.be16(10) }
    @inlinable public var sourceAddress: IPv4Address { IPv4Address(bytes.be32(12)) }
    @inlinable public var destinationAddress: IPv4Address { IPv4Address(bytes.be32(16)) }
    @inlinable public var options: UnsafeRawBufferPointer { bytes.slice(20, headerLength - 20) }
    @inlinable public var optionIterator: IPv4OptionIterator { IPv4OptionIterator(options) }
    @inlinable public var header: UnsafeRawBufferPointer { bytes.slice(0, headerLength) }
    /// The bytes after the header up to `totalLength`.
    @inlinable public var payload: UnsafeRawBufferPointer {
        bytes.slice(headerLength, totalLength - headerLength)
    }
    /// True when the header checksum field is right (the header sums to 0xFFFF).
    @inlinable public var verifyChecksum: Bool { InternetChecksum.sum(header) == 0xFFFF }
}

extension IPv4Packet where Storage: MutableWireStorage {
    @inlinable var mutableBytes: UnsafeMutableRawBufferPointer { storage.wireMutableBytes }
    /// Sets total length. The view was checked against the old value only: the caller
    /// keeps it within the buffer (GSO/GRO rewrite it on buffers they sized).
    @inlinable public func setTotalLength(_ v: UInt16) { mutableBytes.setBE16(2, v) }
    @inlinable public func setIdentification(_ v: UInt16) { mutableBytes.setBE16(4, v) }
    @inlinable public func setTimeToLive(_ v: UInt8) { mutableBytes.setU8(8, v) }
    @inlinable public func setTypeOfService(_ v: UInt8) { mutableBytes.setU8(1, v) }
    @inlinable public func setFlagsAndFragmentOffset(_ v: UInt16) { mutableBytes.setBE16(6, v) }
    @inlinable public func setHeaderChecksum(_ v: UInt16) { mutableBytes.setBE16(10, v) }
    @inlinable public func setSourceAddress(_ a: IPv4Address) { mutableBytes.setBE32(12, a.value) }
    @inlinable public func setDestinationAddress(_ a: IPv4Address) { mutableBytes.setBE32(16, a.value) }
    /// Recomputes the header checksum over the current header bytes.
    @inlinable public func fillChecksum() {
        setHeaderChecksum(0)
        setHeaderChecksum(~InternetChecksum.sum(header))
    }
}

public typealias IPv4Header = IPv4Packet<UnsafeRawBufferPointer>
public typealias MutableIPv4Header = IPv4Packet<UnsafeMutableRawBufferPointer>

/// One IPv4 option: its type octet and data (after type and length; empty for EOL/NOP).
public struct IPv4Option {
    public var type: UInt8
    public var data: UnsafeRawBufferPointer
    @inlinable public init(type: UInt8, data: UnsafeRawBufferPointer) {
        self.type = type
        self.data = data
    }
    public static let endOfList: UInt8 = 0
    public static let noOperation: UInt8 = 1
}

/// Walks an option area. `validate` runs once when the view is built, so `next()` need not
/// check anything again and cannot fail.
public struct IPv4OptionIterator: IteratorProtocol, Sequence {
    @usableFromInline let area: UnsafeRawBufferPointer
    @usableFromInline var offset = 0

    @inlinable init(_ area: UnsafeRawBufferPointer) { self.area = area }

    @inlinable static func validate(_ area: UnsafeRawBufferPointer) throws(WireError) {
        var i = 0
        while i < area.count {
            let type = area.u8(i)
            if type == IPv4Option.endOfList { return }
            if type == IPv4Option.noOperation { i += 1; continue }
            guard i + 1 < area.count else {
                throw WireError(.ipv4Options, .optionOverrun, needed: i + 2, available: area.count)
            }
            let length = Int(area.u8(i + 1))
            guard length >= 2, i + length <= area.count else {
                throw WireError(.ipv4Options, .optionOverrun, needed: i + Swift.max(length, 2), available: area.count)
            }
            i += length
        }
    }

    @inlinable public mutating func next() -> IPv4Option? {
        guard offset < area.count else { return nil }
        let type = area.u8(offset)
        if type == IPv4Option.endOfList {
            offset = area.count
            return IPv4Option(type: type, data: UnsafeRawBufferPointer(start: nil, count: 0))
        }
        if type == IPv4Option.noOperation {
            offset += 1
            return IPv4Option(type: type, data: UnsafeRawBufferPointer(start: nil, count: 0))
        }
        let length = Int(area.u8(offset + 1))
        let option = IPv4Option(type: type, data: area.slice(offset + 2, length - 2))
        offset += length
        return option
    }
}

/// The fields of an IPv4 header, for building one. `totalLength` is given at emit time
/// (header + payload) because builders usually know the payload only then.
public struct IPv4Fields: Hashable, Sendable {
    public var typeOfService: UInt8 = 0
    public var identification: UInt16 = 0
    public var dontFragment: Bool = true
    public var moreFragments: Bool = false
    public var fragmentOffset: Int = 0
    public var timeToLive: UInt8 = 64
    public var `protocol`: UInt8
    public var sourceAddress: IPv4Address
    public var destinationAddress: IPv4Address
    public var options = HeaderOptions()

    public init(
        protocol: UInt8, sourceAddress: IPv4Address, destinationAddress: IPv4Address,
        timeToLive: UInt8 = 64, identification: UInt16 = 0, dontFragment: Bool = true
    ) {
        self.protocol = `protocol`
        self.sourceAddress = sourceAddress
        self.destinationAddress = destinationAddress
        self.timeToLive = timeToLive
        self.identification = identification
        self.dontFragment = dontFragment
    }

    @inlinable public init<S>(_ p: IPv4Packet<S>) {
        self.protocol = p.protocol
        sourceAddress = p.sourceAddress
        destinationAddress = p.destinationAddress
        typeOfService = p.typeOfService
        identification = p.identification
        dontFragment = p.dontFragment
        moreFragments = p.moreFragments
        fragmentOffset = p.fragmentOffset
        timeToLive = p.timeToLive
        options = (try? HeaderOptions(p.options)) ?? HeaderOptions()  // IHL bounds it to 40
    }

    public var headerLength: Int { 20 + options.count }

    /// Writes the header (checksum filled) for a packet carrying `payloadLength` bytes.
    @inlinable @discardableResult
    public func emit(into buffer: UnsafeMutableRawBufferPointer, payloadLength: Int) throws(WireError) -> Int {
        let hl = headerLength
        guard payloadLength >= 0, hl + payloadLength <= 0xFFFF, fragmentOffset % 8 == 0,
            fragmentOffset >> 3 < 0x2000
        else { throw WireError(.ipv4, .fieldOutOfRange) }
        if let problem = options.problem(IPv4OptionIterator.validate) { throw problem }
        try requireSpace(buffer, hl, .ipv4)
        buffer.setU8(0, 0x40 | UInt8(hl / 4))
        buffer.setU8(1, typeOfService)
        buffer.setBE16(2, UInt16(hl + payloadLength))
        buffer.setBE16(4, identification)
        let flags: UInt16 = (dontFragment ? 0x4000 : 0) | (moreFragments ? 0x2000 : 0)
        buffer.setBE16(6, flags | UInt16(fragmentOffset >> 3))
        buffer.setU8(8, timeToLive)
        buffer.setU8(9, self.protocol)
        buffer.setBE16(10, 0)
        buffer.setBE32(12, sourceAddress.value)
        buffer.setBE32(16, destinationAddress.value)
        options.withUnsafeBytes { buffer.copy($0, to: 20) }
        let sum = InternetChecksum.sum(UnsafeRawBufferPointer(rebasing: buffer[0..<hl]))
        buffer.setBE16(10, ~sum)
        return hl
    }
}

extension IPv4Packet { public typealias Fields = IPv4Fields }
