import Dataplane
import Foundation
import Offload

/// `show port <p> gro`: whether the port coalesces, the limits, and its coalescing counters
/// (rendered from the counter schema) for the current or last run.
enum CoalescingReport {
    static func describe(port id: UInt16, forwarder: Forwarder) throws -> String {
        let settings = try forwarder.settings(id)
        let options = forwarder.options.coalescing
        var lines = [
            "GRO is \(settings.gro ? "on" : "off") for port \(id)",
            "Flows held per stream: \(options.flows)",
            "Max segments per super-frame: \(options.segments)",
            "Max super-frame size (outermost IP packet): \(options.size)",
            "A flow leaves after \(options.timeoutMicroseconds) us without a segment, or at a cap",
            options.flushRounds > 0 ? "Flush every \(options.flushRounds) poll rounds" : "Flush rounds: off (set gro flush <n>)",
            "Checksums before merging: \(options.verification == .trustVerdicts ? "the port's good verdicts, Swift for the rest" : "Swift verifies all")",
        ]
        guard let entry = forwarder.forwardStatistics().ports.first(where: { $0.id == id }) else {
            return lines.joined(separator: "\n")
        }
        let counters = EngineCounter.schema.filter { $0.kind.isCoalescing }
        let made = entry.engine[EngineCounter.coalescingBase + CoalescingCounter.superFramesOut]
        let merged = entry.engine[EngineCounter.coalescingBase + CoalescingCounter.segmentsMerged]
        if made > 0 { lines.append(String(format: "Segments per super-frame: %.1f", Double(merged) / Double(made))) }
        let sttFrames = entry.engine[EngineCounter.coalescingBase + CoalescingCounter.sttFramesOut]
        let sttMerged = entry.engine[EngineCounter.coalescingBase + CoalescingCounter.sttSegmentsMerged]
        if sttFrames > 0 { lines.append(String(format: "Segments per STT frame: %.1f", Double(sttMerged) / Double(sttFrames))) }
        for descriptor in counters where descriptor.kind == .coalescing || entry.engine[descriptor.slot] > 0 {
            lines.append("  \(descriptor.name): \(entry.engine[descriptor.slot])")
        }
        return lines.joined(separator: "\n")
    }
}
