// gso-bench (make bench-gso): Swift software GSO against librte_gso, one core, one process,
// alternated for several rounds. 63 KB super-frames cut at 1400 payload bytes; segments go to
// a net_null port's tx_burst, which frees them.
//
//   (a) Swift GSO, every checksum in software  vs  librte_gso + software checksum fix-up
//   (b) Swift GSO, checksums left to the port  vs  librte_gso alone (checksums stale)
//   plus Swift GSO of Geneve with options, IPv6-outer VXLAN and plain TCP.
//
//   gso-bench [rounds] [seconds-per-run]
import CDPDK
import DPDK
import GSOBaseline
import Offload
import Wire

let arguments = CommandLine.arguments
let rounds = arguments.count > 1 ? Int(arguments[1]) ?? 7 : 7
let secondsPerRun = arguments.count > 2 ? Double(arguments[2]) ?? 0.3 : 0.3
let eal = ["gso-bench", "--no-huge", "-m", "1024", "--no-pci", "--no-shconf", "--file-prefix", "gso-bench", "-l", "0-1",
           "--vdev", "net_null0", "--log-level", "lib.eal:warning"]

func fail(_ message: String) -> Never {
    cdpdk_stderr_write("gso-bench: \(message)\n")
    exit(1)
}

do { _ = try EAL.initialize(arguments: eal) } catch { fail("\(error)") }
cdpdk_stdout_line_buffered()

let payloadLength = 63 * 1024
let segmentSize = 1400
let inputPool: Mempool, headerPool: Mempool, indirectPool: Mempool
do {
    inputPool = try Mempool.createPacketPool(name: "bench_input", count: 16, cacheSize: 0, dataRoomSize: 65535)
    headerPool = try Mempool.createPacketPool(name: "bench_headers", count: 8191, dataRoomSize: 128 + 256)
    indirectPool = try Mempool.createPacketPool(name: "bench_indirect", count: 8191, dataRoomSize: 0)
    let port = EthPort(0)
    try port.configure(PortConfiguration())
    try port.setupRxQueue(0, descriptors: 512, pool: headerPool)
    try port.setupTxQueue(0, descriptors: 1024)
    try port.start()
} catch { fail("\(error)") }

/// One super-frame, kept alive by the bench: each run takes an extra reference, which the
/// segmenter's (or librte_gso's wrapper's) free drops again.
struct Workload {
    let name: String
    let master: Mbuf
    let layout: PacketLayout
    let flags: MbufFlags

    init(_ name: String, _ kind: SuperFrame.Kind, outerV6: Bool = false) {
        self.name = name
        let frame = SuperFrame.build(kind, outerV6: outerV6, payload: payloadLength)
        var table = TunnelPortTable.defaults
        table.recognizesSTT = false
        guard let layout = try? frame.withUnsafeBytes({ try PacketLayout.parse($0, tunnels: table) }),
            let mbuf = inputPool.allocate(), let data = mbuf.append(UInt16(frame.count))
        else { fail("cannot build the \(name) super-frame") }
        frame.withUnsafeBytes { data.copyMemory(from: $0.baseAddress!, byteCount: frame.count) }
        let lengths = layout.offloadLengths
        mbuf.txOffload = TxOffloadLengths(l2: Int(lengths.l2Len), l3: Int(lengths.l3Len), l4: Int(lengths.l4Len),
                                          outerL2: Int(lengths.outerL2Len), outerL3: Int(lengths.outerL3Len))
        flags = kind == .plain ? [.txTCPSegmentation, .txIPv4] : [.txTCPSegmentation, .txIPv4, .txOuterIPv4, .txTunnelVXLAN]
        master = mbuf
        self.layout = layout
    }
}

enum Engine {
    case swift(SoftwareChecksums)
    case librte(fixChecksums: Bool)
}

/// What one run did: summed over the slices of a round.
struct Tally {
    var frames = 0
    var segments = 0
    var seconds = 0.0
    var mallocCalls: UInt64 = 0
    var segmentsPerSecond: Double { Double(segments) / seconds }
    var gigabitsPerSecond: Double { Double(frames * payloadLength) * 8 / seconds / 1e9 }  // inner payload
    static func + (a: Tally, b: Tally) -> Tally {
        Tally(frames: a.frames + b.frames, segments: a.segments + b.segments, seconds: a.seconds + b.seconds,
              mallocCalls: a.mallocCalls + b.mallocCalls)
    }
}

/// Runs are interleaved in slices of this many seconds, so a burst of other load on the
/// machine hits every run of a round alike.
let slices = 6

extension Engine {
    var isLibrte: Bool { if case .librte = self { true } else { false } }
}

/// Cuts and sends the workload's super-frame for about `secondsPerRun / slices`.
@inline(never)
func measure(
    _ workload: Workload, _ engine: Engine, _ segmenter: inout Segmenter, _ output: UnsafeMutablePointer<OpaquePointer?>
) -> Tally {
    let hz = Double(EAL.tscHz)
    let budget = UInt64(secondsPerRun / Double(slices) * hz)
    let options: SegmentationOptions
    if case .swift(let software) = engine {
        options = SegmentationOptions(segmentSize: segmentSize, software: software)
    } else {
        options = SegmentationOptions(segmentSize: segmentSize)
    }
    let frameSize = UInt16(workload.layout.payloadOffset + segmentSize)
    let master = workload.master
    var frames = 0, segments = 0
    let mallocsBefore = gso_baseline_malloc_calls()
    let start = EAL.tsc
    var now = start
    while now - start < budget {
        for _ in 0..<16 {
            rte_mbuf_refcnt_update(master.pointer, 1)
            var count: Int
            switch engine {
            case .swift:
                count = segmenter.segment(master, layout: workload.layout, options: options, into: output, capacity: 256).count
            case .librte(let fix):
                master.offloadFlags = workload.flags  // librte_gso clears TCP_SEG on its input
                count = Int(gso_baseline_segment(master.pointer, headerPool.pointer, indirectPool.pointer, frameSize,
                                                 fix ? 1 : 0, output, 256))
            }
            if count <= 0 { fail("\(workload.name): segmentation failed (\(count))") }
            var sent = 0
            while sent < count { sent += Int(cdpdk_tx_burst(0, 0, output + sent, UInt16(count - sent))) }
            frames += 1
            segments += count
        }
        now = EAL.tsc
    }
    let seconds = Double(now - start) / hz
    let mallocs = gso_baseline_malloc_calls() - mallocsBefore
    return Tally(frames: frames, segments: segments, seconds: seconds, mallocCalls: mallocs)
}

func median(_ values: [Double]) -> Double {
    let s = values.sorted()
    return s.isEmpty ? .nan : s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
}

func fixed(_ value: Double, _ decimals: Int, width: Int) -> String {
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

let vxlan = Workload("VXLAN/TCP4", .vxlan)
let geneve = Workload("Geneve(opts)/TCP4", .geneve)
let vxlan6 = Workload("VXLAN/TCP4 over IPv6", .vxlan, outerV6: true)
let plain = Workload("TCP4", .plain)

let allRuns: [(label: String, Workload, Engine)] = [
    ("a: Swift GSO, all checksums in sw", vxlan, .swift(.all)),
    ("a: librte_gso + sw checksum fix-up", vxlan, .librte(fixChecksums: true)),
    ("b: Swift GSO, checksums to the port", vxlan, .swift([])),
    ("b: librte_gso alone (stale checksums)", vxlan, .librte(fixChecksums: false)),
    ("Swift GSO Geneve+options, all sw", geneve, .swift(.all)),
    ("Swift GSO Geneve+options, to port", geneve, .swift([])),
    ("Swift GSO VXLAN over IPv6, all sw", vxlan6, .swift(.all)),
    ("Swift GSO VXLAN over IPv6, to port", vxlan6, .swift([])),
    ("Swift GSO plain TCP4, all sw", plain, .swift(.all)),
    ("Swift GSO plain TCP4, to port", plain, .swift([])),
    ("librte_gso plain TCP4 alone", plain, .librte(fixChecksums: false)),
]

// GSO_BENCH_ONLY=<substring>: only the runs whose label contains it (for profiling).
let only = getenv("GSO_BENCH_ONLY").map { String(cString: $0) }
let runs = only.map { filter in allRuns.filter { $0.label.contains(filter) } } ?? allRuns
print("gso-bench: \(payloadLength)-byte payload super-frames cut at \(segmentSize), one lcore, net_null tx, "
    + "\(rounds) rounds x \(runs.count) runs of \(secondsPerRun)s in \(slices) interleaved slices, EAL: \(eal.dropFirst().joined(separator: " "))")
let output = UnsafeMutablePointer<OpaquePointer?>.allocate(capacity: 256)
var segmenter = Segmenter(headerPool: headerPool, indirectPool: indirectPool)
var results = [[Tally]](repeating: [], count: runs.count)
var ratioA: [Double] = [], ratioB: [Double] = []
for number in 1...rounds {
    var round = [Tally](repeating: Tally(), count: runs.count)
    for _ in 0..<slices {
        for (index, run) in runs.enumerated() { round[index] = round[index] + measure(run.1, run.2, &segmenter, output) }
    }
    for index in runs.indices { results[index].append(round[index]) }
    guard only == nil else { continue }
    let a = results[0][number - 1].segmentsPerSecond / results[1][number - 1].segmentsPerSecond
    let b = results[2][number - 1].segmentsPerSecond / results[3][number - 1].segmentsPerSecond
    ratioA.append(a)
    ratioB.append(b)
    print("round \(number): (a) \(fixed(a, 2, width: 0))x  (b) \(fixed(b, 2, width: 0))x")
}
print("")
print(pad("run", 40) + "  Msegments/s  Gbit/s(inner payload)  malloc calls")
for (index, run) in runs.enumerated() {
    let rates = results[index]
    print(pad(run.label, 40) + fixed(median(rates.map(\.segmentsPerSecond)) / 1e6, 2, width: 13)
        + fixed(median(rates.map(\.gigabitsPerSecond)), 2, width: 22)
        + (run.2.isLibrte ? "" : fixed(Double(rates.reduce(0) { $0 + $1.mallocCalls }), 0, width: 14)))
}
// The counter is live (EAL start-up alone makes thousands of calls), so zeros above are real.
print("malloc calls in the whole process so far: \(gso_baseline_malloc_calls())")
let medianA = median(ratioA), medianB = median(ratioB)
print("")
print("ratio (a) Swift all-sw / librte_gso+fix-up: \(fixed(medianA, 2, width: 0))x (median of rounds; target >= 3x): \(medianA >= 3 ? "MET" : "NOT MET")")
print("ratio (b) Swift to-port / librte_gso alone: \(fixed(medianB, 2, width: 0))x (median of rounds; target >= 1.2x): \(medianB >= 1.2 ? "MET" : "NOT MET")")
