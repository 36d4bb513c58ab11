/// UDP header (RFC 768). The view checks 8 bytes and 8 <= length <= buffer; the parser
/// separately checks that the length agrees with the IP payload.
public struct UDPPacket<Storage: WireStorage> {
    public static var headerLength: Int { 8 }
    public let storage: Storage

    @inlinable @inline(__always) public init(_ storage: Storage) throws(WireError) {
        let b = storage.wireBytes
        try requireBytes(b, 8, .udp)
        let length = Int(b.be16(4))
        guard length >= 8 else { throw WireError(.udp, .headerLengthTooShort, needed: 8, available: length) }
        guard length <= b.count else { throw WireError(.udp, .truncated, needed: length, available: b.count) }
        self.storage = storage
    }

    @inlinable var bytes: UnsafeRawBufferPointer { storage.wireBytes }
    @inlinable public var sourcePort: UInt16 { bytes.be16(0) }
    @inlinable public var destinationPort: UInt16 { bytes.be16(2) }
    @inlinable public var length: Int { Int(bytes.be16(4)) }
    @inlinable public var checksum: UInt16 { bytes.be16(6) }
    @inlinable public var payload: UnsafeRawBufferPointer { bytes.slice(8, length - 8) }
    /// The header and payload (`length` bytes), what the checksum covers after the pseudo-header.
    @inlinable public var datagram: UnsafeRawBufferPointer { bytes.slice(0, length) }

    /// True when the checksum is absent (0, allowed over IPv4) or right for `pseudoHeaderSum`.
    @inlinable public func verifyChecksum(pseudoHeaderSum: UInt16) -> Bool {
        if checksum == 0 { return true }
        return InternetChecksum.add(pseudoHeaderSum, InternetChecksum.sum(datagram)) == 0xFFFF
    }
}

extension UDPPacket where Storage: MutableWireStorage {
    @inlinable public func setSourcePort(_ v: UInt16) { storage.wireMutableBytes.setBE16(0, v) }
    @inlinable public func setDestinationPort(_ v: UInt16) { storage.wireMutableBytes.setBE16(2, v) }
    /// Sets the length; the caller keeps it within the buffer.
    @inlinable public func setLength(_ v: UInt16) { storage.wireMutableBytes.setBE16(4, v) }
    @inlinable public func setChecksum(_ v: UInt16) { storage.wireMutableBytes.setBE16(6, v) }
    /// Computes and stores the checksum over the datagram and `pseudoHeaderSum` (which must
    /// include the length).
    @inlinable public func fillChecksum(pseudoHeaderSum: UInt16) {
        setChecksum(0)
        let sum = InternetChecksum.add(pseudoHeaderSum, InternetChecksum.sum(datagram))
        setChecksum(InternetChecksum.udpField(~sum))
    }
}

public typealias UDPHeader = UDPPacket<UnsafeRawBufferPointer>
public typealias MutableUDPHeader = UDPPacket<UnsafeMutableRawBufferPointer>

public struct UDPFields: Hashable, Sendable {
    public var sourcePort: UInt16
    public var destinationPort: UInt16
    /// Written as is; fill it afterwards with `UDPPacket.fillChecksum` or leave 0 (IPv4 only).
    public var checksum: UInt16

    public init(sourcePort: UInt16, destinationPort: UInt16, checksum: UInt16 = 0) {
        self.sourcePort = sourcePort
        self.destinationPort = destinationPort
        self.checksum = checksum
    }

    @inlinable public init<S>(_ p: UDPPacket<S>) {
        sourcePort = p.sourcePort
        destinationPort = p.destinationPort
        checksum = p.checksum
    }

    public var headerLength: Int { 8 }

    @inlinable @discardableResult
    public func emit(into buffer: UnsafeMutableRawBufferPointer, payloadLength: Int) throws(WireError) -> Int {
        guard payloadLength >= 0, payloadLength + 8 <= 0xFFFF else { throw WireError(.udp, .fieldOutOfRange) }
        try requireSpace(buffer, 8, .udp)
        buffer.setBE16(0, sourcePort)
        buffer.setBE16(2, destinationPort)
        buffer.setBE16(4, UInt16(payloadLength + 8))
        buffer.setBE16(6, checksum)
        return 8
    }
}

extension UDPPacket { public typealias Fields = UDPFields }
