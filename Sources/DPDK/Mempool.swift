import CDPDK

/// A pool of packet mbufs (rte_pktmbuf_pool_create). A handle: copying it copies the pointer.
@frozen
public struct Mempool: Hashable, @unchecked Sendable {
    public let pointer: OpaquePointer

    @inlinable @inline(__always)
    public init(_ pointer: OpaquePointer) { self.pointer = pointer }

    /// Creates a pool of `count` mbufs of `dataRoomSize` bytes each (headroom included).
    public static func createPacketPool(
        name: String, count: UInt32, cacheSize: UInt32 = 250, privateSize: UInt16 = 0,
        dataRoomSize: UInt16 = UInt16(CDPDK_MBUF_DEFAULT_BUF_SIZE), socket: Int32 = -1
    ) throws(DPDKError) -> Mempool {
        let cache = min(cacheSize, UInt32(RTE_MEMPOOL_CACHE_MAX_SIZE), count / 2)
        guard let pool = rte_pktmbuf_pool_create(name, count, cache, privateSize, dataRoomSize, socket) else {
            throw DPDKError.errno("creating mbuf pool '\(name)' (n=\(count), size=\(dataRoomSize))")
        }
        return Mempool(pool)
    }

    public static func lookup(name: String) -> Mempool? {
        rte_mempool_lookup(name).map(Mempool.init)
    }

    public func free() { rte_mempool_free(pointer) }

    public var name: String { String(cString: cdpdk_mempool_name(pointer)) }
    /// Mbufs the pool was created with.
    public var size: Int { Int(cdpdk_mempool_size(pointer)) }
    /// Mbufs free in the pool, per-lcore caches included.
    public var availableCount: Int { Int(rte_mempool_avail_count(pointer)) }
    public var inUseCount: Int { Int(rte_mempool_in_use_count(pointer)) }
    public var isFull: Bool { rte_mempool_full(pointer) != 0 }
    /// Data room per mbuf, headroom included.
    public var dataRoomSize: UInt16 { cdpdk_mempool_data_room(pointer) }

    /// One mbuf, reset, or nil when the pool is empty.
    @inlinable @inline(__always)
    public func allocate() -> Mbuf? {
        cdpdk_mbuf_alloc(pointer).map(Mbuf.init)
    }

    /// Fills `mbufs[0..<count]` or nothing at all (all-or-nothing, as rte_pktmbuf_alloc_bulk).
    @inlinable @inline(__always)
    public func allocateBulk(_ mbufs: UnsafeMutablePointer<OpaquePointer?>, count: Int) -> Bool {
        cdpdk_mbuf_alloc_bulk(pointer, mbufs, UInt32(count)) == 0
    }
}
