/// Geneve header (RFC 8926 §3.4): Ver 2 | Opt Len 6 (4-byte words) | O | C | rsvd 6 |
/// protocol type 16 | VNI 24 | rsvd 8, then `optionsLength` bytes of options.
///
/// The view checks version 0, the options present, and walks them once: each option's
/// length must stay inside the option area and they must fill it exactly.
public struct GenevePacket<Storage: WireStorage> {
    public static var fixedHeaderLength: Int { 8 }
    public let storage: Storage

    @inlinable @inline(__always) public init(_ storage: Storage) throws(WireError) {
        let b = storage.wireBytes
        try requireBytes(b, 8, .geneve)
        guard b.u8(0) >> 6 == 0 else { throw WireError(.geneve, .unsupportedVersion) }
        let total = 8 + Int(b.u8(0) & 0x3F) * 4
        try requireBytes(b, total, .geneve)
        try GeneveOptionIterator.validate(b.slice(8, total - 8))
        self.storage = storage
    }

    @inlinable var bytes: UnsafeRawBufferPointer { storage.wireBytes }
    @inlinable public var version: UInt8 { bytes.u8(0) >> 6 }
    /// Options length in bytes (the field counts 4-byte words).
    @inlinable public var optionsLength: Int { Int(bytes.u8(0) & 0x3F) * 4 }
    @inlinable public var headerLength: Int { 8 + optionsLength }
    /// O: an OAM/control packet, not data for the tenant.
    @inlinable public var isControl: Bool { bytes.u8(1) & 0x80 != 0 }
    /// C: at least one option has its critical bit set.
    @inlinable public var hasCriticalOptions: Bool { bytes.u8(1) & 0x40 != 0 }
    @inlinable public var protocolType: UInt16 { bytes.be16(2) }
    @inlinable public var vni: UInt32 { bytes.be32(4) >> 8 }
    @inlinable public var options: UnsafeRawBufferPointer { bytes.slice(8, optionsLength) }
    @inlinable public var optionIterator: GeneveOptionIterator { GeneveOptionIterator(options) }
    @inlinable public var payload: UnsafeRawBufferPointer { bytes.tail(headerLength) }

    /// True if any option carries the critical bit (whatever the C flag says).
    @inlinable public var anyOptionCritical: Bool {
        var it = optionIterator
        while let o = it.next() {
            if o.isCritical { return true }
        }
        return false
    }
}

public typealias GeneveHeader = GenevePacket<UnsafeRawBufferPointer>

/// One Geneve option TLV: class 16 | type 8 (top bit = critical) | rsvd 3 | length 5 (words).
public struct GeneveOption {
    public var optionClass: UInt16
    public var type: UInt8
    public var data: UnsafeRawBufferPointer
    @inlinable public var isCritical: Bool { type & 0x80 != 0 }
    @inlinable public init(optionClass: UInt16, type: UInt8, data: UnsafeRawBufferPointer) {
        self.optionClass = optionClass
        self.type = type
        self.data = data
    }
}

public struct GeneveOptionIterator: IteratorProtocol, Sequence {
    @usableFromInline let area: UnsafeRawBufferPointer
    @usableFromInline var offset = 0
    @usableFromInline var sawCritical = false

    @inlinable init(_ area: UnsafeRawBufferPointer) { self.area = area }

    @inlinable static func validate(_ area: UnsafeRawBufferPointer) throws(WireError) {
        var i = 0
        while i < area.count {
            guard i + 4 <= area.count else {
                throw WireError(.geneveOption, .optionOverrun, needed: i + 4, available: area.count)
            }
            let length = 4 + Int(area.u8(i + 3) & 0x1F) * 4
            guard i + length <= area.count else {
                throw WireError(.geneveOption, .optionOverrun, needed: i + length, available: area.count)
            }
            i += length
        }
    }

    @inlinable public mutating func next() -> GeneveOption? {
        guard offset < area.count else { return nil }
        let length = 4 + Int(area.u8(offset + 3) & 0x1F) * 4
        let option = GeneveOption(
            optionClass: area.be16(offset), type: area.u8(offset + 2), data: area.slice(offset + 4, length - 4))
        sawCritical = sawCritical || option.isCritical
        offset += length
        return option
    }
}

public struct GeneveFields: Hashable, Sendable {
    public var vni: UInt32
    public var protocolType: UInt16
    public var isControl = false
    public var hasCriticalOptions = false

    public init(vni: UInt32, protocolType: UInt16 = EtherType.transparentEthernetBridging) {
        self.vni = vni
        self.protocolType = protocolType
    }

    @inlinable public init<S>(_ p: GenevePacket<S>) {
        vni = p.vni
        protocolType = p.protocolType
        isControl = p.isControl
        hasCriticalOptions = p.hasCriticalOptions
    }

    public func headerLength(optionsLength: Int) -> Int { 8 + optionsLength }

    /// Writes the fixed header followed by `options` (encoded TLVs; see `GeneveOptionFields`).
    @inlinable @discardableResult
    public func emit(
        into buffer: UnsafeMutableRawBufferPointer,
        options: UnsafeRawBufferPointer = UnsafeRawBufferPointer(start: nil, count: 0)
    ) throws(WireError) -> Int {
        guard vni <= 0xFF_FFFF, options.count % 4 == 0, options.count <= 63 * 4 else {
            throw WireError(.geneve, .fieldOutOfRange)
        }
        try GeneveOptionIterator.validate(options)
        let total = 8 + options.count
        try requireSpace(buffer, total, .geneve)
        buffer.setU8(0, UInt8(options.count / 4))
        buffer.setU8(1, (isControl ? 0x80 : 0) | (hasCriticalOptions ? 0x40 : 0))
        buffer.setBE16(2, protocolType)
        buffer.setBE32(4, vni << 8)
        buffer.copy(options, to: 8)
        return total
    }
}

/// One option TLV for building: data must be a multiple of 4 bytes, at most 124.
public struct GeneveOptionFields: Hashable, Sendable {
    public var optionClass: UInt16
    public var type: UInt8
    public var data: [UInt8]
    public init(optionClass: UInt16, type: UInt8, data: [UInt8]) {
        self.optionClass = optionClass
        self.type = type
        self.data = data
    }
    public var length: Int { 4 + data.count }

    @discardableResult
    public func emit(into buffer: UnsafeMutableRawBufferPointer) throws(WireError) -> Int {
        guard data.count % 4 == 0, data.count <= 31 * 4 else { throw WireError(.geneveOption, .fieldOutOfRange) }
        try requireSpace(buffer, length, .geneveOption)
        buffer.setBE16(0, optionClass)
        buffer.setU8(2, type)
        buffer.setU8(3, UInt8(data.count / 4))
        data.withUnsafeBytes { buffer.copy($0, to: 4) }
        return length
    }
}

extension GenevePacket { public typealias Fields = GeneveFields }
