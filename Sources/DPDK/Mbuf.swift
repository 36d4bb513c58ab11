import CDPDK

/// A handle on one `rte_mbuf` segment (the head of a chain for packet-level fields).
/// Ownership follows DPDK's rules, not Swift's: whoever holds the packet frees it once.
@frozen
public struct Mbuf: Hashable, @unchecked Sendable {
    public let pointer: OpaquePointer

    @inlinable @inline(__always) public init(_ pointer: OpaquePointer) { self.pointer = pointer }

    // MARK: data

    /// Start of this segment's data.
    @inlinable @inline(__always) public var data: UnsafeMutableRawPointer { cdpdk_mbuf_mtod(pointer)! }

    /// This segment's data as a buffer.
    @inlinable @inline(__always) public var bytes: UnsafeMutableRawBufferPointer {
        UnsafeMutableRawBufferPointer(start: data, count: Int(dataLength))
    }

    @inlinable @inline(__always) public var dataLength: UInt16 {
        get { cdpdk_mbuf_data_len(pointer) }
        nonmutating set { cdpdk_mbuf_set_data_len(pointer, newValue) }
    }
    /// Whole-packet length (head segment only).
    @inlinable @inline(__always) public var packetLength: UInt32 {
        get { cdpdk_mbuf_pkt_len(pointer) }
        nonmutating set { cdpdk_mbuf_set_pkt_len(pointer, newValue) }
    }
    @inlinable @inline(__always) public var dataOffset: UInt16 {
        get { cdpdk_mbuf_data_off(pointer) }
        nonmutating set { cdpdk_mbuf_set_data_off(pointer, newValue) }
    }
    public var bufferLength: UInt16 { cdpdk_mbuf_buf_len(pointer) }
    public var headroom: UInt16 { cdpdk_mbuf_headroom(pointer) }
    public var tailroom: UInt16 { cdpdk_mbuf_tailroom(pointer) }

    // MARK: chain

    @inlinable @inline(__always) public var segmentCount: UInt16 {
        get { cdpdk_mbuf_nb_segs(pointer) }
        nonmutating set { cdpdk_mbuf_set_nb_segs(pointer, newValue) }
    }
    @inlinable @inline(__always) public var next: Mbuf? {
        get { cdpdk_mbuf_next(pointer).map(Mbuf.init) }
        nonmutating set { cdpdk_mbuf_set_next(pointer, newValue?.pointer) }
    }
    public var lastSegment: Mbuf { Mbuf(cdpdk_mbuf_lastseg(pointer)) }

    /// The segments of the chain starting here.
    @inlinable public var segments: Segments { Segments(first: self) }

    @frozen
    public struct Segments: Sequence {
        @usableFromInline let first: Mbuf
        @usableFromInline init(first: Mbuf) { self.first = first }
        @inlinable public func makeIterator() -> Iterator { Iterator(current: first) }
        @frozen
        public struct Iterator: IteratorProtocol {
            @usableFromInline var current: Mbuf?
            @usableFromInline init(current: Mbuf?) { self.current = current }
            @inlinable @inline(__always)
            public mutating func next() -> Mbuf? {
                defer { current = current?.next }
                return current
            }
        }
    }

    /// Appends `tail` (a whole chain) to this packet; fails past DPDK's segment limit.
    public func chain(_ tail: Mbuf) throws(DPDKError) {
        try check(cdpdk_mbuf_chain(pointer, tail.pointer), "rte_pktmbuf_chain")
    }

    /// Copies the chain into one segment when it fits; fails (leaving it intact) when not.
    public func linearize() throws(DPDKError) {
        try check(cdpdk_mbuf_linearize(pointer), "rte_pktmbuf_linearize")
    }

    // MARK: grow and shrink (nil / false when there is no room, as DPDK)

    /// Extends the last segment by `count` bytes; the new bytes' address.
    @inlinable @inline(__always) public func append(_ count: UInt16) -> UnsafeMutableRawPointer? {
        cdpdk_mbuf_append(pointer, count).map(UnsafeMutableRawPointer.init)
    }
    /// Moves the data start back by `count` bytes into the headroom; the new start.
    @inlinable @inline(__always) public func prepend(_ count: UInt16) -> UnsafeMutableRawPointer? {
        cdpdk_mbuf_prepend(pointer, count).map(UnsafeMutableRawPointer.init)
    }
    /// Removes `count` bytes from the front of the first segment; the new start.
    @inlinable @inline(__always) public func adjust(_ count: UInt16) -> UnsafeMutableRawPointer? {
        cdpdk_mbuf_adj(pointer, count).map(UnsafeMutableRawPointer.init)
    }
    /// Removes `count` bytes from the end of the last segment.
    @inlinable @inline(__always) public func trim(_ count: UInt16) -> Bool {
        cdpdk_mbuf_trim(pointer, count) == 0
    }

    /// Reads `count` bytes at `offset` across segments: a pointer into the mbuf when they are
    /// contiguous, else into `scratch` after copying. Nil when the packet is too short.
    public func read(offset: Int, count: Int, scratch: UnsafeMutableRawPointer) -> UnsafeRawPointer? {
        cdpdk_mbuf_read(pointer, UInt32(offset), UInt32(count), scratch)
    }

    // MARK: zero-copy sharing

    /// Makes this (fresh, direct) mbuf an indirect view on `direct`'s buffer: the buffer's
    /// refcount rises, and this mbuf's data pointer, lengths and metadata are copied.
    @inlinable @inline(__always) public func attach(to direct: Mbuf) { cdpdk_mbuf_attach(pointer, direct.pointer) }
    /// Releases the shared buffer and makes this mbuf direct again.
    @inlinable @inline(__always) public func detach() { cdpdk_mbuf_detach(pointer) }
    public var isIndirect: Bool { cdpdk_mbuf_is_indirect(pointer) }
    public var isDirect: Bool { cdpdk_mbuf_is_direct(pointer) }
    public var referenceCount: UInt16 { cdpdk_mbuf_refcnt(pointer) }
    /// One more holder of this segment (flowgen's clones): each holder frees it once.
    @inlinable @inline(__always) public func addReference() { cdpdk_mbuf_refcnt_update(pointer, 1) }

    // MARK: metadata

    @inlinable @inline(__always) public var offloadFlags: MbufFlags {
        get { MbufFlags(rawValue: cdpdk_mbuf_ol_flags(pointer)) }
        nonmutating set { cdpdk_mbuf_set_ol_flags(pointer, newValue.rawValue) }
    }
    /// outer_l2_len .. tso_segsz, read and written as one word.
    @inlinable @inline(__always) public var txOffload: TxOffloadLengths {
        get { TxOffloadLengths(rawValue: cdpdk_mbuf_tx_offload(pointer)) }
        nonmutating set { cdpdk_mbuf_set_tx_offload(pointer, newValue.rawValue) }
    }
    @inlinable @inline(__always) public var packetType: UInt32 {
        get { cdpdk_mbuf_packet_type(pointer) }
        nonmutating set { cdpdk_mbuf_set_packet_type(pointer, newValue) }
    }
    @inlinable @inline(__always) public var port: UInt16 {
        get { cdpdk_mbuf_port(pointer) }
        nonmutating set { cdpdk_mbuf_set_port(pointer, newValue) }
    }
    public var vlanTCI: UInt16 {
        get { cdpdk_mbuf_vlan_tci(pointer) }
        nonmutating set { cdpdk_mbuf_set_vlan_tci(pointer, newValue) }
    }
    public var rssHash: UInt32 { cdpdk_mbuf_rss_hash(pointer) }
    public var pool: Mempool { Mempool(cdpdk_mbuf_pool(pointer)) }

    // MARK: release

    /// Frees the whole chain (each segment returns to its pool once its refcount drops).
    @inlinable @inline(__always) public func free() { cdpdk_mbuf_free(pointer) }

    /// Frees `count` packets (whole chains) from `mbufs`, as rte_pktmbuf_free_bulk; a burst
    /// of plain one-segment mbufs of one pool goes back to it in one put (cdpdk_mbuf_free_bulk).
    @inlinable @inline(__always)
    public static func freeBulk(_ mbufs: UnsafeMutablePointer<OpaquePointer?>, count: Int) {
        cdpdk_mbuf_free_bulk(mbufs, UInt32(truncatingIfNeeded: count))
    }
}
