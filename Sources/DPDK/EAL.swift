import CDPDK
import Glibc

/// The Environment Abstraction Layer: initialised once per process, before anything else.
public enum EAL {
    /// Initialises EAL from `arguments` (argv[0] first). Returns how many were consumed.
    /// The vector is copied into C strings that live for the process, as EAL keeps pointers.
    @discardableResult
    public static func initialize(arguments: [String]) throws(DPDKError) -> Int {
        let argc = Int32(arguments.count)
        let argv = UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>.allocate(capacity: arguments.count + 1)
        for (index, argument) in arguments.enumerated() { argv[index] = strdup(argument) }
        argv[arguments.count] = nil
        let consumed = rte_eal_init(argc, argv)
        if consumed < 0 { throw DPDKError.errno("rte_eal_init") }
        return Int(consumed)
    }

    /// Releases hugepages/shared memory. No DPDK call may follow.
    public static func cleanup() {
        _ = rte_eal_cleanup()
    }

    public static var version: String { String(cString: cdpdk_version()) }

    /// Cycles per second of the TSC, for rates and timers.
    public static var tscHz: UInt64 { cdpdk_tsc_hz() }

    @inlinable @inline(__always)
    public static var tsc: UInt64 { cdpdk_rdtsc() }
}
