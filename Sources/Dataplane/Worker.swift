import CDPDK
import DPDK

/// The loop one forwarding lcore runs over its streams, specialised on the engine.
/// Everything it touches per packet was allocated before launch.
struct Worker<Engine: ForwardingEngine>: @unchecked Sendable {
    let streams: UnsafeMutableBufferPointer<Stream>
    let burst: Int
    let control: ForwardingControl

    func run() -> Int32 {
        let packets = UnsafeMutablePointer<OpaquePointer?>.allocate(capacity: burst)
        defer { packets.deallocate() }
        var engine = Engine()
        let burst = UInt16(burst)
        while control.isRunning {
            for index in streams.indices {
                forward(streams[index], packets: packets, burst: burst, engine: &engine)
            }
        }
        return 0
    }

    @inline(__always)
    private func forward(_ stream: Stream, packets: UnsafeMutablePointer<OpaquePointer?>, burst: UInt16, engine: inout Engine) {
        let received = stream.rxPort.receive(queue: stream.rxQueue, into: packets, count: burst)
        guard received > 0 else { return }
        let counters = stream.counters
        counters.pointee.rxPackets &+= UInt64(received)
        counters.pointee.rxBursts &+= 1
        if control.verbosity > 0 { PacketDump.received(stream, packets, Int(received)) }
        let ready = engine.process(packets, count: Int(received), stream: stream)
        guard ready > 0 else { return }
        let sent = stream.txPort.transmit(queue: stream.txQueue, packets, count: UInt16(truncatingIfNeeded: ready))
        counters.pointee.txPackets &+= UInt64(sent)
        if Int(sent) < ready {
            let unsent = ready &- Int(sent)
            counters.pointee.txDropped &+= UInt64(unsent)
            Mbuf.freeBulk(packets + Int(sent), count: unsent)
        }
    }
}

/// Shared between the main thread and the workers: the run flag and the verbosity level.
/// Plain memory with acquire/release loads, never hoisted out of the loop.
final class ForwardingControl: @unchecked Sendable {
    private let running = UnsafeMutablePointer<UInt32>.allocate(capacity: 2)

    init() { running.initialize(repeating: 0, count: 2) }
    deinit { running.deallocate() }

    var isRunning: Bool {
        @inline(__always) get { cdpdk_load_flag(running) != 0 }
    }
    func setRunning(_ value: Bool) { cdpdk_store_flag(running, value ? 1 : 0) }

    var verbosity: UInt32 {
        @inline(__always) get { cdpdk_load_flag(running + 1) }
    }
    func setVerbosity(_ level: Int) { cdpdk_store_flag(running + 1, UInt32(clamping: level)) }
}
