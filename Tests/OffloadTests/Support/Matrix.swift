import DPDK
import Foundation
import Offload
import TestSupport
import Wire
import XCTest

/// Runs super-frames through the segmenter and hands the output, with what each case
/// promises, to the oracles.
struct MatrixRun {
    let directory: URL
    var frames: [[UInt8]] = []
    var cases: [Oracle.Case] = []
    var segmenter: Segmenter
    let output = UnsafeMutablePointer<OpaquePointer?>.allocate(capacity: 512)

    init() throws {
        directory = try TestEAL.temporaryDirectory()
        segmenter = try makeSegmenter()
    }

    func finish() {
        output.deallocate()
        segmenter.deallocate()
        try? FileManager.default.removeItem(at: directory)
    }

    static func transportName(_ spec: SuperFrameSpec, _ options: SegmentationOptions) -> String {
        spec.tunnel == .stt ? "tcp" : !spec.udp ? "tcp" : options.udp == .datagrams ? "uso" : "ufo"
    }

    /// What tshark's frame.protocols shows for the case's inner layers.
    static func tsharkProtocols(_ spec: SuperFrameSpec, transport: String) -> String? {
        let ip = spec.innerV6 ? "ipv6" : "ip"
        let l4 = transport == "ufo" ? "" : spec.udp ? ":udp" : ":tcp"
        switch spec.tunnel {
        case .none: return "ethertype:\(ip)\(l4)"
        case .vxlan: return "vxlan:eth:ethertype:\(ip)\(l4)"
        case .vxlanGPE: return "udp:eth:ethertype:\(ip)\(l4)"  // tshark 4.0 lists no layer for the GPE header
        case .geneve: return "geneve:eth:ethertype:\(ip)\(l4)"
        case .gre: return "gre:\(ip)\(l4)"
        case .nvgre: return "gre:eth:ethertype:\(ip)\(l4)"
        case .ipInIP: return "\(spec.outerV6 ? "ipv6" : "ip"):\(ip)\(l4)"
        case .fou: return "udp:\(ip)\(l4)"
        case .gue, .stt: return nil  // tshark has no GUE dissector; STT is the scapy oracle's
        }
    }

    /// Segments one super-frame, checks the count against the MTU arithmetic, and records the
    /// case for the oracles. `chunk` makes the input a chain of `chunk`-byte segments.
    mutating func add(
        _ spec: SuperFrameSpec, options: SegmentationOptions, chunk: Int? = nil, hw: [String] = [],
        file: StaticString = #filePath, line: UInt = #line
    ) throws {
        let frame = spec.build()
        let layout = try Fixture.layout(frame)
        let name = "\(spec)\(chunk.map { " chunks=\($0)" } ?? "")"
        let packet = try Fixture.mbuf(frame, chunk: chunk, headerBytes: layout.payloadOffset)
        let result = segmenter.segment(packet, layout: layout, options: options, into: output, capacity: 512)
        guard case .segmented(let count) = result else {
            XCTFail("\(name): \(result)", file: file, line: line)
            return
        }
        let produced = Fixture.frames(output, count: count)
        let transport = Self.transportName(spec, options)

        // The fewest frames the MTU allows: each carries as much payload as fits.
        let l2 = Int(layout.outerL2Length)
        let limit = (options.mtu ?? 65535) + l2
        let expected: Int
        if transport == "ufo" {
            let headers = (spec.tunnel == .none ? layout.outerL4Offset : layout.innerL4Offset) + (spec.innerV6 ? 8 : 0)
            let unit = min(options.segmentSize, limit - headers) & ~7
            expected = (spec.payloadLength + 8 + unit - 1) / unit
        } else {
            let headers = spec.tunnel == .stt ? layout.tunnelOffset : layout.payloadOffset
            let unit = min(options.segmentSize, limit - headers)
            let payload = spec.tunnel == .stt ? frame.count - headers : spec.payloadLength
            expected = (payload + unit - 1) / unit
        }
        XCTAssertEqual(count, expected, "\(name): segment count", file: file, line: line)

        let payloadFile = directory.appendingPathComponent("payload-\(cases.count).bin")
        try Data(spec.payload()).write(to: payloadFile)
        var c = Oracle.Case(name: name, tunnel: "\(spec.tunnel)", transport: transport, mtu: options.mtu ?? 65535,
                            payload: payloadFile.path)
        c.first = frames.count
        c.count = count
        c.expected_count = expected
        c.seq = SuperFrameSpec.tcpSequence
        c.flags = spec.tcpFlags.rawValue
        func step(_ id: UInt16, df: Bool) -> Int {
            switch options.ipv4ID {
            case .increment: return 1
            case .fixed: return 0
            case .automatic: return df && id == 0 ? 0 : 1
            }
        }
        c.inner_id = spec.innerID
        c.inner_id_step = step(spec.innerID, df: spec.dontFragment)
        c.outer_id = spec.outerID
        c.outer_id_step = step(spec.outerID, df: true)
        c.outer_udp_zero = options.outerUDPChecksumZero
        c.hw = hw
        c.gre_key = spec.tunnel == .gre ? SuperFrameSpec.greKey : spec.tunnel == .nvgre ? 0x1234_569A : nil
        c.geneve_options = spec.tunnel == .geneve ? SuperFrameSpec.geneveOptions.map { String(format: "%02x", $0) }.joined() : ""
        c.tsharkProtocols = Self.tsharkProtocols(spec, transport: transport)
        c.wholeFramesOnly = transport != "ufo"
        cases.append(c)
        frames += produced
    }

    func check(label: String, tsharkChecksums: Bool = true, file: StaticString = #filePath, line: UInt = #line) throws {
        try Oracle.check(
            frames, cases: cases, directory: directory, label: label, tsharkChecksums: tsharkChecksums, file: file, line: line)
    }
}
