import Wire

// Big-endian field access on header bytes the segmenter has already bounds-checked once
// (layout against packet length). Wire's own helpers are internal to Wire.
extension UnsafeMutableRawPointer {
    @inline(__always) func be16(_ offset: Int) -> UInt16 {
        UInt16(bigEndian: loadUnaligned(fromByteOffset: offset, as: UInt16.self))
    }
    @inline(__always) func be32(_ offset: Int) -> UInt32 {
        UInt32(bigEndian: loadUnaligned(fromByteOffset: offset, as: UInt32.self))
    }
    @inline(__always) func u8(_ offset: Int) -> UInt8 { load(fromByteOffset: offset, as: UInt8.self) }
    @inline(__always) func setBE16(_ offset: Int, _ value: UInt16) {
        storeBytes(of: value.bigEndian, toByteOffset: offset, as: UInt16.self)
    }
    @inline(__always) func setBE32(_ offset: Int, _ value: UInt32) {
        storeBytes(of: value.bigEndian, toByteOffset: offset, as: UInt32.self)
    }
    @inline(__always) func setU8(_ offset: Int, _ value: UInt8) {
        storeBytes(of: value, toByteOffset: offset, as: UInt8.self)
    }
    /// The Internet sum (network order, uncomplemented) of `count` bytes at `offset`.
    @inline(__always) func internetSum(_ offset: Int, _ count: Int) -> UInt16 {
        InternetChecksum.sum(UnsafeRawBufferPointer(start: self + offset, count: count))
    }
}

/// Ones' complement addition of a sum and a 16-bit value (a length).
@inline(__always) func onesAdd(_ a: UInt16, _ b: UInt16) -> UInt16 { InternetChecksum.add(a, b) }

/// A sum placed at an odd distance from the start of the region it joins reads byte-swapped.
@inline(__always) func aligned(_ sum: UInt16, atOffset distance: Int) -> UInt16 {
    distance & 1 == 0 ? sum : sum.byteSwapped
}

extension UnsafeMutableRawPointer {
    @inline(__always) func be64(_ offset: Int) -> UInt64 {
        UInt64(bigEndian: loadUnaligned(fromByteOffset: offset, as: UInt64.self))
    }
    /// The IPv4 or IPv6 pseudo-header sum, without the length, of the IP header at `offset`.
    @inline(__always) func pseudoHeaderSum(ipAt offset: Int, isIPv4: Bool, protocol proto: UInt8) -> UInt16 {
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
}

/// Copies a header block (tens to a few hundred bytes) inline: for such sizes a call to
/// memcpy costs more than the copy.
@inline(__always) func copyHeaders(_ destination: UnsafeMutableRawPointer, _ source: UnsafeRawPointer, _ count: Int) {
    var offset = 0
    while offset &+ 16 <= count {
        let chunk = source.loadUnaligned(fromByteOffset: offset, as: SIMD16<UInt8>.self)
        destination.storeBytes(of: chunk, toByteOffset: offset, as: SIMD16<UInt8>.self)
        offset &+= 16
    }
    while offset &+ 4 <= count {
        destination.storeBytes(of: source.loadUnaligned(fromByteOffset: offset, as: UInt32.self), toByteOffset: offset, as: UInt32.self)
        offset &+= 4
    }
    while offset < count {
        destination.storeBytes(of: source.load(fromByteOffset: offset, as: UInt8.self), toByteOffset: offset, as: UInt8.self)
        offset &+= 1
    }
}
