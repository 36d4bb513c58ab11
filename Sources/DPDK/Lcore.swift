import CDPDK

/// A logical core as EAL numbers it (`-l`, `--lcores`).
@frozen
public struct Lcore: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let id: UInt32
    public init(_ id: UInt32) { self.id = id }

    public static func < (a: Lcore, b: Lcore) -> Bool { a.id < b.id }
    public var description: String { "\(id)" }

    /// The lcore the calling thread runs on (nil for a non-EAL thread).
    public static var current: Lcore? {
        let id = cdpdk_lcore_id()
        return id == CDPDK_LCORE_ID_ANY ? nil : Lcore(UInt32(id))
    }

    public static var main: Lcore { Lcore(UInt32(rte_get_main_lcore())) }

    /// Every enabled lcore except the main one, ascending.
    public static var workers: [Lcore] {
        var result: [Lcore] = []
        var id = rte_get_next_lcore(UInt32.max, 1, 0)
        while id < CDPDK_MAX_LCORE {
            result.append(Lcore(id))
            id = rte_get_next_lcore(id, 1, 0)
        }
        return result
    }

    public static var count: Int { Int(rte_lcore_count()) }

    public var socket: Int32 { Int32(bitPattern: rte_lcore_to_socket_id(id)) }

    /// Runs `body` on this (worker) lcore. The closure is boxed once per launch, not per packet.
    public func launch(_ body: @escaping @Sendable () -> Int32) throws(DPDKError) {
        let box = Unmanaged.passRetained(LaunchBox(body)).toOpaque()
        let result = rte_eal_remote_launch({ argument in
            let box = Unmanaged<LaunchBox>.fromOpaque(argument!).takeRetainedValue()
            return box.body()
        }, box, id)
        if result != 0 {
            Unmanaged<LaunchBox>.fromOpaque(box).release()
            throw DPDKError("rte_eal_remote_launch on lcore \(id)", code: result)
        }
    }

    /// Waits for this lcore's function to return; its return value.
    @discardableResult
    public func wait() -> Int32 { rte_eal_wait_lcore(id) }

    public static func waitAll() { rte_eal_mp_wait_lcore() }
}

private final class LaunchBox {
    let body: @Sendable () -> Int32
    init(_ body: @escaping @Sendable () -> Int32) { self.body = body }
}
