import DPDK
import Foundation
import Offload
import TestSupport
import Wire
import XCTest

/// Frames the fixtures cannot make: GRE without its checksum, Geneve with long options, a
/// large non-TCP/UDP packet. Built with Wire's builders like SuperFrameSpec.
enum PlannerFrames {
    static func innerIP(_ spec: SuperFrameSpec) -> [UInt8] {
        let inner = spec.innerEndpoints
        return Build.ip(inner, proto: spec.udp ? IPProtocol.udp : IPProtocol.tcp, id: spec.innerID, df: spec.dontFragment,
                        body: Build.transport(udp: spec.udp, inner, body: spec.payload(), flags: spec.tcpFlags))
    }

    /// GRE (key, no checksum, no sequence) carrying the spec's inner IP packet.
    static func greWithoutChecksum(_ spec: SuperFrameSpec) -> [UInt8] {
        let outer = spec.outerEndpoints
        let g = GREFields(protocolType: Build.etherType(spec.innerEndpoints), key: SuperFrameSpec.greKey)
        let body = Build.emit(g.headerLength) { _ = try g.emit(into: $0) } + innerIP(spec)
        return Build.ethernet(Build.etherType(outer), vlan: nil,
                              body: Build.ip(outer, proto: IPProtocol.gre, id: spec.outerID, df: true, body: body))
    }

    /// One non-critical Geneve option of `dataWords` 4-byte words (1-31).
    static func geneveOption(dataWords: Int) -> [UInt8] {
        [0x01, 0x02, 0x03, UInt8(dataWords)] + (0..<dataWords * 4).map { UInt8(truncatingIfNeeded: $0 &* 7) }
    }

    static func geneve(_ spec: SuperFrameSpec, options: [UInt8]) -> [UInt8] {
        let outer = spec.outerEndpoints
        let innerFrame = Build.ethernet(Build.etherType(spec.innerEndpoints), vlan: nil, body: innerIP(spec))
        let header = Build.emit(8 + options.count) { b in
            try options.withUnsafeBytes { o in _ = try GeneveFields(vni: 44).emit(into: b, options: o) }
        }
        let udp = Build.udpDatagram(outer, sport: 49152, dport: 6081, body: header + innerFrame)
        return Build.ethernet(Build.etherType(outer), vlan: nil,
                              body: Build.ip(outer, proto: IPProtocol.udp, id: spec.outerID, df: true, body: udp))
    }

    /// An ICMP-protocol IPv4 packet of `length` payload bytes (not TCP/UDP: nothing to cut).
    static func icmp(length: Int) -> [UInt8] {
        let ep = Endpoints(v6: false)
        return Build.ethernet(EtherType.ipv4, vlan: nil,
                              body: Build.ip(ep, proto: 1, id: 7, df: true, body: [UInt8](repeating: 0xAB, count: length)))
    }
}

/// Oracle names of checksums left to the port.
func oracleNames(_ set: SoftwareChecksums) -> [String] {
    var names: [String] = []
    if set.contains(.innerIPv4) { names.append("innerIPv4") }
    if set.contains(.innerL4) { names.append("innerL4") }
    if set.contains(.outerIPv4) { names.append("outerIPv4") }
    if set.contains(.outerUDP) { names.append("outerUDP") }
    return names
}

/// Plans super-frames on a port, carries the plans out (Swift GSO, PacketChecksums, and the
/// port — a NIC model — through `port`), and hands the frames to the oracles.
struct PlanRun {
    let directory: URL
    var frames: [[UInt8]] = []
    var cases: [Oracle.Case] = []
    var segmenter: Segmenter
    let output = UnsafeMutablePointer<OpaquePointer?>.allocate(capacity: 512)
    /// Frames with checksums still left to a port (the oracle emulates it; tshark would call
    /// them bad).
    var portPending = false

    init() throws {
        directory = try TestEAL.temporaryDirectory()
        segmenter = try makeSegmenter()
    }

    func finish() {
        output.deallocate()
        segmenter.deallocate()
        try? FileManager.default.removeItem(at: directory)
    }

    /// Plans `frame` (of `spec`) with `planner`, carries the plan out and records an oracle
    /// case. `port` transmits a packet with offload metadata (nil: the frames go out as
    /// they are and the oracle emulates the port's checksums). Returns the plan.
    @discardableResult
    mutating func add(
        _ spec: SuperFrameSpec, frame: [UInt8]? = nil, planner: TxPlanner, segmentSize: Int = 0, chunk: Int? = nil,
        geneveOptions: [UInt8]? = nil, port: ((Mbuf) throws -> [[UInt8]])? = nil, label: String = "",
        file: StaticString = #filePath, line: UInt = #line
    ) throws -> TxPlan {
        let frame = frame ?? spec.build()
        let layout = try Fixture.layout(frame)
        let name = "\(label) \(spec)\(chunk.map { " chunks=\($0)" } ?? "")"
        let packet = try Fixture.mbuf(frame, chunk: chunk, headerBytes: layout.payloadOffset)
        let plan = planner.plan(packet, layout: layout, segmentSize: segmentSize)
        XCTAssertTrue(TxPlanner.apply(plan, to: packet, layout: layout), "\(name): apply", file: file, line: line)
        var produced: [[UInt8]] = []
        var pending = SoftwareChecksums()
        switch plan.cut {
        case .swift:
            let result = segmenter.segment(
                packet, layout: layout, options: plan.segmentationOptions(mtu: planner.capabilities.mtu), into: output,
                capacity: 512)
            guard case .segmented(let count) = result else {
                XCTFail("\(name): \(result)", file: file, line: line)
                return plan
            }
            XCTAssertEqual(count, plan.segmentCount, "\(name): segments as planned", file: file, line: line)
            for index in 0..<count {
                let segment = Mbuf(output[index]!)
                TxPlanner.applyToSegment(plan, segment)
                XCTAssertEqual(segment.offloadFlags.subtracting([.indirect, .externalBuffer]), plan.flags, file: file, line: line)
                if let port {
                    do { produced += try port(segment) } catch {
                        XCTFail("\(name): the port refuses segment \(index): \(error)", file: file, line: line)
                    }
                    segment.free()
                } else {
                    produced += Fixture.frames(output + index, count: 1)
                }
            }
            if port == nil { pending = plan.hardware }
        case .none, .port:
            if let port {
                do { produced = try port(packet) } catch {
                    XCTFail("\(name): the port refuses \(plan.summary): \(error)", file: file, line: line)
                }
                packet.free()
            } else {
                XCTAssertEqual(plan.cut, .none, "\(name): a port-segmented plan needs a port", file: file, line: line)
                var one: [OpaquePointer?] = [packet.pointer]
                produced = Fixture.frames(&one, count: 1)
                pending = plan.hardware
            }
        }
        if !pending.isEmpty { portPending = true }
        let transport = spec.tunnel == .stt || !spec.udp ? "tcp" : "uso"
        let payloadFile = directory.appendingPathComponent("payload-\(cases.count).bin")
        try Data(spec.payload()).write(to: payloadFile)
        var c = Oracle.Case(name: name, tunnel: "\(spec.tunnel)", transport: transport, mtu: planner.capabilities.mtu,
                            payload: payloadFile.path)
        c.first = frames.count
        c.count = produced.count
        c.expected_count = plan.segmentCount
        c.seq = SuperFrameSpec.tcpSequence
        c.flags = spec.tcpFlags.rawValue
        c.inner_id = spec.innerID
        c.inner_id_step = 1
        c.outer_id = spec.outerID
        c.outer_id_step = 1
        c.outer_udp_zero = plan.outerUDPZero
        c.hw = oracleNames(pending)
        c.gre_key = spec.tunnel == .gre ? SuperFrameSpec.greKey : spec.tunnel == .nvgre ? 0x1234_569A : nil
        let options = geneveOptions ?? SuperFrameSpec.geneveOptions
        c.geneve_options = spec.tunnel == .geneve ? options.map { String(format: "%02x", $0) }.joined() : ""
        c.tsharkProtocols = MatrixRun.tsharkProtocols(spec, transport: transport)
        cases.append(c)
        frames += produced
        return plan
    }

    func check(label: String, file: StaticString = #filePath, line: UInt = #line) throws {
        try Oracle.check(
            frames, cases: cases, directory: directory, label: label, tsharkChecksums: !portPending, file: file, line: line)
    }
}
