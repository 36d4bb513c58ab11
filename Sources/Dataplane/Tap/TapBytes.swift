import DPDK
import Wire

// Header arithmetic for the tap port: big-endian fields, IPv4 header checksums and
// pseudo-header sums, on the first segment's bytes (callers check the bounds).

extension UnsafeMutableRawPointer {
    @inline(__always) func tapBE16(_ offset: Int) -> UInt16 {
        UInt16(bigEndian: loadUnaligned(fromByteOffset: offset, as: UInt16.self))
    }
    @inline(__always) func tapSetBE16(_ offset: Int, _ value: UInt16) {
        storeBytes(of: value.bigEndian, toByteOffset: offset, as: UInt16.self)
    }
    @inline(__always) func tapSum(_ offset: Int, _ count: Int) -> UInt16 {
        InternetChecksum.sum(UnsafeRawBufferPointer(start: self + offset, count: count))
    }

    /// Whether an IPv4 (IHL >= 5) or IPv6 header starts at `offset` and ends by `end`.
    @inline(__always) func tapIPHeaderFits(at offset: Int, end: Int) -> Bool {
        guard offset >= 0, offset + 20 <= end else { return false }
        let first = load(fromByteOffset: offset, as: UInt8.self)
        switch first >> 4 {
        case 4: return first & 0x0F >= 5 && offset + Int(first & 0x0F) * 4 <= end
        case 6: return offset + 40 <= end
        default: return false
        }
    }

    @inline(__always) func tapIsIPv6(at offset: Int) -> Bool { load(fromByteOffset: offset, as: UInt8.self) >> 4 == 6 }

    /// Rewrites the header checksum of the IPv4 header at `offset` (checked by `tapIPHeaderFits`).
    @inline(__always) func tapFillIPv4Checksum(at offset: Int) {
        let length = Int(load(fromByteOffset: offset, as: UInt8.self) & 0x0F) * 4
        tapSetBE16(offset + 10, 0)
        tapSetBE16(offset + 10, ~tapSum(offset, length))
    }

    /// The pseudo-header sum (not complemented) of the IP header at `offset` (version from its
    /// first nibble) for upper-layer protocol `proto`, with `length` added unless nil.
    @inline(__always) func tapPseudoSum(ipAt offset: Int, protocol proto: UInt8, length: Int?) -> UInt16 {
        let isIPv6 = load(fromByteOffset: offset, as: UInt8.self) >> 4 == 6
        var sum = isIPv6 ? tapSum(offset + 8, 32) : tapSum(offset + 12, 8)
        sum = InternetChecksum.add(sum, UInt16(proto))
        if let length {
            sum = InternetChecksum.add(sum, UInt16(truncatingIfNeeded: length))
            sum = InternetChecksum.add(sum, UInt16(truncatingIfNeeded: length >> 16))
        }
        return sum
    }

    /// Where the IP packet at `offset` ends by its own length field.
    @inline(__always) func tapIPEnd(ipAt offset: Int) -> Int {
        let isIPv6 = load(fromByteOffset: offset, as: UInt8.self) >> 4 == 6
        return isIPv6 ? offset + 40 + Int(tapBE16(offset + 4)) : offset + Int(tapBE16(offset + 2))
    }

    /// Makes the IP packet at `offset` end at `end` (IPv4 total length / IPv6 payload length).
    /// Returns whether the value changed.
    @inline(__always) func tapSetIPEnd(ipAt offset: Int, end: Int) -> Bool {
        let isIPv6 = load(fromByteOffset: offset, as: UInt8.self) >> 4 == 6
        let field = isIPv6 ? offset + 4 : offset + 2
        let value = UInt16(truncatingIfNeeded: isIPv6 ? end - offset - 40 : end - offset)
        guard tapBE16(field) != value else { return false }
        tapSetBE16(field, value)
        return true
    }
}

/// Ones' complement subtraction of sums.
@inline(__always) func tapOnesSubtract(_ a: UInt16, _ b: UInt16) -> UInt16 { InternetChecksum.add(a, ~b) }

/// The Internet sum of `count` bytes of `packet` from `offset`, across segments.
func tapChainSum(_ packet: Mbuf, from offset: Int, count: Int) -> UInt16 {
    var accumulator = ChecksumAccumulator()
    var skip = offset
    var remaining = count
    var segment: Mbuf? = packet
    while let current = segment, remaining > 0 {
        let length = Int(current.dataLength)
        if skip >= length {
            skip -= length
        } else {
            let take = min(length - skip, remaining)
            accumulator.add(UnsafeRawBufferPointer(start: current.data + skip, count: take))
            remaining -= take
            skip = 0
        }
        segment = current.next
    }
    return accumulator.sum
}
