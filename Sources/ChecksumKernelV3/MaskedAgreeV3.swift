/// Whether the `bytes` bytes at `a` and `b` (at least 32) agree wherever `mask` has ones, in
/// 32-byte vectors: the last one overlaps the one before it instead of a scalar tail (an equality
/// test may look at a byte twice). Never inlined, as `wideSumV3`.
@inline(never)
public func maskedAgreeV3(_ a: UnsafeRawPointer, _ b: UnsafeRawPointer, _ mask: UnsafeRawPointer, bytes: Int) -> Bool {
    typealias Vector = SIMD4<UInt64>
    @inline(__always) func difference(at offset: Int) -> Vector {
        (a.loadUnaligned(fromByteOffset: offset, as: Vector.self) ^ b.loadUnaligned(fromByteOffset: offset, as: Vector.self))
            & mask.loadUnaligned(fromByteOffset: offset, as: Vector.self)
    }
    let last = bytes &- 32
    var found = difference(at: last)
    var offset = 0
    while offset < last {
        found |= difference(at: offset)
        offset &+= 32
    }
    let half = found.lowHalf | found.highHalf
    return half[0] | half[1] == 0
}
