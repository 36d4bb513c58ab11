/// Generic UDP Encapsulation (draft-ietf-intarea-gue), as Linux implements it (net/gue.h).
///
/// Variant 0: Ver 2 (=0) | C 1 | Hlen 5 (words of optional fields) | proto/ctype 8 | flags 16,
/// then `Hlen * 4` bytes of optional fields. Linux defines one flag, P (0x0001 in the flags
/// field, "private data present", 4 bytes), whose first word holds private flags; private
/// flag 0x80000000 is remote checksum offload (csum_start 16 | csum_offset 16, 4 more bytes).
/// Variant 1 has no GUE header: the UDP payload starts with an IPv4 or IPv6 header, so its
/// first two bits read 01.
public struct GUEPacket<Storage: WireStorage> {
    public static var flagPrivate: UInt16 { 0x0001 }
    public static var privateFlagRemoteChecksum: UInt32 { 0x8000_0000 }
    public let storage: Storage

    /// Checks 4 bytes, variant 0 or 1, and for variant 0: only known flags, optional fields
    /// that fit in Hlen, and Hlen bytes present.
    @inlinable @inline(__always) public init(_ storage: Storage) throws(WireError) {
        let b = storage.wireBytes
        try requireBytes(b, 1, .gue)
        let variant = b.u8(0) >> 6
        if variant == 1 {
            self.storage = storage
            return
        }
        guard variant == 0 else { throw WireError(.gue, .unsupportedVersion) }
        try requireBytes(b, 4, .gue)
        let hlen = Int(b.u8(0) & 0x1F) * 4
        try requireBytes(b, 4 + hlen, .gue)
        let flags = b.be16(2)
        if b.u8(0) & 0x20 == 0 {  // data message: flags describe optional fields
            guard flags & ~Self.flagPrivate == 0 else { throw WireError(.gue, .invalidFlags) }
            var needed = 0
            if flags & Self.flagPrivate != 0 {
                needed += 4
                guard hlen >= needed else { throw WireError(.gue, .lengthMismatch, needed: needed, available: hlen) }
                let pflags = b.be32(4)
                guard pflags & ~Self.privateFlagRemoteChecksum == 0 else { throw WireError(.gue, .invalidFlags) }
                if pflags & Self.privateFlagRemoteChecksum != 0 { needed += 4 }
            }
            guard needed <= hlen else { throw WireError(.gue, .lengthMismatch, needed: needed, available: hlen) }
        }
        self.storage = storage
    }

    @inlinable var bytes: UnsafeRawBufferPointer { storage.wireBytes }
    /// 0: GUE header present; 1: direct IP encapsulation.
    @inlinable public var variant: UInt8 { bytes.u8(0) >> 6 }
    @inlinable public var isControl: Bool { variant == 0 && bytes.u8(0) & 0x20 != 0 }
    /// Header length in bytes: 4 + Hlen*4 for variant 0, 0 for variant 1.
    @inlinable public var headerLength: Int { variant == 1 ? 0 : 4 + Int(bytes.u8(0) & 0x1F) * 4 }
    /// IP protocol number of the payload (data) or control type (control).
    @inlinable public var protocolOrControlType: UInt8? { variant == 1 ? nil : bytes.u8(1) }
    @inlinable public var flags: UInt16 { variant == 1 ? 0 : bytes.be16(2) }
    @inlinable public var privateFlags: UInt32? {
        flags & Self.flagPrivate != 0 && !isControl ? bytes.be32(4) : nil
    }
    /// Remote checksum offload: where the checksum starts and where the field is, both
    /// relative to the start of the GUE payload.
    @inlinable public var remoteChecksumOffload: (start: UInt16, offset: UInt16)? {
        guard let p = privateFlags, p & Self.privateFlagRemoteChecksum != 0 else { return nil }
        return (bytes.be16(8), bytes.be16(10))
    }
    /// The IP protocol the payload holds: proto field, or 4/41 from the version nibble.
    @inlinable public var payloadProtocol: UInt8? {
        if variant == 1 { return bytes.u8(0) >> 4 == 6 ? IPProtocol.ipv6 : IPProtocol.ipv4 }
        return isControl ? nil : bytes.u8(1)
    }
    @inlinable public var payload: UnsafeRawBufferPointer { bytes.tail(headerLength) }
}

public typealias GUEHeader = GUEPacket<UnsafeRawBufferPointer>

/// Builds a variant 0 data header with optional remote checksum offload.
public struct GUEFields: Hashable, Sendable {
    public var protocolNumber: UInt8
    public var remoteChecksumStart: UInt16?
    public var remoteChecksumOffset: UInt16 = 0

    public init(protocolNumber: UInt8, remoteChecksumStart: UInt16? = nil, remoteChecksumOffset: UInt16 = 0) {
        self.protocolNumber = protocolNumber
        self.remoteChecksumStart = remoteChecksumStart
        self.remoteChecksumOffset = remoteChecksumOffset
    }

    @inlinable public init?<S>(_ p: GUEPacket<S>) {
        guard p.variant == 0, !p.isControl, let proto = p.protocolOrControlType else { return nil }
        protocolNumber = proto
        if let rco = p.remoteChecksumOffload {
            remoteChecksumStart = rco.start
            remoteChecksumOffset = rco.offset
        }
    }

    public var headerLength: Int { remoteChecksumStart == nil ? 4 : 12 }

    @inlinable @discardableResult
    public func emit(into buffer: UnsafeMutableRawBufferPointer) throws(WireError) -> Int {
        let hl = headerLength
        try requireSpace(buffer, hl, .gue)
        buffer.setU8(0, UInt8((hl - 4) / 4))
        buffer.setU8(1, protocolNumber)
        if let start = remoteChecksumStart {
            buffer.setBE16(2, GUEPacket<UnsafeRawBufferPointer>.flagPrivate)
            buffer.setBE32(4, GUEPacket<UnsafeRawBufferPointer>.privateFlagRemoteChecksum)
            buffer.setBE16(8, start)
            buffer.setBE16(10, remoteChecksumOffset)
        } else {
            buffer.setBE16(2, 0)
        }
        return hl
    }
}

extension GUEPacket { public typealias Fields = GUEFields }
