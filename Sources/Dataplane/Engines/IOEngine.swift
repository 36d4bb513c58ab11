import DPDK

/// testpmd's io engine: packets leave untouched.
public struct IOEngine: ForwardingEngine {
    public static let mode = ForwardingMode.io
    public static let worksInPlace = true
    public init(context: EngineContext) {}

    @inline(__always)
    public func process(
        _ input: UnsafeMutablePointer<OpaquePointer?>, count: Int,
        output: UnsafeMutablePointer<OpaquePointer?>, capacity: Int, stream: Stream
    ) -> Int {
        count
    }
}
