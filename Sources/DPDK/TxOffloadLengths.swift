/// The six length fields DPDK packs into `rte_mbuf.tx_offload` (rte_mbuf_core.h bit-fields):
/// l2_len 7 | l3_len 9 | l4_len 8 | tso_segsz 16 | outer_l3_len 9 | outer_l2_len 7.
/// Built as one value and stored with one 64-bit write.
@frozen
public struct TxOffloadLengths: Hashable, Sendable {
    public var rawValue: UInt64

    @inlinable @inline(__always) public init(rawValue: UInt64) { self.rawValue = rawValue }

    public static let l2Bits = 7, l3Bits = 9, l4Bits = 8, tsoSegsizeBits = 16, outerL3Bits = 9, outerL2Bits = 7
    static let l3Shift = 7, l4Shift = 16, tsoShift = 24, outerL3Shift = 40, outerL2Shift = 49

    /// Each value must fit its field; `fits` reports whether they all do before building.
    @inlinable @inline(__always)
    public init(
        l2: Int = 0, l3: Int = 0, l4: Int = 0, tsoSegmentSize: Int = 0, outerL2: Int = 0, outerL3: Int = 0
    ) {
        rawValue = UInt64(truncatingIfNeeded: l2) & 0x7F
            | (UInt64(truncatingIfNeeded: l3) & 0x1FF) << 7
            | (UInt64(truncatingIfNeeded: l4) & 0xFF) << 16
            | (UInt64(truncatingIfNeeded: tsoSegmentSize) & 0xFFFF) << 24
            | (UInt64(truncatingIfNeeded: outerL3) & 0x1FF) << 40
            | (UInt64(truncatingIfNeeded: outerL2) & 0x7F) << 49
    }

    /// Whether the given lengths fit their bit-fields (e.g. Geneve options can overflow l2_len).
    @inlinable @inline(__always)
    public static func fits(l2: Int, l3: Int, l4: Int, tsoSegmentSize: Int, outerL2: Int, outerL3: Int) -> Bool {
        (0..<128).contains(l2) && (0..<512).contains(l3) && (0..<256).contains(l4)
            && (0..<65536).contains(tsoSegmentSize) && (0..<128).contains(outerL2) && (0..<512).contains(outerL3)
    }

    public var l2: Int { Int(rawValue & 0x7F) }
    public var l3: Int { Int(rawValue >> 7 & 0x1FF) }
    public var l4: Int { Int(rawValue >> 16 & 0xFF) }
    public var tsoSegmentSize: Int { Int(rawValue >> 24 & 0xFFFF) }
    public var outerL3: Int { Int(rawValue >> 40 & 0x1FF) }
    public var outerL2: Int { Int(rawValue >> 49 & 0x7F) }
}
