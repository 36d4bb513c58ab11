/// The Internet checksum (RFC 1071) and its helpers.
///
/// Convention: a "sum" is the folded 16-bit ones' complement sum, NOT complemented, given as
/// the number the two bytes spell in network order (so it compares with `be16` field reads).
/// A "checksum" is `~sum`, the value a header field carries (write it with the setters).
public enum InternetChecksum {
    /// Ones' complement sum of `bytes` (an odd last byte is padded with zero).
    @inlinable
    public static func sum(_ bytes: UnsafeRawBufferPointer) -> UInt16 {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return 0 }
        return UInt16(bigEndian: fold(nativeWideSum(base, bytes.count)))
    }

    /// The checksum field value for `bytes` alone: `~sum(bytes)`.
    @inlinable
    public static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt16 { ~sum(bytes) }

    /// Sum in the machine's byte order, exactly what DPDK's `rte_raw_cksum` returns.
    @inlinable
    public static func nativeSum(_ bytes: UnsafeRawBufferPointer) -> UInt16 {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return 0 }
        return fold(nativeWideSum(base, bytes.count))
    }

    /// Ones' complement addition of two sums.
    @inlinable
    public static func add(_ a: UInt16, _ b: UInt16) -> UInt16 {
        let s = UInt32(a) &+ UInt32(b)
        return UInt16(truncatingIfNeeded: (s & 0xFFFF) &+ (s >> 16))
    }

    /// The sum of two adjacent pieces from their sums: when the first piece has an odd
    /// length the second one's bytes sit in swapped word halves, so its sum is byte-swapped.
    /// This lets a payload's sum be reused under different headers (inner TCP, outer UDP).
    @inlinable
    public static func combine(_ first: UInt16, _ second: UInt16, firstLength: Int) -> UInt16 {
        add(first, firstLength & 1 == 0 ? second : second.byteSwapped)
    }

    /// IPv4 pseudo-header sum (RFC 768/793): addresses, protocol and, unless `length` is nil,
    /// the L4 length. TSO wants it without the length (DPDK, Linux CHECKSUM_PARTIAL for GSO).
    @inlinable
    public static func pseudoHeaderSum(
        source: IPv4Address, destination: IPv4Address, protocol proto: UInt8, length: Int?
    ) -> UInt16 {
        var s = UInt64(source.value >> 16) &+ UInt64(source.value & 0xFFFF)
        s &+= UInt64(destination.value >> 16) &+ UInt64(destination.value & 0xFFFF)
        s &+= UInt64(proto)
        if let length { s &+= UInt64(length & 0xFFFF) &+ UInt64(length >> 16) }
        return fold(s)
    }

    /// IPv6 pseudo-header sum (RFC 8200 §8.1): addresses, 32-bit upper-layer length (unless
    /// nil), next header.
    @inlinable
    public static func pseudoHeaderSum(
        source: IPv6Address, destination: IPv6Address, nextHeader: UInt8, length: Int?
    ) -> UInt16 {
        var s = halves(source.high) &+ halves(source.low) &+ halves(destination.high) &+ halves(destination.low)
        s &+= UInt64(nextHeader)
        if let length { s &+= UInt64(length & 0xFFFF) &+ UInt64((length >> 16) & 0xFFFF) }
        return fold(s)
    }

    @inlinable static func halves(_ v: UInt64) -> UInt64 {
        (v >> 48) &+ (v >> 32 & 0xFFFF) &+ (v >> 16 & 0xFFFF) &+ (v & 0xFFFF)
    }

    /// RFC 1624 eqn. 3: the checksum field after a 16-bit word covered by it changed from
    /// `old` to `new`: HC' = ~(~HC + ~m + m').
    @inlinable
    public static func update(checksum: UInt16, old: UInt16, new: UInt16) -> UInt16 {
        ~add(add(~checksum, ~old), new)
    }

    /// RFC 1624 for a 32-bit field (an address, a sequence number): two 16-bit updates.
    @inlinable
    public static func update(checksum: UInt16, old: UInt32, new: UInt32) -> UInt16 {
        let c = update(checksum: checksum, old: UInt16(old >> 16), new: UInt16(new >> 16))
        return update(checksum: c, old: UInt16(truncatingIfNeeded: old), new: UInt16(truncatingIfNeeded: new))
    }

    /// UDP sends a computed checksum of 0 as 0xFFFF, since 0 means "no checksum" (RFC 768).
    @inlinable
    public static func udpField(_ checksum: UInt16) -> UInt16 { checksum == 0 ? 0xFFFF : checksum }
}

/// Sums a packet that arrives in pieces (mbuf chain segments, header + payload), handling
/// pieces of odd length. Also the way to add pseudo-headers and reuse partial sums.
public struct ChecksumAccumulator: Hashable, Sendable {
    @usableFromInline var total: UInt32 = 0
    /// Bytes summed so far; its parity decides how the next piece lines up.
    public var byteCount: Int = 0

    @inlinable public init() {}

    /// Starts from a sum that is not part of the byte stream (a pseudo-header sum).
    @inlinable public init(initial sum: UInt16) { total = UInt32(sum) }

    @inlinable public mutating func add(_ bytes: UnsafeRawBufferPointer) {
        add(sum: InternetChecksum.sum(bytes), length: bytes.count)
    }

    /// Appends a piece of `length` bytes whose sum was computed already.
    @inlinable public mutating func add(sum: UInt16, length: Int) {
        total &+= UInt32(byteCount & 1 == 0 ? sum : sum.byteSwapped)
        byteCount &+= length
        if total > 0xFFFF { total = (total & 0xFFFF) &+ (total >> 16) }
    }

    /// Adds a value that is not positional (a pseudo-header sum, a length).
    @inlinable public mutating func add(word: UInt16) {
        total &+= UInt32(word)
        if total > 0xFFFF { total = (total & 0xFFFF) &+ (total >> 16) }
    }

    @inlinable public var sum: UInt16 { UInt16(truncatingIfNeeded: (total & 0xFFFF) &+ (total >> 16)) }
    @inlinable public var checksum: UInt16 { ~sum }
}
