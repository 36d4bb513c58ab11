import CDPDK
import Dataplane
import DPDK
import Foundation
import FrameSupport
import TestSupport
import XCTest

/// Forwarding through real PMDs (net_null, net_ring, net_pcap) on the test's one worker lcore.
/// Every test ends with the forwarder's pool full again: nothing leaked, nothing freed twice.
final class ForwardingTests: XCTestCase {
    private var portNames: [String] = []

    override func setUpWithError() throws {
        try TestEAL.start()
    }

    override func tearDown() {
        for name in portNames { TestEAL.removePort(name) }
        portNames = []
    }

    private func makePort(_ base: String, arguments: String = "") throws -> EthPort {
        let name = TestEAL.uniqueName(base)
        portNames.append(name)
        return try TestEAL.createPort(name, arguments: arguments)
    }

    private func makeForwarder(_ ports: [EthPort], _ configure: (inout ForwardingOptions) -> Void = { _ in }) throws -> Forwarder {
        var options = ForwardingOptions()
        options.rxDescriptors = 256
        options.txDescriptors = 256
        configure(&options)
        return try Forwarder(options: options, ports: ports, poolName: TestEAL.uniqueName("fwd_pool_"), log: { _ in })
    }

    /// Sends frames into a net_ring port's ring: they come back out of its rx queue.
    private func inject(_ frames: [[UInt8]], into port: EthPort, pool: Mempool) throws {
        let burst = UnsafeMutablePointer<OpaquePointer?>.allocate(capacity: 1)
        defer { burst.deallocate() }
        for frame in frames {
            burst[0] = try XCTUnwrap(Frames.mbuf(frame, pool: pool)).pointer
            XCTAssertEqual(port.transmit(queue: 0, burst, count: 1), 1)
        }
    }

    /// Takes everything waiting in a port's rx queue.
    private func drain(_ port: EthPort) -> [[UInt8]] {
        let burst = UnsafeMutablePointer<OpaquePointer?>.allocate(capacity: 64)
        defer { burst.deallocate() }
        var frames: [[UInt8]] = []
        while true {
            let count = Int(port.receive(queue: 0, into: burst, count: 64))
            if count == 0 { return frames }
            for index in 0..<count {
                let mbuf = Mbuf(burst[index]!)
                frames.append(Frames.bytes(of: mbuf))
                mbuf.free()
            }
        }
    }

    private func waitFor(seconds: Double = 5, _ condition: () -> Bool) {
        let deadline = Date().addingTimeInterval(seconds)
        while !condition() && Date() < deadline { usleep(1000) }
    }

    func testIOForwardingOnNullPortsAccountsForEveryPacket() throws {
        let ports = [try makePort("net_null_io"), try makePort("net_null_io")]
        let forwarder = try makeForwarder(ports)
        try forwarder.startForwarding()
        XCTAssertThrowsError(try forwarder.startForwarding()) { error in
            XCTAssertEqual(error as? DataplaneError, .forwardingActive)
        }
        usleep(200_000)
        let statistics = try forwarder.stopForwarding()
        XCTAssertEqual(statistics.ports.count, 2)
        for port in statistics.ports {
            XCTAssertGreaterThan(port.rxPackets, 1000, "net_null generates as fast as it is polled")
        }
        let total = statistics.total
        XCTAssertEqual(total.rxPackets, total.txPackets + total.txDropped + total.engineDropped, "rx = tx + drops")
        forwarder.shutdown()
        XCTAssertEqual(forwarder.pool.availableCount, forwarder.pool.size)
    }

    func testRingPortsForwardEveryFrameIntactAndMACEngineRewrites() throws {
        for mode in [ForwardingMode.io, .mac] {
            let ports = [try makePort("net_ring_a"), try makePort("net_ring_b")]
            // Flushing would drain the frames injected before the start.
            let forwarder = try makeForwarder(ports) { $0.mode = mode; $0.flushRxOnStart = false }
            let frames = (0..<500).map { Frames.udp(sequence: UInt32($0), length: 60 + $0 % 1400) }
            try inject(frames, into: ports[0], pool: forwarder.pool)
            try forwarder.startForwarding()
            // Frames bounce 0 -> 1 -> 0 ... through the rings while forwarding runs.
            waitFor { forwarder.forwardStatistics().total.txPackets >= 2000 }
            let statistics = try forwarder.stopForwarding()
            XCTAssertGreaterThanOrEqual(statistics.total.txPackets, 2000, "\(mode)")
            XCTAssertEqual(statistics.total.txDropped, 0)
            let received = drain(ports[0]) + drain(ports[1])
            XCTAssertEqual(received.count, frames.count, "\(mode): no frame lost or duplicated")
            let bySequence = Dictionary(uniqueKeysWithValues: received.map { (Frames.sequence(of: $0), $0) })
            for frame in frames {
                let out = try XCTUnwrap(bySequence[Frames.sequence(of: frame)])
                XCTAssertEqual(Array(out[12...]), Array(frame[12...]), "\(mode): payload and headers after MACs unchanged")
                switch mode {
                case .io:
                    XCTAssertEqual(Array(out[0..<12]), Array(frame[0..<12]), "io leaves addresses alone")
                case .mac:
                    let destination = Array(out[0..<6])
                    XCTAssertTrue(destination == [2, 0, 0, 0, 0, UInt8(ports[0].id)] || destination == [2, 0, 0, 0, 0, UInt8(ports[1].id)],
                                  "destination is the tx port's peer, got \(destination)")
                    let txPort = destination[5] == UInt8(ports[0].id) ? ports[0] : ports[1]
                    XCTAssertEqual(Array(out[6..<12]), try txPort.macAddress().array, "source is the tx port's address")
                default:
                    XCTFail("not run here")
                }
            }
            forwarder.shutdown()
            XCTAssertEqual(forwarder.pool.availableCount, forwarder.pool.size, "\(mode): pool full again")
        }
    }

    func testPcapInIOPcapOutIsByteIdenticalAndInOrder() throws {
        let directory = try TestEAL.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let input = directory.appendingPathComponent("in.pcap")
        let empty = directory.appendingPathComponent("empty.pcap")
        let output = directory.appendingPathComponent("out.pcap")
        let discard = directory.appendingPathComponent("discard.pcap")
        let frames = (0..<300).map { Frames.udp(sequence: UInt32($0), length: 60 + ($0 * 37) % 1455) }
        try Pcap.write(frames, to: input)
        try Pcap.write([], to: empty)
        let ports = [
            try makePort("net_pcap_in", arguments: "rx_pcap=\(input.path),tx_pcap=\(discard.path)"),
            try makePort("net_pcap_out", arguments: "rx_pcap=\(empty.path),tx_pcap=\(output.path)"),
        ]
        let forwarder = try makeForwarder(ports) { $0.flushRxOnStart = false }
        try forwarder.startForwarding()
        waitFor { forwarder.forwardStatistics().ports[0].rxPackets >= UInt64(frames.count) }
        usleep(50_000)
        let statistics = try forwarder.stopForwarding()
        XCTAssertEqual(statistics.ports[0].rxPackets, UInt64(frames.count))
        XCTAssertEqual(statistics.ports[1].txPackets, UInt64(frames.count))
        forwarder.shutdown() // closing the port flushes the pcap writer
        XCTAssertEqual(forwarder.pool.availableCount, forwarder.pool.size)
        let written = try Pcap.read(output)
        XCTAssertEqual(written.count, frames.count)
        XCTAssertEqual(written, frames, "byte-identical, in order")
    }

    func testOptionsAndStateErrorsNameWhatIsWrong() throws {
        let ports = [try makePort("net_null_err")]
        XCTAssertThrowsError(try makeForwarder(ports) { $0.burst = 0 }) { error in
            XCTAssertEqual("\(error)", "invalid burst '0'; allowed: 1-512")
        }
        XCTAssertThrowsError(try makeForwarder(ports) { $0.forwardingCores = 5 }) { error in
            XCTAssertTrue("\(error)".contains("nb-cores '5'; allowed: 1-1"), "\(error)")
        }
        XCTAssertThrowsError(try makeForwarder(ports) { $0.rxQueues = 2 }) { error in
            XCTAssertTrue("\(error)".contains("txq"), "\(error)")
        }
        let forwarder = try makeForwarder(ports)
        XCTAssertThrowsError(try forwarder.stopForwarding()) { XCTAssertEqual($0 as? DataplaneError, .forwardingNotActive) }
        XCTAssertThrowsError(try forwarder.port(999)) { error in
            XCTAssertEqual("\(error)", "invalid port 999; valid ports: \(ports[0].id)")
        }
        try forwarder.stopPort(ports[0].id)
        XCTAssertThrowsError(try forwarder.startForwarding()) { error in
            XCTAssertEqual(error as? DataplaneError, .portsStopped([ports[0].id]))
        }
        try forwarder.startPort(ports[0].id)
        XCTAssertNoThrow(try forwarder.startForwarding())
        XCTAssertThrowsError(try forwarder.setMode(.mac)) { XCTAssertEqual($0 as? DataplaneError, .forwardingActive) }
        try forwarder.stopForwarding()
        forwarder.shutdown()
        XCTAssertEqual(forwarder.pool.availableCount, forwarder.pool.size)
    }

    func testStreamLayoutFollowsTopology() throws {
        for topology in PortTopology.allCases {
            let ports = [try makePort("net_null_t"), try makePort("net_null_t"), try makePort("net_null_t")]
            let ids = ports.map(\.id)
            let expected: [UInt16] = switch topology {
            case .paired: [ids[1], ids[0], ids[2]]
            case .chained: [ids[1], ids[2], ids[0]]
            case .loop: ids
            }
            let forwarder = try makeForwarder(ports) { $0.topology = topology }
            let streams = forwarder.configuration.lcores.flatMap(\.streams)
            XCTAssertEqual(streams.map(\.tx.0), expected, "\(topology)")
            XCTAssertEqual(streams.map(\.rx.0), ids)
            XCTAssertTrue(forwarder.configuration.description.hasPrefix("io packet forwarding - ports=3 - cores=1 - streams=3"))
            forwarder.shutdown()
        }
    }
}
