import CDPDK
import Wire

/// Why a received frame was dropped: Linux's header checks (Wire's reason, one each), or what
/// tunnelpmd checks beyond them.
public enum TapRxDropReason: Error, CaseIterable, Hashable, Sendable, CustomStringConvertible {
    /// The read returned less than the 24-byte header plus an Ethernet header.
    case frameTooShort
    /// The read filled the whole receive area: the frame may have been cut.
    case frameTooLong
    /// The header failed one of Linux's checks (`VirtioNetHeader.validate`).
    case header(VirtioNetHeaderError.Reason)
    /// The header passed, but the frame's headers do not parse (Wire's parser).
    case frameUnparsable
    /// The header's offsets or types disagree with the frame's parsed headers.
    case layoutMismatch
    /// The headers the offload metadata must describe lie beyond the first segment, or do
    /// not fit the mbuf's length fields (outer_l2_len 7 bits, l2_len 7 bits, ...).
    case headersTooLong

    public init(_ error: VirtioNetHeaderError) { self = .header(error.reason) }

    public static var allCases: [TapRxDropReason] {
        [.frameTooShort, .frameTooLong] + VirtioNetHeaderError.Reason.allCases.map { .header($0) }
            + [.frameUnparsable, .layoutMismatch, .headersTooLong]
    }

    /// Room for Wire's header reasons in the counter block (a test checks it suffices).
    static let headerReasonRoom = 24

    /// The reason's counter, from 0.
    @inline(__always) public var index: Int {
        switch self {
        case .frameTooShort: 0
        case .frameTooLong: 1
        case .header(let reason): 2 + Int(reason.rawValue)
        case .frameUnparsable: 2 + Self.headerReasonRoom
        case .layoutMismatch: 3 + Self.headerReasonRoom
        case .headersTooLong: 4 + Self.headerReasonRoom
        }
    }

    public var description: String {
        switch self {
        case .frameTooShort: "frame too short"
        case .frameTooLong: "frame too long"
        case .header(let reason): reason.description
        case .frameUnparsable: "frame unparsable"
        case .layoutMismatch: "header does not match frame"
        case .headersTooLong: "headers too long for metadata"
        }
    }
}

/// Why a packet handed to `transmit` was dropped before the write: its metadata asks for
/// something the tap cannot express or the kernel did not grant.
public enum TapTxDropReason: Int, CaseIterable, Hashable, Sendable, CustomStringConvertible {
    /// TSO/USO/tunnel TSO or outer UDP checksum the kernel did not grant (TUNSETOFFLOAD).
    case offloadNotGranted
    /// Metadata no virtio-net header can carry: a non-UDP tunnel (GRE, IPIP) with TSO, TSO
    /// without IPV4/IPV6, a tunnel without OUTER_IPV4/6, tso_segsz 0, SCTP checksum.
    case unsupportedMetadata
    /// The lengths in the metadata run past the packet, or the headers past the first segment.
    case badLengths
    /// More segments than one writev takes.
    case tooManySegments

    public var description: String {
        switch self {
        case .offloadNotGranted: "offload not granted"
        case .unsupportedMetadata: "unsupported metadata"
        case .badLengths: "bad lengths"
        case .tooManySegments: "too many segments"
        }
    }
}

/// A consistent-enough copy of a tap port's counters (each read is atomic; the set is not).
public struct TapStatistics: Hashable, Sendable, CustomStringConvertible {
    public var rxPackets: UInt64 = 0
    public var rxBytes: UInt64 = 0
    /// Received frames with a GSO type (super-frames), tunnel or not.
    public var rxSuperFrames: UInt64 = 0
    /// Of those, UDP tunnel super-frames.
    public var rxTunnelSuperFrames: UInt64 = 0
    /// Partial checksums (NEEDS_CSUM) no mbuf flag could express, completed in software.
    public var rxChecksumsCompleted: UInt64 = 0
    /// Reads that found nothing (EAGAIN).
    public var rxAgain: UInt64 = 0
    /// Bursts cut short because the pool could not refill the receive mbufs.
    public var rxNoMbuf: UInt64 = 0
    /// Failed reads other than EAGAIN, by errno.
    public var rxErrors: [Int32: UInt64] = [:]
    /// Dropped frames by reason (only reasons that occurred).
    public var rxDrops: [TapRxDropReason: UInt64] = [:]

    public var txPackets: UInt64 = 0
    public var txBytes: UInt64 = 0
    public var txSuperFrames: UInt64 = 0
    public var txTunnelSuperFrames: UInt64 = 0
    /// Writes the kernel refused with EAGAIN (the burst stops there; the caller keeps the rest).
    public var txAgain: UInt64 = 0
    /// Packets refused (not taken, so the caller dropped them) while the interface was gone.
    public var txLinkDown: UInt64 = 0
    /// Writes the kernel refused by errno (EINVAL: a header it rejects), packets freed.
    public var txErrors: [Int32: UInt64] = [:]
    /// Packets dropped before the write, by reason.
    public var txDrops: [TapTxDropReason: UInt64] = [:]

    public init() {}

    public var rxDropped: UInt64 { rxDrops.values.reduce(0, &+) }
    public var rxErrorCount: UInt64 { rxErrors.values.reduce(0, &+) }
    public var txErrorCount: UInt64 { txErrors.values.reduce(0, &+) }
    public var txDropped: UInt64 { txDrops.values.reduce(0, &+) &+ txErrorCount }

    /// The counters that are not zero, by their schema names (`TapStatistics.schema`).
    public var description: String {
        entries.filter { $0.value != 0 }.map { "\($0.name): \($0.value)" }.joined(separator: ", ")
    }
}

/// Counter slots: rx slots are written only by the receiving thread, tx slots only by the
/// transmitting thread; anyone may read them (relaxed atomic loads) for a snapshot.
enum TapCounter {
    static let rxPackets = 0, rxBytes = 1, rxSuperFrames = 2, rxTunnelSuperFrames = 3, rxChecksumsCompleted = 4
    static let rxAgain = 5, rxNoMbuf = 6
    static let rxDropBase = 8
    static let rxErrnoBase = rxDropBase + 32
    static let errnoSlots = 160  // errno values above this share the last slot
    static let rxSlotCount = rxErrnoBase + errnoSlots

    static let txPackets = 0, txBytes = 1, txSuperFrames = 2, txTunnelSuperFrames = 3, txAgain = 4, txLinkDown = 5
    static let txDropBase = 8
    static let txErrnoBase = txDropBase + 8
    static let txSlotCount = txErrnoBase + errnoSlots

    @inline(__always) static func errnoSlot(_ code: Int32) -> Int { Int(min(max(code, 0), Int32(errnoSlots - 1))) }

    static var hasRoomForEveryReason: Bool {
        VirtioNetHeaderError.Reason.allCases.count <= TapRxDropReason.headerReasonRoom
            && TapRxDropReason.headersTooLong.index < rxErrnoBase - rxDropBase
            && TapTxDropReason.allCases.count <= txErrnoBase - txDropBase
    }

    static func snapshot(rx: UnsafeMutablePointer<UInt64>, tx: UnsafeMutablePointer<UInt64>) -> TapStatistics {
        func load(_ base: UnsafeMutablePointer<UInt64>, _ slot: Int) -> UInt64 { cdpdk_load_counter(base + slot) }
        var s = TapStatistics()
        s.rxPackets = load(rx, rxPackets)
        s.rxBytes = load(rx, rxBytes)
        s.rxSuperFrames = load(rx, rxSuperFrames)
        s.rxTunnelSuperFrames = load(rx, rxTunnelSuperFrames)
        s.rxChecksumsCompleted = load(rx, rxChecksumsCompleted)
        s.rxAgain = load(rx, rxAgain)
        s.rxNoMbuf = load(rx, rxNoMbuf)
        for reason in TapRxDropReason.allCases {
            let value = load(rx, rxDropBase + reason.index)
            if value > 0 { s.rxDrops[reason] = value }
        }
        for code in 0..<errnoSlots {
            let value = load(rx, rxErrnoBase + code)
            if value > 0 { s.rxErrors[Int32(code)] = value }
        }
        s.txPackets = load(tx, txPackets)
        s.txBytes = load(tx, txBytes)
        s.txSuperFrames = load(tx, txSuperFrames)
        s.txTunnelSuperFrames = load(tx, txTunnelSuperFrames)
        s.txAgain = load(tx, txAgain)
        s.txLinkDown = load(tx, txLinkDown)
        for reason in TapTxDropReason.allCases {
            let value = load(tx, txDropBase + reason.rawValue)
            if value > 0 { s.txDrops[reason] = value }
        }
        for code in 0..<errnoSlots {
            let value = load(tx, txErrnoBase + code)
            if value > 0 { s.txErrors[Int32(code)] = value }
        }
        return s
    }
}
