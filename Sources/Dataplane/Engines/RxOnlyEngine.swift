import DPDK

/// testpmd's rxonly engine: every received packet is counted and freed; nothing is sent.
public struct RxOnlyEngine: ForwardingEngine {
    public static let mode = ForwardingMode.rxonly
    public static let worksInPlace = true

    public init(context: EngineContext) {}

    @inline(__always)
    public func process(
        _ input: UnsafeMutablePointer<OpaquePointer?>, count: Int,
        output: UnsafeMutablePointer<OpaquePointer?>, capacity: Int, stream: Stream
    ) -> Int {
        Mbuf.freeBulk(input, count: count)
        return 0
    }
}
