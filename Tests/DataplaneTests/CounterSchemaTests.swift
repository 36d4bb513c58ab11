import Dataplane
import Offload
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
}
