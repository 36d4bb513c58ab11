// Header field access and checksum arithmetic on raw packet memory, for the modules that
// write headers in place (Offload's segmenter and checksums, the vnet tap). One copy, here,
// with `package` access: callers have checked the bounds once (a layout against the packet
// length); these do unchecked loads and stores and inline into the hot loops.

extension UnsafeMutableRawPointer {
    @inlinable @inline(__always) package func u8(_ offset: Int) -> UInt8 { load(fromByteOffset: offset, as: UInt8.self) }
    @inlinable @inline(__always) package func be16(_ offset: Int) -> UInt16 {
        UInt16(bigEndian: loadUnaligned(fromByteOffset: offset, as: UInt16.self))
    }
    @inlinable @inline(__always) package func be32(_ offset: Int) -> UInt32 {
        UInt32(bigEndian: loadUnaligned(fromByteOffset: offset, as: UInt32.self))
    }
    @inlinable @inline(__always) package func be64(_ offset: Int) -> UInt64 {
        UInt64(bigEndian: loadUnaligned(fromByteOffset: offset, as: UInt64.self))
    }
    @inlinable @inline(__always) package func setU8(_ offset: Int, _ value: UInt8) {
        storeBytes(of: value, toByteOffset: offset, as: UInt8.self)
    }
    @inlinable @inline(__always) package func setBE16(_ offset: Int, _ value: UInt16) {
        storeBytes(of: value.bigEndian, toByteOffset: offset, as: UInt16.self)
    }
    @inlinable @inline(__always) package func setBE32(_ offset: Int, _ value: UInt32) {
        storeBytes(of: value.bigEndian, toByteOffset: offset, as: UInt32.self)
    }

    /// The Internet sum (network order, uncomplemented) of `count` bytes at `offset`.
    @inlinable @inline(__always) package func internetSum(_ offset: Int, _ count: Int) -> UInt16 {
        InternetChecksum.sum(UnsafeRawBufferPointer(start: self + offset, count: count))
    }

    /// Whether an IPv4 (IHL >= 5) or IPv6 header starts at `offset` and ends by `end`.
    @inlinable @inline(__always) package func ipHeaderFits(at offset: Int, end: Int) -> Bool {
        guard offset >= 0, offset + 20 <= end else { return false }
        let first = u8(offset)
        switch first >> 4 {
        case 4: return first & 0x0F >= 5 && offset + Int(first & 0x0F) * 4 <= end
        case 6: return offset + 40 <= end
        default: return false
        }
    }

    /// The IP header at `offset` is IPv6 (by its version nibble).
    @inlinable @inline(__always) package func isIPv6Header(at offset: Int) -> Bool { u8(offset) >> 4 == 6 }

    /// The Internet sum (network order, uncomplemented) of the IPv4 header at `offset`, its
    /// length from the IHL: a 20-byte header, the common one, in five word adds inline (no
    /// call into the checksum kernel and its loop set-up).
    @inlinable @inline(__always) package func ipv4HeaderSum(at offset: Int) -> UInt16 {
        let length = Int(u8(offset) & 0x0F) * 4
        guard length == 20 else { return internetSum(offset, length) }
        var sum = UInt64(loadUnaligned(fromByteOffset: offset, as: UInt32.self))
        sum &+= UInt64(loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self))
        sum &+= UInt64(loadUnaligned(fromByteOffset: offset + 8, as: UInt32.self))
        sum &+= UInt64(loadUnaligned(fromByteOffset: offset + 12, as: UInt32.self))
        sum &+= UInt64(loadUnaligned(fromByteOffset: offset + 16, as: UInt32.self))
        // Summed in the machine's byte order (RFC 1071 §2(B)); the fold is the same.
        return UInt16(bigEndian: InternetChecksum.fold(sum))
    }

    /// Rewrites the header checksum of the IPv4 header at `offset` (RFC 791 §3.1), its length
    /// from the IHL. The sum is taken with the old checksum in place and that value taken out
    /// again (RFC 1624): zeroing the field first, a narrow store under the sum's wide loads,
    /// would stall them (no store-to-load forwarding).
    @inlinable @inline(__always) package func fillIPv4HeaderChecksum(at offset: Int) {
        setBE16(offset + 10, ~onesSubtract(ipv4HeaderSum(at: offset), be16(offset + 10)))
    }

    /// The pseudo-header sum (RFC 768 / RFC 8200 §8.1, uncomplemented) of the IP header at
    /// `offset` for upper-layer protocol `proto`, without the length.
    @inlinable @inline(__always) package func pseudoHeaderSum(ipAt offset: Int, isIPv4: Bool, protocol proto: UInt8) -> UInt16 {
        if isIPv4 {
            return InternetChecksum.pseudoHeaderSum(
                source: IPv4Address(be32(offset + 12)), destination: IPv4Address(be32(offset + 16)),
                protocol: proto, length: nil)
        }
        return InternetChecksum.pseudoHeaderSum(
            source: IPv6Address(high: be64(offset + 8), low: be64(offset + 16)),
            destination: IPv6Address(high: be64(offset + 24), low: be64(offset + 32)),
            nextHeader: proto, length: nil)
    }

    /// The same, the version from the header's first nibble, with `length` added unless nil.
    @inlinable @inline(__always) package func pseudoHeaderSum(ipAt offset: Int, protocol proto: UInt8, length: Int?) -> UInt16 {
        let sum = pseudoHeaderSum(ipAt: offset, isIPv4: !isIPv6Header(at: offset), protocol: proto)
        guard let length else { return sum }
        return InternetChecksum.add(
            InternetChecksum.add(sum, UInt16(truncatingIfNeeded: length)), UInt16(truncatingIfNeeded: length >> 16))
    }

    /// Where the IP packet at `offset` ends by its own length field.
    @inlinable @inline(__always) package func ipEnd(ipAt offset: Int) -> Int {
        isIPv6Header(at: offset) ? offset + 40 + Int(be16(offset + 4)) : offset + Int(be16(offset + 2))
    }

    /// Makes the IP packet at `offset` end at `end`: the IPv6 payload length, or the IPv4 total
    /// length with the header checksum rewritten for it. Both IPv4 fields come from one sum of
    /// the header as it was, stored after it (see `fillIPv4HeaderChecksum`).
    @inlinable @inline(__always) package func setIPEnd(ipAt offset: Int, end: Int) {
        if isIPv6Header(at: offset) {
            setBE16(offset + 4, UInt16(truncatingIfNeeded: end - offset - 40))
            return
        }
        let length = UInt16(truncatingIfNeeded: end - offset)
        let others = onesSubtract(onesSubtract(ipv4HeaderSum(at: offset), be16(offset + 10)), be16(offset + 2))
        setBE16(offset + 2, length)
        setBE16(offset + 10, ~onesAdd(others, length))
    }

    /// `setIPEnd` for a header whose checksum is known to be right (verified when it came in):
    /// the IPv4 checksum is updated for the new length alone (RFC 1624 eqn. 3), without
    /// summing the header again. A wrong checksum stays wrong, as a router's update leaves it.
    @inlinable @inline(__always) package func updateIPEnd(ipAt offset: Int, end: Int) {
        // IPv6 has no header checksum: `setIPEnd` writes the payload length alone.
        if isIPv6Header(at: offset) { return setIPEnd(ipAt: offset, end: end) }
        let length = UInt16(truncatingIfNeeded: end - offset)
        let checksum = InternetChecksum.update(checksum: be16(offset + 10), old: be16(offset + 2), new: length)
        setBE16(offset + 2, length)
        setBE16(offset + 10, checksum)
    }
}

/// Ones' complement addition of a sum and a 16-bit value (a length).
@inlinable @inline(__always) package func onesAdd(_ a: UInt16, _ b: UInt16) -> UInt16 { InternetChecksum.add(a, b) }

/// Ones' complement subtraction (RFC 1624): takes `b`'s contribution out of `a`.
@inlinable @inline(__always) package func onesSubtract(_ a: UInt16, _ b: UInt16) -> UInt16 { InternetChecksum.add(a, ~b) }

/// A sum placed at an odd distance from the start of the region it joins reads byte-swapped.
@inlinable @inline(__always) package func aligned(_ sum: UInt16, atOffset distance: Int) -> UInt16 {
    distance & 1 == 0 ? sum : sum.byteSwapped
}
