import DPDK

/// testpmd's mac engine: destination = the tx port's peer, source = the tx port's own address.
public struct MACEngine: ForwardingEngine {
    public static let mode = ForwardingMode.mac
    public static let worksInPlace = true
    public init(context: EngineContext) {}

    @inline(__always)
    public func process(
        _ input: UnsafeMutablePointer<OpaquePointer?>, count: Int,
        output: UnsafeMutablePointer<OpaquePointer?>, capacity: Int, stream: Stream
    ) -> Int {
        let destination = stream.peerMAC.bytes
        let source = stream.txSourceMAC.bytes
        var kept = 0
        for index in 0..<count {
            let mbuf = Mbuf(input[index].unsafelyUnwrapped)
            guard mbuf.dataLength >= 12 else {
                // Too short to carry two addresses: count it rather than write past the data.
                mbuf.free()
                stream.counters.pointee.engineDropped &+= 1
                continue
            }
            let header = mbuf.data
            header.storeBytes(of: destination, as: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8).self)
            (header + 6).storeBytes(of: source, as: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8).self)
            output[kept] = input[index]
            kept &+= 1
        }
        return kept
    }
}
