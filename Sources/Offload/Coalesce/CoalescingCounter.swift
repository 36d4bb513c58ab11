/// Why a held flow left the table.
public enum CoalescingFlushReason: UInt8, CaseIterable, Sendable {
    /// URG, RST, SYN, CWR or ECE on the next segment, or flags that differ beyond PSH/FIN.
    case flags
    /// The segment carried PSH or FIN: merged, and the super-frame ends with it.
    case pushOrFin
    /// A segment shorter than the flow's segment size: merged, and the super-frame ends.
    case shortSegment
    /// A segment longer than the flow's segment size starts a new flow.
    case longerSegment
    /// The next segment's sequence number is not where the flow ends (loss, reordering,
    /// retransmission).
    case sequenceGap
    case ackDiffers
    case windowDiffers
    case optionsDiffer
    /// IPv4 ID neither incrementing nor fixed (inner or outer).
    case ipID
    /// TTL, TOS or DF (IPv6: hop limit, traffic class) differ.
    case ttlOrTOS
    /// The next segment's checksum was bad: it is forwarded unchanged after the flow.
    case checksumBad
    /// A segment without payload (an ACK of the same flow, a window update).
    case noPayload
    case sizeCap
    case segmentCap
    /// The stream's flush round came (`set gro flush <n>`).
    case endOfPoll
    /// Held for the timeout.
    case timeout
    /// The table was full: the oldest flow made room.
    case tableFull
    /// Forwarding stopped, or GRO was turned off.
    case stop

    public var name: String {
        switch self {
        case .flags: "flags"
        case .pushOrFin: "psh or fin"
        case .shortSegment: "short segment"
        case .longerSegment: "longer segment"
        case .sequenceGap: "seq gap"
        case .ackDiffers: "ack differs"
        case .windowDiffers: "window differs"
        case .optionsDiffer: "options differ"
        case .ipID: "ip id"
        case .ttlOrTOS: "ttl or tos"
        case .checksumBad: "checksum bad"
        case .noPayload: "no payload"
        case .sizeCap: "size cap"
        case .segmentCap: "segment count cap"
        case .endOfPoll: "end of poll"
        case .timeout: "timeout"
        case .tableFull: "table full"
        case .stop: "stop"
        }
    }
}

/// Why a packet was not offered to a flow at all (it leaves unchanged).
public enum CoalescingBypassReason: UInt8, CaseIterable, Sendable {
    /// Neither TCP nor UDP (ICMP, non-IP, ...).
    case notTCP
    case fragment
    /// IPv4 options or IPv6 extension headers, inner or outer.
    case ipOptions
    /// STT offered here (the engine hands STT to `STTReassembler`), GRE with sequence numbers,
    /// GRE over UDP, tunnel control messages, a tunnel nested in a tunnel.
    case unsupportedTunnel
    /// Already a chain or a super-frame (LRO, virtio).
    case multiSegment
    /// The parser refused it (the engine judges it as without GRO).
    case notParsed
    /// A checksum was bad: forwarded unchanged.
    case checksumBad
    /// A checksum left for the egress to finish (a vnet tap's NEEDS_CSUM).
    case checksumPending
    /// No payload and no flow to flush (a pure ACK).
    case noPayload
    /// URG, RST, SYN, CWR or ECE, or no ACK, with no flow to flush.
    case flags

    public var name: String {
        switch self {
        case .notTCP: "not tcp or udp"
        case .fragment: "fragment"
        case .ipOptions: "ip options"
        case .unsupportedTunnel: "unsupported tunnel"
        case .multiSegment: "multi segment"
        case .notParsed: "not parsed"
        case .checksumBad: "checksum bad"
        case .checksumPending: "checksum pending"
        case .noPayload: "no payload"
        case .flags: "flags"
        }
    }
}

/// The coalescer's counters: a block of UInt64 slots the caller owns (one per stream),
/// written only by the owning lcore.
public enum CoalescingCounter {
    /// Segments that entered a flow (merged into a super-frame or left alone later).
    public static let segmentsIn = 0
    /// Super-frames made (two segments or more).
    public static let superFramesOut = 1
    /// Segments inside those super-frames.
    public static let segmentsMerged = 2
    /// Held segments that left alone (no second segment came).
    public static let singlesOut = 3
    /// Super-frames by segment count: 2-3, 4-7, 8-15, 16-31, 32-63, 64.
    public static let histogramBase = 4
    public static let histogramBuckets = ["2-3", "4-7", "8-15", "16-31", "32-63", "64"]
    public static let flushBase = histogramBase + 6
    public static let bypassBase = flushBase + 24
    /// STT reassembly (`STTReassembler`), after the TCP/UDP block: STT segments held in a
    /// partial frame, frames reassembled, segments inside them, held segments that left
    /// unchanged (their frame never completed), then flush and bypass reasons.
    public static let sttSegmentsIn = bypassBase + 16
    public static let sttFramesOut = sttSegmentsIn + 1
    public static let sttSegmentsMerged = sttSegmentsIn + 2
    public static let sttSegmentsReleased = sttSegmentsIn + 3
    public static let sttFlushBase = sttSegmentsIn + 4
    public static let sttBypassBase = sttFlushBase + 12
    public static let slotCount = sttBypassBase + 16

    @inline(__always) public static func flush(_ reason: CoalescingFlushReason) -> Int { flushBase + Int(reason.rawValue) }
    @inline(__always) public static func bypass(_ reason: CoalescingBypassReason) -> Int { bypassBase + Int(reason.rawValue) }
    @inline(__always) public static func sttFlush(_ reason: STTFlushReason) -> Int { sttFlushBase + Int(reason.rawValue) }
    @inline(__always) public static func sttBypass(_ reason: STTBypassReason) -> Int { sttBypassBase + Int(reason.rawValue) }
    @inline(__always) static func histogram(segments: Int) -> Int {
        histogramBase + min(5, max(0, (Int.bitWidth - (segments).leadingZeroBitCount) - 2))
    }

    public static var hasRoomForEveryReason: Bool {
        CoalescingFlushReason.allCases.count <= bypassBase - flushBase
            && CoalescingBypassReason.allCases.count <= sttSegmentsIn - bypassBase
            && STTFlushReason.allCases.count <= sttBypassBase - sttFlushBase
            && STTBypassReason.allCases.count <= slotCount - sttBypassBase
    }
}
