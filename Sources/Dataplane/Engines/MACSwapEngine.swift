import DPDK
import Offload

/// testpmd's macswap engine (app/test-pmd/macswap.c): each frame goes back where it came from,
/// its source and destination MAC addresses swapped. Transmit work the metadata asks for is
/// done as in the io engine (testpmd clears such flags; we never leave a checksum unfinished).
public struct MACSwapEngine: ForwardingEngine {
    public static let mode = ForwardingMode.macswap
    public static let worksInPlace = true
    private let egress: Egress

    public init(context: EngineContext) { egress = Egress(context: context) }

    public func finish() { egress.finish() }

    @inline(__always)
    public func process(
        _ input: UnsafeMutablePointer<OpaquePointer?>, count: Int,
        output: UnsafeMutablePointer<OpaquePointer?>, capacity: Int, stream: Stream
    ) -> Int {
        egress.rewriteEach(input, count: count, output: output, stream, Swap())
    }

    /// Swaps the six-byte destination and source addresses at the start of `frame`.
    @inline(__always)
    static func swapAddresses(_ frame: UnsafeMutableRawPointer) {
        typealias Address = (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8)
        let destination = frame.loadUnaligned(as: Address.self)
        let source = frame.loadUnaligned(fromByteOffset: 6, as: Address.self)
        frame.storeBytes(of: source, as: Address.self)
        (frame + 6).storeBytes(of: destination, as: Address.self)
    }

    struct Swap: FrameRewrite {
        @inline(__always) func rewrite(_ frame: UnsafeMutableRawPointer, length: Int) { swapAddresses(frame) }
    }
}
