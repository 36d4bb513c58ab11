/// TCP control bits (RFC 9293 §3.1, plus the ECN bits of RFC 3168).
public struct TCPFlags: OptionSet, Hashable, Sendable {
    public var rawValue: UInt8
    @inlinable public init(rawValue: UInt8) { self.rawValue = rawValue }
    public static let fin = TCPFlags(rawValue: 0x01)
    public static let syn = TCPFlags(rawValue: 0x02)
    public static let rst = TCPFlags(rawValue: 0x04)
    public static let psh = TCPFlags(rawValue: 0x08)
    public static let ack = TCPFlags(rawValue: 0x10)
    public static let urg = TCPFlags(rawValue: 0x20)
    public static let ece = TCPFlags(rawValue: 0x40)
    public static let cwr = TCPFlags(rawValue: 0x80)
}

/// TCP header with options. The view checks 20 bytes, data offset >= 5, the whole header
/// present, and well-formed options (so `optionIterator` cannot fail). The segment's payload
/// is everything after the header in the buffer: TCP has no length of its own, so the caller
/// passes exactly the IP payload.
public struct TCPPacket<Storage: WireStorage> {
    public static var minimumHeaderLength: Int { 20 }
    public let storage: Storage

    @inlinable @inline(__always) public init(_ storage: Storage) throws(WireError) {
        let b = storage.wireBytes
        try requireBytes(b, 20, .tcp)
        let hl = Int(b.u8(12) >> 4) * 4
        guard hl >= 20 else { throw WireError(.tcp, .headerLengthTooShort, needed: 20, available: hl) }
        try requireBytes(b, hl, .tcp)
        try TCPOptionIterator.validate(b.slice(20, hl - 20))
        self.storage = storage
    }

    @inlinable var bytes: UnsafeRawBufferPointer { storage.wireBytes }
    @inlinable public var sourcePort: UInt16 { bytes.be16(0) }
    @inlinable public var destinationPort: UInt16 { bytes.be16(2) }
    @inlinable public var sequenceNumber: UInt32 { bytes.be32(4) }
    @inlinable public var acknowledgmentNumber: UInt32 { bytes.be32(8) }
    /// Data offset in bytes (the field counts 32-bit words).
    @inlinable public var headerLength: Int { Int(bytes.u8(12) >> 4) * 4 }
    @inlinable public var flags: TCPFlags { TCPFlags(rawValue: bytes.u8(13)) }
    @inlinable public var window: UInt16 { bytes.be16(14) }
    @inlinable public var checksum: UInt16 { bytes.be16(16) }
    @inlinable public var urgentPointer: UInt16 { bytes.be16(18) }
    @inlinable public var options: UnsafeRawBufferPointer { bytes.slice(20, headerLength - 20) }
    @inlinable public var optionIterator: TCPOptionIterator { TCPOptionIterator(options) }
    @inlinable public var parsedOptions: TCPOptions { TCPOptions(options) }
    @inlinable public var payload: UnsafeRawBufferPointer { bytes.tail(headerLength) }
    @inlinable public var segment: UnsafeRawBufferPointer { bytes }

    @inlinable public func verifyChecksum(pseudoHeaderSum: UInt16) -> Bool {
        InternetChecksum.add(pseudoHeaderSum, InternetChecksum.sum(bytes)) == 0xFFFF
    }
}

extension TCPPacket where Storage: MutableWireStorage {
    @inlinable var mutableBytes: UnsafeMutableRawBufferPointer { storage.wireMutableBytes }
    @inlinable public func setSourcePort(_ v: UInt16) { mutableBytes.setBE16(0, v) }
    @inlinable public func setDestinationPort(_ v: UInt16) { mutableBytes.setBE16(2, v) }
    @inlinable public func setSequenceNumber(_ v: UInt32) { mutableBytes.setBE32(4, v) }
    @inlinable public func setAcknowledgmentNumber(_ v: UInt32) { mutableBytes.setBE32(8, v) }
    @inlinable public func setFlags(_ f: TCPFlags) { mutableBytes.setU8(13, f.rawValue) }
    @inlinable public func setWindow(_ v: UInt16) { mutableBytes.setBE16(14, v) }
    @inlinable public func setChecksum(_ v: UInt16) { mutableBytes.setBE16(16, v) }
    @inlinable public func setUrgentPointer(_ v: UInt16) { mutableBytes.setBE16(18, v) }
    /// Computes and stores the checksum over the whole buffer and `pseudoHeaderSum` (with length).
    @inlinable public func fillChecksum(pseudoHeaderSum: UInt16) {
        setChecksum(0)
        setChecksum(~InternetChecksum.add(pseudoHeaderSum, InternetChecksum.sum(bytes)))
    }
}

public typealias TCPHeader = TCPPacket<UnsafeRawBufferPointer>
public typealias MutableTCPHeader = TCPPacket<UnsafeMutableRawBufferPointer>

public struct TCPFields: Hashable, Sendable {
    public var sourcePort: UInt16
    public var destinationPort: UInt16
    public var sequenceNumber: UInt32 = 0
    public var acknowledgmentNumber: UInt32 = 0
    public var flags: TCPFlags = []
    public var window: UInt16 = 65535
    /// Written as is; fill it afterwards with `TCPPacket.fillChecksum`.
    public var checksum: UInt16 = 0
    public var urgentPointer: UInt16 = 0
    /// Raw option bytes, padded to a multiple of 4 (build them with `TCPOptions.encode`).
    public var options = HeaderOptions()

    public init(
        sourcePort: UInt16, destinationPort: UInt16, sequenceNumber: UInt32 = 0,
        acknowledgmentNumber: UInt32 = 0, flags: TCPFlags = [], window: UInt16 = 65535
    ) {
        self.sourcePort = sourcePort
        self.destinationPort = destinationPort
        self.sequenceNumber = sequenceNumber
        self.acknowledgmentNumber = acknowledgmentNumber
        self.flags = flags
        self.window = window
    }

    @inlinable public init<S>(_ p: TCPPacket<S>) {
        sourcePort = p.sourcePort
        destinationPort = p.destinationPort
        sequenceNumber = p.sequenceNumber
        acknowledgmentNumber = p.acknowledgmentNumber
        flags = p.flags
        window = p.window
        checksum = p.checksum
        urgentPointer = p.urgentPointer
        options = (try? HeaderOptions(p.options)) ?? HeaderOptions()  // data offset bounds it to 40
    }

    public var headerLength: Int { 20 + options.count }

    @inlinable @discardableResult
    public func emit(into buffer: UnsafeMutableRawBufferPointer) throws(WireError) -> Int {
        let hl = headerLength
        if let problem = options.problem(TCPOptionIterator.validate) { throw problem }
        try requireSpace(buffer, hl, .tcp)
        buffer.setBE16(0, sourcePort)
        buffer.setBE16(2, destinationPort)
        buffer.setBE32(4, sequenceNumber)
        buffer.setBE32(8, acknowledgmentNumber)
        buffer.setU8(12, UInt8(hl / 4) << 4)
        buffer.setU8(13, flags.rawValue)
        buffer.setBE16(14, window)
        buffer.setBE16(16, checksum)
        buffer.setBE16(18, urgentPointer)
        options.withUnsafeBytes { buffer.copy($0, to: 20) }
        return hl
    }
}

extension TCPPacket { public typealias Fields = TCPFields }
