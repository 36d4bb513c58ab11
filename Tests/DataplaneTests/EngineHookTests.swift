@testable import Dataplane
import DPDK
import Foundation
import FrameSupport
import TestSupport
import XCTest

/// An engine that holds packets (as receive coalescing will) gets them out: `poll` runs every
/// round even when rx got nothing, so held frames leave on idle; `flush` runs when forwarding
/// stops, so nothing held outlives the run. net_pcap in (a file of frames), net_pcap out; every
/// frame leaves exactly once, in order, and the pool is full again.
final class EngineHookTests: XCTestCase {
    private var portNames: [String] = []
    private var directory: URL!

    override func setUpWithError() throws {
        try TestEAL.start()
        directory = try TestEAL.temporaryDirectory()
    }

    override func tearDown() {
        for name in portNames { TestEAL.removePort(name) }
        portNames = []
        try? FileManager.default.removeItem(at: directory)
    }

    /// Holds every packet of the stream that receives; releases them in `poll` after
    /// `releaseAfterIdlePolls` polls without rx (never when 0), and in `flush`.
    struct HoldingEngine<Release: ReleasePolicy>: ForwardingEngine {
        static var mode: ForwardingMode { .io }
        static var worksInPlace: Bool { false }
        private let held = UnsafeMutablePointer<OpaquePointer?>.allocate(capacity: 4096)
        private var count = 0
        private var idlePolls = 0
        private var holder: UInt16 = .max

        init(context: EngineContext) {}

        mutating func process(
            _ input: UnsafeMutablePointer<OpaquePointer?>, count received: Int,
            output: UnsafeMutablePointer<OpaquePointer?>, capacity: Int, stream: Dataplane.Stream
        ) -> Int {
            holder = stream.rxPort.id
            for index in 0..<received {
                if count < 4096 { held[count] = input[index]; count += 1 } else { Mbuf(input[index]!).free() }
            }
            idlePolls = 0
            return 0
        }

        mutating func poll(output: UnsafeMutablePointer<OpaquePointer?>, capacity: Int, stream: Dataplane.Stream) -> Int {
            guard stream.rxPort.id == holder else { return 0 }
            idlePolls += 1
            guard Release.afterIdlePolls > 0, idlePolls >= Release.afterIdlePolls else { return 0 }
            return release(into: output, capacity: capacity)
        }

        mutating func flush(output: UnsafeMutablePointer<OpaquePointer?>, capacity: Int, stream: Dataplane.Stream) -> Int {
            guard stream.rxPort.id == holder else { return 0 }
            return release(into: output, capacity: capacity)
        }

        private mutating func release(into output: UnsafeMutablePointer<OpaquePointer?>, capacity: Int) -> Int {
            let n = min(count, capacity)
            output.update(from: held, count: n)
            (held).update(from: held + n, count: count - n)
            count -= n
            return n
        }

        func finish() { held.deallocate() }
    }

    protocol ReleasePolicy { static var afterIdlePolls: Int { get } }
    enum ReleaseOnIdle: ReleasePolicy { static var afterIdlePolls: Int { 50 } }
    enum ReleaseAtStopOnly: ReleasePolicy { static var afterIdlePolls: Int { 0 } }

    private func run<Release: ReleasePolicy>(_ policy: Release.Type, frames: Int) throws -> (sent: [[UInt8]], out: [[UInt8]], beforeStop: UInt64) {
        let sent = (0..<frames).map { Frames.udp(sequence: UInt32($0), length: 60 + $0 % 900) }
        let input = directory.appendingPathComponent("in-\(Release.self).pcap")
        let output = directory.appendingPathComponent("out-\(Release.self).pcap")
        let empty = directory.appendingPathComponent("empty.pcap")
        try Pcap.write(sent, to: input)
        try Pcap.write([], to: empty)
        let names = [TestEAL.uniqueName("net_pcap_hold"), TestEAL.uniqueName("net_pcap_hold")]
        portNames += names
        let ports = [
            try TestEAL.createPort(names[0], arguments: "rx_pcap=\(input.path),tx_pcap=\(directory.appendingPathComponent("discard.pcap").path)"),
            try TestEAL.createPort(names[1], arguments: "rx_pcap=\(empty.path),tx_pcap=\(output.path)"),
        ]
        var options = ForwardingOptions()
        options.flushRxOnStart = false
        let forwarder = try Forwarder(options: options, ports: ports, poolName: TestEAL.uniqueName("hold_pool_"), log: { _ in })
        try forwarder.startForwarding(engine: HoldingEngine<Release>.self)
        // Every frame read, none sent yet unless idle polls release them.
        let deadline = Date().addingTimeInterval(5)
        while forwarder.forwardStatistics().total.rxPackets < UInt64(frames) && Date() < deadline { usleep(1000) }
        usleep(300_000)
        let beforeStop = forwarder.forwardStatistics().total.txPackets
        let statistics = try forwarder.stopForwarding()
        XCTAssertEqual(statistics.total.rxPackets, UInt64(frames))
        XCTAssertEqual(statistics.total.txPackets, UInt64(frames), "every held frame left")
        XCTAssertEqual(statistics.total.txDropped + statistics.total.engineDropped, 0)
        forwarder.shutdown()  // closing the ports flushes the pcap writer
        XCTAssertEqual(forwarder.pool.availableCount, forwarder.pool.size, "every mbuf back in the pool")
        return (sent, try Pcap.read(output), beforeStop)
    }

    func testPollReleasesHeldFramesWhenNothingArrives() throws {
        let (sent, out, beforeStop) = try run(ReleaseOnIdle.self, frames: 300)
        XCTAssertEqual(beforeStop, 300, "released by idle polls, before stop")
        XCTAssertEqual(out, sent)
    }

    func testFlushReleasesHeldFramesAtStop() throws {
        let (sent, out, beforeStop) = try run(ReleaseAtStopOnly.self, frames: 300)
        XCTAssertEqual(beforeStop, 0, "held until stop")
        XCTAssertEqual(out, sent)
    }
}
