import CDPDK
import DPDK
import Offload

/// txonly with `set txonly-pcap <file>`: instead of testpmd's UDP frames, each round replays the
/// next frames of a pcap (super-frames of 64 KB included: one mbuf chain each, as a port with
/// scatter would deliver them) through the csum engine, as if they had just arrived: parsed,
/// addressed (the tx port's peer, the tx port's own), planned for the tx port (tunnel TSO,
/// checksum offloads, Swift GSO) and handed to tx_prepare. So a NIC's tunnel TSO, or Swift GSO,
/// can be exercised without a peer.
public struct PcapReplayEngine: GeneratingEngine {
    public static let mode = ForwardingMode.txonly
    public static let worksInPlace = false
    public static let rewritesAddresses = true

    private var csum: CsumEngine
    private let frames: UnsafeMutableRawPointer
    private let offsets: UnsafeMutablePointer<Int>
    private let frameCount: Int
    private var next = 0
    private let pool: Mempool
    private let burst: Int
    private let dataRoom: Int
    /// Segments GSO may cut from `budgetUnit` bytes of frame: how many frames fit the output.
    private let budgetUnit: Int
    private let staging: UnsafeMutablePointer<OpaquePointer?>
    private let chain: UnsafeMutablePointer<OpaquePointer?>

    public init(context: EngineContext) {
        csum = CsumEngine(replayingWith: context)
        let replay = context.replay!
        frames = replay.bytes
        offsets = replay.offsets
        frameCount = replay.count
        pool = context.pool
        burst = context.burst
        dataRoom = Int(context.pool.dataRoomSize) - Int(CDPDK_PKTMBUF_HEADROOM)
        // A segment carries at least its frame size less the headers of a tunnelled TCP packet.
        budgetUnit = max(context.gsoSegmentSize - 160, 96)
        staging = .allocate(capacity: context.burst)
        chain = .allocate(capacity: ReplayFrames.maxFrameLength / 256 + 2)
    }

    public func finish() {
        csum.finish()
        staging.deallocate()
        chain.deallocate()
    }

    @inline(__always)
    public mutating func poll(output: UnsafeMutablePointer<OpaquePointer?>, capacity: Int, stream: Stream) -> Int {
        var made = 0
        var budget = capacity
        while made < burst {
            let start = offsets[next], length = offsets[next &+ 1] &- start
            let segments = length / budgetUnit &+ 1
            if made > 0 && segments > budget { break }
            guard let packet = copy(frames + start, length: length) else { break }
            staging[made] = packet.pointer
            made &+= 1
            budget &-= segments
            next &+= 1
            if next == frameCount { next = 0 }
        }
        guard made > 0 else { return 0 }
        return csum.process(staging, count: made, output: output, capacity: capacity, stream: stream)
    }

    /// The frame in a fresh chain of mbufs from the pool, or nil when the pool is short.
    @inline(__always)
    private func copy(_ bytes: UnsafeMutableRawPointer, length: Int) -> Mbuf? {
        let count = (length &+ dataRoom &- 1) / dataRoom
        guard pool.allocateBulk(chain, count: count) else { return nil }
        let head = Mbuf(chain[0].unsafelyUnwrapped)
        var copied = 0
        var previous: Mbuf? = nil
        for index in 0..<count {
            let segment = Mbuf(chain[index].unsafelyUnwrapped)
            let chunk = min(dataRoom, length &- copied)
            segment.data.copyMemory(from: bytes + copied, byteCount: chunk)
            segment.dataLength = UInt16(truncatingIfNeeded: chunk)
            previous?.next = segment
            previous = segment
            copied &+= chunk
        }
        head.segmentCount = UInt16(truncatingIfNeeded: count)
        head.packetLength = UInt32(truncatingIfNeeded: length)
        return head
    }
}
