import CDPDK
import DPDK
import Foundation
import Synchronization

/// The one EAL of a test process (`--no-huge --no-shconf`, its own file prefix), started on
/// first use. Tests make the vdevs they need at run time and remove them when done.
public enum TestEAL {
    private static let started: Result<Void, DPDKError> = {
        let prefix = "tunnelpmd-test-\(getpid())"
        let arguments = [
            "tunnelpmd-tests", "--no-huge", "-m", "512", "--no-pci", "--no-shconf", "--file-prefix", prefix,
            "-l", "0-1", "--log-level", "lib.eal:warning", "--log-level", "lib.vhost.*:warning",
        ]
        return Result { () throws(DPDKError) in _ = try EAL.initialize(arguments: arguments) }
    }()

    /// Starts EAL once; every later call returns at once (or rethrows the first failure).
    public static func start() throws(DPDKError) {
        try started.get()
    }

    /// Creates a vdev (e.g. "net_ring_t1", "net_pcap0,rx_pcap=...") and returns its port.
    public static func createPort(_ name: String, arguments: String = "") throws(DPDKError) -> EthPort {
        try start()
        let result = rte_vdev_init(name, arguments)
        if result != 0 { throw DPDKError("rte_vdev_init(\(name), \(arguments))", code: result) }
        var id: UInt16 = 0
        let lookup = rte_eth_dev_get_port_by_name(name, &id)
        if lookup != 0 { throw DPDKError("rte_eth_dev_get_port_by_name(\(name))", code: lookup) }
        return EthPort(id)
    }

    /// Stops, closes and removes a vdev made by `createPort`.
    public static func removePort(_ name: String) {
        var id: UInt16 = 0
        if rte_eth_dev_get_port_by_name(name, &id) == 0 {
            _ = try? EthPort(id).stop()
            _ = try? EthPort(id).close()
        }
        _ = rte_vdev_uninit(name)
    }

    /// A unique name for pools and vdevs within this process.
    public static func uniqueName(_ base: String) -> String {
        counter.withLock { value in
            value += 1
            return "\(base)\(value)"
        }
    }

    private static let counter = Mutex(0)

    /// A scratch directory for pcaps and sockets, removed by the caller.
    public static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("tunnelpmd-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}
