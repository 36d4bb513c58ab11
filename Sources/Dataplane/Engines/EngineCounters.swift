import Offload
import Wire

/// The csum engine's counters of one stream: a block of UInt64 slots after the stream's basic
/// counters, indexed by `EngineCounter`, written only by the owning lcore.
public enum EngineCounter {
    public static let rxBadIPChecksum = 0
    public static let rxBadL4Checksum = 1
    public static let rxBadOuterIPChecksum = 2
    public static let rxBadOuterL4Checksum = 3
    public static let gsoInputFrames = 4
    public static let gsoOutputSegments = 5
    /// A checksum the sender left pending lies outside the first segment or the packet.
    public static let pendingChecksumUnreachable = 6
    /// Frames whose headers do not fit the header scratch area.
    public static let headersTooLong = 7
    /// Then room for one slot per Wire parse failure reason and one per GSO failure reason
    /// (literals, so the hot path reads no lazily initialised global; a test checks the room).
    public static let parseFailureBase = 8
    static let parseFailureRoom = 16
    static let gsoFailureBase = parseFailureBase + parseFailureRoom
    static let gsoFailureRoom = 8
    /// Plans by kind and downgrade reasons, counted on the tx port (`show port <p> offload plan`).
    public static let planBase = gsoFailureBase + gsoFailureRoom
    static let planRoom = 8
    public static let planReasonBase = planBase + planRoom
    static let planReasonRoom = 16
    /// Checksums the sender left pending that Swift finished (ARP in a tunnel, ...).
    public static let pendingChecksumsCompleted = planReasonBase + planReasonRoom
    public static let slotCount = pendingChecksumsCompleted + 1

    @inline(__always) static func parseFailure(_ reason: WireError.Reason) -> Int { parseFailureBase + Int(reason.rawValue) }
    @inline(__always) static func plan(_ kind: TxPlanKind) -> Int { planBase + Int(kind.rawValue) }
    @inline(__always) static func planReason(_ reason: TxPlanReason) -> Int { planReasonBase + Int(reason.rawValue) }

    static func isParseFailure(_ slot: Int) -> Bool { (parseFailureBase..<gsoFailureBase).contains(slot) || slot == headersTooLong }
    @inline(__always) static func gsoFailure(_ index: Int) -> Int { gsoFailureBase + index }

    /// The drop counters with their names, for statistics.
    public static var dropReasons: [(slot: Int, name: String)] {
        var result: [(Int, String)] = [
            (plan(.oversize), "larger than the MTU, nobody may cut it"), (headersTooLong, "headers too long"),
            (pendingChecksumUnreachable, "pending checksum out of reach"),
        ]
        for reason in WireError.Reason.allCases { result.append((parseFailure(reason), "malformed: \(reason)")) }
        for reason in SegmentationFailure.allCases { result.append((gsoFailure(Int(reason.rawValue)), "gso: \(reason.name)")) }
        return result
    }

    /// Slots per stream, rounded up to whole cache lines.
    static let stride = (slotCount * 8 + 63) / 64 * 8

    /// Whether every reason has its slot.
    public static var hasRoomForEveryReason: Bool {
        WireError.Reason.allCases.count <= parseFailureRoom && SegmentationFailure.allCases.count <= gsoFailureRoom
            && TxPlanKind.allCases.count <= planRoom && TxPlanReason.allCases.count <= planReasonRoom
    }
}
