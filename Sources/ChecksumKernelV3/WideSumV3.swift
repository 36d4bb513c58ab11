// The summing loop (and, in MaskedAgreeV3.swift, the masked header compare) built for x86-64-v3
// (AVX2): Package.swift gives this module alone `-target-cpu haswell`. Call it only where
// `ccpu_has_x86_64_v3()` holds.
import ChecksumKernel

/// `ChecksumKernel.wideSum` over 32-byte vectors. Never inlined: inlined into a caller, it
/// would be compiled with the caller's (baseline) instruction set.
@inline(never)
public func wideSumV3(_ start: UnsafeRawPointer, _ count: Int) -> UInt64 {
    ChecksumKernel.wideSum(start, count, lanes: SIMD4<UInt64>.self)
}
