// vhost-peer: the guest side's switch, for tests. A DPDK process with a net_vhost port
// (vhost-user server, TSO features on) that injects TCP super-frames with TSO metadata toward
// a virtio_user port, then takes back whatever the far side returns and checks it: every
// payload byte in order, and the segment sizes the frames carried.
//
//   vhost-peer [EAL args with --vdev net_vhost0,iface=SOCK,tso=1] -- \
//       --frames N --payload BYTES --mss N [--timeout SECONDS] [--expect-segments]
//       [--partial] [--send-only [--until FILE]] [--plain] [--queues N]
//
// --queues N uses N queue pairs (the vdev's queues=N): frame i leaves on tx queue i % N, and
// every rx queue is read. The summary says how many frames came back on each rx queue.
//
// --plain sends whole segments of at most --mss payload bytes with every checksum final and
// no offload request, as a guest without offloads: what receive coalescing on the far side
// turns into super-frames (the summary counts those that come back).
//
// --partial sends frames of at most --mss payload bytes with a TCP checksum request instead
// of TSO: the virtio side receives them with NEEDS_CSUM (their TCP checksum holds the
// pseudo-header sum), as from a guest with checksum offload. --send-only exits once they are
// taken (another port checks them): 3 s after sending, or with --until once FILE exists (the
// test makes it when the far side has forwarded everything; --timeout bounds the wait). Prints one summary line and exits 0 when the returned
// payload is intact.
import CDPDK
import DPDK
import Foundation
import Wire

struct PeerOptions {
    var frames = 8
    var payload = 30000
    var mss = 1400
    var timeout = 20.0
    /// The far side must return MTU-sized segments (GSO done there), not super-frames.
    var expectSegments = false
    /// Checksum requests instead of TSO super-frames.
    var partial = false
    var sendOnly = false
    /// With --send-only: exit once this file exists rather than after 3 s.
    var until: String? = nil
    /// Whole segments with final checksums, no offload metadata.
    var plain = false
    var queues = 1
}

func fail(_ message: String) -> Never {
    cdpdk_stderr_write("vhost-peer: \(message)\n")
    exit(2)
}

let argv = CommandLine.arguments
let split = argv.firstIndex(of: "--") ?? argv.endIndex
var options = PeerOptions()
var words = argv[min(split + 1, argv.endIndex)...].makeIterator()
while let word = words.next() {
    func number() -> Double {
        guard let text = words.next(), let value = Double(text), value > 0 else { fail("\(word) needs a positive number") }
        return value
    }
    switch word {
    case "--frames": options.frames = Int(number())
    case "--payload": options.payload = Int(number())
    case "--mss": options.mss = Int(number())
    case "--timeout": options.timeout = number()
    case "--expect-segments": options.expectSegments = true
    case "--partial": options.partial = true
    case "--send-only": options.sendOnly = true
    case "--until":
        guard let path = words.next() else { fail("--until needs a file path") }
        options.until = path
    case "--plain": options.plain = true
    case "--queues": options.queues = Int(number())
    default: fail("unknown option '\(word)'; allowed: --frames, --payload, --mss, --timeout, --expect-segments, --partial, --send-only, --until, --plain, --queues")
    }
}
guard options.payload <= 65000 else { fail("--payload must be at most 65000 (one IPv4 packet)") }
guard !(options.partial || options.plain) || options.payload <= options.mss else {
    fail("--partial and --plain send whole segments: --payload at most --mss")
}

do { try EAL.initialize(arguments: Array(argv[..<split])) } catch { fail("\(error)") }
guard let port = EthPort.all.first else { fail("no port: give --vdev net_vhost0,iface=<socket>,tso=1") }
let pool: Mempool
/// Vring state changes the vhost PMD reported (RTE_ETH_EVENT_QUEUE_STATE), counted from its thread.
let queueEvents = UnsafeMutablePointer<UInt64>.allocate(capacity: 1)
queueEvents.initialize(to: 0)
/// Runs on the vhost PMD's thread: not main-actor code.
nonisolated func countQueueStateEvent(
    _ port: UInt16, _ event: rte_eth_event_type, _ argument: UnsafeMutableRawPointer?, _ result: UnsafeMutableRawPointer?
) -> Int32 {
    if let argument { cdpdk_add_counter(argument.assumingMemoryBound(to: UInt64.self), 1) }
    return 0
}
_ = rte_eth_dev_callback_register(port.id, RTE_ETH_EVENT_QUEUE_STATE, countQueueStateEvent, queueEvents)
do {
    pool = try Mempool.createPacketPool(name: "peer_pool", count: 8191, dataRoomSize: 2176)
    let info = try port.info()
    var config = PortConfiguration(rxQueues: UInt16(options.queues), txQueues: UInt16(options.queues))
    config.txOffloads = info.txOffloadCapabilities.intersection([.tcpTSO, .tcpChecksum, .ipv4Checksum, .multiSegments])
    config.rxOffloads = info.rxOffloadCapabilities.intersection([.tcpLRO, .tcpChecksum, .scatter])
    try port.configure(config)
    for queue in 0..<UInt16(options.queues) {
        try port.setupRxQueue(queue, descriptors: 1024, pool: pool)
        try port.setupTxQueue(queue, descriptors: 1024)
    }
    try port.start()
} catch {
    fail("\(error)")
}

let started = Date()
let timeout = options.timeout
func timedOut() -> Bool { Date().timeIntervalSince(started) > timeout }
while (try? port.link().isUp) != true {
    if timedOut() { fail("no virtio peer connected within \(options.timeout) s") }
    usleep(10_000)
}
// With several queue pairs the guest enables its vrings one by one after the link is up (and
// the first pair again once it has set the queue count): frames sent before the last one is
// enabled were lost. Each vring state change is an ethdev QUEUE_STATE event: wait for one per
// vring, then for them to settle.
if options.queues > 1 {
    var seen = cdpdk_load_counter(queueEvents)
    var settled = Date()
    while !timedOut() {
        let now = cdpdk_load_counter(queueEvents)
        if now != seen { seen = now; settled = Date() }
        if now >= UInt64(2 * options.queues), Date().timeIntervalSince(settled) > 0.2 { break }
        usleep(10_000)
    }
}

/// Ethernet/IPv4/TCP headers for `length` payload bytes at `sequence` (`partial`: for a
/// checksum request rather than TSO).
func headers(sequence: UInt32, length: Int, partial: Bool) -> [UInt8] {
    var h = [UInt8](repeating: 0, count: 54)
    h[0..<6] = [0x02, 0, 0, 0, 0x0B, 0x01]
    h[6..<12] = [0x02, 0, 0, 0, 0x0A, 0x01]
    h[12] = 0x08
    let total = 40 + length
    h[14..<34] = [0x45, 0, UInt8(total >> 8), UInt8(total & 0xFF), 0x12, 0x34, 0x40, 0, 64, 6, 0, 0,
                  192, 168, 50, 1, 192, 168, 50, 2]
    h[34..<54] = [0x9C, 0x40, 0x14, 0x51, UInt8(sequence >> 24), UInt8(sequence >> 16 & 0xFF),
                  UInt8(sequence >> 8 & 0xFF), UInt8(sequence & 0xFF), 0, 0, 0, 1, 0x50, 0x18, 0xFF, 0xFF, 0, 0, 0, 0]
    // TSO wants the pseudo-header sum without length in the TCP checksum, 0 in the IPv4 one;
    // a checksum request, the sum with the length.
    let pseudo = InternetChecksum.pseudoHeaderSum(
        source: IPv4Address(192, 168, 50, 1), destination: IPv4Address(192, 168, 50, 2), protocol: 6,
        length: partial ? 20 + length : nil)
    h[50] = UInt8(pseudo >> 8)
    h[51] = UInt8(pseudo & 0xFF)
    return h
}

func payloadByte(_ offset: Int) -> UInt8 { UInt8(truncatingIfNeeded: offset &* 31 &+ offset >> 8) }

let firstSequence: UInt32 = 1_000_000
let burst = UnsafeMutablePointer<OpaquePointer?>.allocate(capacity: 64)
var sent = 0
for frame in 0..<options.frames {
    let offset = frame * options.payload
    let sequence = firstSequence &+ UInt32(offset)
    let bytes = headers(sequence: sequence, length: options.payload, partial: options.partial)
        + (0..<options.payload).map { payloadByte(offset + $0) }
    // One chain of 2 KB mbufs holding the whole super-frame.
    var head: Mbuf?
    var index = 0
    while index < bytes.count {
        guard let segment = pool.allocate() else { fail("pool empty") }
        let room = min(2048, bytes.count - index)
        let target = segment.append(UInt16(room))!
        bytes[index..<(index + room)].withUnsafeBytes { target.copyMemory(from: $0.baseAddress!, byteCount: room) }
        if let head { try? head.chain(segment) } else { head = segment }
        index += room
    }
    let packet = head!
    if options.plain {
        // Final checksums: IPv4 header, then TCP over the pseudo-header (with length) and the segment.
        let h = packet.data
        // ACK without PSH, and IPv4 IDs counting up, as a Linux sender's segments (PSH would end
        // every super-frame; a fixed non-zero ID keeps segments apart).
        h.storeBytes(of: 0x10, toByteOffset: 47, as: UInt8.self)
        h.storeBytes(of: UInt16(truncatingIfNeeded: 0x1234 &+ frame).bigEndian, toByteOffset: 18, as: UInt16.self)
        h.storeBytes(of: 0, toByteOffset: 24, as: UInt16.self)
        let ip = ~InternetChecksum.sum(UnsafeRawBufferPointer(start: h + 14, count: 20))
        h.storeBytes(of: ip.bigEndian, toByteOffset: 24, as: UInt16.self)
        var sum = ChecksumAccumulator(initial: InternetChecksum.pseudoHeaderSum(
            source: IPv4Address(192, 168, 50, 1), destination: IPv4Address(192, 168, 50, 2), protocol: 6,
            length: 20 + options.payload))
        h.storeBytes(of: 0, toByteOffset: 50, as: UInt16.self)
        sum.add(UnsafeRawBufferPointer(start: h + 34, count: Int(packet.dataLength) - 34))
        var next = packet.next
        while let segment = next {
            sum.add(UnsafeRawBufferPointer(start: segment.data, count: Int(segment.dataLength)))
            next = segment.next
        }
        h.storeBytes(of: sum.checksum.bigEndian, toByteOffset: 50, as: UInt16.self)
        packet.offloadFlags = []
        packet.txOffload = TxOffloadLengths()
    } else if options.partial {
        packet.offloadFlags = [.txIPv4, .txIPChecksum, .txTCPChecksum]
        packet.txOffload = TxOffloadLengths(l2: 14, l3: 20, l4: 20)
    } else {
        packet.offloadFlags = [.txTCPSegmentation, .txIPv4, .txIPChecksum, .txTCPChecksum]
        packet.txOffload = TxOffloadLengths(l2: 14, l3: 20, l4: 20, tsoSegmentSize: options.mss)
    }
    burst[0] = packet.pointer
    while port.transmit(queue: UInt16(frame % options.queues), burst, count: 1) == 0 {
        if timedOut() { packet.free(); fail("the virtio side takes no frames") }
        usleep(100)
    }
    sent += 1
}

if options.sendOnly {
    // Give the far side time to read the ring before the port goes away (its forwarding may
    // start a while after it connected on a loaded machine; frames left in the ring are lost
    // when the vhost device closes).
    if let until = options.until {
        let deadline = Date().addingTimeInterval(options.timeout)
        while !FileManager.default.fileExists(atPath: until) && Date() < deadline { usleep(20_000) }
    } else {
        usleep(3_000_000)
    }
    print("vhost-peer: sent \(sent) \(options.partial ? "frames with a checksum request" : options.plain ? "segments" : "super-frames")")
    try? port.stop()
    try? port.close()
    EAL.cleanup()
    exit(0)
}

// Take everything back, keyed by TCP sequence number.
let expected = options.frames * options.payload
var received: [UInt32: [UInt8]] = [:]
var packets = 0, superFrames = 0, largestSegment = 0, largestFrame = 0
var payloadBytes = 0
var rxQueue = 0
var perQueue = [Int](repeating: 0, count: options.queues)
let scratch = UnsafeMutableRawPointer.allocate(byteCount: 65536, alignment: 8)
while payloadBytes < expected && !timedOut() {
    rxQueue = (rxQueue + 1) % options.queues
    let count = Int(port.receive(queue: UInt16(rxQueue), into: burst, count: 64))
    if count == 0 { usleep(200); continue }
    perQueue[rxQueue] += count
    for index in 0..<count {
        let mbuf = Mbuf(burst[index]!)
        defer { mbuf.free() }
        let length = Int(mbuf.packetLength)
        guard length <= 65536, mbuf.read(offset: 0, count: length, scratch: scratch) != nil else { continue }
        if let pointer = mbuf.read(offset: 0, count: length, scratch: scratch), pointer != UnsafeRawPointer(scratch) {
            scratch.copyMemory(from: pointer, byteCount: length)
        }
        let frame = UnsafeRawBufferPointer(start: scratch, count: length)
        guard let layout = try? PacketLayout.parse(frame, tunnels: .defaults), layout.l4 == .tcp else { continue }
        packets += 1
        largestFrame = max(largestFrame, length)
        if mbuf.offloadFlags.contains(.rxLRO) || mbuf.offloadFlags.contains(.txTCPSegmentation) {
            superFrames += 1
            largestSegment = max(largestSegment, mbuf.txOffload.tsoSegmentSize)
        }
        let tcp = layout.payloadOffset - Int(layout.l4 == .tcp ? (layout.isTunnel ? layout.innerL4Length : layout.outerL4Length) : 0)
        let sequence = UInt32(frame[tcp + 4]) << 24 | UInt32(frame[tcp + 5]) << 16 | UInt32(frame[tcp + 6]) << 8 | UInt32(frame[tcp + 7])
        let payload = Array(frame[layout.payloadOffset..<(layout.payloadOffset + Int(layout.payloadLength))])
        if received.updateValue(payload, forKey: sequence) == nil { payloadBytes += payload.count }
    }
}

var intact = payloadBytes == expected
var next = firstSequence
for sequence in received.keys.sorted() {
    guard sequence == next, let payload = received[sequence] else { intact = false; break }
    let offset = Int(sequence &- firstSequence)
    for (index, byte) in payload.enumerated() where byte != payloadByte(offset + index) {
        intact = false
        break
    }
    next = sequence &+ UInt32(payload.count)
}
if options.expectSegments && (superFrames > 0 || largestFrame > options.mss + 54) { intact = false }
print("vhost-peer: sent \(sent) super-frames (\(expected) payload bytes, mss \(options.mss)); received \(packets) packets,"
      + " \(payloadBytes) payload bytes, \(superFrames) super-frames (largest tso_segsz \(largestSegment)),"
      + " largest frame \(largestFrame) bytes; payload \(intact ? "intact" : "NOT intact")"
      + (options.queues > 1 ? "; per rx queue \(perQueue.map(String.init).joined(separator: ","))" : ""))
try? port.stop()
try? port.close()
EAL.cleanup()
exit(intact ? 0 : 1)
