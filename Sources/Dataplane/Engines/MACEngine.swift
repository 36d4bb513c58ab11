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
        let destination = stream.peerMAC.bytes
        let source = stream.txSourceMAC.bytes
        var kept = 0
        var flags: UInt64 = 0
        for index in 0..<count {
            let mbuf = Mbuf(input[index].unsafelyUnwrapped)
            guard mbuf.dataLength >= 12 else {
                // Too short to carry two addresses: count it rather than write past the data.
                mbuf.free()
                stream.counters.pointee.engineDropped &+= 1
                stream.engineCounters[EngineCounter.tooShortForAddresses] &+= 1
                continue
            }
            let header = mbuf.data
            header.storeBytes(of: destination, as: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8).self)
            (header + 6).storeBytes(of: source, as: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8).self)
            flags |= mbuf.offloadFlags.rawValue
            output[kept] = input[index]
            kept &+= 1
        }
        guard flags & PendingChecksum.attentionFlags.rawValue != 0,
            egress.context.settings(stream.rxPort).pointee.mayAskForTransmitWork
        else { return kept }
        return Egress.finishWhole(output, count: kept, egress, stream)
    }
}
