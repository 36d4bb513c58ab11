import DPDK
import Offload

/// What an engine gets once per lcore at start: the ports' settings, pools for segment
/// headers and payload references, and the shared control block.
public struct EngineContext: @unchecked Sendable {
    /// Indexed by port id; a copy taken at start, so workers read it without locks.
    public let settings: UnsafePointer<PortOffloadSettings>
    /// Each port's tx planner, built from its settings at start, indexed by port id.
    public let planners: UnsafePointer<TxPlanner>
    /// Frame length (headers included) GSO cuts to, as testpmd's `set gso segsz`.
    public let gsoSegmentSize: Int
    public let pool: Mempool
    public let indirectPool: Mempool
    /// This lcore's scratch area (`scratchSize` bytes), owned by the forwarder.
    public let scratch: UnsafeMutableRawPointer
    public static let scratchSize = 65536
    let control: ForwardingControl

    @inline(__always)
    public func settings(_ port: Port) -> UnsafePointer<PortOffloadSettings> {
        settings + Int(port.id)
    }

    @inline(__always)
    public func planner(_ port: Port) -> UnsafePointer<TxPlanner> {
        planners + Int(port.id)
    }

    public var verbosity: UInt32 { control.verbosity }
}

/// A forwarding engine: what happens to a burst between rx and tx. Workers are generic over
/// it, so each engine's `process` is specialised and inlined into the loop: no existential
/// and no closure per packet.
public protocol ForwardingEngine {
    static var mode: ForwardingMode { get }
    /// True when `process` only rewrites or drops packets, never adds any: the worker then
    /// passes the rx burst as the output and nothing is copied.
    static var worksInPlace: Bool { get }
    init(context: EngineContext)
    /// Reads `input[0..<count]` and writes what goes to tx into `output` (which is `input`
    /// for in-place engines), returning how many. Packets it drops it frees and counts.
    mutating func process(
        _ input: UnsafeMutablePointer<OpaquePointer?>, count: Int,
        output: UnsafeMutablePointer<OpaquePointer?>, capacity: Int, stream: Stream) -> Int
    /// Called once on the lcore when forwarding stops.
    func finish()
}

extension ForwardingEngine {
    public func finish() {}
}
