import DPDK
import Offload

/// testpmd's mac engine: destination = the tx port's peer, source = the tx port's own address;
/// transmit work the metadata asks for is done as in the io engine.
public struct MACEngine: ForwardingEngine {
    public static let mode = ForwardingMode.mac
    public static let worksInPlace = true
    public static let rewritesAddresses = true
    private let egress: Egress

    public init(context: EngineContext) { egress = Egress(context: context) }

    public func finish() { egress.finish() }

    @inline(__always)
    public func process(
        _ input: UnsafeMutablePointer<OpaquePointer?>, count: Int,
        output: UnsafeMutablePointer<OpaquePointer?>, capacity: Int, stream: Stream
    ) -> Int {
        egress.rewriteEach(input, count: count, output: output, stream,
                           Addressing(destination: stream.peerMAC.bytes, source: stream.txSourceMAC.bytes))
    }

    /// Destination = the tx port's peer, source = the tx port's own address.
    struct Addressing: FrameRewrite {
        let destination: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8)
        let source: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8)

        @inline(__always) func rewrite(_ frame: UnsafeMutableRawPointer, length: Int) {
            frame.storeBytes(of: destination, as: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8).self)
            (frame + 6).storeBytes(of: source, as: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8).self)
        }
    }
}
