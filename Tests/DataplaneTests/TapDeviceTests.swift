@testable import Dataplane
@testable import VnetTap
import DPDK
import Foundation
import TestSupport
import Wire
import CTap
import XCTest

/// The kernel tap port: option strings, the offload probe, and real kernel TCP flows over
/// VXLAN between two namespaces, relayed by two TapDevices in the test (Tools/netns).
final class TapDeviceTests: XCTestCase {
    // MARK: options

    func testOptionStringsParse() throws {
        let full = try TapOptions(parsing: "name=tap0,netns=ns1,offloads=tso,uso,tunnel,tunnel-csum")
        XCTAssertEqual(full.name, "tap0")
        XCTAssertEqual(full.namespace, "ns1")
        XCTAssertEqual(full.offloads, [.checksum, .tso, .uso, .tunnel, .tunnelChecksum])
        XCTAssertEqual(full.description, "name=tap0,netns=ns1,offloads=csum,tso,uso,tunnel,tunnel-csum")

        let plain = try TapOptions(parsing: "name=vtap0")
        XCTAssertNil(plain.namespace)
        XCTAssertEqual(plain.offloads, .all, "everything is asked for by default; the probe finds what is granted")
        XCTAssertEqual(try TapOptions(parsing: "offloads=tso,name=t").offloads, [.checksum, .tso])
        XCTAssertEqual(try TapOptions(parsing: "name=t,offloads=none").offloads, [])
        XCTAssertEqual(try TapOptions(parsing: "name=t,offloads=csum").offloads, [.checksum])
        XCTAssertEqual(try TapOptions(parsing: "name=t,offloads=uso,tunnel").offloads, [.checksum, .uso, .tunnel])
        XCTAssertEqual(TapOffloads.all.kernelBits, 0x1E7)
        XCTAssertEqual(TapOffloads([.checksum, .tso]).kernelBits, 0x07)
    }

    func testOptionStringErrorsNameTheProblem() {
        func error(_ text: String) -> TapOptionsError? {
            do {
                _ = try TapOptions(parsing: text)
                return nil
            } catch {
                return error
            }
        }
        XCTAssertEqual(error(""), .empty)
        XCTAssertEqual(error("netns=x"), .missingName)
        XCTAssertEqual(error("name=a,,netns=x"), .emptyItem("name=a,,netns=x"))
        XCTAssertEqual(error("name=a,queue=2"), .unknownKey("queue", allowed: ["name", "netns", "offloads"]))
        XCTAssertEqual(error("tap0"), .unknownKey("tap0", allowed: ["name", "netns", "offloads"]))
        XCTAssertEqual(error("name=a,name=b"), .duplicateKey("name"))
        XCTAssertEqual(error("name=,netns=x"), .missingValue("name"))
        XCTAssertEqual(error("name=a,netns=x,tso"), .notAList(key: "netns", item: "tso"))
        XCTAssertEqual(error("name=abcdefghijklmnop"), .badValue(
            key: "name", value: "abcdefghijklmnop", allowed: "an interface name of at most 15 bytes"))
        XCTAssertEqual(error("name=a/b"), .badValue(key: "name", value: "a/b", allowed: "an interface name without '/' or spaces"))
        XCTAssertEqual(error("name=a,netns=../x"), .badValue(
            key: "netns", value: "../x", allowed: "a namespace name from `ip netns list` (no '/')"))
        XCTAssertEqual(error("name=a,offloads=tso,gro"), .badValue(
            key: "offloads", value: "gro", allowed: "none, csum, tso, uso, tunnel, tunnel-csum"))
        XCTAssertEqual(error("name=a,offloads=none,tso"), .badValue(
            key: "offloads", value: "tso", allowed: "'none' alone, or a list of none, csum, tso, uso, tunnel, tunnel-csum"))
        XCTAssertEqual(error("name=a,offloads=tunnel"), .dependency(offload: "tunnel", needs: "tso or uso"))
        XCTAssertEqual(error("name=a,offloads=tso,tunnel-csum"), .dependency(offload: "tunnel-csum", needs: "tunnel"))
        // Messages a user can act on.
        XCTAssertTrue(error("name=a,queue=2")!.description.contains("allowed keys: name, netns, offloads"))
        XCTAssertTrue(error("name=a,offloads=gro")!.description.contains("bad offloads 'gro'; allowed: none, csum, tso"))
    }

    func testCountersHaveASlotForEveryReason() {
        XCTAssertTrue(TapCounter.hasRoomForEveryReason)
    }

    // MARK: attaching

    func testAttachErrorsAreSpecific() throws {
        try TestEAL.start()
        let pool = try Mempool.createPacketPool(name: TestEAL.uniqueName("tap_err_"), count: 512)
        defer { pool.free() }
        XCTAssertThrowsError(try TapDevice(options: TapOptions(name: "vtap0", namespace: "no-such-ns-\(getpid())"), pool: pool)) {
            guard case TapDeviceError.namespaceNotFound = $0 else { return XCTFail("\($0)") }
            XCTAssertTrue("\($0)".contains("ip netns list"))
        }
        let topology = try TapTopology()
        defer { topology.down() }
        XCTAssertThrowsError(try TapDevice(options: TapOptions(name: "nosuch0", namespace: topology.namespaceA), pool: pool)) {
            XCTAssertEqual($0 as? TapDeviceError, .noSuchInterface(name: "nosuch0", namespace: topology.namespaceA))
        }
        // The VXLAN device is not a tap.
        XCTAssertThrowsError(try TapDevice(options: TapOptions(name: "vx0", namespace: topology.namespaceA), pool: pool)) {
            guard case TapDeviceError.attach(name: "vx0", _) = $0 else { return XCTFail("\($0)") }
        }
        // A tap has one queue: a second attach is refused.
        let first = try TapDevice(options: TapOptions(name: topology.tap, namespace: topology.namespaceA), pool: pool)
        defer { first.close() }
        XCTAssertThrowsError(try TapDevice(options: TapOptions(name: topology.tap, namespace: topology.namespaceA), pool: pool)) {
            XCTAssertEqual($0 as? TapDeviceError, .attach(name: topology.tap, errno: EBUSY))
        }
        first.close()
        XCTAssertTrue(pool.isFull)
    }

    func testOffloadProbeRecordsWhatTheKernelGrants() throws {
        try TestEAL.start()
        let pool = try Mempool.createPacketPool(name: TestEAL.uniqueName("tap_probe_"), count: 512)
        defer { pool.free() }
        let topology = try TapTopology()
        defer { topology.down() }
        let all = try TapDevice(options: TapOptions(parsing: "name=vtap0,netns=\(topology.namespaceA)"), pool: pool)
        // Kernel 6.17+ knows every bit (TUN_F_UDP_TUNNEL_GSO*, include/uapi/linux/if_tun.h): the first try is accepted.
        XCTAssertEqual(all.grantedOffloads, .all)
        XCTAssertEqual(all.offloadProbe.count, 1)
        XCTAssertEqual(all.offloadProbe.first?.errno, 0)
        XCTAssertEqual(all.txCapabilities, [
            .multiSegments, .tcpChecksum, .udpChecksum, .tcpTSO, .udpTSO, .vxlanTunnelTSO, .geneveTunnelTSO, .udpTunnelTSO,
            .outerUDPChecksum,
        ])
        XCTAssertTrue(all.rxCapabilities.contains(.tcpLRO))
        XCTAssertEqual(all.driverName, "vnet_tap")
        XCTAssertEqual(all.mtu, 1500)
        XCTAssertEqual(all.macAddressString, "02:00:00:99:00:0a")
        XCTAssertGreaterThan(all.interfaceIndex, 0)
        all.close()

        // Bits the kernel does not know are refused with EINVAL: the probe steps down.
        XCTAssertEqual(ctapSetOffloadRaw(topology, bits: 0x1E7 | 0x8000), EINVAL)
        let tso = try TapDevice(options: TapOptions(parsing: "name=vtap0,netns=\(topology.namespaceA),offloads=tso"), pool: pool)
        XCTAssertEqual(tso.grantedOffloads, [.checksum, .tso])
        XCTAssertEqual(tso.txCapabilities, [.multiSegments, .tcpChecksum, .udpChecksum, .tcpTSO])
        tso.close()
        let none = try TapDevice(options: TapOptions(parsing: "name=vtap0,netns=\(topology.namespaceA),offloads=none"), pool: pool)
        XCTAssertEqual(none.grantedOffloads, [])
        XCTAssertEqual(none.txCapabilities, [.multiSegments])
        none.close()
        XCTAssertTrue(pool.isFull)
    }

    func testLinkInfoFollowsTheInterface() throws {
        try TestEAL.start()
        let pool = try Mempool.createPacketPool(name: TestEAL.uniqueName("tap_mtu_"), count: 512)
        defer { pool.free() }
        let topology = try TapTopology(mtu: 4000)
        defer { topology.down() }
        let tap = try TapDevice(options: TapOptions(name: "vtap0", namespace: topology.namespaceB), pool: pool)
        defer { tap.close() }
        XCTAssertEqual(tap.mtu, 4000)
        XCTAssertEqual(tap.macAddressString, "02:00:00:99:00:0b")
        let (status, output) = try TapTopology.run("/usr/sbin/ip", ["-n", topology.namespaceB, "link", "set", "vtap0", "mtu", "3000"])
        XCTAssertEqual(status, 0, output)
        try tap.refreshLinkInfo()
        XCTAssertEqual(tap.mtu, 3000)
        // The calling thread is back in its own namespace: no vtap0 here.
        XCTAssertThrowsError(try TapDevice.linkInfo("vtap0"))
        tap.close()
        XCTAssertFalse(tap.isOpen)
        XCTAssertEqual(tap.fileDescriptor, -1)
        XCTAssertTrue(pool.isFull)
    }

    /// TUNSETOFFLOAD with raw bits on a fresh attach: the errno.
    private func ctapSetOffloadRaw(_ topology: TapTopology, bits: UInt32) -> Int32 {
        let probe = try? TapDevice.inNamespace(topology.namespaceA) { () throws(TapDeviceError) -> Int32 in
            let fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC)
            guard fd >= 0 else { return -1 }
            defer { close(fd) }
            guard ctap_set_iff_tap_vnet(fd, topology.tap) == 0, ctap_set_vnet_hdr_size(fd, 24) == 0 else { return -2 }
            return -ctap_set_offload(fd, bits)
        }
        return probe ?? -3
    }

    // MARK: kernel flows

    struct FlowResult {
        var aToB: RelayObservation
        var bToA: RelayObservation
        var statisticsA: TapStatistics
        var statisticsB: TapStatistics
        var receiverOutputs: [String]
        var seconds: Double
        var errorCounters: [String: Int]
        var summary: String {
            func side(_ o: RelayObservation) -> String {
                "\(o.frames) frames \(o.bytes) B, \(o.superFrames) super-frames (tunnel \(o.tunnelSuperFrames), gso_type "
                    + o.gsoTypes.sorted().map { "0x" + String($0, radix: 16) }.joined(separator: "/")
                    + ", gso_size \(o.gsoSizes.sorted()), largest \(o.largestFrame) B), csum requests \(o.checksumRequests)"
            }
            return "relay \(String(format: "%.2f", seconds)) s; a->b: \(side(aToB)); b->a: \(side(bToA)); receivers: "
                + receiverOutputs.map { $0.split(separator: "\n").last.map(String.init) ?? "" }.joined(separator: " | ")
        }
    }

    /// Kernel TCP flows of `bytes` each way between namespaces A and B over VXLAN, relayed by
    /// two TapDevices on this thread. Checks every byte (receivers), the kernel's error
    /// counters (nstat), that nothing was dropped or refused, and that every mbuf came back.
    func runFlow(
        ipv6: Bool, udpChecksum: Bool, offloads: String = "tso,uso,tunnel,tunnel-csum", bytes: Int = 32 << 20,
        mtu: Int = 1500, file: StaticString = #filePath, line: UInt = #line
    ) throws -> FlowResult {
        try TestEAL.start()
        let pool = try Mempool.createPacketPool(name: TestEAL.uniqueName("tap_flow_"), count: 4095)
        defer { pool.free() }
        let topology = try TapTopology(ipv6: ipv6, udpChecksum: udpChecksum, mtu: mtu)
        defer { topology.down() }
        let a = try TapDevice(options: TapOptions(parsing: "name=vtap0,netns=\(topology.namespaceA),offloads=\(offloads)"), pool: pool)
        defer { a.close() }
        let b = try TapDevice(options: TapOptions(parsing: "name=vtap0,netns=\(topology.namespaceB),offloads=\(offloads)"), pool: pool)
        defer { b.close() }

        let pattern = ["python3", TapTopology.pattern]
        let receivers = [
            try topology.start(in: topology.namespaceB, pattern + ["recv", "5001", "\(bytes)"]),
            try topology.start(in: topology.namespaceA, pattern + ["recv", "5002", "\(bytes)"]),
        ]
        let senders = [
            try topology.start(in: topology.namespaceA, pattern + ["send", topology.overlayB, "5001", "\(bytes)"]),
            try topology.start(in: topology.namespaceB, pattern + ["send", topology.overlayA, "5002", "\(bytes)"]),
        ]
        let processes = (receivers + senders).map(\.0)

        var relay = TapRelay(a, b)
        let burst = UnsafeMutablePointer<OpaquePointer?>.allocate(capacity: 32)
        defer { burst.deallocate() }
        let start = Date()
        let deadline = start.addingTimeInterval(90)
        while processes.contains(where: \.isRunning) && Date() < deadline {
            if relay.poll(burst, size: 32) == 0 { usleep(20) }
        }
        let seconds = Date().timeIntervalSince(start)
        let timedOut = processes.contains(where: \.isRunning)
        topology.stopProcesses()
        let outputs = (receivers + senders).map { String(decoding: $0.1.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self) }
        let all = outputs.joined(separator: " / ")
        XCTAssertFalse(timedOut, "flows did not finish in 90 s: \(all)", file: file, line: line)
        for output in outputs.prefix(2) {
            XCTAssertTrue(output.contains("OK \(bytes)"), "receiver: \(all)", file: file, line: line)
        }
        var errors: [String: Int] = [:]
        for ns in [topology.namespaceA, topology.namespaceB] {
            let counters = try topology.errorCounters(ns)
            XCTAssertFalse(counters.isEmpty, "nstat printed nothing", file: file, line: line)
            for (name, value) in counters where value != 0 { errors["\(ns) \(name)"] = value }
        }
        XCTAssertEqual(errors, [:], "kernel error counters", file: file, line: line)
        XCTAssertEqual(relay.unsent, 0, file: file, line: line)
        let result = FlowResult(
            aToB: relay.aToB, bToA: relay.bToA, statisticsA: a.statistics(), statisticsB: b.statistics(),
            receiverOutputs: Array(outputs.prefix(2)), seconds: seconds, errorCounters: errors)
        for (statistics, name) in [(result.statisticsA, "A"), (result.statisticsB, "B")] {
            XCTAssertEqual(statistics.rxDrops, [:], "tap \(name)", file: file, line: line)
            XCTAssertEqual(statistics.rxErrors, [:], "tap \(name)", file: file, line: line)
            XCTAssertEqual(statistics.txDrops, [:], "tap \(name)", file: file, line: line)
            XCTAssertEqual(statistics.txErrors, [:], "tap \(name)", file: file, line: line)
        }
        // Every super-frame read on one side was written on the other with its header.
        XCTAssertEqual(result.statisticsB.txSuperFrames, result.statisticsA.rxSuperFrames, file: file, line: line)
        XCTAssertEqual(result.statisticsA.txSuperFrames, result.statisticsB.rxSuperFrames, file: file, line: line)
        XCTAssertEqual(result.statisticsB.txTunnelSuperFrames, UInt64(result.aToB.tunnelSuperFrames), file: file, line: line)
        XCTAssertEqual(result.aToB.pseudoHeaderMismatches + result.bToA.pseudoHeaderMismatches, 0,
                       "inner checksum fields in DPDK's TSO form", file: file, line: line)
        a.close()
        b.close()
        XCTAssertTrue(pool.isFull, "\(pool.availableCount) of \(pool.size) mbufs back", file: file, line: line)
        print("tap flow \(ipv6 ? "ipv6" : "ipv4") underlay, \(udpChecksum ? "udpcsum" : "noudpcsum"), offloads=\(offloads): \(result.summary)")
        return result
    }

    /// What both directions must show when the taps carry tunnel GSO.
    private func assertTunnelSuperFrames(_ r: FlowResult, gsoType: UInt8, outerChecksum: Bool, file: StaticString = #filePath, line: UInt = #line) {
        for o in [r.aToB, r.bToA] {
            XCTAssertGreaterThan(o.tunnelSuperFrames, 10, file: file, line: line)
            XCTAssertEqual(o.gsoTypes, [gsoType], file: file, line: line)
            XCTAssertGreaterThan(o.largestFrame, 16_000, "super-frames far above the 1500-byte MTU", file: file, line: line)
            XCTAssertFalse(o.gsoSizes.isEmpty, file: file, line: line)
            XCTAssertFalse(o.gsoSizes.contains(0), file: file, line: line)
            XCTAssertEqual(o.outerUDPChecksumRequests > 0, outerChecksum, file: file, line: line)
        }
    }

    func testKernelFlowIPv4UnderlayUDPChecksum() throws {
        let r = try runFlow(ipv6: false, udpChecksum: true)
        assertTunnelSuperFrames(r, gsoType: 0x21, outerChecksum: true)
        // 1500 - 50 (VXLAN over IPv4) - 40 - 12 (timestamps)
        XCTAssertEqual(r.aToB.gsoSizes, [1398])
    }

    func testKernelFlowIPv4UnderlayNoUDPChecksum() throws {
        let r = try runFlow(ipv6: false, udpChecksum: false)
        assertTunnelSuperFrames(r, gsoType: 0x21, outerChecksum: false)
    }

    func testKernelFlowIPv6UnderlayUDPChecksum() throws {
        let r = try runFlow(ipv6: true, udpChecksum: true)
        assertTunnelSuperFrames(r, gsoType: 0x41, outerChecksum: true)
        // 1500 - 70 (VXLAN over IPv6) - 40 - 12
        XCTAssertEqual(r.aToB.gsoSizes, [1378])
    }

    func testKernelFlowIPv6UnderlayNoUDPChecksum() throws {
        let r = try runFlow(ipv6: true, udpChecksum: false)
        assertTunnelSuperFrames(r, gsoType: 0x41, outerChecksum: false)
    }

    /// A jumbo underlay: segments of 9000 - 50 - 40 - 12 bytes inside the super-frames.
    func testKernelFlowJumboUnderlay() throws {
        let r = try runFlow(ipv6: false, udpChecksum: true, mtu: 9000)
        assertTunnelSuperFrames(r, gsoType: 0x21, outerChecksum: true)
        XCTAssertEqual(r.aToB.gsoSizes, [8898])
    }

    /// Without tunnel GSO the kernel segments before the tap: MTU-sized VXLAN frames whose
    /// inner TCP checksum is left partial (tunnel checksum requests), relayed intact.
    func testKernelFlowWithoutTunnelOffload() throws {
        let r = try runFlow(ipv6: false, udpChecksum: true, offloads: "tso", bytes: 8 << 20)
        for o in [r.aToB, r.bToA] {
            XCTAssertEqual(o.superFrames, 0)
            XCTAssertLessThanOrEqual(o.largestFrame, 1514)
            XCTAssertGreaterThan(o.checksumRequests, 0)
        }
    }

    /// With no offloads at all every frame is final: header flags 0 both ways.
    func testKernelFlowWithoutOffloads() throws {
        let r = try runFlow(ipv6: false, udpChecksum: true, offloads: "none", bytes: 8 << 20)
        for o in [r.aToB, r.bToA] {
            XCTAssertEqual(o.superFrames, 0)
            XCTAssertEqual(o.checksumRequests, 0)
            XCTAssertLessThanOrEqual(o.largestFrame, 1514)
        }
    }
}
