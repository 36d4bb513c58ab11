import DPDK
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
    /// Frames shorter than the two Ethernet addresses the mac engine writes.
    public static let tooShortForAddresses = pendingChecksumsCompleted + 1
    /// Receive coalescing's block (`CoalescingCounter` slots), counted on the rx port.
    public static let coalescingBase = tooShortForAddresses + 1
    public static let slotCount = coalescingBase + CoalescingCounter.slotCount

    @inline(__always) public static func parseFailure(_ reason: WireError.Reason) -> Int { parseFailureBase + Int(reason.rawValue) }
    @inline(__always) public static func plan(_ kind: TxPlanKind) -> Int { planBase + Int(kind.rawValue) }
    @inline(__always) public static func planReason(_ reason: TxPlanReason) -> Int { planReasonBase + Int(reason.rawValue) }

    @inline(__always) public static func gsoFailure(_ index: Int) -> Int { gsoFailureBase + index }

    /// The drop counters with their names in words, for statistics (from `schema`).
    public static var dropReasons: [(slot: Int, name: String)] {
        schema.filter { $0.kind == .drop }.map { ($0.slot, $0.help) }
    }

    /// Every counter of the block, declared once: the `stop` statistics, `show port xstats`,
    /// `show port <p> offload plan`, the drop lines and telemetry all render from it.
    public static let schema: [EngineCounterDescriptor] = {
        var all: [EngineCounterDescriptor] = [
            .init(rxBadIPChecksum, "rx_bad_ip_checksum", "IPv4 header checksum the rx port found bad", .rx, .verdict),
            .init(rxBadL4Checksum, "rx_bad_l4_checksum", "L4 checksum the rx port found bad", .rx, .verdict),
            .init(rxBadOuterIPChecksum, "rx_bad_outer_ip_checksum", "outer IPv4 checksum the rx port found bad", .rx, .verdict),
            .init(rxBadOuterL4Checksum, "rx_bad_outer_l4_checksum", "outer L4 checksum the rx port found bad", .rx, .verdict),
            .init(gsoInputFrames, "gso_input_frames", "frames Swift GSO cut", .tx, .gso),
            .init(gsoOutputSegments, "gso_output_segments", "segments Swift GSO made", .tx, .gso),
            .init(pendingChecksumsCompleted, "pending_checksums_finished", "checksums the sender left pending, finished in Swift", .tx, .info),
            .init(plan(.oversize), "dropped_oversize", "larger than the MTU, nobody may cut it", .tx, .drop),
            .init(headersTooLong, "dropped_headers_too_long", "headers too long", .rx, .drop),
            .init(pendingChecksumUnreachable, "dropped_pending_checksum_out_of_reach", "pending checksum out of reach", .tx, .drop),
            .init(tooShortForAddresses, "dropped_too_short_for_addresses", "shorter than two Ethernet addresses", .rx, .drop),
        ]
        for reason in WireError.Reason.allCases {
            let words = EngineCounterDescriptor.words("\(reason)")
            all.append(.init(parseFailure(reason), "dropped_malformed_" + words.replacingOccurrences(of: " ", with: "_"),
                             "malformed: \(words)", .rx, .drop))
        }
        for reason in SegmentationFailure.allCases {
            let words = reason.name.replacingOccurrences(of: "-", with: " ")
            all.append(.init(gsoFailure(Int(reason.rawValue)), "dropped_gso_" + words.replacingOccurrences(of: " ", with: "_"),
                             "gso: \(words)", .tx, .drop))
        }
        for kind in TxPlanKind.allCases {
            all.append(.init(plan(kind), "tx_plan_\(kind.name)", "packets planned \(kind.name) for the tx port", .tx, .plan))
        }
        for reason in TxPlanReason.allCases where reason != .none {
            all.append(.init(planReason(reason), "tx_plan_reason_" + reason.name.replacingOccurrences(of: "-", with: "_"),
                             reason.explanation, .tx, .planReason))
        }
        all += coalescingSchema
        return all
    }()

    /// Receive coalescing's counters, `gro_*`.
    static var coalescingSchema: [EngineCounterDescriptor] {
        let base = coalescingBase
        var all: [EngineCounterDescriptor] = [
            .init(base + CoalescingCounter.segmentsIn, "gro_segments_in", "segments GRO held", .rx, .coalescing),
            .init(base + CoalescingCounter.superFramesOut, "gro_super_frames_out", "super-frames GRO made", .rx, .coalescing),
            .init(base + CoalescingCounter.segmentsMerged, "gro_segments_merged", "segments inside GRO super-frames", .rx, .coalescing),
            .init(base + CoalescingCounter.singlesOut, "gro_singles_out", "held segments that left alone", .rx, .coalescing),
        ]
        for (index, bucket) in CoalescingCounter.histogramBuckets.enumerated() {
            all.append(.init(base + CoalescingCounter.histogramBase + index,
                             "gro_super_frames_of_" + bucket.replacingOccurrences(of: "-", with: "_") + "_segments",
                             "super-frames of \(bucket) segments", .rx, .coalescingHistogram))
        }
        all += reasonCounters(CoalescingFlushReason.allCases.map { (CoalescingCounter.flush($0), $0.name) },
                              "gro_flush_", "flows flushed", .coalescingFlush)
        all += reasonCounters(CoalescingBypassReason.allCases.map { (CoalescingCounter.bypass($0), $0.name) },
                              "gro_bypass_", "not coalesced", .coalescingBypass)
        all += [
            .init(base + CoalescingCounter.sttSegmentsIn, "gro_stt_segments_in", "STT segments GRO held for reassembly", .rx, .coalescing),
            .init(base + CoalescingCounter.sttFramesOut, "gro_stt_frames_out", "STT frames GRO reassembled", .rx, .coalescing),
            .init(base + CoalescingCounter.sttSegmentsMerged, "gro_stt_segments_merged", "segments inside reassembled STT frames",
                  .rx, .coalescing),
            .init(base + CoalescingCounter.sttSegmentsReleased, "gro_stt_segments_released",
                  "held STT segments that left unchanged (their frame incomplete)", .rx, .coalescing),
        ]
        all += reasonCounters(STTFlushReason.allCases.map { (CoalescingCounter.sttFlush($0), $0.name) },
                              "gro_stt_flush_", "partial STT frames flushed", .coalescingFlush)
        all += reasonCounters(STTBypassReason.allCases.map { (CoalescingCounter.sttBypass($0), $0.name) },
                              "gro_stt_bypass_", "STT segments not reassembled", .coalescingBypass)
        return all
    }

    /// One rx counter per reason (slots within the coalescing block): `<prefix><reason_name>`,
    /// described as "<what>: <reason name>".
    private static func reasonCounters(
        _ reasons: [(slot: Int, name: String)], _ prefix: String, _ what: String, _ kind: CounterKind
    ) -> [EngineCounterDescriptor] {
        reasons.map {
            .init(coalescingBase + $0.slot, prefix + $0.name.replacingOccurrences(of: " ", with: "_"), "\(what): \($0.name)",
                  .rx, kind)
        }
    }

    /// The port each slot counts on (rx or tx), indexed by slot.
    static let sideOfSlot: [CounterSide] = {
        var sides = [CounterSide](repeating: .tx, count: slotCount)
        for descriptor in schema { sides[descriptor.slot] = descriptor.side }
        return sides
    }()

    /// Slots per stream, rounded up to whole cache lines.
    static let stride = (slotCount * 8 + 63) / 64 * 8

    /// Whether every reason has its slot.
    public static var hasRoomForEveryReason: Bool {
        WireError.Reason.allCases.count <= parseFailureRoom && SegmentationFailure.allCases.count <= gsoFailureRoom
            && TxPlanKind.allCases.count <= planRoom && TxPlanReason.allCases.count <= planReasonRoom
            && CoalescingCounter.hasRoomForEveryReason
    }
}

/// What a counter counts, for the views that pick some (drop lines, plan tables).
public enum CounterKind: Sendable {
    case verdict, drop, plan, planReason, gso, info
    case coalescing, coalescingHistogram, coalescingFlush, coalescingBypass

    /// Receive coalescing's counters, whichever view they are in.
    public var isCoalescing: Bool {
        switch self {
        case .coalescing, .coalescingHistogram, .coalescingFlush, .coalescingBypass: true
        default: false
        }
    }
}

/// One counter of the engine block: its slot, a snake_case name (xstats, telemetry), what it
/// means in words (statistics, help), the side it counts on and its kind.
public struct EngineCounterDescriptor: Sendable {
    public let slot: Int
    public let name: String
    public let help: String
    public let side: CounterSide
    public let kind: CounterKind

    init(_ slot: Int, _ name: String, _ help: String, _ side: CounterSide, _ kind: CounterKind) {
        self.slot = slot
        self.name = name
        self.help = help
        self.side = side
        self.kind = kind
    }

    /// As every other counter is declared: engine counters are kept per stream and counted on
    /// the port of their side (rx: verdicts, parse drops; tx: plans, GSO, checksums).
    public var descriptor: CounterDescriptor { CounterDescriptor(name, help, side: side, scope: .stream) }

    /// "headerLengthTooShort" -> "header length too short".
    static func words(_ identifier: String) -> String {
        var text = ""
        for character in identifier {
            if character.isUppercase { text += " " + character.lowercased() } else { text.append(character) }
        }
        return text
    }
}
