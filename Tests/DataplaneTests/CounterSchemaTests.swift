import DPDK
import Dataplane
import Offload
import VnetTap
import Wire
import XCTest

/// The engine counters are declared once: every slot the engines write has one entry (two for
/// the oversize plan, which is also a drop), names are snake_case and unique, drop reasons
/// read as words, and every reason of Wire, GSO and the planner is there.
final class CounterSchemaTests: XCTestCase {
    func testEveryCounterIsDeclaredOnceWithANameAndWords() {
        let schema = EngineCounter.schema
        XCTAssertEqual(Set(schema.map(\.name)).count, schema.count, "names are unique")
        for counter in schema {
            XCTAssertNotNil(counter.name.range(of: "^[a-z0-9_]+$", options: .regularExpression), counter.name)
            XCTAssertTrue(counter.slot >= 0 && counter.slot < EngineCounter.slotCount, counter.name)
            XCTAssertFalse(counter.help.isEmpty, counter.name)
            XCTAssertNil(counter.help.range(of: "[a-z][A-Z]", options: .regularExpression), "words, not camelCase: \(counter.help)")
        }
        let drops = schema.filter { $0.kind == .drop }
        for reason in WireError.Reason.allCases {
            XCTAssertTrue(drops.contains { $0.slot == EngineCounter.parseFailure(reason) && $0.side == .rx }, "\(reason)")
        }
        XCTAssertTrue(drops.contains { $0.help == "malformed: header length too short" }, "\(drops.map(\.help))")
        for failure in SegmentationFailure.allCases {
            XCTAssertTrue(drops.contains { $0.slot == EngineCounter.gsoFailure(Int(failure.rawValue)) && $0.side == .tx }, "\(failure)")
        }
        for kind in TxPlanKind.allCases {
            XCTAssertTrue(schema.contains { $0.kind == .plan && $0.slot == EngineCounter.plan(kind) }, "\(kind)")
        }
        for reason in TxPlanReason.allCases where reason != .none {
            XCTAssertTrue(schema.contains { $0.kind == .planReason && $0.slot == EngineCounter.planReason(reason) }, "\(reason)")
        }
        // Slots are declared at most once, except the oversize plan, which is a drop as well.
        var seen: [Int: Int] = [:]
        for counter in schema { seen[counter.slot, default: 0] += 1 }
        XCTAssertEqual(seen.filter { $0.value > 1 }.keys.sorted(), [EngineCounter.plan(.oversize)])
        XCTAssertEqual(EngineCounter.dropReasons.count, drops.count)
    }

    /// Every component's counters (forward, engine, vnet tap, ethdev basic) have snake_case
    /// names, unique within each view that lists them together: a port's `tunnelpmd_*` xstats
    /// (forward then engine counters) and a tap's xstats and telemetry (its schema). A name DPDK's
    /// ethdev xstats have keeps DPDK's meaning.
    func testEveryDeclaredNameIsUniqueAndSnakeCase() {
        let forward = ForwardCounter.allCases.map(\.descriptor)
        let engine = EngineCounter.schema.map(\.descriptor)
        let tap = TapStatistics.schema.map(\.descriptor)
        let basic = PortStats.Field.allCases.map(\.descriptor)
        for (component, descriptors) in [("forward", forward), ("engine", engine), ("tap", tap), ("basic", basic)] {
            for descriptor in descriptors {
                XCTAssertTrue(CounterDescriptor.isValidName(descriptor.name), "\(component): \(descriptor.name)")
                XCTAssertFalse(descriptor.help.isEmpty, "\(component): \(descriptor.name)")
            }
            XCTAssertEqual(Set(descriptors.map(\.name)).count, descriptors.count, "\(component): names are unique")
        }
        // What `show port xstats` adds beside the driver's, and what telemetry lists for a port.
        let port = ForwardStatistics.Port(id: 0).namedCounters.map(\.name)
        XCTAssertEqual(Set(port).count, port.count, "forward and engine names do not collide")
        XCTAssertEqual(port.count, forward.count + engine.count)
        // A tap's counters: rx ones start rx_, tx ones tx_; the names DPDK's basic statistics
        // have stand for them (show port stats), and every basic statistic but imissed is there.
        for counter in TapStatistics.schema {
            XCTAssertTrue(counter.name.hasPrefix(counter.descriptor.side.rawValue + "_"), counter.name)
            if let field = PortStats.Field.allCases.first(where: { $0.descriptor.name == counter.name }) {
                XCTAssertEqual(counter.basic, field, counter.name)
            }
        }
        XCTAssertEqual(Set(TapStatistics.schema.compactMap(\.basic)), Set(PortStats.Field.allCases).subtracting([.rxMissed]))
        // Forward counters named as DPDK names the same count.
        XCTAssertEqual(ForwardCounter.rxPackets.descriptor.name, PortStats.Field.rxPackets.descriptor.name)
        XCTAssertEqual(ForwardCounter.rxMissed.descriptor.name, PortStats.Field.rxMissed.descriptor.name)
        // Drop reasons and the errno families give valid names too.
        for reason in TapRxDropReason.allCases {
            XCTAssertTrue(TapStatistics.schema.contains { $0.name == "rx_dropped_" + CounterDescriptor.snakeCase(reason.description) }, "\(reason)")
        }
        XCTAssertEqual(TapStatistics.errnoName(.tx, 22), "tx_errno_22")
        var statistics = TapStatistics()
        statistics.txErrors[22] = 3
        statistics.rxDrops[.frameTooShort] = 2
        let entries = statistics.entries
        XCTAssertEqual(entries.map(\.name), TapStatistics.schema.map(\.name) + ["tx_errno_22"])
        let named = Dictionary(entries, uniquingKeysWith: { first, _ in first })
        XCTAssertEqual(named["tx_write_errors"], 3)
        XCTAssertEqual(named["tx_dropped"], 3)
        XCTAssertEqual(named["rx_dropped_frame_too_short"], 2)
        XCTAssertEqual(statistics.basic.txErrors, 3)
        XCTAssertEqual(statistics.basic.rxErrors, 2)
        XCTAssertEqual(CounterDescriptor.snakeCase("malformed: headerLengthTooShort"), "malformed_header_length_too_short")
        XCTAssertFalse(CounterDescriptor.isValidName("rx dropped"))
        XCTAssertFalse(CounterDescriptor.isValidName("rxDropped"))
        XCTAssertFalse(CounterDescriptor.isValidName("_rx"))
    }
}
