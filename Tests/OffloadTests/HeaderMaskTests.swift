import CCPU
import ChecksumKernelV3
@testable import Offload
import XCTest

/// Both builds of the masked header compare (`HeaderMask.agree`: AVX2 vectors where the CPU has
/// them, words otherwise) against a byte-by-byte reference, at every length a flow may have.
final class HeaderMaskTests: XCTestCase {
    func testBothBuildsOfTheCompareMatchAByteByByteReference() throws {
        var generator = SystemRandomNumberGenerator()
        let bytes = HeaderMask.maxWords * 8
        let a = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 8)
        let b = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 8)
        let mask = UnsafeMutablePointer<UInt64>.allocate(capacity: HeaderMask.maxWords)
        defer {
            a.deallocate()
            b.deallocate()
            mask.deallocate()
        }
        let hasVectors = ccpu_has_x86_64_v3()
        var agreements = 0, differences = 0
        for words in 1...HeaderMask.maxWords {
            for round in 0..<200 {
                for index in 0..<bytes { a.storeBytes(of: UInt8.random(in: 0...255, using: &generator), toByteOffset: index, as: UInt8.self) }
                b.copyMemory(from: a, byteCount: bytes)
                for index in 0..<HeaderMask.maxWords { mask[index] = round % 4 == 0 ? ~0 : UInt64.random(in: 0...UInt64.max, using: &generator) }
                // Some rounds change bits: under the mask or not, in the last word (the vectors'
                // overlapping tail) or anywhere, or past the compared words.
                let flips = round % 3
                for _ in 0..<flips {
                    let at = round % 5 == 0 ? words * 8 - 1 - Int.random(in: 0..<8, using: &generator)
                        : Int.random(in: 0..<(round % 7 == 0 ? bytes : words * 8), using: &generator)
                    let bit = UInt8(1) << UInt8.random(in: 0..<8, using: &generator)
                    b.storeBytes(of: b.load(fromByteOffset: at, as: UInt8.self) ^ bit, toByteOffset: at, as: UInt8.self)
                }
                let maskBytes = UnsafeRawPointer(mask)
                var expected = true
                for index in 0..<words * 8
                where (a.load(fromByteOffset: index, as: UInt8.self) ^ b.load(fromByteOffset: index, as: UInt8.self))
                    & maskBytes.load(fromByteOffset: index, as: UInt8.self) != 0
                {
                    expected = false
                }
                if expected { agreements += 1 } else { differences += 1 }
                XCTAssertEqual(HeaderMask.agreeByWords(a, b, mask, words: words), expected, "words: \(words), round \(round)")
                XCTAssertEqual(HeaderMask.agree(a, b, mask, words: words), expected, "words: \(words), round \(round)")
                if hasVectors, words >= 4 {
                    XCTAssertEqual(maskedAgreeV3(a, b, maskBytes, bytes: words * 8), expected, "AVX2, words: \(words), round \(round)")
                }
            }
        }
        // Both outcomes were tried often.
        XCTAssertGreaterThan(agreements, 2000)
        XCTAssertGreaterThan(differences, 2000)
        if !hasVectors { print("HeaderMaskTests: this CPU has no AVX2; the word build alone was compared") }
    }
}
