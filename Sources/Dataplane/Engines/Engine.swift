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
    /// Small direct mbufs for the headers of the segments Swift GSO makes (librte_gso's
    /// direct pool): a segment never holds a packet-sized buffer for its headers.
    public let headerPool: Mempool
    public let indirectPool: Mempool
    /// This lcore's scratch area (`scratchSize` bytes), owned by the forwarder.
    public let scratch: UnsafeMutableRawPointer
    /// As long as the longest frame the parser is given in one piece: an IP packet of 65,535
    /// bytes behind its link headers (Ethernet and VLAN tags; 65,536 dropped such a frame of
    /// 65,549 bytes as "headers too long").
    public static let scratchSize = 65_535 + 1024
    /// Packets per rx burst (engines size their staging arrays from it).
    public let burst: Int
    /// Streams this lcore forwards (engines that keep per-stream state size it up front).
    public let streamCount: Int
    /// Receive coalescing's table and limits, for ports with GRO on.
    public let coalescing: CoalescingOptions
    /// What the generating engines (txonly, flowgen) send.
    public let traffic: TrafficOptions
    /// The frames txonly replays (`set txonly-pcap`), loaded at start; nil: testpmd's frames.
    public let replay: ReplayTable?
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
///
/// An engine is ingress -> its own work -> egress; the egress half every engine can compose is
/// `Egress` (parse, pending checksums, plan, apply, Swift GSO, tx_prepare fallback). An
/// engine may hold packets (receive coalescing): `poll` runs every round for every stream,
/// whether or not its rx burst had anything, and `flush` when forwarding stops, so nothing
/// held outlives a deadline or the run.
public protocol ForwardingEngine {
    static var mode: ForwardingMode { get }
    /// True when `process` only rewrites or drops packets, never adds any: the worker then
    /// passes the rx burst as the output and nothing is copied.
    static var worksInPlace: Bool { get }
    /// True when the engine writes the Ethernet addresses (mac, csum): receive coalescing
    /// addresses its super-frames the same way.
    static var rewritesAddresses: Bool { get }
    /// False for a pure generator (txonly): the worker never calls rx_burst, and `poll` makes
    /// each round's packets.
    static var receives: Bool { get }
    init(context: EngineContext)
    /// Reads `input[0..<count]` and writes what goes to tx into `output` (which is `input`
    /// for in-place engines), returning how many. Packets it drops it frees and counts.
    mutating func process(
        _ input: UnsafeMutablePointer<OpaquePointer?>, count: Int,
        output: UnsafeMutablePointer<OpaquePointer?>, capacity: Int, stream: Stream) -> Int
    /// Every poll round, after `process` (or instead of it when rx got nothing): frames held
    /// for `stream` that must go now, written to `output`; returns how many.
    mutating func poll(output: UnsafeMutablePointer<OpaquePointer?>, capacity: Int, stream: Stream) -> Int
    /// Forwarding stops: everything still held for `stream`, written to `output` (a worker
    /// calls it until it returns 0); returns how many.
    mutating func flush(output: UnsafeMutablePointer<OpaquePointer?>, capacity: Int, stream: Stream) -> Int
    /// Called once on the lcore when forwarding stops, after every stream was flushed.
    func finish()
}

extension ForwardingEngine {
    public static var rewritesAddresses: Bool { false }
    public static var receives: Bool { true }
    /// Engines that hold nothing: the hooks compile away in the specialised loop.
    @inline(__always)
    public mutating func poll(output: UnsafeMutablePointer<OpaquePointer?>, capacity: Int, stream: Stream) -> Int { 0 }
    @inline(__always)
    public mutating func flush(output: UnsafeMutablePointer<OpaquePointer?>, capacity: Int, stream: Stream) -> Int { 0 }
    public func finish() {}
}

/// An engine that sends nothing it receives (rxonly; flowgen's replies; the generators):
/// `process` frees the burst.
public protocol DiscardingEngine: ForwardingEngine {}

extension DiscardingEngine {
    @inline(__always)
    public func process(
        _ input: UnsafeMutablePointer<OpaquePointer?>, count: Int,
        output: UnsafeMutablePointer<OpaquePointer?>, capacity: Int, stream: Stream
    ) -> Int {
        Mbuf.freeBulk(input, count: count)
        return 0
    }
}

/// A pure generator (txonly, its pcap replay): the worker never calls rx_burst for it, and
/// `poll` makes each round's packets. `process` only frees, should it ever get any.
public protocol GeneratingEngine: DiscardingEngine {}

extension GeneratingEngine {
    public static var receives: Bool { false }
}
