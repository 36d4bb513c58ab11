import FrameSupport
import XCTest
import Wire

/// The virtio-net header: layout per format, the kernel's own tunnel GSO example, and every
/// rejection Linux applies, each with its own error.
final class VirtioNetHeaderTests: XCTestCase {
    typealias H = VirtioNetHeader
    let all: VirtioNetTunnelOffloads = [.udpTunnelGSO, .udpTunnelGSOChecksum]

    /// A 64 KB-class VXLAN/TCP4 super-frame head like the one the kernel handed a tap in
    /// Seen from Linux 6.18 (Tools/scripts/capture-kernel-vxlan.sh): outer_th 34, inner_nh 64, csum_start 84, hdr_len 116 (TCP with timestamps).
    let vxlanFrame = Frames.frame(.vxlan, outer: .outer(v6: false), inner: .inner(v6: false), l4: .tcp, payloadLength: 2800)

    /// Seen on Linux 6.18: flags 0x1, gso_type 0x21, gso_size 1398, hdr_len 116,
    /// csum_start 84, csum_offset 16, outer_th 34, inner_nh 64 (24-byte header, LE).
    static let kernelExample: [UInt8] = [
        0x01, 0x21, 116, 0, 0x76, 0x05, 84, 0, 16, 0, 0, 0,  // v1 part; 1398 = 0x0576
        0, 0, 0, 0, 0, 0, 0, 0,  // hash value, report, padding
        34, 0, 64, 0,  // outer_th_offset, inner_nh_offset
    ]

    func decode(_ bytes: [UInt8], _ format: H.Format = .tunnel) throws -> H {
        try bytes.withUnsafeBytes { try H.decode($0, format: format) }
    }

    func validate(_ h: H, offloads: VirtioNetTunnelOffloads? = nil, frame: [UInt8]? = nil, receiving: Bool = false) -> VirtioNetHeaderError? {
        (frame ?? vxlanFrame).withUnsafeBytes { f in
            do { try h.validate(offloads: offloads ?? all, frame: f, receiving: receiving); return nil } catch { return error as? VirtioNetHeaderError }
        }
    }

    func testKernelExampleDecodesAndValidates() throws {
        let h = try decode(Self.kernelExample)
        XCTAssertEqual(h.flags, .needsChecksum)
        XCTAssertEqual(h.gsoType, .tunnel(.tcpv4, outerIPv6: false))
        XCTAssertEqual(h.gsoType.base, .tcpv4)
        XCTAssertEqual(h.gsoSize, 1398)
        XCTAssertEqual(h.headerLength, 116)
        XCTAssertEqual(h.checksumStart, 84)
        XCTAssertEqual(h.checksumOffset, 16)
        XCTAssertEqual(h.outerTransportOffset, 34)
        XCTAssertEqual(h.innerNetworkOffset, 64)
        XCTAssertNil(validate(h))
        // The offsets agree with what the parser finds in the frame.
        let layout = try vxlanFrame.withUnsafeBytes { try PacketLayout.parse($0, tunnels: .defaults) }
        XCTAssertEqual(layout.outerL4Offset, 34)
        XCTAssertEqual(layout.innerL3Offset, 64)
        XCTAssertEqual(layout.innerL4Offset, 84)
        XCTAssertEqual(layout.payloadOffset, 116)
    }

    func testEncodeRoundTripsEveryFormat() throws {
        var h = H()
        h.flags = [.needsChecksum]
        h.gsoType = .tcpv6
        h.headerLength = 86
        h.gsoSize = 1440
        h.checksumStart = 54
        h.checksumOffset = 16
        h.numBuffers = 1
        for format in [H.Format.v1, .hash, .tunnel] {
            var out = [UInt8](repeating: 0xAA, count: format.length)
            try out.withUnsafeMutableBytes { _ = try h.encode(into: $0, format: format) }
            XCTAssertEqual(try decode(out, format), h)
            XCTAssertEqual(Array(out[0..<4]), [1, 4, 86, 0])
        }
        var t = try decode(Self.kernelExample)
        t.hashValue = 0xDEAD_BEEF
        t.hashReport = 2
        var out = [UInt8](repeating: 0xAA, count: 24)
        try out.withUnsafeMutableBytes { _ = try t.encode(into: $0, format: .tunnel) }
        XCTAssertEqual(Array(out[12..<20]), [0xEF, 0xBE, 0xAD, 0xDE, 2, 0, 0, 0], "LE hash, report, zeroed padding")
        XCTAssertEqual(try decode(out), t)
        var small = [UInt8](repeating: 0, count: 12)
        XCTAssertThrowsError(try small.withUnsafeMutableBytes { try t.encode(into: $0, format: .v1) }) {
            XCTAssertEqual($0 as? VirtioNetHeaderError, .formatCannotCarryTunnel)
        }
        XCTAssertThrowsError(try decode(Array(Self.kernelExample[..<23]))) {
            XCTAssertEqual($0 as? VirtioNetHeaderError, .truncated(needed: 24, available: 23))
        }
    }

    /// Each rule of virtio_net_hdr_tnl_to_skb / __virtio_net_hdr_to_skb, broken one at a time.
    func testEveryLinuxRejection() throws {
        let good = try decode(Self.kernelExample)
        func mutated(_ change: (inout H) -> Void) -> H {
            var h = good
            change(&h)
            return h
        }
        XCTAssertEqual(validate(good, offloads: []), .tunnelNotNegotiated)
        XCTAssertEqual(validate(mutated { $0.gsoType = H.GSOType(rawValue: 0x61) }), .tunnelBothIPVersions)
        XCTAssertEqual(validate(mutated { $0.gsoType = H.GSOType(rawValue: 0x20) }), .tunnelWithoutInnerGSO)
        XCTAssertEqual(validate(mutated { $0.gsoType = H.GSOType(rawValue: 0x23) }), .tunnelWithoutInnerGSO, "UFO inside")
        XCTAssertEqual(validate(mutated { $0.flags = [] }), .tunnelWithoutNeedsChecksum)
        XCTAssertEqual(validate(mutated { $0.outerTransportOffset = 33 }), .outerTransportOffsetTooSmall(offset: 33, minimum: 34))
        XCTAssertEqual(validate(mutated { $0.gsoType = .tunnel(.tcpv4, outerIPv6: true) }),
                       .outerTransportOffsetTooSmall(offset: 34, minimum: 54))
        XCTAssertEqual(validate(mutated { $0.innerNetworkOffset = 41 }), .innerNetworkOffsetTooSmall(offset: 41, minimum: 42))
        XCTAssertEqual(validate(mutated { $0.checksumStart = 83 }), .innerTransportOffsetTooSmall(offset: 83, minimum: 84))
        XCTAssertEqual(validate(mutated { $0.flags.insert(.udpTunnelChecksum) }, offloads: [.udpTunnelGSO]),
                       .tunnelChecksumNotNegotiated)
        XCTAssertNil(validate(mutated { $0.flags.insert(.udpTunnelChecksum) }))
        XCTAssertEqual(validate(mutated { $0.flags.insert(.dataValid) }, receiving: true), .dataValidWithTunnelGSO)
        XCTAssertEqual(validate(mutated { $0.gsoSize = 0 }), .gsoSizeZero)
        XCTAssertEqual(validate(mutated { $0.gsoSize = 0xFFFF }), .gsoSizeReserved)
        XCTAssertEqual(validate(mutated { $0.checksumOffset = 6 }), .checksumOffsetMismatch(expected: 16, actual: 6))
        XCTAssertEqual(validate(good, frame: Array(vxlanFrame[..<100])), .checksumPastFrame(needed: 104, frameLength: 100))
        XCTAssertEqual(validate(mutated { $0.gsoType = H.GSOType(rawValue: 0x27) }), .unknownGSOType(0x07))
        // USO inside the tunnel: the inner IP version is read from the frame.
        var uso = good
        uso.gsoType = .tunnel(.udpL4, outerIPv6: false)
        uso.checksumOffset = 6
        let udpFrame = Frames.frame(.vxlan, outer: .outer(v6: false), inner: .inner(v6: true), l4: .udp, payloadLength: 2800)
        XCTAssertEqual(validate(uso, frame: udpFrame), .innerTransportOffsetTooSmall(offset: 84, minimum: 104))
        uso.checksumStart = 104
        XCTAssertNil(validate(uso, frame: udpFrame))
        uso.checksumOffset = 16
        XCTAssertEqual(validate(uso, frame: udpFrame), .checksumOffsetMismatch(expected: 6, actual: 16))
    }

    func testPlainHeaders() throws {
        var h = H()
        XCTAssertNil(validate(h), "no offload at all")
        h.flags = .needsChecksum
        h.checksumStart = 10
        h.checksumOffset = 16
        XCTAssertEqual(validate(h), .checksumStartBeforeTransport(checksumStart: 10, minimum: 20))
        h.gsoType = .udpL4
        h.gsoSize = 1
        h.checksumStart = 34
        h.checksumOffset = 6
        XCTAssertEqual(validate(h), .tooManyUDPSegments)
        h.flags = []
        XCTAssertEqual(validate(h), .udpSegmentationWithoutChecksum)
        h = H()
        h.flags = [.dataValid, .udpTunnelChecksum]
        XCTAssertEqual(validate(h, offloads: [.udpTunnelGSO], receiving: true), .tunnelChecksumNotNegotiated)
        XCTAssertNil(validate(h, receiving: true))
    }

    /// The seed draft: 12 bytes, gso bit 0x40 = tunnel, hdr_len = inner network header. It
    /// converts to the merged form with offsets taken from the frame.
    func testDraftVariant() throws {
        let draft: [UInt8] = [0x01, 0x41, 64, 0, 0x76, 0x05, 84, 0, 16, 0, 0, 0]
        let h = try draft.withUnsafeBytes { d in try vxlanFrame.withUnsafeBytes { try H.decodeDraft(d, frame: $0) } }
        XCTAssertEqual(h.gsoType, .tunnel(.tcpv4, outerIPv6: false))
        XCTAssertEqual(h.outerTransportOffset, 34)
        XCTAssertEqual(h.innerNetworkOffset, 64)
        XCTAssertEqual(h.headerLength, 116)
        XCTAssertNil(validate(h))
        // Read as the merged form, the same bytes mean "IPv6 outer" and fail validation.
        XCTAssertEqual(validate(try decode(draft, .v1)), .outerTransportOffsetTooSmall(offset: 0, minimum: 54))
        XCTAssertThrowsError(try draft.withUnsafeBytes { d in try [UInt8](repeating: 0, count: 8).withUnsafeBytes { try H.decodeDraft(d, frame: $0) } })
    }
}
