/// The 4 bytes an 802.1Q (C-tag) or 802.1ad (S-tag, QinQ) tag adds after the addresses,
/// viewed from the TCI: PCP 3 | DEI 1 | VID 12, then the EtherType that follows the tag.
/// The tag's own TPID is the EtherType before it (the Ethernet header's or the outer tag's).
public struct VLANTag<Storage: WireStorage> {
    public static var headerLength: Int { 4 }
    public let storage: Storage

    @inlinable public init(_ storage: Storage) throws(WireError) {
        try requireBytes(storage.wireBytes, 4, .vlan)
        self.storage = storage
    }

    @inlinable var bytes: UnsafeRawBufferPointer { storage.wireBytes }
    @inlinable public var tagControl: UInt16 { bytes.be16(0) }
    @inlinable public var priorityCodePoint: UInt8 { UInt8(tagControl >> 13) }
    @inlinable public var dropEligible: Bool { tagControl & 0x1000 != 0 }
    @inlinable public var vlanID: UInt16 { tagControl & 0x0FFF }
    /// The EtherType (or next TPID) after this tag.
    @inlinable public var etherType: UInt16 { bytes.be16(2) }
    @inlinable public var payload: UnsafeRawBufferPointer { bytes.tail(4) }
}

extension VLANTag where Storage: MutableWireStorage {
    @inlinable public func setTagControl(_ tci: UInt16) { storage.wireMutableBytes.setBE16(0, tci) }
    @inlinable public func setEtherType(_ t: UInt16) { storage.wireMutableBytes.setBE16(2, t) }
}

public typealias VLANHeader = VLANTag<UnsafeRawBufferPointer>
public typealias MutableVLANHeader = VLANTag<UnsafeMutableRawBufferPointer>

public struct VLANFields: Hashable, Sendable {
    public var priorityCodePoint: UInt8
    public var dropEligible: Bool
    public var vlanID: UInt16
    public var etherType: UInt16

    public init(priorityCodePoint: UInt8 = 0, dropEligible: Bool = false, vlanID: UInt16, etherType: UInt16) {
        self.priorityCodePoint = priorityCodePoint
        self.dropEligible = dropEligible
        self.vlanID = vlanID
        self.etherType = etherType
    }

    @inlinable public init<S>(_ tag: VLANTag<S>) {
        priorityCodePoint = tag.priorityCodePoint
        dropEligible = tag.dropEligible
        vlanID = tag.vlanID
        etherType = tag.etherType
    }

    public var headerLength: Int { 4 }

    @inlinable @discardableResult
    public func emit(into buffer: UnsafeMutableRawBufferPointer) throws(WireError) -> Int {
        guard priorityCodePoint < 8, vlanID < 4096 else { throw WireError(.vlan, .fieldOutOfRange) }
        try requireSpace(buffer, 4, .vlan)
        let tci = UInt16(priorityCodePoint) << 13 | (dropEligible ? 0x1000 : 0) | vlanID
        buffer.setBE16(0, tci)
        buffer.setBE16(2, etherType)
        return 4
    }
}

extension VLANTag { public typealias Fields = VLANFields }
