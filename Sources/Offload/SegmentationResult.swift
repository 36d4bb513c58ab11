/// Why a packet could not be segmented; one counter per case.
public enum SegmentationFailure: UInt8, CaseIterable, Hashable, Sendable, Error {
    /// The header or indirect pool could not supply the mbufs.
    case poolEmpty
    /// The layout disagrees with the packet (lengths, offsets, kinds).
    case malformed
    /// Not a kind the segmenter cuts (no TCP/UDP inside, a fragment, a control message...).
    case unsupported
    /// More segments (or payload pieces) than the output array or scratch space holds.
    case tooManySegments
    /// The segment size, after the MTU clamp, leaves no room for payload.
    case segmentTooSmall
    /// The headers do not fit one header mbuf, or do not sit in the input's first segment.
    case headersTooLong

    public var name: String {
        switch self {
        case .poolEmpty: "pool-empty"
        case .malformed: "malformed"
        case .unsupported: "unsupported"
        case .tooManySegments: "too-many-segments"
        case .segmentTooSmall: "segment-too-small"
        case .headersTooLong: "headers-too-long"
        }
    }
}

/// The outcome of `Segmenter.segment`: the input is consumed either way.
@frozen
public enum SegmentationResult: Hashable, Sendable {
    case segmented(count: Int)
    case failed(SegmentationFailure)

    @inlinable public var count: Int {
        if case .segmented(let count) = self { return count }
        return 0
    }
    @inlinable public var failure: SegmentationFailure? {
        if case .failed(let failure) = self { return failure }
        return nil
    }
}
