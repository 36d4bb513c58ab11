import CDPDK
import DPDK
import Glibc

/// The loop one forwarding lcore runs over its streams, specialised on the engine.
/// Everything it touches per packet was allocated before launch.
struct Worker<Engine: ForwardingEngine>: @unchecked Sendable {
    let streams: UnsafeMutableBufferPointer<Stream>
    let burst: Int
    let control: ForwardingControl
    let context: EngineContext
    let idleSleepMicroseconds: Int

    /// Output room per received packet for engines that add packets (a 64 KB super-frame cut
    /// at 1 KB makes 64 segments), up to `maximumOutput`. Room, not a limit: a frame cut into
    /// more segments than are left leaves in rounds (`Egress.carryOut`).
    static var segmentsPerPacket: Int { 64 }
    static var maximumOutput: Int { 2048 }

    /// The output array of an engine that adds packets: never less than two bursts.
    static func outputCapacity(burst: Int) -> Int { max(2 * burst, min(burst * segmentsPerPacket, maximumOutput)) }

    // Never inlined: each specialisation stays one symbol check-hotloop can find.
    @inline(never)
    func run() -> Int32 {
        let input = UnsafeMutablePointer<OpaquePointer?>.allocate(capacity: burst)
        let capacity = Engine.worksInPlace ? burst : Self.outputCapacity(burst: burst)
        let output = Engine.worksInPlace ? input : UnsafeMutablePointer<OpaquePointer?>.allocate(capacity: capacity)
        defer {
            if !Engine.worksInPlace { output.deallocate() }
            input.deallocate()
        }
        var engine = Engine(context: context)
        defer {
            // Held frames leave before the lcore returns (port stop follows).
            for index in streams.indices {
                var rounds = 0
                while rounds < Self.flushRounds {
                    let ready = engine.flush(output: output, capacity: capacity, stream: streams[index])
                    guard ready > 0 else { break }
                    transmit(streams[index], output, ready: ready, retry: true)
                    rounds += 1
                }
            }
            engine.finish()
        }
        let burst = UInt16(burst)
        let idleSleep = UInt32(idleSleepMicroseconds)
        guard idleSleep > 0 else {
            // testpmd's loop: poll every stream, forever, until told to stop.
            while control.isRunning {
                for index in streams.indices {
                    forward(streams[index], input: input, output: output, capacity: capacity, burst: burst, engine: &engine)
                }
            }
            return 0
        }
        var idleRounds = 0
        while control.isRunning {
            var received = 0
            for index in streams.indices {
                received &+= forward(streams[index], input: input, output: output, capacity: capacity, burst: burst, engine: &engine)
            }
            idleRounds = received == 0 ? idleRounds &+ 1 : 0
            if idleRounds >= 32 { usleep(idleSleep) }
        }
        return 0
    }

    /// Forwards one burst of `stream`; returns how many packets it received.
    @inline(__always) @discardableResult
    private func forward(
        _ stream: Stream, input: UnsafeMutablePointer<OpaquePointer?>, output: UnsafeMutablePointer<OpaquePointer?>,
        capacity: Int, burst: UInt16, engine: inout Engine
    ) -> Int {
        guard Engine.receives else {
            // A generator: each round is one burst it makes (testpmd's txonly never polls rx).
            // One that cuts segments (a pcap's super-frames) may make more than the ring takes.
            let made = engine.poll(output: output, capacity: capacity, stream: stream)
            if made > 0 { transmit(stream, output, ready: made, retry: !Engine.worksInPlace) }
            return made
        }
        let received = stream.rxPort.receive(queue: stream.rxQueue, into: input, count: burst)
        if control.recordsBursts { stream.burstSpread[Int(received)] &+= 1 }
        guard received > 0 else {
            let due = engine.poll(output: output, capacity: capacity, stream: stream)
            if due > 0 { transmit(stream, output, ready: due, retry: true) }
            return 0
        }
        let counters = stream.counters
        counters.pointee.rxPackets &+= UInt64(received)
        counters.pointee.rxBursts &+= 1
        if control.verbosity > 0 { PacketDump.received(stream, input, Int(received)) }
        // Capture: one load of a flag beside the run flag per burst while no capture is armed.
        if control.isCapturing {
            let rxSlot = control.captureSlots.slot(port: stream.rxPort.id, outbound: 0)
            if cdpdk_load_flag(&rxSlot.pointee.armed) != 0 {
                CaptureHook.capture(rxSlot, port: stream.rxPort.id, queue: stream.rxQueue, input, count: Int(received), outbound: 0)
            }
        }
        var ready = engine.process(input, count: Int(received), output: output, capacity: capacity, stream: stream)
        ready &+= engine.poll(output: output + ready, capacity: capacity - ready, stream: stream)
        guard ready > 0 else { return Int(received) }
        transmit(stream, output, ready: ready, retry: !Engine.worksInPlace)
        return Int(received)
    }

    /// Hands `output[0..<ready]` to the tx port; what it does not take is freed and counted.
    @inline(__always)
    private func transmit(_ stream: Stream, _ output: UnsafeMutablePointer<OpaquePointer?>, ready: Int, retry: Bool) {
        control.transmit(stream, output, ready: ready, retry: retry)
    }

    /// A bound on flush calls per stream at stop, so a misbehaving engine cannot keep the
    /// lcore from returning.
    static var flushRounds: Int { 1024 }
}

/// Shared between the main thread and the workers: the run flag and the verbosity level.
/// Plain memory with acquire/release loads, never hoisted out of the loop.
final class ForwardingControl: @unchecked Sendable {
    /// Run flag, verbosity, whether any capture is armed, whether burst sizes are recorded:
    /// one cache line the loop reads.
    private let running = UnsafeMutablePointer<UInt32>.allocate(capacity: 4)
    /// Per-port, per-direction capture slots (Capture.swift), looked at only while capturing.
    let captureSlots: CaptureSlots

    init() {
        running.initialize(repeating: 0, count: 4)
        captureSlots = CaptureSlots(anyArmed: running + 2)
    }

    var isCapturing: Bool {
        @inline(__always) get { cdpdk_load_flag(running + 2) != 0 }
    }
    deinit { running.deallocate() }

    var isRunning: Bool {
        @inline(__always) get { cdpdk_load_flag(running) != 0 }
    }
    func setRunning(_ value: Bool) { cdpdk_store_flag(running, value ? 1 : 0) }

    var verbosity: UInt32 {
        @inline(__always) get { cdpdk_load_flag(running + 1) }
    }
    func setVerbosity(_ level: Int) { cdpdk_store_flag(running + 1, UInt32(clamping: level)) }

    var recordsBursts: Bool {
        @inline(__always) get { cdpdk_load_flag(running + 3) != 0 }
    }
    func setRecordsBursts(_ on: Bool) { cdpdk_store_flag(running + 3, on ? 1 : 0) }
}
