import CDPDK
import DPDK
import Foundation
import Glibc

/// What to capture: `capture port <p> rx|tx|both <file> [count <n>]`, or
/// `--capture=<port>,<rx|tx|both>,<file>[,<count>]` on the command line.
public struct CaptureRequest: Sendable, Equatable {
    public enum Direction: String, Sendable, CaseIterable {
        case rx, tx, both
        var slots: [Int] {
            switch self {
            case .rx: [0]
            case .tx: [1]
            case .both: [0, 1]
            }
        }
    }

    public var port: UInt16
    public var direction: Direction
    public var path: String
    /// Packets to write before the capture finishes by itself; nil: until `capture stop`.
    public var count: UInt64?

    public init(port: UInt16, direction: Direction, path: String, count: UInt64? = nil) {
        self.port = port
        self.direction = direction
        self.path = path
        self.count = count
    }

    /// `<port>,<rx|tx|both>,<file>[,<count>]`.
    public static func parse(_ text: String) throws(OptionError) -> CaptureRequest {
        let parts = text.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        let allowed = "<port>,<rx|tx|both>,<file.pcapng>[,<count>]"
        guard parts.count == 3 || parts.count == 4, let port = UInt16(parts[0]),
              let direction = Direction(rawValue: parts[1]), !parts[2].isEmpty
        else { throw OptionError(option: "capture", value: text, allowed: allowed) }
        var count: UInt64?
        if parts.count == 4 {
            guard let n = UInt64(parts[3]), n > 0 else { throw OptionError(option: "capture", value: text, allowed: allowed) }
            count = n
        }
        return CaptureRequest(port: port, direction: direction, path: parts[2], count: count)
    }
}

public struct CaptureError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Counters of a capture: every packet seen on the port and direction while armed is either
/// queued for the file or counted as not captured, by reason.
public struct CaptureCounters: Sendable, Equatable {
    public var seen: UInt64 = 0
    public var queued: UInt64 = 0
    public var ringFull: UInt64 = 0
    public var poolEmpty: UInt64 = 0
    public var overLimit: UInt64 = 0
    public var written: UInt64 = 0
    public var writeErrors: UInt64 = 0
}

public struct CaptureStatus: Sendable, CustomStringConvertible {
    public var request: CaptureRequest
    public var isRunning: Bool
    public var counters: CaptureCounters

    public var description: String {
        let c = counters
        let count = request.count.map { " count \($0)" } ?? ""
        return """
            Capture port \(request.port) \(request.direction.rawValue) to \(request.path)\(count): \(isRunning ? "running" : "finished")
              Seen: \(c.seen)  Captured: \(c.queued)  Written: \(c.written)
              Dropped-ring-full: \(c.ringFull)  Dropped-pool-empty: \(c.poolEmpty)  Over-count: \(c.overLimit)  Write-errors: \(c.writeErrors)
            """
    }
}

/// The per-port, per-direction slots the workers read: `ports` ports, rx then tx.
final class CaptureSlots: @unchecked Sendable {
    static let ports = 256
    let base: UnsafeMutablePointer<cdpdk_capture_slot>
    /// Set while any slot is armed (one capture at a time): the workers test it first.
    let anyArmed: UnsafeMutablePointer<UInt32>

    init(anyArmed: UnsafeMutablePointer<UInt32>) {
        self.anyArmed = anyArmed
        let raw = UnsafeMutableRawPointer.allocate(byteCount: MemoryLayout<cdpdk_capture_slot>.stride * Self.ports * 2, alignment: 64)
        memset(raw, 0, MemoryLayout<cdpdk_capture_slot>.stride * Self.ports * 2)
        base = raw.bindMemory(to: cdpdk_capture_slot.self, capacity: Self.ports * 2)
    }
    deinit { UnsafeMutableRawPointer(base).deallocate() }

    @inline(__always)
    func slot(port: UInt16, outbound: Int) -> UnsafeMutablePointer<cdpdk_capture_slot> {
        base + (Int(port & 0xff) * 2 + outbound)
    }
}

/// The forwarding lcores' side: one call per burst while armed, out of line so the loop
/// pays one load and one predictable branch when no capture is armed.
enum CaptureHook {
    @inline(never)
    static func capture(
        _ slot: UnsafeMutablePointer<cdpdk_capture_slot>, port: UInt16, queue: UInt16,
        _ mbufs: UnsafeMutablePointer<OpaquePointer?>, count: Int, outbound: Int32
    ) {
        cdpdk_capture_burst(slot, port, queue, mbufs, UInt32(truncatingIfNeeded: count), outbound)
    }
}

/// The ring and capture pool, made at the first capture and kept for the forwarder's life
/// (a worker that loaded the armed flag just before a stop may still be using them).
final class CaptureResources: @unchecked Sendable {
    /// Mbufs of the capture pool; the ring holds one fewer.
    static let poolSize: UInt32 = 512
    static let ringSize: UInt32 = 512
    /// One segment of the largest data room: rte_pcapng_copy in 22.11 frames only a
    /// single-segment copy, so a super-frame's chain is copied whole into one mbuf.
    static let dataRoom: UInt16 = 65535
    /// Bytes of a frame kept: the data room less the headroom and room for the block's options.
    static var snapLength: UInt32 { UInt32(dataRoom) - UInt32(RTE_PKTMBUF_HEADROOM) - 256 }

    let pool: Mempool
    let ring: OpaquePointer

    init(name: String) throws(CaptureError) {
        do {
            pool = try Mempool.createPacketPool(
                name: name + "_pool", count: Self.poolSize, cacheSize: 0, dataRoomSize: Self.dataRoom, socket: 0)
        } catch {
            throw CaptureError("cannot create the capture pool (\(Self.poolSize) mbufs of \(Self.dataRoom) bytes): \(error)")
        }
        guard let ring = cdpdk_capture_ring_create(name + "_ring", Self.ringSize) else {
            pool.free()
            throw CaptureError("cannot create the capture ring: \("rte_ring_create failed")")
        }
        self.ring = ring
    }

    /// Frees what a previous capture left (a late producer after its writer finished).
    func drain() {
        let buffer = UnsafeMutablePointer<OpaquePointer?>.allocate(capacity: 64)
        defer { buffer.deallocate() }
        while true {
            let n = Int(cdpdk_capture_dequeue(ring, buffer, 64))
            if n == 0 { break }
            Mbuf.freeBulk(buffer, count: n)
        }
    }
}

/// One capture: the armed slots, the pcapng file and the writer thread (not a forwarding
/// lcore) that empties the ring into it.
final class CaptureSession: @unchecked Sendable {
    let request: CaptureRequest
    private let slots: [UnsafeMutablePointer<cdpdk_capture_slot>]
    private let anyArmed: UnsafeMutablePointer<UInt32>
    private let resources: CaptureResources
    private let writer: OpaquePointer
    private let fd: Int32
    /// pcapng interface index of each tap port (ethdevs are indexed by rte_pcapng itself).
    private let tapInterfaces: [UInt16: UInt32]
    private let lock = NSLock()
    private var stopRequested = false
    private var finished = false
    private var written: UInt64 = 0
    private var writeErrors: UInt64 = 0
    private var thread: Thread?
    private let done = DispatchSemaphore(value: 0)

    init(request: CaptureRequest, table: CaptureSlots, resources: CaptureResources, tapNames: [(UInt16, String)]) throws(CaptureError) {
        self.request = request
        self.resources = resources
        let fd = open(request.path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw CaptureError("cannot open \(request.path): \(String(cString: strerror(errno)))") }
        let comment = "capture port \(request.port) \(request.direction.rawValue)"
        guard let writer = cdpdk_pcapng_fdopen(fd, "Linux", nil, "tunnelpmd", comment) else {
            close(fd)
            throw CaptureError("rte_pcapng_fdopen failed for \(request.path)")
        }
        self.writer = writer
        self.fd = fd
        var interfaces: [UInt16: UInt32] = [:]
        var next = UInt32(rte_eth_dev_count_avail())
        for (id, name) in tapNames {
            _ = cdpdk_pcapng_write_interface(fd, name)
            interfaces[id] = next
            next += 1
        }
        tapInterfaces = interfaces
        resources.drain()
        slots = request.direction.slots.map { table.slot(port: request.port, outbound: $0) }
        anyArmed = table.anyArmed
        for slot in slots {
            cdpdk_store_flag(&slot.pointee.armed, 0)
            var fresh = cdpdk_capture_slot()
            fresh.snaplen = CaptureResources.snapLength
            fresh.ring = resources.ring
            fresh.pool = resources.pool.pointer
            // The limit counts packets across both directions of `both` through each slot's
            // own claim counter; `count` bounds what is written in any case.
            fresh.limit = request.count ?? 0
            slot.pointee = fresh
        }
        for slot in slots { cdpdk_store_flag(&slot.pointee.armed, 1) }
        cdpdk_store_flag(anyArmed, 1)
        let thread = Thread { [self] in self.run() }
        thread.name = "tunnelpmd-capture"
        self.thread = thread
        thread.start()
    }

    var counters: CaptureCounters {
        var c = CaptureCounters()
        for slot in slots {
            c.seen &+= cdpdk_capture_counter(slot, 0)
            c.queued &+= cdpdk_capture_counter(slot, 1)
            c.ringFull &+= cdpdk_capture_counter(slot, 2)
            c.poolEmpty &+= cdpdk_capture_counter(slot, 3)
            c.overLimit &+= cdpdk_capture_counter(slot, 4)
        }
        lock.withLock {
            c.written = written
            c.writeErrors = writeErrors
        }
        return c
    }

    var isRunning: Bool { lock.withLock { !finished } }

    var status: CaptureStatus { CaptureStatus(request: request, isRunning: isRunning, counters: counters) }

    private func disarm() {
        cdpdk_store_flag(anyArmed, 0)
        for slot in slots { cdpdk_store_flag(&slot.pointee.armed, 0) }
    }

    /// Disarms, lets bursts in flight finish, writes what is queued and closes the file.
    func stop() -> CaptureStatus {
        disarm()
        lock.withLock { stopRequested = true }
        done.wait()
        done.signal()
        return status
    }

    private func run() {
        let batch = 64
        let buffer = UnsafeMutablePointer<OpaquePointer?>.allocate(capacity: batch)
        let ethdevs = UnsafeMutablePointer<OpaquePointer?>.allocate(capacity: batch)
        let text = UnsafeMutablePointer<CChar>.allocate(capacity: 256)
        defer {
            buffer.deallocate()
            ethdevs.deallocate()
            text.deallocate()
        }
        let limit = request.count ?? UInt64.max
        var total: UInt64 = 0
        var stopSeen: Date?
        while true {
            let n = Int(cdpdk_capture_dequeue(resources.ring, buffer, UInt32(batch)))
            if n == 0 {
                if total >= limit { break }
                let stopping = lock.withLock { stopRequested }
                if stopping {
                    // A worker that loaded the armed flag before the stop finishes its burst
                    // within microseconds: wait a little, then empty the ring once more.
                    if let since = stopSeen {
                        if Date().timeIntervalSince(since) > 0.05 { break }
                    } else {
                        stopSeen = Date()
                    }
                }
                usleep(200)
                continue
            }
            var pending = 0
            var errors: UInt64 = 0
            var wrote: UInt64 = 0
            func flush() {
                guard pending > 0 else { return }
                if cdpdk_pcapng_write_packets(writer, ethdevs, UInt16(pending)) < 0 { errors &+= UInt64(pending) } else { wrote &+= UInt64(pending) }
                pending = 0
            }
            var keep = n
            if total &+ UInt64(n) > limit {
                keep = Int(limit &- total)
            }
            for index in 0..<keep {
                let m = buffer[index]!
                let length = cdpdk_capture_describe(m, text, 256)
                if length > 0 { _ = cdpdk_pcapng_add_comment(m, text, UInt16(min(length, 255))) }
                let port = Mbuf(m).port
                if let interface = tapInterfaces[port] {
                    flush()
                    if cdpdk_pcapng_write_block(fd, m, interface) < 0 { errors &+= 1 } else { wrote &+= 1 }
                } else {
                    ethdevs[pending] = m
                    pending += 1
                }
            }
            flush()
            Mbuf.freeBulk(buffer, count: n)
            total &+= UInt64(keep)
            lock.withLock {
                written &+= wrote
                writeErrors &+= errors
            }
            if total >= limit {
                disarm()
                lock.withLock { stopRequested = true }
            }
        }
        disarm()
        cdpdk_pcapng_close(writer)
        lock.withLock { finished = true }
        done.signal()
    }
}

extension Forwarder {
    /// Arms a capture (one at a time); works in every mode, on ethdev and tap ports, with or
    /// without forwarding running.
    public func startCapture(_ request: CaptureRequest) throws(CaptureError) {
        if let session = captureSession, session.isRunning {
            throw CaptureError("a capture is running (port \(session.request.port) to \(session.request.path)): capture stop first")
        }
        let port: Port
        do { port = try self.port(request.port) } catch { throw CaptureError(error.description) }
        guard Int(port.id) < CaptureSlots.ports else { throw CaptureError("port \(port.id): captures take ports below \(CaptureSlots.ports)") }
        if captureResources == nil { captureResources = try CaptureResources(name: "capture_\(getpid())") }
        let taps = ports.compactMap { p in p.tapDevice.map { (p.id, "vnet_tap:" + $0.options.name) } }
        captureSession = try CaptureSession(request: request, table: control.captureSlots, resources: captureResources!, tapNames: taps)
    }

    /// Stops the capture (or reports the one that finished at its count) and closes its file.
    public func stopCapture() throws(CaptureError) -> CaptureStatus {
        guard let session = captureSession else { throw CaptureError("no capture") }
        let status = session.stop()
        captureSession = nil
        return status
    }

    public var captureStatus: CaptureStatus? { captureSession?.status }
}
