import CDPDK
import DPDK
import Wire

/// testpmd's flowgen engine (app/test-pmd/flowgen.c): what arrives is counted and freed; every
/// round sends a burst of single-segment UDP frames from 10.254.0.0:1000 to 10.253.0.0 + flow
/// :1001, the flow advancing per packet through `--flowgen-flows`, so RSS on the receiving
/// side can be seen spreading them. With `--flowgen-clones` N a frame goes out N more times
/// (by reference count) before a new one is built. As testpmd, the frame is `txpkts` less
/// the 4-byte FCS, between testpmd's fixed addresses 00:01:02:03:04:00 -> :01.
public struct FlowGenEngine: DiscardingEngine {
    public static let mode = ForwardingMode.flowgen
    public static let worksInPlace = true
    public static let source = IPv4Address(10, 254, 0, 0)
    public static let destination = IPv4Address(10, 253, 0, 0)
    public static let sourcePort: UInt16 = 1000
    public static let destinationPort: UInt16 = 1001
    public static let sourceMAC = MACAddress(0x00, 0x01, 0x02, 0x03, 0x04, 0x00)
    public static let destinationMAC = MACAddress(0x00, 0x01, 0x02, 0x03, 0x04, 0x01)

    private let pool: Mempool
    private let burst: Int
    private let frameLength: Int
    private let clones: Int
    private let flows: Int
    /// Per lcore, as testpmd's RTE_PER_LCORE(_next_flow). Unlike testpmd it is not rewound for
    /// frames the port refuses: the engine does not see what tx_burst took.
    private var nextFlow = 0

    public init(context: EngineContext) {
        pool = context.pool
        burst = context.burst
        // One segment: at most the data room.
        let dataRoom = Int(context.pool.dataRoomSize) - Int(CDPDK_PKTMBUF_HEADROOM)
        frameLength = min(max(context.traffic.frameLength - 4, TrafficOptions.headerLength), dataRoom)
        clones = min(context.traffic.flowgenClones, context.burst)
        flows = context.traffic.flowgenFlows
    }

    @inline(__always)
    public mutating func poll(output: UnsafeMutablePointer<OpaquePointer?>, capacity: Int, stream: Stream) -> Int {
        let count = min(burst, capacity)
        var made = 0
        var current: Mbuf? = nil
        var clonesLeft = 0
        while made < count {
            if let frame = current, clonesLeft > 0 {
                frame.addReference()
                clonesLeft &-= 1
                output[made] = frame.pointer
            } else {
                guard let frame = pool.allocate() else { break }
                build(frame)
                current = frame
                clonesLeft = clones
                output[made] = frame.pointer
            }
            made &+= 1
            nextFlow &+= 1
            if nextFlow >= flows { nextFlow = 0 }
        }
        return made
    }

    @inline(__always)
    private func build(_ frame: Mbuf) {
        let bytes = frame.data
        bytes.storeBytes(of: Self.destinationMAC.bytes, as: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8).self)
        (bytes + 6).storeBytes(of: Self.sourceMAC.bytes, as: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8).self)
        bytes.setBE16(12, 0x0800)
        TxFrameGenerator.writeIPv4UDP(
            bytes, length: frameLength, source: Self.source.value, destination: Self.destination.value &+ UInt32(truncatingIfNeeded: nextFlow),
            sourcePort: Self.sourcePort, destinationPort: Self.destinationPort)
        frame.dataLength = UInt16(truncatingIfNeeded: frameLength)
        frame.packetLength = UInt32(truncatingIfNeeded: frameLength)
    }
}
