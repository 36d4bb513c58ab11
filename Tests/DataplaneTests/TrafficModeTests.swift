import Dataplane
import DPDK
import Foundation
import FrameSupport
import TestSupport
import Wire
import XCTest

/// The traffic modes (rxonly, txonly, macswap, 5tswap, flowgen) and `start tx_first` on real
/// PMDs: exact counts, the frames checked byte by byte from the output pcap, and every test
/// ends with the pool full again.
final class TrafficModeTests: XCTestCase {
    private var portNames: [String] = []
    private var directory: URL!

    /// The generators take GeneratingEngine's `receives = false` over ForwardingEngine's default.
    func testGeneratorsReceiveNothingAndTheOthersReceive() {
        XCTAssertFalse(TxOnlyEngine.receives)
        XCTAssertFalse(PcapReplayEngine.receives)
        XCTAssertTrue(RxOnlyEngine.receives)
        XCTAssertTrue(IOEngine.receives)
    }

    override func setUpWithError() throws {
        try TestEAL.start()
        directory = try TestEAL.temporaryDirectory()
    }

    override func tearDown() {
        for name in portNames { TestEAL.removePort(name) }
        portNames = []
        try? FileManager.default.removeItem(at: directory)
    }

    private func makePort(_ base: String, arguments: String = "") throws -> EthPort {
        let name = TestEAL.uniqueName(base)
        portNames.append(name)
        return try TestEAL.createPort(name, arguments: arguments)
    }

    /// A net_pcap port reading `frames` (none: an empty file) and writing to the returned file.
    private func pcapPort(reading frames: [[UInt8]] = []) throws -> (EthPort, URL) {
        let input = directory.appendingPathComponent(UUID().uuidString + ".pcap")
        let output = directory.appendingPathComponent(UUID().uuidString + ".pcap")
        try Pcap.write(frames, to: input)
        return (try makePort("net_pcap_traffic", arguments: "rx_pcap=\(input.path),tx_pcap=\(output.path)"), output)
    }

    private func makeForwarder(_ ports: [EthPort], _ configure: (inout ForwardingOptions) -> Void) throws -> Forwarder {
        var options = ForwardingOptions()
        options.rxDescriptors = 256
        options.txDescriptors = 256
        options.flushRxOnStart = false
        configure(&options)
        return try Forwarder(options: options, ports: ports, poolName: TestEAL.uniqueName("traffic_pool_"), log: { _ in })
    }

    private func waitFor(seconds: Double = 5, _ condition: () -> Bool) {
        let deadline = Date().addingTimeInterval(seconds)
        while !condition() && Date() < deadline { usleep(1000) }
    }

    /// Ends the run: the pcap files are complete and the pool must be full again.
    private func finish(_ forwarder: Forwarder, _ label: String, file: StaticString = #filePath, line: UInt = #line) {
        forwarder.shutdown()
        XCTAssertEqual(forwarder.pool.availableCount, forwarder.pool.size, "\(label): pool full again", file: file, line: line)
    }

    private static func be16(_ frame: [UInt8], _ offset: Int) -> UInt16 { UInt16(frame[offset]) << 8 | UInt16(frame[offset + 1]) }
    private static func be32(_ frame: [UInt8], _ offset: Int) -> UInt32 {
        frame[offset..<offset + 4].reduce(0) { $0 << 8 | UInt32($1) }
    }
    /// The IPv4 header at `offset` sums to 0xFFFF when its checksum is right.
    private static func ipv4HeaderValid(_ frame: [UInt8], at offset: Int) -> Bool {
        var sum: UInt32 = 0
        for word in 0..<10 { sum += UInt32(be16(frame, offset + 2 * word)) }
        while sum > 0xFFFF { sum = (sum & 0xFFFF) + (sum >> 16) }
        return sum == 0xFFFF
    }

    // MARK: txonly

    func testTxOnlyWritesTestpmdFramesWithTheSetLengthsAddressesAndPorts() throws {
        // Two segments, headers over segments shorter than they are, and a random split.
        let cases: [(segments: [UInt16], split: TxSplit, lengths: Set<Int>)] = [
            ([40, 30], .off, [70]),
            ([14, 28, 22], .on, [64]),
            ([50, 30, 20], .rand, [50, 80, 100]),
        ]
        for (segments, split, lengths) in cases {
            let label = "txpkts \(segments) txsplit \(split)"
            let (port, output) = try pcapPort()
            let forwarder = try makeForwarder([port]) {
                $0.mode = .txonly
                $0.traffic.segmentLengths = segments
                $0.traffic.split = split
                $0.traffic.ipSource = IPv4Address(10, 1, 2, 3)
                $0.traffic.ipDestination = IPv4Address(10, 4, 5, 6)
                $0.traffic.udpSource = 5000
                $0.traffic.udpDestination = 6000
            }
            let source = try port.macAddress().array
            try forwarder.startForwarding()
            waitFor { forwarder.forwardStatistics().total.txPackets >= 3000 }
            let statistics = try forwarder.stopForwarding()
            XCTAssertEqual(statistics.total.rxPackets, 0, "\(label): txonly receives nothing")
            XCTAssertEqual(statistics.total.txDropped, 0, label)
            finish(forwarder, label)
            let frames = try Pcap.read(output)
            XCTAssertEqual(UInt64(frames.count), statistics.total.txPackets, "\(label): every frame counted is in the file")
            var seen: Set<Int> = []
            for frame in frames {
                seen.insert(frame.count)
                XCTAssertEqual(Array(frame[0..<6]), [2, 0, 0, 0, 0, UInt8(port.id)], "\(label): destination is the peer")
                XCTAssertEqual(Array(frame[6..<12]), source, "\(label): source is the port's address")
                XCTAssertEqual(Self.be16(frame, 12), 0x0800)
                XCTAssertEqual(frame[14], 0x45)
                XCTAssertEqual(Int(Self.be16(frame, 16)), frame.count - 14, "\(label): IPv4 total length")
                XCTAssertEqual(frame[22], 64, "TTL")
                XCTAssertEqual(frame[23], 17, "UDP")
                XCTAssertEqual(Self.be32(frame, 26), IPv4Address(10, 1, 2, 3).value)
                XCTAssertEqual(Self.be32(frame, 30), IPv4Address(10, 4, 5, 6).value)
                XCTAssertTrue(Self.ipv4HeaderValid(frame, at: 14), "\(label): IPv4 header checksum")
                XCTAssertEqual(Self.be16(frame, 34), 5000)
                XCTAssertEqual(Self.be16(frame, 36), 6000)
                XCTAssertEqual(Int(Self.be16(frame, 38)), frame.count - 34, "\(label): UDP length")
                XCTAssertEqual(Self.be16(frame, 40), 0, "no UDP checksum, as testpmd")
                if seen.count > lengths.count { break }
            }
            XCTAssertEqual(seen, lengths, "\(label): frame lengths")
        }
    }

    // MARK: rxonly

    func testRxOnlyCountsAndFreesEverythingItReceives() throws {
        let ring = try makePort("net_ring_ro")
        let other = try makePort("net_ring_ro")
        let forwarder = try makeForwarder([ring, other]) { $0.mode = .rxonly }
        let burst = UnsafeMutablePointer<OpaquePointer?>.allocate(capacity: 1)
        defer { burst.deallocate() }
        for sequence in 0..<500 {
            burst[0] = try XCTUnwrap(Frames.mbuf(Frames.udp(sequence: UInt32(sequence)), pool: forwarder.pool)).pointer
            XCTAssertEqual(ring.transmit(queue: 0, burst, count: 1), 1)
        }
        try forwarder.startForwarding()
        waitFor { forwarder.forwardStatistics().total.rxPackets >= 500 }
        usleep(20_000)
        let statistics = try forwarder.stopForwarding()
        XCTAssertEqual(statistics.total.rxPackets, 500)
        XCTAssertEqual(statistics.total.txPackets, 0)
        XCTAssertEqual(statistics.total.txDropped + statistics.total.engineDropped, 0)
        XCTAssertEqual(other.receive(queue: 0, into: burst, count: 1), 0, "nothing sent")
        finish(forwarder, "rxonly on net_ring")

        let nulls = [try makePort("net_null_rxonly"), try makePort("net_null_rxonly")]
        let generator = try makeForwarder(nulls) { $0.mode = .rxonly }
        try generator.startForwarding()
        usleep(100_000)
        let counts = try generator.stopForwarding()
        XCTAssertGreaterThan(counts.total.rxPackets, 1000)
        XCTAssertEqual(counts.total.txPackets, 0)
        finish(generator, "rxonly on net_null")
    }

    // MARK: macswap, 5tswap

    /// Frames with their IP and L4 offsets: IPv4/UDP, VLAN IPv6/TCP, QinQ IPv4/TCP, IPv6/UDP, ARP.
    private static func swapFrames() -> [(frame: [UInt8], l3: Int?, v6: Bool, l4: Int?)] {
        var frames: [(frame: [UInt8], l3: Int?, v6: Bool, l4: Int?)] = []
        let v4 = Endpoints(v6: false, src4: IPv4Address(192, 0, 2, 10), dst4: IPv4Address(198, 51, 100, 20))
        let v6 = Endpoints(v6: true)
        for index in 0..<50 {
            let body = Frames.payload(20 + index)
            let sport = UInt16(1000 + index), dport = UInt16(2000 + index)
            frames.append((Frames.ethernet(EtherType.ipv4, body: Frames.ip(v4, proto: IPProtocol.udp,
                body: Frames.transport(.udp, v4, sport: sport, dport: dport, body: body))), 14, false, 34))
            frames.append((Frames.ethernet(EtherType.ipv6, vlans: [100], body: Frames.ip(v6, proto: IPProtocol.tcp,
                body: Frames.transport(.tcp, v6, sport: sport, dport: dport, body: body))), 18, true, 58))
            frames.append((Frames.ethernet(EtherType.ipv4, vlans: [10, 20], body: Frames.ip(v4, proto: IPProtocol.tcp,
                body: Frames.transport(.tcp, v4, sport: sport, dport: dport, body: body))), 22, false, 42))
            frames.append((Frames.ethernet(EtherType.ipv6, body: Frames.ip(v6, proto: IPProtocol.udp,
                body: Frames.transport(.udp, v6, sport: sport, dport: dport, body: body))), 14, true, 54))
            frames.append((Frames.ethernet(0x0806, body: [UInt8](repeating: UInt8(index), count: 28)), nil, false, nil))
        }
        return frames
    }

    private static func swapped(_ frame: [UInt8], _ a: Int, _ b: Int, _ count: Int) -> [UInt8] {
        var out = frame
        out.replaceSubrange(a..<a + count, with: frame[b..<b + count])
        out.replaceSubrange(b..<b + count, with: frame[a..<a + count])
        return out
    }

    func testMACSwapAndFiveTupleSwapSendEveryFrameBackWithItsAddressesSwapped() throws {
        let input = Self.swapFrames()
        for mode in [ForwardingMode.macswap, .fiveTupleSwap] {
            let (rxPort, _) = try pcapPort(reading: input.map(\.frame))
            let (txPort, output) = try pcapPort()
            let forwarder = try makeForwarder([rxPort, txPort]) { $0.mode = mode }
            try forwarder.startForwarding()
            waitFor { forwarder.forwardStatistics().ports[0].rxPackets >= UInt64(input.count) }
            usleep(50_000)
            let statistics = try forwarder.stopForwarding()
            XCTAssertEqual(statistics.ports[0].rxPackets, UInt64(input.count), "\(mode)")
            XCTAssertEqual(statistics.ports[1].txPackets, UInt64(input.count), "\(mode)")
            XCTAssertEqual(statistics.total.engineDropped + statistics.total.txDropped, 0)
            finish(forwarder, "\(mode)")
            let written = try Pcap.read(output)
            XCTAssertEqual(written.count, input.count, "\(mode): every frame out, once")
            for (sent, (frame, l3, v6, l4)) in zip(written, input) {
                var expected = Self.swapped(frame, 0, 6, 6)
                if mode == .fiveTupleSwap, let l3 {
                    expected = v6 ? Self.swapped(expected, l3 + 8, l3 + 24, 16) : Self.swapped(expected, l3 + 12, l3 + 16, 4)
                    if let l4 { expected = Self.swapped(expected, l4, l4 + 2, 2) }
                }
                XCTAssertEqual(sent, expected, "\(mode): frame with ethertype \(Self.be16(frame, 12))")
            }
            // The checksums still hold: swapping two fields leaves a ones' complement sum alone.
            if mode == .fiveTupleSwap {
                XCTAssertTrue(Self.ipv4HeaderValid(written[0], at: 14))
            }
        }
    }

    // MARK: flowgen

    func testFlowGenCyclesItsFlowsAndSendsClonesByReference() throws {
        for clones in [0, 3] {
            let label = "flowgen clones \(clones)"
            let (port, output) = try pcapPort()
            let forwarder = try makeForwarder([port]) {
                $0.mode = .flowgen
                $0.traffic.flowgenFlows = 8
                $0.traffic.flowgenClones = clones
            }
            try forwarder.startForwarding()
            waitFor { forwarder.forwardStatistics().total.txPackets >= 2000 }
            let statistics = try forwarder.stopForwarding()
            XCTAssertEqual(statistics.total.txDropped, 0)
            finish(forwarder, label)
            let frames = try Pcap.read(output)
            XCTAssertEqual(UInt64(frames.count), statistics.total.txPackets, label)
            let base = IPv4Address(10, 253, 0, 0).value
            for (index, frame) in frames.enumerated() {
                XCTAssertEqual(frame.count, 60, "\(label): txpkts 64 less the FCS")
                XCTAssertEqual(Array(frame[0..<12]), [0, 1, 2, 3, 4, 1, 0, 1, 2, 3, 4, 0], "testpmd's fixed addresses")
                XCTAssertEqual(Self.be32(frame, 26), IPv4Address(10, 254, 0, 0).value)
                XCTAssertTrue(Self.ipv4HeaderValid(frame, at: 14))
                XCTAssertEqual(Self.be16(frame, 34), 1000)
                XCTAssertEqual(Self.be16(frame, 36), 1001)
                // Each flow in turn; a clone carries the flow of the frame it copies.
                let flow = UInt32(index - index % (clones + 1)) % 8
                XCTAssertEqual(Self.be32(frame, 30), base + flow, "\(label): frame \(index)")
                if Self.be32(frame, 30) != base + flow { break }
            }
            XCTAssertEqual(Set(frames.map { Self.be32($0, 30) }).count, clones == 0 ? 8 : 2, "\(label): flows seen")
        }
    }

    // MARK: tx_first

    func testStartTxFirstPutsBurstsIntoALoopOfRingsThatKeepCirculating() throws {
        let ports = [try makePort("net_ring_tf"), try makePort("net_ring_tf")]
        let forwarder = try makeForwarder(ports) { $0.mode = .io }
        try forwarder.startForwarding(txFirstBursts: 2)
        // 2 bursts of 32 on each of the 2 streams: 128 frames bounce 0 -> 1 -> 0 ...
        waitFor { forwarder.forwardStatistics().total.rxPackets >= 5000 }
        let statistics = try forwarder.stopForwarding()
        XCTAssertGreaterThanOrEqual(statistics.total.rxPackets, 5000, "traffic circulates")
        XCTAssertEqual(statistics.total.txDropped, 0)
        XCTAssertEqual(statistics.total.txPackets - statistics.total.rxPackets, 128, "tx_first frames are tx without rx")
        var left = 0
        let burst = UnsafeMutablePointer<OpaquePointer?>.allocate(capacity: 64)
        defer { burst.deallocate() }
        for port in ports {
            while case let count = Int(port.receive(queue: 0, into: burst, count: 64)), count > 0 {
                for index in 0..<count {
                    let frame = Frames.bytes(of: Mbuf(burst[index]!))
                    XCTAssertEqual(frame.count, 64)
                    XCTAssertEqual(Self.be32(frame, 30), IPv4Address(198, 18, 0, 2).value)
                }
                Mbuf.freeBulk(burst, count: count)
                left += count
            }
        }
        XCTAssertEqual(left, 128, "every tx_first frame is still in the loop, none duplicated")
        finish(forwarder, "tx_first")
    }

    // MARK: txonly replaying a pcap

    /// tshark's checksum verdicts for every IP/UDP/TCP header (outer and inner) of a pcap.
    private func tsharkVerdicts(_ pcap: URL) throws -> (good: Int, bad: Int, frames: Int) {
        let tshark = Process()
        tshark.executableURL = URL(fileURLWithPath: "/usr/bin/tshark")
        tshark.arguments = [
            "-r", pcap.path, "-o", "ip.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE", "-o", "tcp.check_checksum:TRUE",
            "-T", "fields", "-E", "separator=,", "-e", "ip.checksum.status", "-e", "udp.checksum.status", "-e", "tcp.checksum.status",
        ]
        let pipe = Pipe()
        tshark.standardOutput = pipe
        tshark.standardError = FileHandle.nullDevice
        try tshark.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        tshark.waitUntilExit()
        XCTAssertEqual(tshark.terminationStatus, 0, "tshark missing? apt-get install tshark")
        var good = 0, bad = 0, frames = 0
        for line in output.split(separator: "\n") {
            frames += 1
            for verdict in line.split(separator: ",") {
                if verdict == "1" { good += 1 } else if verdict == "0" { bad += 1 }
            }
        }
        return (good, bad, frames)
    }

    func testTxOnlyReplays64KBVXLANSuperFramesThroughSwiftGSOIntoValidSegments() throws {
        // 65,433 bytes of TCP in VXLAN over IPv4 (an outer IPv4 packet of 65,535 bytes, a frame of
        // 65,549): one mbuf chain of 33 segments each (2,048-byte data room).
        let superFrame = Frames.frame(.vxlan, outer: .outer(v6: false), inner: .inner(v6: false), l4: .tcp, payloadLength: 65_433)
        XCTAssertEqual(superFrame.count, 65_549)
        let file = directory.appendingPathComponent("superframes.pcap")
        try Pcap.write([superFrame, superFrame], to: file)
        let (port, output) = try pcapPort()
        let forwarder = try makeForwarder([port]) {
            $0.mode = .txonly
            $0.traffic.replayPcap = file.path
        }
        try forwarder.startForwarding()
        waitFor { forwarder.forwardStatistics().total.txPackets >= 500 }
        let statistics = try forwarder.stopForwarding()
        let tx = statistics.ports[0]
        // Frames of 1,514 bytes: 1,514 - 14 - 20 - 8 - 8 - 14 - 20 - 32 = 1,398 bytes of TCP each: 47 segments.
        XCTAssertGreaterThan(tx.engine[EngineCounter.gsoInputFrames], 0)
        XCTAssertEqual(tx.engine[EngineCounter.gsoOutputSegments], 47 * tx.engine[EngineCounter.gsoInputFrames])
        XCTAssertEqual(tx.txPackets, tx.engine[EngineCounter.gsoOutputSegments])
        XCTAssertEqual(statistics.total.txDropped + statistics.total.engineDropped, 0, statistics.description)
        forwarder.shutdown()
        XCTAssertEqual(forwarder.pool.availableCount, forwarder.pool.size, "chains and segment headers all back")
        XCTAssertEqual(forwarder.indirectPool.availableCount, forwarder.indirectPool.size, "payload views all back")
        let frames = try Pcap.read(output)
        XCTAssertEqual(UInt64(frames.count), tx.txPackets)
        XCTAssertEqual(frames.filter { $0.count > 1514 }.count, 0, "cut at the segment size")
        XCTAssertEqual(frames.filter { $0.count == 1514 }.count, frames.count - frames.count / 47, "full segments but the last of each frame")
        let verdicts = try tsharkVerdicts(output)
        XCTAssertEqual(verdicts.frames, frames.count)
        XCTAssertEqual(verdicts.bad, 0, "tshark finds no bad checksum")
        XCTAssertGreaterThanOrEqual(verdicts.good, frames.count * 3, "outer IPv4, inner IPv4 and TCP checked in each")
    }

    func testReplayFileErrorsSayWhatIsWrong() throws {
        let text = directory.appendingPathComponent("text.pcap")
        try Data("not a pcap at all, just some text".utf8).write(to: text)
        XCTAssertThrowsError(try OptionSpec.txonlyPcap.parse(text.path, as: "txonly-pcap")) { error in
            XCTAssertTrue("\(error)".hasPrefix("invalid txonly-pcap '\(text.path)'; allowed: a classic pcap file"), "\(error)")
            XCTAssertTrue("\(error)".hasSuffix("(not a classic pcap file (pcapng is not read))"), "\(error)")
        }
        let empty = directory.appendingPathComponent("empty.pcap")
        try Pcap.write([], to: empty)
        XCTAssertThrowsError(try OptionSpec.txonlyPcap.parse(empty.path, as: "txonly-pcap")) { error in
            XCTAssertTrue("\(error)".hasSuffix("(no frames)"), "\(error)")
        }
        XCTAssertThrowsError(try OptionSpec.txonlyPcap.parse("/nonexistent.pcap", as: "txonly-pcap")) { error in
            XCTAssertTrue("\(error)".hasSuffix("(cannot read the file)"), "\(error)")
        }
        var options = ForwardingOptions()
        try OptionSpec.txonlyPcap.parse("off", as: "txonly-pcap")(&options)
        XCTAssertNil(options.traffic.replayPcap)
    }

    func testSetNbportForwardsOnTheFirstPortsOnly() throws {
        let ports = [try makePort("net_null_nbport"), try makePort("net_null_nbport"), try makePort("net_null_nbport")]
        let forwarder = try makeForwarder(ports) { $0.mode = .rxonly }
        try forwarder.update { $0.forwardingPortCount = 2 }
        try forwarder.startForwarding()
        XCTAssertTrue(forwarder.configuration.description.hasPrefix("rxonly packet forwarding - ports=2 - cores=1 - streams=2"),
                      forwarder.configuration.description)
        usleep(50_000)
        let statistics = try forwarder.stopForwarding()
        XCTAssertEqual(statistics.ports.map(\.id), [ports[0].id, ports[1].id], "the third port does not forward")
        XCTAssertGreaterThan(statistics.ports[0].rxPackets, 0)
        XCTAssertGreaterThan(statistics.ports[1].rxPackets, 0)
        finish(forwarder, "set nbport")
    }

    // MARK: options

    func testTrafficKeysOfTheConfigFile() throws {
        let config = try RunConfiguration.parse("""
            forwarding:
              mode: 5tswap
              txpkts: "40,24"
              tx_ip: 10.0.0.1,10.0.0.2
              tx_udp: "7"
              tx_first: true
              flowgen_clones: 4
              flowgen_flows: 16
            """, source: "t.yaml")
        let traffic = config.forwarding.traffic
        XCTAssertEqual(config.forwarding.mode, .fiveTupleSwap)
        XCTAssertEqual(traffic.segmentLengths, [40, 24])
        XCTAssertEqual(traffic.ipSource, IPv4Address(10, 0, 0, 1))
        XCTAssertEqual(traffic.ipDestination, IPv4Address(10, 0, 0, 2))
        XCTAssertEqual(traffic.udpSource, 7)
        XCTAssertEqual(traffic.udpDestination, 7)
        XCTAssertTrue(traffic.txFirst)
        XCTAssertEqual(traffic.flowgenClones, 4)
        XCTAssertEqual(traffic.flowgenFlows, 16)
        XCTAssertThrowsError(try RunConfiguration.parse("forwarding:\n  tx_udp: 70000\n", source: "t.yaml")) { error in
            XCTAssertEqual("\(error)", "t.yaml:2: invalid forwarding.tx_udp '70000'; allowed: \(TrafficOptions.udpAllowed)")
        }
        XCTAssertThrowsError(try RunConfiguration.parse("forwarding:\n  mode: txfirst\n", source: "t.yaml")) { error in
            XCTAssertTrue("\(error)".hasSuffix("allowed: io, mac, csum, rxonly, txonly, macswap, flowgen, 5tswap"), "\(error)")
        }
    }

    func testTrafficOptionErrorsNameWhatIsAllowed() throws {
        XCTAssertEqual(try TrafficOptions.parseSegments("40,24", option: "txpkts"), [40, 24])
        for bad in ["", "30", "64,x", "0,64", "64,", "70000"] {
            XCTAssertThrowsError(try TrafficOptions.parseSegments(bad, option: "txpkts")) { error in
                XCTAssertEqual("\(error)", "invalid txpkts '\(bad)'; allowed: \(TrafficOptions.segmentsAllowed)")
            }
        }
        var options = ForwardingOptions()
        try OptionSpec.txUDP.parse("5000", as: "tx-udp")(&options)
        XCTAssertEqual(options.traffic.udpSource, 5000)
        XCTAssertEqual(options.traffic.udpDestination, 5000, "one port stands for both")
        try OptionSpec.txIP.parse("1.2.3.4,5.6.7.8", as: "tx-ip")(&options)
        XCTAssertEqual(options.traffic.ipDestination, IPv4Address(5, 6, 7, 8))
        XCTAssertThrowsError(try OptionSpec.txIP.parse("1.2.3.256,5.6.7.8", as: "tx-ip")) { error in
            XCTAssertEqual("\(error)", "invalid tx-ip '1.2.3.256,5.6.7.8'; allowed: \(TrafficOptions.ipAllowed)")
        }
        XCTAssertThrowsError(try OptionSpec.flowgenFlows.parse("0", as: "flowgen-flows"))
        options.traffic.segmentLengths = [4000]
        XCTAssertThrowsError(try options.validate()) { error in
            XCTAssertEqual("\(error)", "invalid txpkts '4000'; allowed: segments of at most 2048 bytes (the mbuf data room; --mbuf-size less headroom)")
        }
        options.traffic.segmentLengths = [20, 44]
        options.traffic.split = .rand
        XCTAssertThrowsError(try options.validate()) { error in
            XCTAssertTrue("\(error)".contains("first segment of at least 42 bytes while txsplit is rand"), "\(error)")
        }
    }
}
