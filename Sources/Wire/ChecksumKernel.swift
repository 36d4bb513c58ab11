// The RFC 1071 summing loop, kept apart from the API because it is the one place where
// speed is the point.
//
// Trick: a ones' complement sum of 16-bit words equals one of 32-bit words folded down
// (2^16 ≡ 1 mod 0xFFFF), so we sum 64-bit lanes. `acc` wraps modulo 2^64; `hi` adds the
// upper 32-bit halves exactly. Then Σ(low halves) = acc − 2^32·hi (exact: it is < 2^64), and
// the sum of all 32-bit words is that plus hi. Per 16 bytes that is one vector add, one
// shift and one add: no carry chain, no widening shuffles, SSE2 only (the Swift baseline).

extension InternetChecksum {
    /// Unfolded sum of `count` bytes at `start`, in the machine's byte order, such that
    /// folding it gives what a native 16-bit ones' complement sum (e.g. rte_raw_cksum) gives.
    @inlinable
    static func nativeWideSum(_ start: UnsafeRawPointer, _ count: Int) -> UInt64 {
        var p = start
        var n = count
        var a0 = SIMD2<UInt64>(), a1 = SIMD2<UInt64>(), a2 = SIMD2<UInt64>(), a3 = SIMD2<UInt64>()
        var h0 = SIMD2<UInt64>(), h1 = SIMD2<UInt64>(), h2 = SIMD2<UInt64>(), h3 = SIMD2<UInt64>()
        while n >= 64 {
            let v0 = p.loadUnaligned(as: SIMD2<UInt64>.self)
            let v1 = p.loadUnaligned(fromByteOffset: 16, as: SIMD2<UInt64>.self)
            let v2 = p.loadUnaligned(fromByteOffset: 32, as: SIMD2<UInt64>.self)
            let v3 = p.loadUnaligned(fromByteOffset: 48, as: SIMD2<UInt64>.self)
            a0 &+= v0; h0 &+= v0 &>> 32
            a1 &+= v1; h1 &+= v1 &>> 32
            a2 &+= v2; h2 &+= v2 &>> 32
            a3 &+= v3; h3 &+= v3 &>> 32
            p += 64
            n -= 64
        }
        while n >= 16 {
            let v = p.loadUnaligned(as: SIMD2<UInt64>.self)
            a0 &+= v; h0 &+= v &>> 32
            p += 16
            n -= 16
        }
        let acc = (a0 &+ a1) &+ (a2 &+ a3)
        let hi = (h0 &+ h1) &+ (h2 &+ h3)
        // Per lane: Σlow32 + Σhigh32, each far below 2^63 for any 16-bit-length buffer chain.
        let lanes = (acc &- (hi &<< 32)) &+ hi
        var sum = lanes[0] &+ lanes[1]  // both < 2^62 for buffers under 2^30 bytes
        // Tail of fewer than 16 bytes: 8/4/2/1 pieces, zero-extended into `sum`.
        if n >= 8 {
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

    /// Folds a 64-bit sum with end-around carries to 16 bits.
    @inlinable
    static func fold(_ value: UInt64) -> UInt16 {
        var s = (value & 0xFFFF_FFFF) &+ (value >> 32)  // < 2^33
        s = (s & 0xFFFF) &+ (s >> 16)  // < 2^18
        s = (s & 0xFFFF) &+ (s >> 16)  // <= 0x10002
        s = (s & 0xFFFF) &+ (s >> 16)
        return UInt16(truncatingIfNeeded: s)
    }
}
