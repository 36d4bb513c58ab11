/// A 48-bit IEEE 802 MAC address, held in the low 48 bits of an integer (first byte highest).
public struct EthernetAddress: Hashable, Sendable, CustomStringConvertible {
    public var value: UInt64

    @inlinable public init(_ value: UInt64) { self.value = value & 0xFFFF_FFFF_FFFF }

    public init(_ b0: UInt8, _ b1: UInt8, _ b2: UInt8, _ b3: UInt8, _ b4: UInt8, _ b5: UInt8) {
        self.init(
            UInt64(b0) << 40 | UInt64(b1) << 32 | UInt64(b2) << 24 | UInt64(b3) << 16 | UInt64(b4) << 8
                | UInt64(b5))
    }

    @inlinable public init(reading bytes: UnsafeRawBufferPointer, at offset: Int) {
        value = UInt64(bytes.be32(offset)) << 16 | UInt64(bytes.be16(offset + 4))
    }

    @inlinable public func write(to bytes: UnsafeMutableRawBufferPointer, at offset: Int) {
        bytes.setBE32(offset, UInt32(truncatingIfNeeded: value >> 16))
        bytes.setBE16(offset + 4, UInt16(truncatingIfNeeded: value))
    }

    public static let broadcast = EthernetAddress(0xFFFF_FFFF_FFFF)
    public var isMulticast: Bool { value & 0x0100_0000_0000 != 0 }

    public var description: String {
        (0..<6).map { i in
            let byte = UInt8(truncatingIfNeeded: value >> UInt64(40 - 8 * i))
            return (byte < 16 ? "0" : "") + String(byte, radix: 16)
        }.joined(separator: ":")
    }
}

/// EtherType values tunnelpmd dispatches on (IEEE 802 numbers).
public enum EtherType {
    public static let ipv4: UInt16 = 0x0800
    public static let arp: UInt16 = 0x0806
    public static let vlan: UInt16 = 0x8100  // 802.1Q C-tag
    public static let qinq: UInt16 = 0x88A8  // 802.1ad S-tag
    public static let qinqLegacy: UInt16 = 0x9100  // pre-standard S-tag, still seen
    public static let ipv6: UInt16 = 0x86DD
    public static let transparentEthernetBridging: UInt16 = 0x6558  // GRE/Geneve "Ethernet inside"
    public static let nsh: UInt16 = 0x894F

    @inlinable public static func isVLANTag(_ type: UInt16) -> Bool {
        type == vlan || type == qinq || type == qinqLegacy
    }
}

/// Ethernet II header: destination, source, EtherType (14 bytes).
public struct EthernetFrame<Storage: WireStorage> {
    public static var headerLength: Int { 14 }
    public let storage: Storage

    /// Checks the buffer holds the 14-byte header; the payload is whatever follows.
    @inlinable public init(_ storage: Storage) throws(WireError) {
        try requireBytes(storage.wireBytes, 14, .ethernet)
        self.storage = storage
    }

    @inlinable var bytes: UnsafeRawBufferPointer { storage.wireBytes }
    @inlinable public var destination: EthernetAddress { EthernetAddress(reading: bytes, at: 0) }
    @inlinable public var source: EthernetAddress { EthernetAddress(reading: bytes, at: 6) }
    @inlinable public var etherType: UInt16 { bytes.be16(12) }
    @inlinable public var payload: UnsafeRawBufferPointer { bytes.tail(14) }
}

extension EthernetFrame where Storage: MutableWireStorage {
    @inlinable public func setDestination(_ a: EthernetAddress) { a.write(to: storage.wireMutableBytes, at: 0) }
    @inlinable public func setSource(_ a: EthernetAddress) { a.write(to: storage.wireMutableBytes, at: 6) }
    @inlinable public func setEtherType(_ t: UInt16) { storage.wireMutableBytes.setBE16(12, t) }
}

public typealias EthernetHeader = EthernetFrame<UnsafeRawBufferPointer>
public typealias MutableEthernetHeader = EthernetFrame<UnsafeMutableRawBufferPointer>

/// The fields of an Ethernet II header, for building one.
public struct EthernetFields: Hashable, Sendable {
    public var destination: EthernetAddress
    public var source: EthernetAddress
    public var etherType: UInt16

    public init(destination: EthernetAddress, source: EthernetAddress, etherType: UInt16) {
        self.destination = destination
        self.source = source
        self.etherType = etherType
    }

    @inlinable public init<S>(_ frame: EthernetFrame<S>) {
        destination = frame.destination
        source = frame.source
        etherType = frame.etherType
    }

    public var headerLength: Int { 14 }

    /// Writes the header at the start of `buffer`; returns the bytes written.
    @inlinable @discardableResult
    public func emit(into buffer: UnsafeMutableRawBufferPointer) throws(WireError) -> Int {
        try requireSpace(buffer, 14, .ethernet)
        destination.write(to: buffer, at: 0)
        source.write(to: buffer, at: 6)
        buffer.setBE16(12, etherType)
        return 14
    }
}

extension EthernetFrame { public typealias Fields = EthernetFields }
