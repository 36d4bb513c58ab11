import CDPDK
import DPDK

/// The forward counters of a run, declared once: the `stop` statistics (by `label`), telemetry
/// (`/tunnelpmd/stats`: per port, and per stream for those kept per stream) and `show port
/// xstats` (as `tunnelpmd_<name>`, beside the driver's) render from `ForwardCounter.allCases`.
/// Stream counters are summed per port by their side; port counters are the port's own basic
/// statistics since forwarding started.
public enum ForwardCounter: Int, CaseIterable, Sendable {
    case rxPackets, rxMissed, rxNoMbuf, rxErrors, txPackets, txDropped, engineDropped, rxBursts

    public var descriptor: CounterDescriptor {
        switch self {
        case .rxPackets: CounterDescriptor("rx_good_packets", "packets the streams received", side: .rx, scope: .stream)
        case .rxMissed:
            CounterDescriptor("rx_missed_errors", "packets the port dropped for want of room (imissed)", side: .rx, scope: .port)
        case .rxNoMbuf:
            CounterDescriptor("rx_mbuf_allocation_errors", "receive mbuf allocation failures of the port", side: .rx, scope: .port)
        case .rxErrors: CounterDescriptor("rx_errors", "erroneous packets the port received", side: .rx, scope: .port)
        case .txPackets: CounterDescriptor("tx_good_packets", "packets tx_burst took", side: .tx, scope: .stream)
        case .txDropped: CounterDescriptor("tx_dropped", "packets tx_burst did not take, freed", side: .tx, scope: .stream)
        case .engineDropped:
            CounterDescriptor("engine_dropped", "packets the engine dropped (malformed, unsupported), freed", side: .rx, scope: .stream)
        case .rxBursts: CounterDescriptor("rx_bursts", "polls that received at least one packet", side: .rx, scope: .stream)
        }
    }

    /// testpmd's label in the `stop` statistics; nil for a counter `stop` does not print.
    public var label: String? {
        switch self {
        case .rxPackets: "RX-packets"
        case .rxMissed: "RX-dropped"
        case .rxNoMbuf: "RX-nombufs"
        case .rxErrors: "RX-error"
        case .txPackets: "TX-packets"
        case .txDropped: "TX-dropped"
        case .engineDropped: "Engine-dropped"
        case .rxBursts: nil
        }
    }

    /// The basic statistic a port counter is the difference of.
    var portField: PortStats.Field? {
        switch self {
        case .rxMissed: .rxMissed
        case .rxNoMbuf: .rxNoMbuf
        case .rxErrors: .rxErrors
        case .rxPackets, .txPackets, .txDropped, .engineDropped, .rxBursts: nil
        }
    }

    /// The stream field of a counter kept per stream.
    var streamField: KeyPath<StreamCounters, UInt64>? {
        switch self {
        case .rxPackets: \.rxPackets
        case .txPackets: \.txPackets
        case .txDropped: \.txDropped
        case .engineDropped: \.engineDropped
        case .rxBursts: \.rxBursts
        case .rxMissed, .rxNoMbuf, .rxErrors: nil
        }
    }

    /// The counters kept per stream.
    public static let streamCounters = allCases.filter { $0.descriptor.scope == .stream }
}

extension StreamCounters {
    /// A relaxed load of one counter of the stream at `counters` (only its lcore writes it);
    /// 0 for a counter the port keeps.
    static func load(_ counter: ForwardCounter, from counters: UnsafeMutablePointer<StreamCounters>) -> UInt64 {
        guard let field = counter.streamField, let offset = MemoryLayout<StreamCounters>.offset(of: field) else { return 0 }
        return cdpdk_load_counter(UnsafeMutableRawPointer(counters).assumingMemoryBound(to: UInt64.self) + offset / 8)
    }
}

extension ForwardStatistics.Port {
    public subscript(counter: ForwardCounter) -> UInt64 {
        get {
            switch counter {
            case .rxPackets: rxPackets
            case .rxMissed: rxDropped
            case .rxNoMbuf: rxNoMbuf
            case .rxErrors: rxErrors
            case .txPackets: txPackets
            case .txDropped: txDropped
            case .engineDropped: engineDropped
            case .rxBursts: rxBursts
            }
        }
        set {
            switch counter {
            case .rxPackets: rxPackets = newValue
            case .rxMissed: rxDropped = newValue
            case .rxNoMbuf: rxNoMbuf = newValue
            case .rxErrors: rxErrors = newValue
            case .txPackets: txPackets = newValue
            case .txDropped: txDropped = newValue
            case .engineDropped: engineDropped = newValue
            case .rxBursts: rxBursts = newValue
            }
        }
    }

    /// The forward counters, then the engine counters, by their schema names: `show port
    /// xstats` lists them as `tunnelpmd_<name>`; telemetry names them alike, without the prefix.
    public var namedCounters: [(name: String, value: UInt64)] {
        ForwardCounter.allCases.map { ($0.descriptor.name, self[$0]) } + EngineCounter.schema.map { ($0.name, engine[$0.slot]) }
    }
}
