// cksum-bench: Wire's Internet checksum against DPDK's rte_raw_cksum, same process, same
// buffers. Prints throughput (median of several rounds) per buffer size and the ratio.
//
//   swift run -c release cksum-bench [rounds]
import CCPU
import CDPDK
import ChecksumKernel
import ChecksumKernelV3
import Wire

#if canImport(Glibc)
import Glibc
#endif

func nanoseconds() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}

// One timed round of a kernel build called directly (the SSE2 and AVX2 builds of one loop).
@inline(never)
func roundKernel(
    _ buffer: UnsafeMutableRawBufferPointer, _ iterations: Int, avx2: Bool
) -> (ns: UInt64, sink: UInt64) {
    var sink: UInt64 = 0
    let base = UnsafeRawPointer(buffer.baseAddress!)
    let start = nanoseconds()
    for i in 0..<iterations {
        buffer[0] = UInt8(truncatingIfNeeded: i)
        sink &+= avx2 ? wideSumV3(base, buffer.count) : ChecksumKernel.wideSum(base, buffer.count, lanes: SIMD2<UInt64>.self)
    }
    return (nanoseconds() - start, sink)
}

// One timed round: `iterations` sums over `buffer`. The first byte changes every iteration
// so the compiler cannot hoist the (pure) sum out of the loop; both sides pay that store.
@inline(never)
func roundSwift(_ buffer: UnsafeMutableRawBufferPointer, _ iterations: Int) -> (ns: UInt64, sink: UInt64) {
    var sink: UInt64 = 0
    let view = UnsafeRawBufferPointer(buffer)
    let start = nanoseconds()
    for i in 0..<iterations {
        buffer[0] = UInt8(truncatingIfNeeded: i)
        sink &+= UInt64(InternetChecksum.nativeSum(view))
    }
    return (nanoseconds() - start, sink)
}

@inline(never)
func roundDPDK(_ buffer: UnsafeMutableRawBufferPointer, _ iterations: Int) -> (ns: UInt64, sink: UInt64) {
    var sink: UInt64 = 0
    let start = nanoseconds()
    for i in 0..<iterations {
        buffer[0] = UInt8(truncatingIfNeeded: i)
        sink &+= UInt64(cdpdk_raw_cksum(buffer.baseAddress, buffer.count))
    }
    return (nanoseconds() - start, sink)
}

// No Foundation: fixed-point formatting by hand.
func fixed(_ value: Double, _ decimals: Int, width: Int) -> String {
    var scale = 1.0
    for _ in 0..<decimals { scale *= 10 }
    let n = Int((value * scale).rounded())
    var text = String(n / Int(scale))
    if decimals > 0 {
        let frac = String(n % Int(scale))
        text += "." + String(repeating: "0", count: decimals - frac.count) + frac
    }
    return String(repeating: " ", count: max(0, width - text.count)) + text
}

func median(_ values: [Double]) -> Double {
    let s = values.sorted()
    return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
}

let rounds = CommandLine.arguments.count > 1 ? Int(CommandLine.arguments[1]) ?? 11 : 11
let sizes = [64, 1500, 65536]
let storage = UnsafeMutableRawBufferPointer.allocate(byteCount: 65536 + 64, alignment: 64)
defer { storage.deallocate() }
var seed: UInt64 = 0x9E37_79B9_7F4A_7C15
for i in 0..<storage.count {  // xorshift: reproducible, not all-zero
    seed ^= seed << 13
    seed ^= seed >> 7
    seed ^= seed << 17
    storage[i] = UInt8(truncatingIfNeeded: seed)
}

// Correctness first: both must agree on every length (odd ones too) and misalignment.
for length in [0, 1, 2, 3, 7, 15, 16, 17, 63, 64, 65, 127, 1499, 1500, 9001, 65535, 65536] {
    for misalign in [0, 1, 3] {
        let b = UnsafeRawBufferPointer(rebasing: storage[misalign ..< misalign + length])
        let ours = InternetChecksum.nativeSum(b)
        let theirs = cdpdk_raw_cksum(b.baseAddress, b.count)
        guard ours == theirs else {
            print("MISMATCH length \(length) misalign \(misalign): swift \(ours) dpdk \(theirs)")
            exit(1)
        }
    }
}
print("checksums agree with rte_raw_cksum on 17 lengths x 3 alignments")
print("rounds: \(rounds) (median reported); DPDK \(String(cString: cdpdk_version()))")
print("size      swift Gbit/s   rte_raw_cksum Gbit/s   ratio")

var sink: UInt64 = 0
for size in sizes {
    let buffer = UnsafeMutableRawBufferPointer(rebasing: storage[0..<size])
    // ~20 ms per round at 10 GB/s, at least 1000 iterations.
    let iterations = max(1000, 200_000_000 / size)
    _ = roundSwift(buffer, iterations / 10)  // warm up caches and clocks
    _ = roundDPDK(buffer, iterations / 10)
    var swiftRates: [Double] = [], dpdkRates: [Double] = []
    for _ in 0..<rounds {  // interleaved so machine noise hits both alike
        let s = roundSwift(buffer, iterations)
        let d = roundDPDK(buffer, iterations)
        sink &+= s.sink &+ d.sink
        swiftRates.append(Double(size * iterations) * 8 / Double(s.ns))
        dpdkRates.append(Double(size * iterations) * 8 / Double(d.ns))
    }
    let s = median(swiftRates), d = median(dpdkRates)
    let label = size >= 65536 ? "64 KB" : "\(size) B"
    print(
        label + String(repeating: " ", count: 6 - label.count) + fixed(s, 1, width: 12)
            + fixed(d, 1, width: 20) + fixed(s / d, 2, width: 15) + "x")
}

// Where the dispatch should switch builds: both builds of the loop, called directly.
if ccpu_has_x86_64_v3() {
    print("")
    print("kernel builds (CPU level x86-64-v\(ccpu_x86_64_level()); Wire uses AVX2 from 256 B):")
    print("size      sse2 ns   avx2 ns   avx2/sse2 speed")
    for size in [64, 128, 192, 256, 512, 1408, 65536] {
        let buffer = UnsafeMutableRawBufferPointer(rebasing: storage[0..<size])
        let iterations = max(1000, 100_000_000 / size)
        _ = roundKernel(buffer, iterations / 10, avx2: false)
        _ = roundKernel(buffer, iterations / 10, avx2: true)
        var narrow: [Double] = [], wide: [Double] = []
        for _ in 0..<rounds {
            let n = roundKernel(buffer, iterations, avx2: false)
            let w = roundKernel(buffer, iterations, avx2: true)
            sink &+= n.sink &+ w.sink
            narrow.append(Double(n.ns) / Double(iterations))
            wide.append(Double(w.ns) / Double(iterations))
        }
        let n = median(narrow), w = median(wide)
        let label = size >= 65536 ? "64 KB" : "\(size) B"
        print(label + String(repeating: " ", count: 6 - label.count) + fixed(n, 1, width: 10)
            + fixed(w, 1, width: 10) + fixed(n / w, 2, width: 14) + "x")
    }
} else {
    print("this CPU has no x86-64-v3: Wire sums with the SSE2 build only")
}
if sink == 42 { print("") }  // keep the sums alive
