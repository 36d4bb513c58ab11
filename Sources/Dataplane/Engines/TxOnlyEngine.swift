import DPDK

/// testpmd's txonly engine: receives nothing; every round sends a burst of generated UDP
/// frames on each stream's tx queue (`TxFrameGenerator`: `set txpkts`, `set tx_ip`,
/// `set tx_udp`, `set txsplit`).
public struct TxOnlyEngine: GeneratingEngine {
    public static let mode = ForwardingMode.txonly
    public static let worksInPlace = true
    private var generator: TxFrameGenerator
    private let pool: Mempool
    private let burst: Int

    public init(context: EngineContext) {
        generator = TxFrameGenerator(context.traffic)
        pool = context.pool
        burst = context.burst
    }

    public func finish() { generator.deallocate() }

    @inline(__always)
    public mutating func poll(output: UnsafeMutablePointer<OpaquePointer?>, capacity: Int, stream: Stream) -> Int {
        generator.make(output, count: min(burst, capacity), pool: pool, stream: stream)
    }
}
