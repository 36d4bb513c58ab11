import CCPU
import ChecksumKernel
import ChecksumKernelV3
import XCTest
@testable import Wire

/// RFC 1071 sums, chains, combination, pseudo-headers and RFC 1624 updates, against the RFC
/// examples and a word-by-word reference written straight from RFC 1071 §4.1.
final class ChecksumTests: XCTestCase {
    /// RFC 1071 §4.1's C loop, transcribed: 16-bit big-endian words into 32 bits, fold.
    static func reference(_ bytes: [UInt8]) -> UInt16 {
        var sum: UInt32 = 0
        var i = 0
        while i + 1 < bytes.count {
            sum += UInt32(bytes[i]) << 8 | UInt32(bytes[i + 1])
            i += 2
        }
        if i < bytes.count { sum += UInt32(bytes[i]) << 8 }
        while sum >> 16 != 0 { sum = (sum & 0xFFFF) + (sum >> 16) }
        return UInt16(sum)
    }

    static func sum(_ bytes: [UInt8]) -> UInt16 { bytes.withUnsafeBytes { InternetChecksum.sum($0) } }

    func random(_ n: Int) -> [UInt8] { (0..<n).map { _ in UInt8.random(in: 0...255) } }

    /// RFC 1071 §3 numerical example: 00 01 f2 03 f4 f5 f6 f7 sums to ddf2.
    func testRFC1071Example() {
        XCTAssertEqual(Self.sum([0x00, 0x01, 0xF2, 0x03, 0xF4, 0xF5, 0xF6, 0xF7]), 0xDDF2)
        XCTAssertEqual(([0x00, 0x01, 0xF2, 0x03, 0xF4, 0xF5, 0xF6, 0xF7] as [UInt8]).withUnsafeBytes { InternetChecksum.checksum($0) }, 0x220D)
    }

    /// The IPv4 header example of the Wikipedia article "Internet checksum" / "IPv4 header
    /// checksum": 4500 0073 0000 4000 4011 xxxx c0a8 0001 c0a8 00c7 has checksum b861.
    func testIPv4HeaderExample() throws {
        var header: [UInt8] = [0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0, 0,
                               0xC0, 0xA8, 0x00, 0x01, 0xC0, 0xA8, 0x00, 0xC7]
        XCTAssertEqual(~Self.sum(header), 0xB861)
        header += [UInt8](repeating: 0, count: 0x73 - 20)
        try header.withUnsafeMutableBytes { b in
            let ip = try MutableIPv4Header(b)
            ip.fillChecksum()
            XCTAssertEqual(ip.headerChecksum, 0xB861)
            XCTAssertTrue(ip.verifyChecksum)
        }
    }

    func testMatchesReferenceOnEveryLengthAndAlignment() {
        let data = random(70_000)
        for length in Array(0...300) + [1499, 1500, 4095, 9000, 65535, 65536] {
            for offset in [0, 1, 2, 3, 7] {
                let piece = Array(data[offset..<offset + length])
                XCTAssertEqual(Self.sum(piece), Self.reference(piece), "length \(length) offset \(offset)")
            }
        }
    }

    /// Both builds of the summing loop, called directly: the dispatch sends long buffers to
    /// the AVX2 one on a CPU that has it, so the SSE2 one's long loop is tested here too.
    func testBothKernelBuildsMatchTheReference() throws {
        func folded(_ wide: UInt64) -> UInt16 { UInt16(bigEndian: InternetChecksum.fold(wide)) }
        let data = random(70_000)
        var kernels: [(String, (UnsafeRawPointer, Int) -> UInt64)] = [
            ("sse2", { ChecksumKernel.wideSum($0, $1, lanes: SIMD2<UInt64>.self) }),
        ]
        if ccpu_has_x86_64_v3() { kernels.append(("avx2", { wideSumV3($0, $1) })) }
        for length in Array(0...600) + [1408, 1499, 1500, 4095, 9000, 65535, 65536] {
            for offset in [0, 1, 2, 3, 7, 31] {
                let piece = Array(data[offset..<offset + length])
                let expected = Self.reference(piece)
                for (name, kernel) in kernels {
                    let got = piece.withUnsafeBytes { folded(kernel($0.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!, length)) }
                    XCTAssertEqual(got, expected, "\(name): length \(length) offset \(offset)")
                }
            }
        }
        let ones = [UInt8](repeating: 0xFF, count: 65536)
        for (name, kernel) in kernels {
            XCTAssertEqual(ones.withUnsafeBytes { folded(kernel($0.baseAddress!, $0.count)) }, 0xFFFF, name)
        }
    }

    /// The load-time CPU check agrees with the kernel's own list of the CPU's flags: the AVX2
    /// build is used exactly where every x86-64-v3 feature is there.
    func testTheCPULevelMatchesTheKernelsFlags() throws {
        #if arch(x86_64)
        let cpuinfo = try String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)
        let line = try XCTUnwrap(cpuinfo.split(separator: "\n").first { $0.hasPrefix("flags") })
        let flags = Set(line.split(separator: " ").map(String.init))
        let v3 = ["avx", "avx2", "bmi1", "bmi2", "fma", "f16c", "abm", "movbe", "xsave",
                  "sse4_1", "sse4_2", "ssse3", "pni", "popcnt", "cx16"]
        XCTAssertEqual(ccpu_has_x86_64_v3(), v3.allSatisfy(flags.contains), "flags: \(v3.filter { !flags.contains($0) })")
        XCTAssertGreaterThanOrEqual(ccpu_x86_64_level(), 1)
        #else
        XCTAssertFalse(ccpu_has_x86_64_v3())
        #endif
    }

    func testAllOnesAndZeros() {
        XCTAssertEqual(Self.sum([UInt8](repeating: 0xFF, count: 65536)), 0xFFFF)
        XCTAssertEqual(Self.sum([UInt8](repeating: 0, count: 1500)), 0)
        XCTAssertEqual(Self.sum([]), 0)
        // The wide accumulator must not lose carries when every lane is at its maximum.
        let ones = [UInt8](repeating: 0xFF, count: 65535)
        XCTAssertEqual(Self.sum(ones), Self.reference(ones))
    }

    /// A packet in pieces of any (odd) lengths sums like the whole.
    func testChainOfOddPieces() {
        for _ in 0..<200 {
            let whole = random(Int.random(in: 1...3000))
            var acc = ChecksumAccumulator()
            var at = 0
            while at < whole.count {
                let n = min(whole.count - at, Int.random(in: 1...97))
                whole[at..<at + n].withUnsafeBytes { acc.add($0) }
                at += n
            }
            XCTAssertEqual(acc.sum, Self.reference(whole))
            XCTAssertEqual(acc.byteCount, whole.count)
        }
    }

    /// Sums of adjacent pieces combine into the sum of both, odd first piece included.
    func testCombine() {
        for _ in 0..<200 {
            let a = random(Int.random(in: 0...200)), b = random(Int.random(in: 0...200))
            XCTAssertEqual(InternetChecksum.combine(Self.sum(a), Self.sum(b), firstLength: a.count), Self.reference(a + b))
        }
    }

    /// RFC 1624 §4 example: m 0x5555 -> 0x3285 with HC 0xDD2F gives 0x0000 (eqn. 3), not
    /// 0xFFFF (the eqn. 2 pitfall the RFC corrects).
    func testRFC1624Example() {
        XCTAssertEqual(InternetChecksum.update(checksum: 0xDD2F, old: UInt16(0x5555), new: UInt16(0x3285)), 0x0000)
    }

    /// Incremental updates of 16- and 32-bit fields equal a full recomputation.
    func testIncrementalUpdateMatchesRecompute() throws {
        for _ in 0..<500 {
            var header = random(20)
            header[0] = 0x45
            header[10] = 0
            header[11] = 0
            let before = ~Self.sum(header)
            let at = [0, 2, 4, 6, 8, 12, 14, 16, 18].randomElement()!  // any 16-bit word but the checksum
            let old = UInt16(header[at]) << 8 | UInt16(header[at + 1])
            let new = UInt16.random(in: 0...0xFFFF)
            header[at] = UInt8(new >> 8)
            header[at + 1] = UInt8(new & 0xFF)
            let after = ~Self.sum(header)
            let updated = InternetChecksum.update(checksum: before, old: old, new: new)
            // 0x0000 and 0xFFFF are the same one's complement value; RFC 1624 yields 0x0000 only
            // when the true sum is 0xFFFF, which a header with non-zero fields cannot reach.
            XCTAssertEqual(updated == 0xFFFF ? 0 : updated, after == 0xFFFF ? 0 : after)

            let oldAddress = UInt32(header[12]) << 24 | UInt32(header[13]) << 16 | UInt32(header[14]) << 8 | UInt32(header[15])
            let newAddress = UInt32.random(in: 0...UInt32.max)
            for k in 0..<4 { header[12 + k] = UInt8(truncatingIfNeeded: newAddress >> UInt32(24 - 8 * k)) }
            let recomputed = ~Self.sum(header)
            let updated32 = InternetChecksum.update(checksum: after, old: oldAddress, new: newAddress)
            XCTAssertEqual(updated32 == 0xFFFF ? 0 : updated32, recomputed == 0xFFFF ? 0 : recomputed)
        }
    }

    /// `updateIPEnd` (the coalescer's, for headers verified before) writes what `setIPEnd`
    /// (which sums the header again) writes, on headers with a right checksum; IPv6 too.
    func testUpdatingAnIPEndEqualsSummingTheHeaderAgain() throws {
        for round in 0..<1000 {
            var header = random(40)
            header[0] = round % 10 == 0 ? 0x60 : 0x45
            if header[0] == 0x45 {
                header[10] = 0
                header[11] = 0
                let checksum = ~Self.sum(Array(header[0..<20]))
                header[10] = UInt8(checksum >> 8)
                header[11] = UInt8(checksum & 0xFF)
            }
            let end = Int.random(in: 40...65535)
            var summed = header, updated = header
            summed.withUnsafeMutableBytes { $0.baseAddress!.setIPEnd(ipAt: 0, end: end) }
            updated.withUnsafeMutableBytes { $0.baseAddress!.updateIPEnd(ipAt: 0, end: end) }
            XCTAssertEqual(updated, summed, "round \(round), end \(end)")
            if header[0] == 0x45 { XCTAssertEqual(Self.sum(Array(updated[0..<20])), 0xFFFF, "round \(round)") }
        }
    }

    /// The pseudo-header sum without length (TSO) plus the length equals the one with it,
    /// for both IP versions; with length it matches a byte-wise pseudo-header.
    func testPseudoHeaders() {
        let s4 = IPv4Address(192, 0, 2, 1), d4 = IPv4Address(198, 51, 100, 7)
        let with4 = InternetChecksum.pseudoHeaderSum(source: s4, destination: d4, protocol: 6, length: 1234)
        let without4 = InternetChecksum.pseudoHeaderSum(source: s4, destination: d4, protocol: 6, length: nil)
        XCTAssertEqual(with4, InternetChecksum.add(without4, 1234))
        XCTAssertEqual(with4, Self.reference([192, 0, 2, 1, 198, 51, 100, 7, 0, 6, 0x04, 0xD2]))

        let s6 = IPv6Address(high: 0x2001_0DB8_0000_0000, low: 0x1), d6 = IPv6Address(high: 0xFE80_0000_0000_0000, low: 0xDEAD_BEEF)
        let with6 = InternetChecksum.pseudoHeaderSum(source: s6, destination: d6, nextHeader: 17, length: 70000)
        var bytes: [UInt8] = []
        for half in [s6.high, s6.low, d6.high, d6.low] { for k in 0..<8 { bytes.append(UInt8(truncatingIfNeeded: half >> UInt64(56 - 8 * k))) } }
        bytes += [0x00, 0x01, 0x11, 0x70, 0, 0, 0, 17]  // 70000 = 0x00011170
        XCTAssertEqual(with6, Self.reference(bytes))
        let without6 = InternetChecksum.pseudoHeaderSum(source: s6, destination: d6, nextHeader: 17, length: nil)
        XCTAssertEqual(with6, InternetChecksum.add(InternetChecksum.add(without6, 0x0001), 0x1170))
    }

    func testUDPZeroChecksumIsSentAsAllOnes() {
        XCTAssertEqual(InternetChecksum.udpField(0), 0xFFFF)
        XCTAssertEqual(InternetChecksum.udpField(0x1234), 0x1234)
    }

    /// nativeSum is what rte_raw_cksum returns (machine byte order).
    func testNativeSumIsByteSwappedOnLittleEndian() {
        let data = random(1501)
        let native = data.withUnsafeBytes { InternetChecksum.nativeSum($0) }
        XCTAssertEqual(UInt16(bigEndian: native), Self.reference(data))
    }
}
