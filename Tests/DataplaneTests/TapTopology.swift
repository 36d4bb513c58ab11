@testable import Dataplane
@testable import VnetTap
import DPDK
import Foundation
import TestSupport
import XCTest

/// Tools/netns/vxlan-taps.sh from a test: two namespaces with a tap and a kernel VXLAN device
/// each, removed again by `down()` (also on failure: callers `defer` it).
final class TapTopology {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let script = root.appendingPathComponent("Tools/netns/vxlan-taps.sh").path
    static let pattern = root.appendingPathComponent("Tools/netns/tcp-pattern.py").path

    let prefix: String
    let ipv6: Bool
    var namespaceA: String { "\(prefix)-a" }
    var namespaceB: String { "\(prefix)-b" }
    let tap = "vtap0"
    let overlayA = "10.98.0.1"
    let overlayB = "10.98.0.2"
    private var processes: [Process] = []

    /// `dynamicNeighbours`: no static entries, so ARP and ND cross the relay first, as on a
    /// real overlay.
    init(ipv6: Bool = false, udpChecksum: Bool = true, mtu: Int = 1500, dynamicNeighbours: Bool = true) throws {
        Self.removeStale()
        prefix = "tap\(getpid())-\(Self.nextIndex())"
        self.ipv6 = ipv6
        var arguments = ["up", prefix, "--mtu", "\(mtu)"]
        if ipv6 { arguments.append("--ipv6") }
        if !udpChecksum { arguments.append("--noudpcsum") }
        if dynamicNeighbours { arguments.append("--dynamic") }
        let (status, output) = try Self.run(Self.script, arguments)
        guard status == 0 else {
            _ = try? Self.run(Self.script, ["down", prefix])
            throw XCTSkip("vxlan-taps.sh up failed (\(status)): \(output)")
        }
    }

    /// Namespaces left by a test process that died (a crash skips tearDown): tap<pid>-<n>-a/b
    /// whose pid is gone.
    static func removeStale() {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: "/var/run/netns") else { return }
        for name in names where name.hasPrefix("tap") && name.hasSuffix("-a") {
            let parts = name.dropFirst(3).split(separator: "-")
            guard parts.count == 3, let pid = Int32(parts[0]), Int(parts[1]) != nil else { continue }
            if kill(pid, 0) != 0 && errno == ESRCH {
                _ = try? run(script, ["down", String(name.dropLast(2))])
            }
        }
    }

    private static let counter = NSLock()
    nonisolated(unsafe) private static var index = 0
    private static func nextIndex() -> Int {
        counter.lock()
        defer { counter.unlock() }
        index += 1
        return index
    }

    /// Ends the processes started here, by pid.
    func stopProcesses() {
        for process in processes where process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        processes.removeAll()
    }

    /// Ends the processes started here and removes the namespaces (idempotent).
    func down() {
        stopProcesses()
        _ = try? Self.run(Self.script, ["down", prefix])
    }

    /// Starts `arguments` inside namespace `ns`, output into a pipe read at the end.
    func start(in ns: String, _ arguments: [String]) throws -> (Process, Pipe) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/sbin/ip")
        process.arguments = ["netns", "exec", ns] + arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        processes.append(process)
        return (process, pipe)
    }

    /// Every nstat counter of `ns` whose name says it counts checksum or header errors.
    func errorCounters(_ ns: String) throws -> [String: Int] {
        let (_, output) = try Self.run("/usr/sbin/ip", ["netns", "exec", ns, "nstat", "-asz"])
        var result: [String: Int] = [:]
        for line in output.split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 2, let value = Int(fields[1]) else { continue }
            let name = String(fields[0])
            if name.contains("CsumErrors") || name.hasSuffix("InHdrErrors") || name == "TcpInErrs" {
                result[name] = value
            }
        }
        return result
    }

    @discardableResult
    static func run(_ tool: String, _ arguments: [String]) throws -> (Int32, String) {
        try Command.run(tool, arguments)
    }
}

/// What the relay saw going one way.
struct RelayObservation {
    var frames = 0
    var superFrames = 0
    var tunnelSuperFrames = 0
    var largestFrame = 0
    var gsoSizes = Set<Int>()
    /// Super-frames whose inner L4 checksum field was not DPDK's pseudo-header sum (no length).
    var pseudoHeaderMismatches = 0
    var outerUDPChecksumRequests = 0
    /// gso_type values the metadata of super-frames stands for (0x21: TCPv4 in a UDP tunnel
    /// over IPv4, 0x41 over IPv6, 0x01 plain TCPv4, ...).
    var gsoTypes = Set<UInt8>()
    /// Frames that came with a partial checksum and no GSO (a TCP/UDP checksum request).
    var checksumRequests = 0
    var bytes = 0
}

/// Relays between two tap devices on the calling thread: A's frames to B and B's to A,
/// checking each received super-frame's metadata on the way.
struct TapRelay {
    let a: TapDevice
    let b: TapDevice
    var aToB = RelayObservation()
    var bToA = RelayObservation()
    var unsent = 0

    init(_ a: TapDevice, _ b: TapDevice) {
        self.a = a
        self.b = b
    }

    /// One pass each way; returns how many packets moved.
    mutating func poll(_ burst: UnsafeMutablePointer<OpaquePointer?>, size: Int) -> Int {
        var forward = aToB, backward = bToA
        let one = step(from: a, to: b, burst, size, &forward)
        let two = step(from: b, to: a, burst, size, &backward)
        aToB = forward
        bToA = backward
        return one + two
    }

    private mutating func step(
        from source: TapDevice, to destination: TapDevice, _ burst: UnsafeMutablePointer<OpaquePointer?>, _ size: Int,
        _ observation: inout RelayObservation
    ) -> Int {
        let count = source.receive(into: burst, count: size)
        for index in 0..<count { Self.observe(Mbuf(burst[index]!), &observation) }
        var sent = 0
        var attempts = 0
        while sent < count && attempts < 1000 {
            sent += destination.transmit(burst + sent, count: count - sent)
            attempts += 1
        }
        if sent < count {
            Mbuf.freeBulk(burst + sent, count: count - sent)
            unsent += count - sent
        }
        return count
    }

    static func observe(_ packet: Mbuf, _ o: inout RelayObservation) {
        o.frames += 1
        o.bytes += Int(packet.packetLength)
        o.largestFrame = max(o.largestFrame, Int(packet.packetLength))
        let flags = packet.offloadFlags
        if !flags.intersection(.txL4Mask).isEmpty && !flags.contains(.rxLRO) { o.checksumRequests += 1 }
        guard flags.contains(.rxLRO) else { return }
        var gso: UInt8 = flags.contains(.txTCPSegmentation) ? (flags.contains(.txIPv6) ? 4 : 1) : 5
        if flags.tunnelType.rawValue != 0 { gso |= flags.contains(.txOuterIPv6) ? 0x40 : 0x20 }
        o.gsoTypes.insert(gso)
        o.superFrames += 1
        let lengths = packet.txOffload
        o.gsoSizes.insert(lengths.tsoSegmentSize)
        var l3 = lengths.l2
        if flags.tunnelType.rawValue != 0 {
            o.tunnelSuperFrames += 1
            l3 += lengths.outerL2 + lengths.outerL3
        }
        if flags.contains(.txOuterUDPChecksum) { o.outerUDPChecksumRequests += 1 }
        let h = packet.data
        let l4 = l3 + lengths.l3
        let expected = h.pseudoHeaderSum(ipAt: l3, protocol: flags.contains(.txTCPSegmentation) ? 6 : 17, length: nil)
        let field = h.be16(l4 + (flags.contains(.txTCPSegmentation) ? 16 : 6))
        if field != expected { o.pseudoHeaderMismatches += 1 }
    }
}
