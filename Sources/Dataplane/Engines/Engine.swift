import DPDK

/// A forwarding engine: what happens to a burst between rx and tx. Workers are generic over
/// it, so each engine's `process` is specialised and inlined into the loop: no existential
/// and no closure per packet.
public protocol ForwardingEngine {
    static var mode: ForwardingMode { get }
    init()
    /// Works on `packets[0..<count]` in place and returns how many, packed at the front, go to
    /// tx. Packets it drops it frees and counts in `stream.counters`.
    mutating func process(_ packets: UnsafeMutablePointer<OpaquePointer?>, count: Int, stream: Stream) -> Int
}

/// testpmd's io engine: packets leave untouched.
public struct IOEngine: ForwardingEngine {
    public static let mode = ForwardingMode.io
    public init() {}

    @inline(__always)
    public func process(_ packets: UnsafeMutablePointer<OpaquePointer?>, count: Int, stream: Stream) -> Int {
        count
    }
}

/// testpmd's mac engine: destination = the tx port's peer, source = the tx port's own address.
public struct MACEngine: ForwardingEngine {
    public static let mode = ForwardingMode.mac
    public init() {}

    @inline(__always)
    public func process(_ packets: UnsafeMutablePointer<OpaquePointer?>, count: Int, stream: Stream) -> Int {
        let destination = stream.peerMAC.bytes
        let source = stream.txSourceMAC.bytes
        var kept = 0
        for index in 0..<count {
            let mbuf = Mbuf(packets[index].unsafelyUnwrapped)
            guard mbuf.dataLength >= 12 else {
                // Too short to carry two addresses: count it rather than write past the data.
                mbuf.free()
                stream.counters.pointee.engineDropped &+= 1
                continue
            }
            let header = mbuf.data
            header.storeBytes(of: destination, as: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8).self)
            (header + 6).storeBytes(of: source, as: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8).self)
            packets[kept] = packets[index]
            kept &+= 1
        }
        return kept
    }
}
