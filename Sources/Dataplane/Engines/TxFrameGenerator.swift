import DPDK
import Wire

/// Makes testpmd's txonly frames (app/test-pmd/txonly.c, pkt_burst_prepare): Ethernet from the
/// tx port to its peer, IPv4 `tx_ip`, UDP `tx_udp` without checksum, TTL 64, ID 0, one mbuf
/// per `txpkts` segment. As testpmd, only the headers are written; the payload is whatever the
/// mbuf held. Used by the txonly engine on its lcore and by `start tx_first` before launch.
struct TxFrameGenerator {
    /// The 42 header bytes, built once; the addresses are written per burst.
    private let header: UnsafeMutableRawPointer
    private let lengths: UnsafeMutablePointer<UInt16>
    private let segmentCount: Int
    private let frameLength: Int
    private let randomSplit: Bool
    /// Room for the extra segments of one frame.
    private let segments: UnsafeMutablePointer<OpaquePointer?>
    private var random: UInt64

    init(_ traffic: TrafficOptions) {
        header = .allocate(byteCount: 64, alignment: 16)
        segmentCount = traffic.segmentLengths.count
        lengths = .allocate(capacity: segmentCount)
        lengths.initialize(from: traffic.segmentLengths, count: segmentCount)
        frameLength = traffic.frameLength
        randomSplit = traffic.split == .rand && segmentCount > 1
        segments = .allocate(capacity: TrafficOptions.maxSegments)
        random = 0x9E37_79B9_7F4A_7C15
        header.initializeMemory(as: UInt8.self, repeating: 0, count: 64)
        header.setBE16(12, 0x0800)
        Self.writeIPv4UDP(
            header, length: frameLength, source: traffic.ipSource.value, destination: traffic.ipDestination.value,
            sourcePort: traffic.udpSource, destinationPort: traffic.udpDestination)
    }

    func deallocate() {
        header.deallocate()
        lengths.deallocate()
        segments.deallocate()
    }

    /// IPv4 (no options, TTL 64, UDP) and UDP (no checksum) headers at offset 14 of `bytes` for
    /// a frame of `length` bytes, the IPv4 header checksum filled.
    static func writeIPv4UDP(
        _ bytes: UnsafeMutableRawPointer, length: Int, source: UInt32, destination: UInt32, sourcePort: UInt16, destinationPort: UInt16
    ) {
        bytes.setU8(14, 0x45)
        bytes.setU8(15, 0)
        bytes.setBE16(16, UInt16(truncatingIfNeeded: length - 14))
        bytes.setBE16(18, 0)
        bytes.setBE16(20, 0)
        bytes.setU8(22, 64)
        bytes.setU8(23, 17)
        bytes.setBE32(26, source)
        bytes.setBE32(30, destination)
        bytes.fillIPv4HeaderChecksum(at: 14)
        bytes.setBE16(34, sourcePort)
        bytes.setBE16(36, destinationPort)
        bytes.setBE16(38, UInt16(truncatingIfNeeded: length - 34))
        bytes.setBE16(40, 0)
    }

    /// Fills `output[0..<count]` with frames for `stream`'s tx port from `pool`; returns how
    /// many it made (fewer when the pool runs dry).
    @inline(__always)
    mutating func make(_ output: UnsafeMutablePointer<OpaquePointer?>, count: Int, pool: Mempool, stream: Stream) -> Int {
        header.storeBytes(of: stream.peerMAC.bytes, as: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8).self)
        (header + 6).storeBytes(of: stream.txSourceMAC.bytes, as: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8).self)
        if !pool.allocateBulk(output, count: count) {
            // Short of a whole burst: as many as the pool has, one by one (testpmd's fallback).
            var made = 0
            while made < count, let mbuf = pool.allocate() {
                output[made] = mbuf.pointer
                made &+= 1
            }
            return prepare(output, count: made, pool: pool)
        }
        return prepare(output, count: count, pool: pool)
    }

    /// Writes the frames into freshly allocated heads; a frame whose extra segments the pool
    /// cannot give is freed with the rest of the burst.
    @inline(__always)
    private mutating func prepare(_ output: UnsafeMutablePointer<OpaquePointer?>, count: Int, pool: Mempool) -> Int {
        for index in 0..<count {
            let head = Mbuf(output[index].unsafelyUnwrapped)
            guard build(head, pool: pool) else {
                Mbuf.freeBulk(output + index, count: count &- index)
                return index
            }
        }
        return count
    }

    @inline(__always)
    private mutating func build(_ head: Mbuf, pool: Mempool) -> Bool {
        var count = segmentCount
        if randomSplit {
            random ^= random << 13
            random ^= random >> 7
            random ^= random << 17
            count = Int(random % UInt64(segmentCount)) &+ 1
        }
        if count > 1 && !pool.allocateBulk(segments, count: count &- 1) { return false }
        head.dataLength = lengths[0]
        var length = Int(lengths[0])
        var last = head
        for index in 1..<max(count, 1) {
            let segment = Mbuf(segments[index &- 1].unsafelyUnwrapped)
            segment.dataLength = lengths[index]
            length &+= Int(lengths[index])
            last.next = segment
            last = segment
        }
        head.segmentCount = UInt16(truncatingIfNeeded: count)
        head.packetLength = UInt32(truncatingIfNeeded: length)
        let headerLength = TrafficOptions.headerLength
        if Int(lengths[0]) >= headerLength {
            head.data.copyMemory(from: header, byteCount: headerLength)
            if length != frameLength {
                // A random split sends fewer bytes: the lengths and the IPv4 checksum follow.
                head.data.setBE16(16, UInt16(truncatingIfNeeded: length &- 14))
                head.data.setBE16(38, UInt16(truncatingIfNeeded: length &- 34))
                head.data.fillIPv4HeaderChecksum(at: 14)
            }
        } else {
            copyAcrossSegments(head, count: headerLength)
        }
        return true
    }

    /// The headers over segments shorter than they are (`set txpkts 14,28,...`).
    private func copyAcrossSegments(_ head: Mbuf, count: Int) {
        var copied = 0
        var segment: Mbuf? = head
        while copied < count, let current = segment {
            let chunk = min(Int(current.dataLength), count &- copied)
            current.data.copyMemory(from: header + copied, byteCount: chunk)
            copied &+= chunk
            segment = current.next
        }
    }
}
