/// STT header flag bits (draft-davie-stt §3.1).
public struct STTFlags: OptionSet, Hashable, Sendable {
    public var rawValue: UInt8
    @inlinable public init(rawValue: UInt8) { self.rawValue = rawValue }
    public static let checksumVerified = STTFlags(rawValue: 1 << 0)
    public static let checksumPartial = STTFlags(rawValue: 1 << 1)
    public static let ipv4 = STTFlags(rawValue: 1 << 2)
    public static let tcpPayload = STTFlags(rawValue: 1 << 3)
}

/// STT (draft-davie-stt-08) frame header, 18 bytes, carried after a TCP-like header to port
/// 7471 on the first segment of an STT frame only:
/// version 8 (0) | flags 8 | L4 offset 8 | reserved 8 | MSS 16 | PCP 3, V 1, VLAN ID 12 |
/// context ID 64 | padding 16. The encapsulated Ethernet frame follows.
public struct STTPacket<Storage: WireStorage> {
    public static var headerLength: Int { 18 }
    public static var tcpPort: UInt16 { 7471 }
    public let storage: Storage

    @inlinable public init(_ storage: Storage) throws(WireError) {
        try requireBytes(storage.wireBytes, 18, .stt)
        guard storage.wireBytes.u8(0) == 0 else { throw WireError(.stt, .unsupportedVersion) }
        self.storage = storage
    }

    @inlinable var bytes: UnsafeRawBufferPointer { storage.wireBytes }
    @inlinable public var version: UInt8 { bytes.u8(0) }
    @inlinable public var flags: STTFlags { STTFlags(rawValue: bytes.u8(1)) }
    /// Offset of the inner L4 header from the end of this STT header.
    @inlinable public var l4Offset: UInt8 { bytes.u8(2) }
    @inlinable public var maximumSegmentSize: UInt16 { bytes.be16(4) }
    @inlinable public var priorityCodePoint: UInt8 { UInt8(bytes.be16(6) >> 13) }
    @inlinable public var vlanIDValid: Bool { bytes.be16(6) & 0x1000 != 0 }
    @inlinable public var vlanID: UInt16 { bytes.be16(6) & 0x0FFF }
    @inlinable public var contextID: UInt64 { bytes.be64(8) }
    @inlinable public var payload: UnsafeRawBufferPointer { bytes.tail(18) }

    /// STT's reuse of TCP fields: sequence = frame length << 16 | fragment offset.
    @inlinable public static func frameLength(sequenceNumber: UInt32) -> Int { Int(sequenceNumber >> 16) }
    @inlinable public static func fragmentOffset(sequenceNumber: UInt32) -> Int { Int(sequenceNumber & 0xFFFF) }
    @inlinable public static func sequenceNumber(frameLength: Int, fragmentOffset: Int) -> UInt32 {
        UInt32(truncatingIfNeeded: frameLength) << 16 | UInt32(truncatingIfNeeded: fragmentOffset & 0xFFFF)
    }
}

public typealias STTHeader = STTPacket<UnsafeRawBufferPointer>

public struct STTFields: Hashable, Sendable {
    public var flags: STTFlags = []
    public var l4Offset: UInt8 = 0
    public var maximumSegmentSize: UInt16 = 0
    public var priorityCodePoint: UInt8 = 0
    public var vlanID: UInt16?
    public var contextID: UInt64

    public init(contextID: UInt64, flags: STTFlags = [], l4Offset: UInt8 = 0,
                maximumSegmentSize: UInt16 = 0, vlanID: UInt16? = nil, priorityCodePoint: UInt8 = 0) {
        self.contextID = contextID
        self.flags = flags
        self.l4Offset = l4Offset
        self.maximumSegmentSize = maximumSegmentSize
        self.vlanID = vlanID
        self.priorityCodePoint = priorityCodePoint
    }

    @inlinable public init<S>(_ p: STTPacket<S>) {
        flags = p.flags
        l4Offset = p.l4Offset
        maximumSegmentSize = p.maximumSegmentSize
        priorityCodePoint = p.priorityCodePoint
        vlanID = p.vlanIDValid ? p.vlanID : nil
        contextID = p.contextID
    }

    public var headerLength: Int { 18 }

    @inlinable @discardableResult
    public func emit(into buffer: UnsafeMutableRawBufferPointer) throws(WireError) -> Int {
        guard priorityCodePoint < 8, (vlanID ?? 0) < 4096 else { throw WireError(.stt, .fieldOutOfRange) }
        try requireSpace(buffer, 18, .stt)
        buffer.setU8(0, 0)
        buffer.setU8(1, flags.rawValue)
        buffer.setU8(2, l4Offset)
        buffer.setU8(3, 0)
        buffer.setBE16(4, maximumSegmentSize)
        let tci = UInt16(priorityCodePoint) << 13 | (vlanID != nil ? 0x1000 : 0) | (vlanID ?? 0)
        buffer.setBE16(6, tci)
        buffer.setBE64(8, contextID)
        buffer.setBE16(16, 0)
        return 18
    }
}

extension STTPacket { public typealias Fields = STTFields }
