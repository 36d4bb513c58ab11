// The RFC 1071 summing loop is the one place where speed is the point. Its source is
// ChecksumKernel.wideSum; this file picks the build of it the CPU can run.
import CCPU
import ChecksumKernel
import ChecksumKernelV3

extension InternetChecksum {
    /// Buffers from this length on go to the AVX2 build where the CPU has it. `make
    /// bench-cksum` shows the two builds even below about 512 B (the call and the longer tail
    /// cost what the wider vectors save), so headers keep the inlined SSE2 loop.
    @inlinable static var wideKernelThreshold: Int { 256 }

    /// Unfolded sum of `count` bytes at `start`, in the machine's byte order, such that
    /// folding it gives what a native 16-bit ones' complement sum (e.g. rte_raw_cksum) gives.
    @inlinable
    static func nativeWideSum(_ start: UnsafeRawPointer, _ count: Int) -> UInt64 {
        #if arch(x86_64)
        if count >= wideKernelThreshold && ccpu_has_x86_64_v3() { return wideSumV3(start, count) }
        #endif
        return ChecksumKernel.wideSum(start, count, lanes: SIMD2<UInt64>.self)
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
