/// VXLAN header (RFC 7348 §5): flags 8 (I = 0x08) | reserved 24 | VNI 24 | reserved 8.
/// The view requires the I flag (a VNI without it is not valid, and Linux drops it); other
/// reserved bits are ignored on receipt as the RFC says.
public struct VXLANPacket<Storage: WireStorage> {
    public static var headerLength: Int { 8 }
    public static var flagVNIValid: UInt8 { 0x08 }
    public let storage: Storage

    @inlinable @inline(__always) public init(_ storage: Storage) throws(WireError) {
        try requireBytes(storage.wireBytes, 8, .vxlan)
        guard storage.wireBytes.u8(0) & 0x08 != 0 else { throw WireError(.vxlan, .invalidFlags) }
        self.storage = storage
    }

    @inlinable var bytes: UnsafeRawBufferPointer { storage.wireBytes }
    @inlinable public var flags: UInt8 { bytes.u8(0) }
    @inlinable public var vni: UInt32 { bytes.be32(4) >> 8 }
    @inlinable public var payload: UnsafeRawBufferPointer { bytes.tail(8) }
}

extension VXLANPacket where Storage: MutableWireStorage {
    @inlinable public func setVNI(_ vni: UInt32) {
        let b = storage.wireMutableBytes
        b.setBE32(4, (vni & 0xFF_FFFF) << 8 | UInt32(bytes.u8(7)))
    }
}

public typealias VXLANHeader = VXLANPacket<UnsafeRawBufferPointer>
public typealias MutableVXLANHeader = VXLANPacket<UnsafeMutableRawBufferPointer>

public struct VXLANFields: Hashable, Sendable {
    public var vni: UInt32
    public init(vni: UInt32) { self.vni = vni }
    @inlinable public init<S>(_ p: VXLANPacket<S>) { vni = p.vni }
    public var headerLength: Int { 8 }

    @inlinable @discardableResult
    public func emit(into buffer: UnsafeMutableRawBufferPointer) throws(WireError) -> Int {
        guard vni <= 0xFF_FFFF else { throw WireError(.vxlan, .fieldOutOfRange) }
        try requireSpace(buffer, 8, .vxlan)
        buffer.setBE32(0, 0x0800_0000)
        buffer.setBE32(4, vni << 8)
        return 8
    }
}

extension VXLANPacket { public typealias Fields = VXLANFields }

/// VXLAN-GPE next-protocol values.
public enum VXLANGPENextProtocol {
    public static let ipv4: UInt8 = 1
    public static let ipv6: UInt8 = 2
    public static let ethernet: UInt8 = 3
    public static let nsh: UInt8 = 4
}

/// VXLAN-GPE (draft-ietf-nvo3-vxlan-gpe): flags (Ver 2 at bits 4-5, I 0x08, P 0x04, B 0x02,
/// O 0x01) | reserved 16 | next protocol 8 | VNI 24 | reserved 8. The view requires version 0
/// and the P bit (the next-protocol field is what GPE adds).
public struct VXLANGPEPacket<Storage: WireStorage> {
    public static var headerLength: Int { 8 }
    public let storage: Storage

    @inlinable @inline(__always) public init(_ storage: Storage) throws(WireError) {
        let b = storage.wireBytes
        try requireBytes(b, 8, .vxlanGPE)
        guard b.u8(0) & 0x30 == 0 else { throw WireError(.vxlanGPE, .unsupportedVersion) }
        guard b.u8(0) & 0x04 != 0 else { throw WireError(.vxlanGPE, .invalidFlags) }
        self.storage = storage
    }

    @inlinable var bytes: UnsafeRawBufferPointer { storage.wireBytes }
    @inlinable public var flags: UInt8 { bytes.u8(0) }
    @inlinable public var version: UInt8 { bytes.u8(0) >> 4 & 3 }
    @inlinable public var vniValid: Bool { bytes.u8(0) & 0x08 != 0 }
    @inlinable public var isOAM: Bool { bytes.u8(0) & 0x01 != 0 }
    @inlinable public var nextProtocol: UInt8 { bytes.u8(3) }
    @inlinable public var vni: UInt32 { bytes.be32(4) >> 8 }
    @inlinable public var payload: UnsafeRawBufferPointer { bytes.tail(8) }
}

public typealias VXLANGPEHeader = VXLANGPEPacket<UnsafeRawBufferPointer>

public struct VXLANGPEFields: Hashable, Sendable {
    public var vni: UInt32
    public var nextProtocol: UInt8
    public var isOAM = false
    public init(vni: UInt32, nextProtocol: UInt8) {
        self.vni = vni
        self.nextProtocol = nextProtocol
    }
    @inlinable public init<S>(_ p: VXLANGPEPacket<S>) {
        vni = p.vni
        nextProtocol = p.nextProtocol
        isOAM = p.isOAM
    }
    public var headerLength: Int { 8 }

    @inlinable @discardableResult
    public func emit(into buffer: UnsafeMutableRawBufferPointer) throws(WireError) -> Int {
        guard vni <= 0xFF_FFFF else { throw WireError(.vxlanGPE, .fieldOutOfRange) }
        try requireSpace(buffer, 8, .vxlanGPE)
        buffer.setU8(0, 0x08 | 0x04 | (isOAM ? 0x01 : 0))
        buffer.setBE16(1, 0)
        buffer.setU8(3, nextProtocol)
        buffer.setBE32(4, vni << 8)
        return 8
    }
}

extension VXLANGPEPacket { public typealias Fields = VXLANGPEFields }
