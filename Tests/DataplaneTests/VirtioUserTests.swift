import CDPDK
import Dataplane
import DPDK
import Foundation
import FrameSupport
import TestSupport
import XCTest

/// A virtio_user port against a net_vhost (vhost-user) peer in the same process: the
/// forwarder moves frames between a net_ring port and the virtio_user port, the test plays
/// the vhost side. Frames cross both ways and arrive intact.
final class VirtioUserTests: XCTestCase {
    func testVirtioUserForwardsBothWaysAgainstVhostPeer() throws {
        try TestEAL.start()
        let directory = try TestEAL.temporaryDirectory()
        let socket = directory.appendingPathComponent("vhost.sock").path
        let names = [TestEAL.uniqueName("net_vhost_t"), TestEAL.uniqueName("virtio_user_t"), TestEAL.uniqueName("net_ring_v")]
        defer {
            for name in names.reversed() { TestEAL.removePort(name) }
            try? FileManager.default.removeItem(at: directory)
        }
        // The vhost side listens once configured; virtio_user connects to it while it is probed.
        let vhost = try TestEAL.createPort(names[0], arguments: "iface=\(socket),queues=1")
        let peerPool = try Mempool.createPacketPool(name: TestEAL.uniqueName("vhost_pool_"), count: 2047, cacheSize: 0)
        defer { peerPool.free() }
        try vhost.configure(PortConfiguration())
        try vhost.setupRxQueue(0, descriptors: 256, pool: peerPool)
        try vhost.setupTxQueue(0, descriptors: 256)
        try vhost.start()
        let virtio = try TestEAL.createPort(names[1], arguments: "path=\(socket),queues=1,queue_size=256")
        let ring = try TestEAL.createPort(names[2])
        XCTAssertEqual(try vhost.info().driverName, "net_vhost")
        XCTAssertEqual(try virtio.info().driverName, "net_virtio_user")

        var options = ForwardingOptions()
        options.rxDescriptors = 256
        options.txDescriptors = 256
        options.flushRxOnStart = false
        let forwarder = try Forwarder(options: options, ports: [ring, virtio], poolName: TestEAL.uniqueName("virtio_fwd_"), log: { _ in })
        waitFor { (try? vhost.link().isUp) == true }
        XCTAssertTrue(try vhost.link().isUp, "virtio_user negotiated with the vhost-user peer")

        // Toward vhost: ring rx -> virtio_user tx -> vhost rx.
        let outbound = (0..<200).map { Frames.udp(sequence: UInt32($0), length: 64 + $0 * 7) }
        // From vhost: vhost tx -> virtio_user rx -> ring tx -> ring rx -> virtio_user tx -> vhost rx.
        let inbound = (1000..<1200).map { Frames.udp(sequence: UInt32($0), length: 1514 - ($0 - 1000) * 5) }
        let burst = UnsafeMutablePointer<OpaquePointer?>.allocate(capacity: 64)
        defer { burst.deallocate() }
        for frame in outbound {
            burst[0] = try XCTUnwrap(Frames.mbuf(frame, pool: forwarder.pool)).pointer
            XCTAssertEqual(ring.transmit(queue: 0, burst, count: 1), 1)
        }
        try forwarder.startForwarding()
        var received: [UInt32: [UInt8]] = [:]
        var duplicates = 0
        let incoming = UnsafeMutablePointer<OpaquePointer?>.allocate(capacity: 64)
        defer { incoming.deallocate() }
        // The vhost side drains while it sends, as a guest would: virtio_user's tx ring only
        // frees slots the peer has consumed.
        func receive() {
            let count = Int(vhost.receive(queue: 0, into: incoming, count: 64))
            for index in 0..<count {
                let mbuf = Mbuf(incoming[index]!)
                let bytes = Frames.bytes(of: mbuf)
                if received.updateValue(bytes, forKey: Frames.sequence(of: bytes)) != nil { duplicates += 1 }
                mbuf.free()
            }
        }
        var sent = 0
        for frame in inbound {
            burst[0] = try XCTUnwrap(Frames.mbuf(frame, pool: peerPool)).pointer
            // The virtio rx ring may be full for a moment: retry; a frame never sent is freed.
            var tries = 0
            while vhost.transmit(queue: 0, burst, count: 1) == 0 && tries < 1000 {
                receive()
                tries += 1
                usleep(100)
            }
            if tries < 1000 { sent += 1 } else { Mbuf(burst[0]!).free() }
            receive()
        }
        XCTAssertEqual(sent, inbound.count)
        waitFor(seconds: 10) {
            receive()
            return received.count >= outbound.count + inbound.count
        }
        let statistics = try forwarder.stopForwarding()
        XCTAssertEqual(duplicates, 0)
        XCTAssertEqual(received.count, outbound.count + inbound.count, "every frame reached the vhost side")
        for frame in outbound + inbound {
            XCTAssertEqual(received[Frames.sequence(of: frame)], frame, "frame \(Frames.sequence(of: frame)) intact")
        }
        XCTAssertEqual(statistics.total.txDropped, 0)
        let virtioStats = try XCTUnwrap(statistics.ports.first { $0.id == virtio.id })
        XCTAssertEqual(virtioStats.rxPackets, UInt64(inbound.count), "virtio_user received what vhost sent")
        XCTAssertEqual(virtioStats.txPackets, UInt64(outbound.count + inbound.count))

        forwarder.shutdown()
        try vhost.stop()
        XCTAssertEqual(forwarder.pool.availableCount, forwarder.pool.size, "forwarder pool full again")
        XCTAssertEqual(peerPool.availableCount, peerPool.size, "peer pool full again")
    }

    private func waitFor(seconds: Double = 5, _ condition: () -> Bool) {
        let deadline = Date().addingTimeInterval(seconds)
        while !condition() && Date() < deadline { usleep(500) }
    }
}
