import DPDK

/// Counters of one stream, written only by the lcore that owns it. One per cache line, so
/// two lcores never share a line; readers take relaxed snapshots.
public struct StreamCounters {
    public var rxPackets: UInt64 = 0
    public var txPackets: UInt64 = 0
    /// Packets tx_burst did not take, freed by us (testpmd's TX-dropped).
    public var txDropped: UInt64 = 0
    /// Packets an engine dropped (malformed, unsupported): counted, freed.
    public var engineDropped: UInt64 = 0
    public var rxBursts: UInt64 = 0
    var padding: (UInt64, UInt64, UInt64) = (0, 0, 0)

    public init() {}
}

/// One rx queue forwarded to one tx queue, as testpmd's fwd_stream.
public struct Stream {
    public let rxPort: Port
    public let rxQueue: UInt16
    public let txPort: Port
    public let txQueue: UInt16
    /// Source address the mac and csum engines write: the tx port's own.
    public let txSourceMAC: MACAddress
    /// Destination address the mac and csum engines write: the tx port's peer (`set eth-peer`,
    /// `--eth-peer`; testpmd's 02:00:00:00:00:<port> by default).
    public let peerMAC: MACAddress
    public let counters: UnsafeMutablePointer<StreamCounters>
    /// The engine's own counters (`EngineCounter` slots), on their own cache lines.
    public let engineCounters: UnsafeMutablePointer<UInt64>
    /// Rx then tx burst sizes (`BurstSpread`), counted while `--record-burst-stats` is on.
    public let burstSpread: UnsafeMutablePointer<UInt64>
}

/// Cache-line aligned counter blocks for a set of streams, owned by the forwarder.
final class CounterBlock: @unchecked Sendable {
    let base: UnsafeMutablePointer<StreamCounters>
    private let engineBase: UnsafeMutablePointer<UInt64>
    private let burstBase: UnsafeMutablePointer<UInt64>
    let count: Int

    init(count: Int) {
        precondition(MemoryLayout<StreamCounters>.stride == 64, "StreamCounters must fill one cache line")
        self.count = max(count, 1)
        let raw = UnsafeMutableRawPointer.allocate(byteCount: 64 * self.count, alignment: 64)
        base = raw.bindMemory(to: StreamCounters.self, capacity: self.count)
        base.initialize(repeating: StreamCounters(), count: self.count)
        let slots = EngineCounter.stride * self.count
        engineBase = UnsafeMutableRawPointer.allocate(byteCount: 8 * slots, alignment: 64)
            .bindMemory(to: UInt64.self, capacity: slots)
        engineBase.initialize(repeating: 0, count: slots)
        let burstSlots = BurstSpread.slotsPerStream * self.count
        burstBase = UnsafeMutableRawPointer.allocate(byteCount: 8 * burstSlots, alignment: 64)
            .bindMemory(to: UInt64.self, capacity: burstSlots)
        burstBase.initialize(repeating: 0, count: burstSlots)
    }

    func burstSpread(_ stream: Int) -> UnsafeMutablePointer<UInt64> {
        burstBase + stream * BurstSpread.slotsPerStream
    }

    func engineCounters(_ stream: Int) -> UnsafeMutablePointer<UInt64> {
        engineBase + stream * EngineCounter.stride
    }

    deinit {
        UnsafeMutableRawPointer(base).deallocate()
        UnsafeMutableRawPointer(engineBase).deallocate()
        UnsafeMutableRawPointer(burstBase).deallocate()
    }
}
