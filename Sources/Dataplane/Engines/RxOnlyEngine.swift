import DPDK

/// testpmd's rxonly engine: every received packet is counted and freed; nothing is sent.
public struct RxOnlyEngine: DiscardingEngine {
    public static let mode = ForwardingMode.rxonly
    public static let worksInPlace = true

    public init(context: EngineContext) {}
}
