import CDPDK
import DPDK
import Glibc
import Offload
import Synchronization
import VnetTap

/// tunnelpmd's data in DPDK's telemetry (`dpdk-telemetry.py -f <file-prefix>`): the
/// `/tunnelpmd/...` commands beside DPDK's own `/ethdev/...`.
///
/// The callbacks run on DPDK's telemetry threads (one per connected client, so possibly
/// several at once). They never touch the forwarder: the main thread publishes an immutable
/// `TelemetryView` after every change (a forwarder property's `didSet`), under a lock only
/// the main thread and the telemetry threads take, and the callbacks read that view and the
/// stream counters (relaxed loads of counters only their lcore writes, as `stop` does). Every
/// counter is named as its component declares it (`ForwardCounter`, `EngineCounter.schema`,
/// `TapStatistics.schema`), the names `show port xstats` lists.
/// Workers take no lock and run no telemetry code.
public enum Telemetry {
    /// The view the callbacks read; nil when no forwarder is attached.
    private static let current = Mutex<TelemetryView?>(nil)
    /// Commands can be registered once per process; later attaches only publish.
    private static let registered = Mutex<Bool>(false)
    /// The attached forwarder's mbuf pools (`/tunnelpmd/pools`); empty when none is attached.
    private static let pools = Mutex<[Mempool]>([])

    /// Every command with its help text (`/help,<command>`).
    public static let commands: [(name: String, help: String)] = [
        ("/tunnelpmd/ports", "Returns the tunnelpmd port ids (ethdevs and vnet taps)."),
        ("/tunnelpmd/stats", "Returns a port's forward statistics and its streams' counters. Parameters: int port_id"),
        ("/tunnelpmd/drops", "Returns engine drops by reason (all ports, or one) and vnet tap drops. Parameters: [int port_id]"),
        ("/tunnelpmd/plans", "Returns the csum engine's tx plans on a port by kind and downgrade reason. Parameters: int port_id"),
        ("/tunnelpmd/config", "Returns the forwarding configuration."),
        ("/tunnelpmd/taps", "Returns the vnet tap ports' counters (all, or one). Parameters: [int port_id]"),
        ("/tunnelpmd/pools", "Returns each mbuf pool's size, available and in-use mbufs (per-lcore caches count as available)."),
    ]

    /// Registers the commands (once) and publishes `forwarder`'s state now and after each of
    /// its changes. Call on the forwarder's thread, after EAL is initialised.
    public static func attach(_ forwarder: Forwarder) {
        registerCommands()
        forwarder.onChange = { publish($0) }
        publish(forwarder)
        let all = [forwarder.pool, forwarder.headerPool, forwarder.indirectPool]
            + forwarder.socketPools.keys.sorted().map { forwarder.socketPools[$0]! }
        pools.withLock { $0 = all }
    }

    /// Stops publishing: the commands answer null (as for an unknown port) from now on. Call
    /// before the forwarder shuts its ports down.
    public static func detach(_ forwarder: Forwarder) {
        forwarder.onChange = nil
        current.withLock { $0 = nil }
        pools.withLock { $0 = [] }
    }

    static func publish(_ forwarder: Forwarder) {
        let view = forwarder.telemetryView()
        current.withLock { $0 = view }
    }

    private static var view: TelemetryView? { current.withLock { $0 } }

    private static func registerCommands() {
        let first = registered.withLock { done in
            defer { done = true }
            return !done
        }
        guard first else { return }
        let callback: telemetry_cb = { command, params, data in Telemetry.answer(command, params, data) }
        for command in commands { _ = rte_telemetry_register_cmd(command.name, callback, command.help) }
    }

    /// A command's answer: 0 after filling `data`, a negative errno (the client prints null)
    /// for a bad parameter or when nothing is attached.
    private static func answer(_ command: UnsafePointer<CChar>?, _ params: UnsafePointer<CChar>?, _ data: OpaquePointer?) -> Int32 {
        let body: (TelemetryView, UInt16?, TelemetryData) throws(TelemetryRefusal) -> Void
        switch command.map({ String(cString: $0) }) {
        case "/tunnelpmd/ports": body = ports
        case "/tunnelpmd/stats": body = stats
        case "/tunnelpmd/drops": body = drops
        case "/tunnelpmd/plans": body = plans
        case "/tunnelpmd/config": body = config
        case "/tunnelpmd/taps": body = taps
        case "/tunnelpmd/pools": return poolCounts(params, data)
        default: return -EINVAL
        }
        guard let data, let view else { return -ENODEV }
        let text = params.map { String(cString: $0) } ?? ""
        let trimmed = text.filter { !$0.isWhitespace }
        var port: UInt16?
        if !trimmed.isEmpty {
            guard let id = UInt16(trimmed) else { return -EINVAL }
            port = id
        }
        do {
            try body(view, port, TelemetryData(data))
        } catch {
            return -error.code
        }
        return 0
    }

    // MARK: commands

    /// The pools' counts, read under the lock so a detach (before the pools are freed) waits
    /// for a query in progress. Counts taken while forwarding move as the workers run.
    private static func poolCounts(_ params: UnsafePointer<CChar>?, _ raw: OpaquePointer?) -> Int32 {
        guard let raw else { return -ENODEV }
        if let params, !String(cString: params).allSatisfy(\.isWhitespace) { return -EINVAL }
        return pools.withLock { pools -> Int32 in
            guard !pools.isEmpty else { return -ENODEV }
            let data = TelemetryData(raw)
            data.startDict()
            for pool in pools {
                let size = pool.size, available = pool.availableCount
                data.addDict(pool.name) { entry in
                    entry.add("size", UInt64(size))
                    entry.add("available", UInt64(available))
                    entry.add("in_use", UInt64(max(size - available, 0)))
                }
            }
            return 0
        }
    }

    private static func ports(_ view: TelemetryView, _ id: UInt16?, _ data: TelemetryData) throws(TelemetryRefusal) {
        guard id == nil else { throw .badParameter }
        data.startIntArray()
        for port in view.ports { data.append(Int32(port.id)) }
    }

    private static func stats(_ view: TelemetryView, _ id: UInt16?, _ data: TelemetryData) throws(TelemetryRefusal) {
        let port = try view.port(id)
        let statistics = view.statistics()
        guard let entry = statistics.ports.first(where: { $0.id == port.id }) else { throw .noSuchPort }
        data.startDict()
        data.add("port", UInt64(port.id))
        data.add("name", port.name)
        data.add("driver", view.driverName(port))
        data.add("forwarding", view.isForwarding ? "on" : "off")
        data.add("mode", view.runningMode?.rawValue ?? view.options.mode.rawValue)
        // The forward counters, then the engine counters that are neither drops nor plans (those
        // have their own commands), by their schema names.
        for counter in ForwardCounter.allCases { data.add(counter.descriptor.name, entry[counter]) }
        for counter in EngineCounter.schema
            where [.verdict, .gso, .info].contains(counter.kind) || counter.kind.isCoalescing {
            data.add(counter.name, entry.engine[counter.slot])
        }
        // Each stream that receives or sends on this port, numbered as `show config fwd` lists them.
        var shown = 0
        for (index, stream) in view.plan.allStreams.enumerated()
        where (stream.rxPort == port || stream.txPort == port) && shown < TelemetryData.maxStreams {
            data.addDict("stream_\(index)") { s in
                s.add("rx_port", UInt64(stream.rxPort.id))
                s.add("rx_queue", UInt64(stream.rxQueue))
                s.add("tx_port", UInt64(stream.txPort.id))
                s.add("tx_queue", UInt64(stream.txQueue))
                for counter in ForwardCounter.streamCounters {
                    s.add(counter.descriptor.name, StreamCounters.load(counter, from: stream.counters))
                }
            }
            shown += 1
        }
    }

    private static func drops(_ view: TelemetryView, _ id: UInt16?, _ data: TelemetryData) throws(TelemetryRefusal) {
        let statistics = view.statistics()
        let entry: ForwardStatistics.Port
        let tapPorts: [Port]
        data.startDict()
        if let id {
            let port = try view.port(id)
            guard let found = statistics.ports.first(where: { $0.id == port.id }) else { throw .noSuchPort }
            entry = found
            tapPorts = port.isTap ? [port] : []
            data.add("port", UInt64(id))
        } else {
            entry = statistics.total
            tapPorts = view.ports.filter(\.isTap)
        }
        data.add(ForwardCounter.engineDropped.descriptor.name, entry.engineDropped)
        data.addDict("reasons") { reasons in
            for counter in EngineCounter.schema where counter.kind == .drop { reasons.add(counter.name, entry.engine[counter.slot]) }
        }
        for port in tapPorts {
            guard let device = port.tapDevice else { continue }
            let tap = device.statistics()
            let prefix = id == nil ? "tap_\(port.id)_" : "tap_"
            for counter in TapStatistics.schema where counter.kind == .dropTotal { data.add(prefix + counter.name, counter.value(in: tap)) }
            for side in [CounterSide.rx, .tx] {
                data.addDict(prefix + side.rawValue + "_reasons") { reasons in
                    for counter in TapStatistics.schema where counter.kind == .dropReason && counter.descriptor.side == side {
                        reasons.add(counter.name, counter.value(in: tap))
                    }
                    if side == .tx {
                        for (code, count) in tap.txErrors.sorted(by: { $0.key < $1.key }) { reasons.add(TapStatistics.errnoName(.tx, code), count) }
                    }
                }
            }
        }
    }

    private static func plans(_ view: TelemetryView, _ id: UInt16?, _ data: TelemetryData) throws(TelemetryRefusal) {
        let port = try view.port(id)
        guard let entry = view.statistics().ports.first(where: { $0.id == port.id }) else { throw .noSuchPort }
        data.startDict()
        data.add("port", UInt64(port.id))
        data.addDict("kinds") { kinds in
            for counter in EngineCounter.schema where counter.kind == .plan { kinds.add(counter.name, entry.engine[counter.slot]) }
        }
        data.addDict("reasons") { reasons in
            for counter in EngineCounter.schema where counter.kind == .planReason { reasons.add(counter.name, entry.engine[counter.slot]) }
        }
    }

    private static func config(_ view: TelemetryView, _ id: UInt16?, _ data: TelemetryData) throws(TelemetryRefusal) {
        guard id == nil else { throw .badParameter }
        let options = view.options
        data.startDict()
        data.add("mode", options.mode.rawValue)
        data.add("forwarding", view.isForwarding ? "on" : "off")
        data.add("topology", options.topology.rawValue)
        data.add("nb_cores", UInt64(options.forwardingCores))
        data.add("rxq", UInt64(options.rxQueues))
        data.add("txq", UInt64(options.txQueues))
        data.add("rxd", UInt64(options.rxDescriptors))
        data.add("txd", UInt64(options.txDescriptors))
        data.add("burst", UInt64(options.burst))
        data.add("mbuf_size", UInt64(options.mbufSize))
        if let length = options.maxPacketLength { data.add("max_pkt_len", UInt64(length)) }
        data.add("gso_segsz", UInt64(view.gsoSegmentSize))
        data.add("verbose", UInt64(max(options.verbose, 0)))
        data.add("idle_sleep_us", UInt64(max(options.idleSleepMicroseconds, 0)))
        data.add("lro", options.enableLRO ? "on" : "off")
        data.addIntArray("lcores", view.summary.lcores.map { Int32(truncatingIfNeeded: $0.lcore) })
        data.add("streams", UInt64(view.summary.lcores.reduce(0) { $0 + $1.streams.count }))
        for port in view.ports {
            let settings = view.settings[port.id] ?? PortOffloadSettings()
            data.addDict("port_\(port.id)") { p in
                p.add("name", port.name)
                p.add("driver", view.driverName(port))
                p.add("state", view.startedPorts.contains(port.id) ? "started" : "stopped")
                p.add("mtu", UInt64(max(settings.mtu, 0)))
                p.add("gso", settings.gso ? "on" : "off")
                p.add("tso_segsz", tsoSize(settings.tsoSegmentSize))
                p.add("tunnel_tso_segsz", tsoSize(settings.tunnelTSOSegmentSize))
                p.add("eth_peer", view.peers[port.id] ?? "")
            }
        }
    }

    /// `automatic` (the packet's own size or the MTU's limit), `off`, or the size.
    private static func tsoSize(_ size: Int) -> String {
        size == PortOffloadSettings.automatic ? "auto" : size == 0 ? "off" : "\(size)"
    }

    private static func taps(_ view: TelemetryView, _ id: UInt16?, _ data: TelemetryData) throws(TelemetryRefusal) {
        data.startDict()
        if let id {
            let port = try view.port(id)
            guard let device = port.tapDevice else { throw .badParameter }
            fillTap(data, port: port, device.statistics())
            return
        }
        for port in view.ports {
            guard let device = port.tapDevice else { continue }
            data.addDict("port_\(port.id)") { fillTap($0, port: port, device.statistics()) }
        }
    }

    /// The tap's counters by their schema names (`TapStatistics.entries`, as `show port xstats`).
    private static func fillTap(_ data: TelemetryData, port: Port, _ s: TapStatistics) {
        data.add("port", UInt64(port.id))
        data.add("name", port.name)
        for entry in s.entries { data.add(entry.name, entry.value) }
    }
}

/// Why a command answers null.
enum TelemetryRefusal: Error {
    case badParameter
    case noSuchPort

    var code: Int32 {
        switch self {
        case .badParameter: EINVAL
        case .noSuchPort: ENODEV
        }
    }
}

/// The forwarder as the telemetry thread may see it: copies made on the forwarder's thread,
/// never changed afterwards. The plan and the taps are retained, so the stream counters and
/// tap counters stay valid however the forwarder moves on.
final class TelemetryView: @unchecked Sendable {
    let ports: [Port]
    let plan: ForwardingPlan
    let taps: [TapDevice]
    let baseline: [UInt16: PortStats]
    let runningMode: ForwardingMode?
    let isForwarding: Bool
    let startedPorts: Set<UInt16>
    let options: ForwardingOptions
    let settings: [UInt16: PortOffloadSettings]
    let gsoSegmentSize: Int
    let summary: ForwardingPlan.Summary
    /// Each port's eth peer as the mac and csum engines use it.
    let peers: [UInt16: String]

    init(forwarder: Forwarder, plan: ForwardingPlan, taps: [TapDevice], baseline: [UInt16: PortStats],
         runningMode: ForwardingMode?, summary: ForwardingPlan.Summary) {
        ports = forwarder.ports
        self.plan = plan
        self.taps = taps
        self.baseline = baseline
        self.runningMode = runningMode
        isForwarding = forwarder.isForwarding
        startedPorts = forwarder.startedPorts
        options = forwarder.options
        settings = forwarder.offloadSettings
        gsoSegmentSize = forwarder.gsoSegmentSize
        self.summary = summary
        var peers: [UInt16: String] = [:]
        for port in forwarder.ports { peers[port.id] = ForwardingPlan.peer(of: port, forwarder.options).description }
        self.peers = peers
    }

    func port(_ id: UInt16?) throws(TelemetryRefusal) -> Port {
        guard let id else { throw .badParameter }
        guard let port = ports.first(where: { $0.id == id }) else { throw .noSuchPort }
        return port
    }

    func driverName(_ port: Port) -> String {
        if port.isTap { return TapDevice.driverName }
        let name = settings[port.id]?.driverName ?? ""
        return name.isEmpty ? port.name : name
    }

    /// The forward statistics as `stop` would print them now.
    func statistics() -> ForwardStatistics {
        Forwarder.forwardStatistics(ports: ports, streams: plan.allStreams, baseline: baseline, runningMode: runningMode)
    }
}

/// A `struct rte_tel_data` being filled (a dict or an array).
struct TelemetryData {
    /// Streams listed per port: each is one dict entry of the 256 a dict may hold.
    static let maxStreams = 200

    let data: OpaquePointer

    init(_ data: OpaquePointer) { self.data = data }

    func startDict() { _ = rte_tel_data_start_dict(data) }
    func startIntArray() { _ = rte_tel_data_start_array(data, RTE_TEL_INT_VAL) }
    func append(_ value: Int32) { _ = rte_tel_data_add_array_int(data, value) }

    func add(_ name: String, _ value: UInt64) { _ = rte_tel_data_add_dict_u64(data, name, value) }
    func add(_ name: String, _ value: String) { _ = rte_tel_data_add_dict_string(data, name, value) }

    /// A nested dict under `name`, filled by `fill`.
    func addDict(_ name: String, _ fill: (TelemetryData) -> Void) {
        guard let child = rte_tel_data_alloc() else { return }
        _ = rte_tel_data_start_dict(child)
        fill(TelemetryData(child))
        if rte_tel_data_add_dict_container(data, name, child, 0) != 0 { rte_tel_data_free(child) }
    }

    func addIntArray(_ name: String, _ values: [Int32]) {
        guard let child = rte_tel_data_alloc() else { return }
        _ = rte_tel_data_start_array(child, RTE_TEL_INT_VAL)
        for value in values { _ = rte_tel_data_add_array_int(child, value) }
        if rte_tel_data_add_dict_container(data, name, child, 0) != 0 { rte_tel_data_free(child) }
    }
}
