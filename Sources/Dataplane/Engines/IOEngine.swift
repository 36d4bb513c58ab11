import DPDK
import Offload

/// testpmd's io engine: packets leave untouched, unless their metadata asks for transmit work
/// the tx port will not do (a partial checksum from a vnet tap or virtio): that is finished
/// first, so nothing leaves less valid than it arrived (`Egress.finishWhole`).
public struct IOEngine: ForwardingEngine {
    public static let mode = ForwardingMode.io
    public static let worksInPlace = true
    private let egress: Egress

    public init(context: EngineContext) { egress = Egress(context: context) }

    public func finish() { egress.finish() }

    @inline(__always)
    public func process(
        _ input: UnsafeMutablePointer<OpaquePointer?>, count: Int,
        output: UnsafeMutablePointer<OpaquePointer?>, capacity: Int, stream: Stream
    ) -> Int {
        // Most ports never deliver such packets: their bursts are not looked at. From the others,
        // one OR over the burst's flags: the common burst asks for nothing and leaves as it came.
        guard egress.context.settings(stream.rxPort).pointee.mayAskForTransmitWork else { return count }
        var flags: UInt64 = 0
        for index in 0..<count { flags |= Mbuf(input[index].unsafelyUnwrapped).offloadFlags.rawValue }
        guard flags & PendingChecksum.attentionFlags.rawValue != 0 else { return count }
        return Egress.finishWhole(input, count: count, egress, stream)
    }
}
