/// GRE header (RFC 2784 with the RFC 2890 key and sequence extensions):
/// C 0x8000 | R 0x4000 | K 0x2000 | S 0x1000 | ... | Ver 3 bits, protocol type 16, then
/// checksum + reserved1 (if C), key (if K), sequence number (if S), 4 bytes each.
///
/// The view rejects version != 0 (1 is PPTP's enhanced GRE) and the RFC 1701 routing bit,
/// as Linux does, and checks the optional fields are present.
public struct GREPacket<Storage: WireStorage> {
    public static var flagChecksum: UInt16 { 0x8000 }
    public static var flagRouting: UInt16 { 0x4000 }
    public static var flagKey: UInt16 { 0x2000 }
    public static var flagSequence: UInt16 { 0x1000 }
    public let storage: Storage

    @inlinable @inline(__always) public init(_ storage: Storage) throws(WireError) {
        let b = storage.wireBytes
        try requireBytes(b, 4, .gre)
        let word = b.be16(0)
        guard word & 0x7 == 0 else { throw WireError(.gre, .unsupportedVersion) }
        guard word & 0x4000 == 0 else { throw WireError(.gre, .invalidFlags) }
        try requireBytes(b, Self.headerLength(flags: word), .gre)
        self.storage = storage
    }

    @inlinable static func headerLength(flags: UInt16) -> Int {
        4 + (flags & 0x8000 != 0 ? 4 : 0) + (flags & 0x2000 != 0 ? 4 : 0) + (flags & 0x1000 != 0 ? 4 : 0)
    }

    @inlinable var bytes: UnsafeRawBufferPointer { storage.wireBytes }
    @inlinable public var flagsAndVersion: UInt16 { bytes.be16(0) }
    @inlinable public var checksumPresent: Bool { flagsAndVersion & 0x8000 != 0 }
    @inlinable public var keyPresent: Bool { flagsAndVersion & 0x2000 != 0 }
    @inlinable public var sequencePresent: Bool { flagsAndVersion & 0x1000 != 0 }
    @inlinable public var version: UInt8 { UInt8(flagsAndVersion & 7) }
    @inlinable public var protocolType: UInt16 { bytes.be16(2) }
    @inlinable public var headerLength: Int { Self.headerLength(flags: flagsAndVersion) }
    @inlinable public var checksum: UInt16? { checksumPresent ? bytes.be16(4) : nil }
    @inlinable public var key: UInt32? {
        keyPresent ? bytes.be32(checksumPresent ? 8 : 4) : nil
    }
    @inlinable public var sequenceNumber: UInt32? {
        sequencePresent ? bytes.be32(headerLength - 4) : nil
    }
    /// NVGRE (RFC 7637): key present, no checksum or sequence, protocol 0x6558 (TEB).
    @inlinable public var isNVGRE: Bool {
        flagsAndVersion & 0xB000 == 0x2000 && protocolType == EtherType.transparentEthernetBridging
    }
    /// NVGRE's Virtual Subnet ID: the key's upper 24 bits.
    @inlinable public var virtualSubnetID: UInt32? { key.map { $0 >> 8 } }
    /// NVGRE's FlowID: the key's low 8 bits.
    @inlinable public var flowID: UInt8? { key.map { UInt8(truncatingIfNeeded: $0) } }
    @inlinable public var payload: UnsafeRawBufferPointer { bytes.tail(headerLength) }
}

public typealias GREHeader = GREPacket<UnsafeRawBufferPointer>

public struct GREFields: Hashable, Sendable {
    public var protocolType: UInt16
    /// With C set the checksum covers the GRE header and payload; `emit` writes 0 there and
    /// the caller fills it once the payload is in place (`GREFields.fillChecksum`).
    public var checksumPresent = false
    public var key: UInt32?
    public var sequenceNumber: UInt32?

    public init(protocolType: UInt16, key: UInt32? = nil, sequenceNumber: UInt32? = nil, checksumPresent: Bool = false) {
        self.protocolType = protocolType
        self.key = key
        self.sequenceNumber = sequenceNumber
        self.checksumPresent = checksumPresent
    }

    /// NVGRE: TEB protocol, key = VSID << 8 | FlowID.
    public static func nvgre(virtualSubnetID: UInt32, flowID: UInt8 = 0) -> GREFields {
        GREFields(protocolType: EtherType.transparentEthernetBridging, key: virtualSubnetID << 8 | UInt32(flowID))
    }

    @inlinable public init<S>(_ p: GREPacket<S>) {
        protocolType = p.protocolType
        checksumPresent = p.checksumPresent
        key = p.key
        sequenceNumber = p.sequenceNumber
    }

    public var headerLength: Int {
        4 + (checksumPresent ? 4 : 0) + (key != nil ? 4 : 0) + (sequenceNumber != nil ? 4 : 0)
    }

    @inlinable @discardableResult
    public func emit(into buffer: UnsafeMutableRawBufferPointer) throws(WireError) -> Int {
        let hl = headerLength
        try requireSpace(buffer, hl, .gre)
        var flags: UInt16 = 0
        if checksumPresent { flags |= 0x8000 }
        if key != nil { flags |= 0x2000 }
        if sequenceNumber != nil { flags |= 0x1000 }
        buffer.setBE16(0, flags)
        buffer.setBE16(2, protocolType)
        var at = 4
        if checksumPresent {
            buffer.setBE32(at, 0)
            at += 4
        }
        if let key {
            buffer.setBE32(at, key)
            at += 4
        }
        if let sequenceNumber { buffer.setBE32(at, sequenceNumber) }
        return hl
    }

    /// Fills the GRE checksum over `packet` (GRE header + payload) when C is set.
    public static func fillChecksum(_ packet: UnsafeMutableRawBufferPointer) {
        guard packet.count >= 8, UnsafeRawBufferPointer(packet).be16(0) & 0x8000 != 0 else { return }
        packet.setBE16(4, 0)
        packet.setBE16(4, InternetChecksum.checksum(UnsafeRawBufferPointer(packet)))
    }
}

extension GREPacket { public typealias Fields = GREFields }
