/// Why a partly reassembled STT frame left the table as the segments it came in.
public enum STTFlushReason: UInt8, CaseIterable, Sendable {
    /// A continuation beyond the next expected offset (a lost or reordered segment).
    case outOfOrder
    /// A segment at an offset already held (a retransmission, or a second first segment).
    case duplicate
    /// A continuation of another size than the frame's segments (only the last may be
    /// shorter), or one that would run past the frame's end.
    case sizeDiffers
    /// The same frame identifier with another frame length or header length.
    case headersDiffer
    /// The next segment of the frame had a bad checksum.
    case checksumBad
    /// The table was full: the oldest partial frame made room.
    case tableFull
    /// The stream's flush round came (`set gro flush <n>`).
    case endOfPoll
    /// Its last segment came a timeout ago.
    case timeout
    /// Forwarding stopped, or GRO was turned off.
    case stop

    public var name: String {
        switch self {
        case .outOfOrder: "out of order"
        case .duplicate: "duplicate"
        case .sizeDiffers: "size differs"
        case .headersDiffer: "headers differ"
        case .checksumBad: "checksum bad"
        case .tableFull: "table full"
        case .endOfPoll: "end of poll"
        case .timeout: "timeout"
        case .stop: "stop"
        }
    }

    /// A segment refused for this reason leaves unchanged under the bypass of the same name.
    var bypass: STTBypassReason {
        switch self {
        case .outOfOrder: .outOfOrder
        case .duplicate: .duplicate
        case .sizeDiffers: .sizeDiffers
        case .headersDiffer: .headersDiffer
        default: .checksumBad
        }
    }
}

/// Why an STT segment was not held (it leaves unchanged, after its partial frame if any).
public enum STTBypassReason: UInt8, CaseIterable, Sendable {
    /// A whole STT frame in one segment: nothing to reassemble.
    case wholeFrame
    /// A continuation whose frame has no held first segment (lost, flushed, or never seen).
    case noFirstSegment
    case outOfOrder
    case duplicate
    case sizeDiffers
    case headersDiffer
    case checksumBad
    /// The reassembled outer IP packet would exceed the IP length field or the size cap.
    case tooLarge
    /// More segments than a frame may hold (`STTReassembler.maximumSegments`).
    case tooManySegments
    /// Already a chain or a super-frame (LRO, TSO request).
    case multiSegment
    /// Outer IPv4 options or IPv6 extension headers.
    case ipOptions
    /// A checksum left for the egress to finish, or an L4 verdict that says so.
    case checksumPending
    /// A segment without payload.
    case noPayload

    public var name: String {
        switch self {
        case .wholeFrame: "whole frame"
        case .noFirstSegment: "no first segment"
        case .outOfOrder: "out of order"
        case .duplicate: "duplicate"
        case .sizeDiffers: "size differs"
        case .headersDiffer: "headers differ"
        case .checksumBad: "checksum bad"
        case .tooLarge: "too large"
        case .tooManySegments: "too many segments"
        case .multiSegment: "multi segment"
        case .ipOptions: "ip options"
        case .checksumPending: "checksum pending"
        case .noPayload: "no payload"
        }
    }
}
