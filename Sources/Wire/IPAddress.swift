/// An IPv4 address as a host-order integer.
public struct IPv4Address: Hashable, Sendable, CustomStringConvertible {
    public var value: UInt32
    @inlinable public init(_ value: UInt32) { self.value = value }
    public init(_ a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8) {
        value = UInt32(a) << 24 | UInt32(b) << 16 | UInt32(c) << 8 | UInt32(d)
    }
    public var description: String {
        "\(value >> 24).\(value >> 16 & 0xFF).\(value >> 8 & 0xFF).\(value & 0xFF)"
    }
}

/// An IPv6 address as two host-order halves (`high` holds the first 8 bytes).
public struct IPv6Address: Hashable, Sendable, CustomStringConvertible {
    public var high: UInt64
    public var low: UInt64
    @inlinable public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }
    @inlinable public init(reading bytes: UnsafeRawBufferPointer, at offset: Int) {
        high = bytes.be64(offset)
        low = bytes.be64(offset + 8)
    }
    @inlinable public func write(to bytes: UnsafeMutableRawBufferPointer, at offset: Int) {
        bytes.setBE64(offset, high)
        bytes.setBE64(offset + 8, low)
    }
    public var description: String {
        let words = (0..<8).map { i -> UInt16 in
            let half = i < 4 ? high : low
            return UInt16(truncatingIfNeeded: half >> UInt64(48 - 16 * (i % 4)))
        }
        return words.map { String($0, radix: 16) }.joined(separator: ":")
    }
}

/// IANA "Assigned Internet Protocol Numbers" that the parser dispatches on.
public enum IPProtocol {
    public static let hopByHop: UInt8 = 0
    public static let icmp: UInt8 = 1
    public static let ipv4: UInt8 = 4  // IP-in-IP
    public static let tcp: UInt8 = 6
    public static let udp: UInt8 = 17
    public static let ipv6: UInt8 = 41  // IPv6-in-IP (SIT / 6in6)
    public static let ipv6Routing: UInt8 = 43
    public static let ipv6Fragment: UInt8 = 44
    public static let gre: UInt8 = 47
    public static let esp: UInt8 = 50
    public static let ah: UInt8 = 51
    public static let icmpv6: UInt8 = 58
    public static let ipv6NoNextHeader: UInt8 = 59
    public static let ipv6DestinationOptions: UInt8 = 60
}

/// Up to 40 bytes of IPv4 or TCP options held inline (no allocation), as builders carry them.
public struct HeaderOptions: Hashable, Sendable {
    public static let capacity = 40
    @usableFromInline var storage: (UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0)
    public private(set) var count: Int = 0

    public init() {}

    /// Copies `bytes`; its length must be a multiple of 4 and at most 40 (headers count words).
    public init(_ bytes: UnsafeRawBufferPointer) throws(WireError) {
        guard bytes.count <= Self.capacity, bytes.count % 4 == 0 else {
            throw WireError(.ipv4Options, .fieldOutOfRange, needed: bytes.count, available: Self.capacity)
        }
        count = bytes.count
        withUnsafeMutableBytes(of: &storage) { $0.copy(bytes, to: 0) }
    }

    public init(_ bytes: [UInt8]) throws(WireError) {
        let result = bytes.withUnsafeBytes { raw in Result { () throws(WireError) in try HeaderOptions(raw) } }
        self = try result.get()
    }

    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try Swift.withUnsafeBytes(of: storage) { try body(UnsafeRawBufferPointer(rebasing: $0[..<count])) }
    }

    public var bytes: [UInt8] { withUnsafeBytes { Array($0) } }

    /// What `validate` finds wrong with these bytes, if anything (builders check options
    /// with the same walk the views use).
    @inlinable func problem(_ validate: (UnsafeRawBufferPointer) throws(WireError) -> Void) -> WireError? {
        Swift.withUnsafeBytes(of: storage) { raw in
            do throws(WireError) {
                try validate(UnsafeRawBufferPointer(rebasing: raw[..<count]))
                return nil
            } catch {
                return error
            }
        }
    }

    public static func == (a: HeaderOptions, b: HeaderOptions) -> Bool { a.bytes == b.bytes }
    public func hash(into hasher: inout Hasher) { hasher.combine(bytes) }
}
