// gro-bench (make bench-gro): the Swift coalescer against DPDK's librte_gro, one core, one
// process, interleaved for several rounds. Input: 1,514-byte TCP segments (bursts of 32) of
// 1, 8 or 64 interleaved flows, VXLAN/TCP4, plain TCP4, and (Swift only: librte_gro cannot)
// Geneve/TCP4, VXLAN over IPv6 and TCP4 in keyed GRE. Flows are long-lived: each one's
// sequence numbers and IPv4 IDs run on across 16 cycles of 4 bursts before they start over
// (GRO_BENCH_CYCLES=1: every cycle, as until 2026-11-30; that pattern favours no contender
// but makes every flow look new to a flow cache at every cycle).
//
//   burst mode  Swift, flushed at the end of every burst  vs  rte_gro_reassemble_burst
//   hold mode   Swift, flushed every 4th burst            vs  rte_gro_reassemble + rte_gro_timeout_flush
//               (flows held across 4 bursts: testpmd's `set gro flush 4`)
//
// Swift runs twice: verifying every checksum in software (`verifyAll`; librte_gro verifies
// none), and trusting the rx verdicts (`trustVerdicts`) that every packet carries
// (RX_IP_CKSUM_GOOD | RX_L4_CKSUM_GOOD | RX_OUTER_L4_CKSUM_GOOD; the outer IPv4 header is
// still summed, no port reports it). librte_gro is handed the packet type and the five
// lengths as if the rx path had set them (testpmd's csum engine parses every packet before
// calling it); Swift is handed each packet's PacketLayout the same way (made before the timed
// region), and in the "+parse" rows it parses inside the timed region as the engine does.
// Either way it takes the engine's path: each packet is offered first to the held flows that
// expect it next (offerToExpectingFlow, which needs no layout), then with its layout.
//
// Timed: the coalescing call(s) of each burst only (timestamps around each burst). Untimed and identical for every
// contender: refilling the 32 mbufs from templates (gro_baseline_refill: allocate, memcpy,
// metadata) before, and freeing the frames handed back after.
//
//   gro-bench [rounds] [seconds-per-run]      GRO_BENCH_ONLY=<substring of a run label>
//   diagnostics: GRO_BENCH_PARSE=1 (parse alone), GRO_BENCH_CHAIN=1 (chaining alone: a floor)
import CDPDK
import DPDK
import GROBaseline
import GSOBaseline
import Offload
import Wire

let arguments = CommandLine.arguments
let rounds = arguments.count > 1 ? Int(arguments[1]) ?? 7 : 7
let secondsPerRun = arguments.count > 2 ? Double(arguments[2]) ?? 0.2 : 0.2
let eal = ["gro-bench", "--no-huge", "-m", "512", "--no-pci", "--no-shconf", "--file-prefix", "gro-bench", "-l", "0",
           "--log-level", "lib.eal:warning"]

func fail(_ message: String) -> Never {
    cdpdk_stderr_write("gro-bench: \(message)\n")
    exit(1)
}

do { _ = try EAL.initialize(arguments: eal) } catch { fail("\(error)") }
cdpdk_stdout_line_buffered()

let burst = 32
let holdBursts = 4
/// Segments of one cycle (hold mode flushes every flow at its end).
let cycle = burst * holdBursts
/// Cycles a flow's sequence runs through before it starts over, as long-lived TCP flows do
/// not (GRO_BENCH_CYCLES=1: every cycle starts every flow at the same sequence number).
let cyclesPerSequence = getenv("GRO_BENCH_CYCLES").flatMap { Int(String(cString: $0)) }.map { max(1, $0) } ?? 16
let tableFlows = 64
let pool: Mempool
do {
    pool = try Mempool.createPacketPool(name: "gro_bench", count: 2047, cacheSize: 256)
} catch { fail("\(error)") }
let tunnels = TunnelPortTable.defaults

/// One cycle of segments as templates the refill copies from.
struct Workload {
    let name: String
    let kind: Segments.Kind
    let flows: Int
    let templates: UnsafeMutablePointer<gro_baseline_template>
    /// The cycle `measure` refills from next (the flows' sequence goes on across runs).
    let nextCycle = UnsafeMutablePointer<Int>.allocate(capacity: 1)
    var librteCan: Bool { kind == .plain || kind == .vxlan }

    init(_ kind: Segments.Kind, flows: Int) {
        self.kind = kind
        self.flows = flows
        name = "\(kind) x\(flows)"
        templates = .allocate(capacity: cycle * cyclesPerSequence)
        nextCycle.initialize(to: 0)
        let payload = Segments.payloadLength(kind)
        let packetType = gro_baseline_packet_type(
            kind == .plain ? GRO_BASELINE_TCP4 : kind == .vxlan ? GRO_BASELINE_VXLAN_TCP4 : GRO_BASELINE_OTHER)
        var flags: MbufFlags = [.rxIPChecksumGood, .rxL4ChecksumGood]
        if kind != .plain { flags.insert(.rxOuterL4ChecksumGood) }
        for index in 0..<(cycle * cyclesPerSequence) {
            let frame = Segments.frame(kind, flow: index % flows, index: index / flows, payload: payload)
            guard frame.count == Segments.frameLength,
                let layout = try? frame.withUnsafeBytes({ try PacketLayout.parse($0, tunnels: tunnels) })
            else { fail("cannot build the \(kind) segments") }
            let bytes = UnsafeMutableRawPointer.allocate(byteCount: frame.count, alignment: 64)
            frame.withUnsafeBytes { bytes.copyMemory(from: $0.baseAddress!, byteCount: frame.count) }
            let lengths = layout.offloadLengths
            templates[index] = gro_baseline_template(
                bytes: UnsafePointer(bytes.assumingMemoryBound(to: UInt8.self)), length: UInt16(frame.count),
                l2_len: UInt8(lengths.l2Len), l4_len: UInt8(lengths.l4Len), outer_l2_len: UInt8(lengths.outerL2Len),
                l3_len: lengths.l3Len, outer_l3_len: lengths.outerL3Len, packet_type: packetType,
                ol_flags: flags.rawValue)
        }
    }
}

enum Contender {
    /// `parse`: PacketLayout.parse inside the timed region; otherwise the layouts are made
    /// before it, as librte_gro's packet type and lengths are.
    case swift(CoalescingOptions.Verification, hold: Bool, parse: Bool)
    case lightweight
    case heavyweight
    /// Diagnostic (GRO_BENCH_PARSE=1): PacketLayout.parse of every packet, nothing coalesced.
    case parseOnly
    /// Diagnostic (GRO_BENCH_CHAIN=1): the least any coalescer does, each burst's segments
    /// chained behind its first (no header read, no rule): a floor, not a coalescer.
    case chainOnly

    var hold: Bool {
        switch self {
        case .swift(_, let hold, _): hold
        case .lightweight, .parseOnly, .chainOnly: false
        case .heavyweight: true
        }
    }
}

/// What one run did: summed over the slices of a round.
struct Tally {
    var segments = 0
    var frames = 0
    var cycles: UInt64 = 0
    var mallocCalls: UInt64 = 0
    var segmentsPerSecond: Double { Double(segments) / (Double(cycles) / Double(EAL.tscHz)) }
    static func + (a: Tally, b: Tally) -> Tally {
        Tally(segments: a.segments + b.segments, frames: a.frames + b.frames, cycles: a.cycles + b.cycles,
              mallocCalls: a.mallocCalls + b.mallocCalls)
    }
}

// Everything the loop touches, allocated once.
let input = UnsafeMutablePointer<OpaquePointer?>.allocate(capacity: 512)
let output = UnsafeMutablePointer<OpaquePointer?>.allocate(capacity: 512)
let singles = UnsafeMutablePointer<OpaquePointer?>.allocate(capacity: 512)
/// Which IPv4 headers of each flushed super-frame kept a fixed ID (unused here: none do).
let fixedIDs = UnsafeMutablePointer<FixedIPv4IDs>.allocate(capacity: 512)
let layouts = UnsafeMutablePointer<PacketLayout>.allocate(capacity: 512)
layouts.initialize(repeating: PacketLayout(), count: 512)
let slots = UnsafeMutablePointer<UInt64>.allocate(capacity: CoalescingCounter.slotCount)
slots.initialize(repeating: 0, count: CoalescingCounter.slotCount)
/// One table per verification mode; empty between bursts (burst mode) or cycles (hold mode).
let coalescers = UnsafeMutablePointer<Coalescer>.allocate(capacity: 2)
for (index, verification) in [CoalescingOptions.Verification.verifyAll, .trustVerdicts].enumerated() {
    // 64 segments per frame at most so that the 64 KB size cap ends super-frames, as in librte_gro.
    (coalescers + index).initialize(to: Coalescer(options: CoalescingOptions(
        flows: tableFlows, segments: 64, size: 65535, flushRounds: holdBursts, verification: verification)))
}
guard let heavyContext = gro_baseline_context(UInt16(tableFlows), 32) else { fail("rte_gro_ctx_create failed") }
var round: UInt64 = 0

/// Offers the burst to the Swift table and, when `flush`, flushes it. Returns the frames
/// handed back, in `output`.
@MainActor @inline(never)
func swiftBurst(_ table: UnsafeMutablePointer<Coalescer>, count: Int, flush: Bool, parse: Bool) -> Int {
    var produced = 0
    round &+= 1
    var index = 0
    while index < count {
        let packet = Mbuf(input[index].unsafelyUnwrapped)
        index &+= 1
        let layout: PacketLayout
        // As the engine does: a segment a held flow expects next needs no parse (nor layout),
        // and the ones behind it that held flows expect next join them in one go.
        if let released = table.pointee.offerToExpectingFlow(packet, now: round, slots: slots) {
            for item in 0..<released.count {
                output[produced] = released[item].pointer
                produced &+= 1
            }
            if released.count == 0 {
                index &+= table.pointee.takeFollowing(input + index, count: count &- index, now: round, slots: slots)
            }
            continue
        }
        if parse {
            do {
                layout = try PacketLayout.parse(
                    UnsafeRawBufferPointer(start: packet.data, count: Int(packet.dataLength)), tunnels: tunnels)
            } catch {
                output[produced] = packet.pointer
                produced &+= 1
                continue
            }
        } else {
            layout = layouts[index &- 1]
        }
        let released = table.pointee.offer(packet, layout: layout, now: round, slots: slots, expressTried: true)
        for item in 0..<released.count {
            output[produced] = released[item].pointer
            produced &+= 1
        }
    }
    if flush {
        let (made, alone) = table.pointee.flush(
            idleSince: .max, reason: .endOfPoll, slots: slots, superFrames: output + produced, fixedIDs: fixedIDs,
            singles: singles, room: 512)
        produced &+= made
        (output + produced).update(from: singles, count: alone)
        produced &+= alone
    }
    return produced
}

/// The layouts of the burst, made before the timed region (`parse` false).
@MainActor @inline(never)
func parseAhead(count: Int) {
    for index in 0..<count {
        let packet = Mbuf(input[index].unsafelyUnwrapped)
        guard let layout = try? PacketLayout.parse(
            UnsafeRawBufferPointer(start: packet.data, count: Int(packet.dataLength)), tunnels: tunnels)
        else { fail("a bench segment does not parse") }
        layouts[index] = layout
    }
}

/// Chains every segment of the burst behind the first, headers cut off: what chaining alone costs.
let plainHeaderLength = UInt16(Segments.frameLength - Segments.payloadLength(.plain))
@MainActor @inline(never)
func chainBurst(count: Int) -> Int {
    let head = Mbuf(input[0].unsafelyUnwrapped)
    var tail = head
    for index in 1..<count {
        let packet = Mbuf(input[index].unsafelyUnwrapped)
        _ = packet.adjust(plainHeaderLength)
        tail.next = packet
        tail = packet
        head.segmentCount &+= 1
        head.packetLength &+= UInt32(packet.dataLength)
    }
    input[0] = head.pointer
    return 1
}

/// Parses every packet of the burst and keeps nothing: what the parser alone costs.
@MainActor @inline(never)
func parseBurst(count: Int) -> Int {
    var sum = 0
    for index in 0..<count {
        let packet = Mbuf(input[index].unsafelyUnwrapped)
        if let layout = try? PacketLayout.parse(
            UnsafeRawBufferPointer(start: packet.data, count: Int(packet.dataLength)), tunnels: tunnels)
        {
            sum &+= layout.payloadOffset
        }
    }
    return sum > 0 ? count : count
}

/// Slices a run is cut into, interleaved with the other runs of a round, so that a burst of
/// other load on the machine hits every run of a round alike.
let slices = 4

@MainActor @inline(never)
func measure(_ workload: Workload, _ contender: Contender) -> Tally {
    let hz = Double(EAL.tscHz)
    let budget = UInt64(secondsPerRun / Double(slices) * hz)
    var tally = Tally()
    let mallocsBefore = gso_baseline_malloc_calls()
    let start = EAL.tsc
    repeat {
        let cycleStart = workload.templates + workload.nextCycle.pointee * cycle
        workload.nextCycle.pointee = (workload.nextCycle.pointee + 1) % cyclesPerSequence
        for step in 0..<holdBursts {
            let status = gro_baseline_refill(pool.pointer, cycleStart + step * burst, UInt16(burst), input)
            if status != 0 { fail("refill: \(status)") }
            if case .swift(_, _, false) = contender { parseAhead(count: burst) }
            let last = step == holdBursts - 1
            let frames: UnsafeMutablePointer<OpaquePointer?>
            let count: Int
            let before = EAL.tsc
            switch contender {
            case .swift(let verification, let hold, let parse):
                count = swiftBurst(coalescers + (verification == .verifyAll ? 0 : 1), count: burst, flush: !hold || last,
                                   parse: parse)
                frames = output
            case .parseOnly:
                count = parseBurst(count: burst)
                frames = input
            case .chainOnly:
                count = chainBurst(count: burst)
                frames = input
            case .lightweight:
                count = Int(gro_baseline_burst(input, UInt16(burst), UInt16(tableFlows), 32))
                frames = input
            case .heavyweight:
                var kept = Int(gro_baseline_reassemble(heavyContext, input, UInt16(burst)))
                if last { kept += Int(gro_baseline_flush(heavyContext, 0, input + kept, UInt16(512 - kept))) }
                count = kept
                frames = input
            }
            tally.cycles &+= EAL.tsc &- before
            tally.segments &+= burst
            tally.frames &+= count
            Mbuf.freeBulk(frames, count: count)
        }
    } while EAL.tsc &- start < budget
    tally.mallocCalls = gso_baseline_malloc_calls() &- mallocsBefore
    return tally
}

func median(_ values: [Double]) -> Double {
    let s = values.sorted()
    return s.isEmpty ? .nan : s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
}

func fixed(_ value: Double, _ decimals: Int, width: Int) -> String {
    guard value.isFinite else { return String(repeating: " ", count: max(0, width - 1)) + "-" }
    var scale = 1.0
    for _ in 0..<decimals { scale *= 10 }
    let n = Int((value * scale).rounded())
    var text = String(n / Int(scale))
    if decimals > 0 {
        let frac = String(n % Int(scale))
        text += "." + String(repeating: "0", count: decimals - frac.count) + frac
    }
    return String(repeating: " ", count: max(0, width - text.count)) + text
}

func pad(_ text: String, _ width: Int) -> String { text + String(repeating: " ", count: max(0, width - text.count)) }

let workloads = [
    Workload(.vxlan, flows: 1), Workload(.vxlan, flows: 8), Workload(.vxlan, flows: 64),
    Workload(.plain, flows: 1), Workload(.plain, flows: 8),
    Workload(.geneve, flows: 8), Workload(.vxlan6, flows: 8), Workload(.gre, flows: 8),
]

/// Per workload and mode: Swift verifying all, Swift trusting verdicts, librte_gro (if it can).
struct Run {
    let label: String
    let workload: Workload
    let contender: Contender
}

var allRuns: [Run] = []
for workload in workloads {
    for hold in [false, true] {
        let mode = hold ? "hold" : "burst"
        allRuns.append(Run(label: "\(workload.name) \(mode) swift-verify", workload: workload,
                           contender: .swift(.verifyAll, hold: hold, parse: false)))
        allRuns.append(Run(label: "\(workload.name) \(mode) swift-trust", workload: workload,
                           contender: .swift(.trustVerdicts, hold: hold, parse: false)))
        if !hold {
            allRuns.append(Run(label: "\(workload.name) \(mode) swift-verify+parse", workload: workload,
                               contender: .swift(.verifyAll, hold: hold, parse: true)))
            allRuns.append(Run(label: "\(workload.name) \(mode) swift-trust+parse", workload: workload,
                               contender: .swift(.trustVerdicts, hold: hold, parse: true)))
        }
        if !hold, getenv("GRO_BENCH_PARSE") != nil {
            allRuns.append(Run(label: "\(workload.name) \(mode) parse-only", workload: workload, contender: .parseOnly))
        }
        if !hold, getenv("GRO_BENCH_CHAIN") != nil {
            allRuns.append(Run(label: "\(workload.name) \(mode) chain-only", workload: workload, contender: .chainOnly))
        }
        if workload.librteCan {
            allRuns.append(Run(label: "\(workload.name) \(mode) librte", workload: workload,
                               contender: hold ? .heavyweight : .lightweight))
        }
    }
}
let only = getenv("GRO_BENCH_ONLY").map { String(cString: $0) }
// GRO_BENCH_ONLY=<substring of run labels>, or =<exact label> (for profiling).
let runs = only.map { filter in
    allRuns.filter { filter.hasPrefix("=") ? $0.label == filter.dropFirst() : $0.label.contains(filter) }
} ?? allRuns

print("gro-bench: \(Segments.frameLength)-byte TCP segments, bursts of \(burst), one lcore, \(rounds) rounds x \(runs.count) runs "
    + "of \(secondsPerRun)s in \(slices) interleaved slices; timed: the coalescing calls only; EAL: \(eal.dropFirst().joined(separator: " "))")
print("burst: Swift flushed every burst vs rte_gro_reassemble_burst; hold: flows held \(holdBursts) bursts, "
    + "Swift vs rte_gro_reassemble + rte_gro_timeout_flush (flows \(tableFlows), 32 items per flow)")
print("each flow's sequence runs on for \(cyclesPerSequence) cycles of \(cycle) segments before it starts over "
    + "(GRO_BENCH_CYCLES)")
var results = [[Tally]](repeating: [], count: runs.count)
for number in 1...rounds {
    var tallies = [Tally](repeating: Tally(), count: runs.count)
    for _ in 0..<slices {
        for (index, run) in runs.enumerated() { tallies[index] = tallies[index] + measure(run.workload, run.contender) }
    }
    for index in runs.indices { results[index].append(tallies[index]) }
    print("round \(number) done")
}
if slots[CoalescingCounter.bypass(.checksumBad)] != 0 || slots[CoalescingCounter.bypass(.notParsed)] != 0 {
    fail("the Swift coalescer refused segments: checksum bad \(slots[CoalescingCounter.bypass(.checksumBad)])")
}

/// Index of a run by workload, mode and contender tag.
@MainActor func find(_ workload: Workload, _ mode: String, _ tag: String) -> Int? {
    runs.firstIndex { $0.label == "\(workload.name) \(mode) \(tag)" }
}

/// Median over rounds of the per-round ratio a / b (both measured in the same round).
@MainActor func ratio(_ a: Int?, _ b: Int?) -> Double {
    guard let a, let b else { return .nan }
    return median(zip(results[a], results[b]).map { $0.segmentsPerSecond / $1.segmentsPerSecond })
}

@MainActor func rate(_ index: Int?) -> Double {
    guard let index else { return .nan }
    return median(results[index].map(\.segmentsPerSecond)) / 1e6
}

@MainActor func segmentsPerFrame(_ index: Int?) -> Double {
    guard let index else { return .nan }
    let total = results[index].reduce(Tally(), +)
    return Double(total.segments) / Double(total.frames)
}

print("")
print("M segments/s in (median of \(rounds) rounds); ratios: median of per-round ratios; segs/frame out: Swift / librte_gro")
print(pad("workload", 20) + pad("mode", 12) + "  swift-verify  swift-trust  librte_gro  verify/librte  trust/librte  segs/frame")
/// Lowest ratios: layouts given (as librte_gro's lengths are), and with Swift's parse timed.
var verifyRatios: [Double] = [], trustRatios: [Double] = [], verifyParseRatios: [Double] = [], trustParseRatios: [Double] = []
for workload in workloads {
    for (mode, suffix) in [("burst", ""), ("burst", "+parse"), ("hold", "")] {
        let v = find(workload, mode, "swift-verify" + suffix), t = find(workload, mode, "swift-trust" + suffix)
        let l = find(workload, mode, "librte")
        guard v != nil || t != nil else { continue }
        let rv = ratio(v, l), rt = ratio(t, l)
        if rv.isFinite { suffix.isEmpty ? verifyRatios.append(rv) : verifyParseRatios.append(rv) }
        if rt.isFinite { suffix.isEmpty ? trustRatios.append(rt) : trustParseRatios.append(rt) }
        let librteName = l == nil ? "" : mode == "burst" ? " (light)" : " (heavy)"
        print(pad(workload.name, 20) + pad(mode + suffix, 12) + fixed(rate(v), 2, width: 14) + fixed(rate(t), 2, width: 13)
            + fixed(rate(l), 2, width: 12) + fixed(rv, 2, width: 14) + fixed(rt, 2, width: 14)
            + fixed(segmentsPerFrame(t), 1, width: 7) + " /" + fixed(segmentsPerFrame(l), 1, width: 5) + librteName)
    }
}

for (index, run) in runs.enumerated() where run.label.hasSuffix("parse-only") || run.label.hasSuffix("chain-only") {
    let what = run.label.hasSuffix("parse-only") ? "parse only: " : "chain only: "
    print(what + pad(run.workload.name, 20) + fixed(rate(index), 2, width: 8) + " M/s")
}
print("")
var swiftSegments = 0, swiftMallocs: UInt64 = 0, librteSegments = 0, librteMallocs: UInt64 = 0
for (index, run) in runs.enumerated() {
    let total = results[index].reduce(Tally(), +)
    if case .chainOnly = run.contender { continue }
    if case .parseOnly = run.contender { continue }
    if case .swift = run.contender {
        swiftSegments += total.segments
        swiftMallocs += total.mallocCalls
    } else {
        librteSegments += total.segments
        librteMallocs += total.mallocCalls
    }
}
print("malloc calls in the timed loops (refill and free included): Swift \(swiftMallocs) for \(swiftSegments) segments "
    + "(\(fixed(Double(swiftMallocs) / Double(max(swiftSegments, 1)), 6, width: 0)) per segment), librte_gro \(librteMallocs) "
    + "for \(librteSegments) segments")
// The counter is live (EAL start-up alone makes thousands of calls), so zeros above are real.
print("malloc calls in the whole process so far: \(gso_baseline_malloc_calls())")
func verdict(_ what: String, _ ratios: [Double], _ target: Double) {
    guard let worst = ratios.min() else { return }
    print("lowest ratio, \(what): \(fixed(worst, 2, width: 0))x (target >= \(fixed(target, 1, width: 0))x): "
        + (worst >= target ? "MET" : "NOT MET"))
}
print("")
verdict("Swift verifying every checksum / librte_gro      ", verifyRatios, 1.5)
verdict("Swift trusting rx verdicts / librte_gro          ", trustRatios, 2)
verdict("Swift verifying, parse timed / librte_gro        ", verifyParseRatios, 1.5)
verdict("Swift trusting, parse timed / librte_gro         ", trustParseRatios, 2)
gro_baseline_context_free(heavyContext)
