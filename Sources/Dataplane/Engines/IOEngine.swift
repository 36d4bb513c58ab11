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
        var kept = 0
        for index in 0..<count {
            let mbuf = Mbuf(input[index].unsafelyUnwrapped)
            if !mbuf.offloadFlags.isDisjoint(with: PendingChecksum.attentionFlags) {
                guard egress.finishWhole(mbuf, stream) else { continue }
            }
            output[kept] = input[index]
            kept &+= 1
        }
        return kept
    }
}
