/// One TCP option as found on the wire (RFC 9293 §3.2, RFC 7323, RFC 2018).
public enum TCPOption {
    case endOfList
    case noOperation
    case maximumSegmentSize(UInt16)
    case windowScale(UInt8)
    case sackPermitted
    /// SACK blocks as raw bytes: `count / 8` pairs of (left, right) edges.
    case sack(UnsafeRawBufferPointer)
    case timestamps(value: UInt32, echoReply: UInt32)
    /// Anything else, kept: kind and the data after kind and length.
    case unknown(kind: UInt8, data: UnsafeRawBufferPointer)

    public static let kindEndOfList: UInt8 = 0
    public static let kindNoOperation: UInt8 = 1
    public static let kindMSS: UInt8 = 2
    public static let kindWindowScale: UInt8 = 3
    public static let kindSACKPermitted: UInt8 = 4
    public static let kindSACK: UInt8 = 5
    public static let kindTimestamps: UInt8 = 8
}

/// Walks a TCP option area checked by `validate` (run once by the view's initialiser).
public struct TCPOptionIterator: IteratorProtocol, Sequence {
    @usableFromInline let area: UnsafeRawBufferPointer
    @usableFromInline var offset = 0

    @inlinable init(_ area: UnsafeRawBufferPointer) { self.area = area }

    /// Rejects an option whose length byte is missing, below 2, runs past the area, or does
    /// not match its kind's fixed size (MSS 4, WS 3, SACK-permitted 2, timestamps 10,
    /// SACK 2 + 8n).
    @inlinable static func validate(_ area: UnsafeRawBufferPointer) throws(WireError) {
        var i = 0
        while i < area.count {
            let kind = area.u8(i)
            if kind == TCPOption.kindEndOfList { return }
            if kind == TCPOption.kindNoOperation { i += 1; continue }
            guard i + 1 < area.count else {
                throw WireError(.tcpOptions, .optionOverrun, needed: i + 2, available: area.count)
            }
            let length = Int(area.u8(i + 1))
            guard length >= 2, i + length <= area.count else {
                throw WireError(.tcpOptions, .optionOverrun, needed: i + Swift.max(length, 2), available: area.count)
            }
            let fixed: Bool
            switch kind {
            case TCPOption.kindMSS: fixed = length == 4
            case TCPOption.kindWindowScale: fixed = length == 3
            case TCPOption.kindSACKPermitted: fixed = length == 2
            case TCPOption.kindTimestamps: fixed = length == 10
            case TCPOption.kindSACK: fixed = length >= 10 && (length - 2) % 8 == 0
            default: fixed = true
            }
            guard fixed else { throw WireError(.tcpOptions, .lengthMismatch, needed: length, available: length) }
            i += length
        }
    }

    @inlinable public mutating func next() -> TCPOption? {
        guard offset < area.count else { return nil }
        let kind = area.u8(offset)
        switch kind {
        case TCPOption.kindEndOfList:
            offset = area.count
            return .endOfList
        case TCPOption.kindNoOperation:
            offset += 1
            return .noOperation
        default:
            break
        }
        let length = Int(area.u8(offset + 1))
        defer { offset += length }
        switch kind {
        case TCPOption.kindMSS: return .maximumSegmentSize(area.be16(offset + 2))
        case TCPOption.kindWindowScale: return .windowScale(area.u8(offset + 2))
        case TCPOption.kindSACKPermitted: return .sackPermitted
        case TCPOption.kindSACK: return .sack(area.slice(offset + 2, length - 2))
        case TCPOption.kindTimestamps:
            return .timestamps(value: area.be32(offset + 2), echoReply: area.be32(offset + 6))
        default: return .unknown(kind: kind, data: area.slice(offset + 2, length - 2))
        }
    }
}

/// The options tunnelpmd reads, gathered from a validated area; anything else is counted.
public struct TCPOptions: Hashable, Sendable {
    public var maximumSegmentSize: UInt16?
    public var windowScale: UInt8?
    public var sackPermitted = false
    /// Number of SACK blocks (each 8 bytes) present.
    public var sackBlockCount = 0
    public var timestamps: (value: UInt32, echoReply: UInt32)? {
        get { hasTimestamps ? (timestampValue, timestampEchoReply) : nil }
        set {
            hasTimestamps = newValue != nil
            timestampValue = newValue?.value ?? 0
            timestampEchoReply = newValue?.echoReply ?? 0
        }
    }
    @usableFromInline var hasTimestamps = false
    @usableFromInline var timestampValue: UInt32 = 0
    @usableFromInline var timestampEchoReply: UInt32 = 0
    public var unknownCount = 0

    public init() {}

    @inlinable init(_ area: UnsafeRawBufferPointer) {
        var it = TCPOptionIterator(area)
        while let option = it.next() {
            switch option {
            case .maximumSegmentSize(let v): maximumSegmentSize = v
            case .windowScale(let v): windowScale = v
            case .sackPermitted: sackPermitted = true
            case .sack(let blocks): sackBlockCount = blocks.count / 8
            case .timestamps(let v, let e):
                hasTimestamps = true
                timestampValue = v
                timestampEchoReply = e
            case .unknown: unknownCount += 1
            case .endOfList, .noOperation: break
            }
        }
    }

    /// Encodes MSS, window scale, SACK-permitted and timestamps (no SACK blocks) in the
    /// order Linux sends them on a SYN, NOP-padded to a multiple of 4.
    public func encode() -> HeaderOptions {
        var raw: [UInt8] = []
        if let mss = maximumSegmentSize { raw += [2, 4, UInt8(mss >> 8), UInt8(mss & 0xFF)] }
        if sackPermitted && hasTimestamps {
            raw += [4, 2]
        } else if sackPermitted {
            raw += [1, 1, 4, 2]
        }
        if hasTimestamps {
            if !sackPermitted { raw += [1, 1] }
            raw += [8, 10]
            for v in [timestampValue, timestampEchoReply] {
                raw += [UInt8(v >> 24), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)]
            }
        }
        if let ws = windowScale { raw += [1, 3, 3, ws] }
        while raw.count % 4 != 0 { raw.append(1) }
        return (try? HeaderOptions(raw)) ?? HeaderOptions()  // at most 4+4+12+4 = 24 bytes
    }

    public static func == (a: TCPOptions, b: TCPOptions) -> Bool {
        a.maximumSegmentSize == b.maximumSegmentSize && a.windowScale == b.windowScale
            && a.sackPermitted == b.sackPermitted && a.sackBlockCount == b.sackBlockCount
            && a.hasTimestamps == b.hasTimestamps && a.timestampValue == b.timestampValue
            && a.timestampEchoReply == b.timestampEchoReply && a.unknownCount == b.unknownCount
    }
    public func hash(into h: inout Hasher) {
        h.combine(maximumSegmentSize)
        h.combine(windowScale)
        h.combine(timestampValue)
    }
}
