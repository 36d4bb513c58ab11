// The RFC 1071 summing loop, generic over the vector width so that one source serves two
// builds: Wire instantiates it with 16-byte vectors (SSE2, the Swift baseline) and
// ChecksumKernelV3, built for x86-64-v3, with 32-byte ones (AVX2). Swift has no per-function
// target attribute, hence a module per instruction set.
//
// Trick: a ones' complement sum of 16-bit words equals one of 32-bit words folded down
// (2^16 ≡ 1 mod 0xFFFF), so we sum 64-bit lanes. `acc` wraps modulo 2^64; `hi` adds the
// upper 32-bit halves exactly. Then Σ(low halves) = acc − 2^32·hi (exact: it is < 2^64), and
// the sum of all 32-bit words is that plus hi. Per vector that is one add, one shift and one
// add: no carry chain, no widening shuffles.

public enum ChecksumKernel {
    /// Unfolded sum of `count` bytes at `start`, in the machine's byte order, such that
    /// folding it gives what a native 16-bit ones' complement sum (e.g. rte_raw_cksum) gives.
    @inlinable @inline(__always)
    public static func wideSum<Lanes: SIMD>(
        _ start: UnsafeRawPointer, _ count: Int, lanes: Lanes.Type
    ) -> UInt64 where Lanes.Scalar == UInt64 {
        let width = MemoryLayout<Lanes>.size
        var p = start
        var n = count
        var a0 = Lanes(), a1 = Lanes(), a2 = Lanes(), a3 = Lanes()
        var h0 = Lanes(), h1 = Lanes(), h2 = Lanes(), h3 = Lanes()
        while n >= 4 * width {
            let v0 = p.loadUnaligned(as: Lanes.self)
            let v1 = p.loadUnaligned(fromByteOffset: width, as: Lanes.self)
            let v2 = p.loadUnaligned(fromByteOffset: 2 * width, as: Lanes.self)
            let v3 = p.loadUnaligned(fromByteOffset: 3 * width, as: Lanes.self)
            a0 &+= v0; h0 &+= v0 &>> 32
            a1 &+= v1; h1 &+= v1 &>> 32
            a2 &+= v2; h2 &+= v2 &>> 32
            a3 &+= v3; h3 &+= v3 &>> 32
            p += 4 * width
            n -= 4 * width
        }
        while n >= width {
            let v = p.loadUnaligned(as: Lanes.self)
            a0 &+= v; h0 &+= v &>> 32
            p += width
            n -= width
        }
        let acc = (a0 &+ a1) &+ (a2 &+ a3)
        let hi = (h0 &+ h1) &+ (h2 &+ h3)
        // Per lane: Σlow32 + Σhigh32, each far below 2^61 for buffers under 2^30 bytes, so
        // the lanes add without overflow.
        let lanes = (acc &- (hi &<< 32)) &+ hi
        var sum = lanes.wrappedSum()
        // Tail shorter than a vector: 8-byte pieces, then 4/2/1, zero-extended into `sum`.
        while n >= 8 {
            let w = p.loadUnaligned(as: UInt64.self)
            sum &+= (w & 0xFFFF_FFFF) &+ (w >> 32)
            p += 8
            n -= 8
        }
        if n >= 4 {
            sum &+= UInt64(p.loadUnaligned(as: UInt32.self))
            p += 4
            n -= 4
        }
        if n >= 2 {
            sum &+= UInt64(p.loadUnaligned(as: UInt16.self))
            p += 2
            n -= 2
        }
        if n == 1 {
            // The odd byte is the first byte of a zero-padded word: in native order that is
            // the low byte on little-endian machines and the high byte on big-endian ones.
            let byte = UInt64(p.load(as: UInt8.self))
            sum &+= UInt16(1).littleEndian == 1 ? byte : byte << 8
        }
        return sum
    }
}
