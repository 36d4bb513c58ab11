import CDPDK
import DPDK
import Offload
import VnetTap

/// The dataplane's state: the mbuf pool, the ports, the streams and the forwarding lcores.
/// Driven from one thread (console or fixed-core main loop); the workers only read their
/// streams and write their counters.
public final class Forwarder {
    public private(set) var options: ForwardingOptions { didSet { changed() } }
    public private(set) var ports: [Port]
    /// The kernel taps among the ports, owned here (ports hold them unretained).
    private var taps: [TapDevice] = []
    public let pool: Mempool
    /// Mbufs with no data room: GSO's zero-copy references to payload.
    public let indirectPool: Mempool
    public private(set) var isForwarding = false { didSet { changed() } }
    /// Ports whose queues are set up and which are started.
    public private(set) var startedPorts: Set<UInt16> = [] { didSet { changed() } }
    private var closed = false
    /// The engine of the current (or last) run, for its statistics.
    private var runningMode: ForwardingMode? { didSet { changed() } }

    let control = ForwardingControl()
    /// The running (or last, finished at its count) packet capture, and the ring and pool
    /// captures share (Capture.swift).
    var captureSession: CaptureSession?
    var captureResources: CaptureResources?
    /// Per-port csum/GSO settings, by port id.
    var offloadSettings: [UInt16: PortOffloadSettings] = [:] { didSet { changed() } }
    /// Frame length GSO cuts to, headers included (testpmd's `set gso segsz`, default 1514).
    public internal(set) var gsoSegmentSize = 1514 { didSet { changed() } }
    private var engineSettings: UnsafeMutableBufferPointer<PortOffloadSettings>?
    private var enginePlanners: UnsafeMutableBufferPointer<TxPlanner>?
    /// One scratch area per forwarding lcore, kept for the forwarder's life.
    private var scratchAreas: [UnsafeMutableRawPointer] = []
    private var plan: ForwardingPlan { didSet { changed() } }
    private var forwardBaseline: [UInt16: PortStats] = [:] { didSet { changed() } }
    /// Set only while `startForwarding(engine:)` launches an engine that is not a mode.
    private var launchOverride: ((ForwardingPlan.Assignment, EngineContext) throws(DPDKError) -> Void)?
    private var throughputBaseline: [UInt16: ThroughputSample] = [:]
    private let log: (String) -> Void

    /// Creates the pool, attaches the kernel taps, then configures and starts every port, as
    /// testpmd does at launch. `ports`: the ethdev ports to forward between (default: every
    /// probed port); `taps` are numbered after them, in order. `poolName` must be unique in the
    /// process.
    public init(
        options: ForwardingOptions, ports ethdevs: [EthPort]? = nil,
        poolName: String = "mb_pool_0", log: @escaping (String) -> Void = { print($0) }
    ) throws(DataplaneError) {
        do { try options.validate() } catch { throw .option(error) }
        self.options = options
        self.log = log
        let tapOptions = options.vnetTaps
        let ethdevPorts = (ethdevs ?? EthPort.all).map(Port.init)
        guard !ethdevPorts.isEmpty || !tapOptions.isEmpty else { throw .noPorts }
        if !tapOptions.isEmpty && (options.rxQueues > 1 || options.txQueues > 1) {
            throw .option(OptionError(option: "rxq/txq", value: "\(options.rxQueues)/\(options.txQueues)",
                                      allowed: "1 when --vnet-tap ports are used (a tap has one queue)"))
        }
        self.ports = ethdevPorts
        let portCount = ethdevPorts.count + tapOptions.count
        let workers = Lcore.workers
        guard !workers.isEmpty else { throw .noWorkerLcores }
        guard options.forwardingCores <= workers.count else {
            throw .option(OptionError(
                option: "nb-cores", value: "\(options.forwardingCores)",
                allowed: "1-\(workers.count) (the EAL lcores other than the main one)"))
        }
        let mbufs = options.totalMbufs ?? Self.defaultPoolSize(options: options, ports: portCount, lcores: workers.count)
        log("tunnelpmd: create a new mbuf pool <\(poolName)>: n=\(mbufs), size=\(options.mbufSize), socket=0")
        do {
            pool = try Mempool.createPacketPool(
                name: poolName, count: mbufs, cacheSize: 250, dataRoomSize: options.mbufSize, socket: 0)
            indirectPool = try Mempool.createPacketPool(
                name: poolName + "_ind", count: mbufs, cacheSize: 250, dataRoomSize: 0, socket: 0)
        } catch {
            throw .dpdk(error)
        }
        var nextID = UInt16((ethdevPorts.map(\.id).max() ?? UInt16.max) &+ 1)
        for options in tapOptions {
            do {
                let device = try TapDevice(options: options, pool: pool)
                taps.append(device)
                self.ports.append(Port(tap: device, id: nextID))
                nextID &+= 1
            } catch {
                for device in taps { device.close() }
                throw .tap(error.description)
            }
        }
        let ports = self.ports
        gsoSegmentSize = options.gsoSegmentSize
        for port in ports {
            var settings = PortOffloadSettings()
            // Swift GSO is on unless the user named other ports (--gso-ports, gso_ports).
            settings.gso = options.gsoPorts?.contains(port.id) ?? true
            offloadSettings[port.id] = settings
        }
        plan = ForwardingPlan(ports: ports, options: options, workers: workers)
        for port in ports { try startPort(port.id) }
    }

    deinit {
        if isForwarding { _ = try? stopForwarding() }
        // The pool outlives the ports that were given its mbufs only if they were not closed.
        if startedPorts.isEmpty && closed {
            pool.free()
            indirectPool.free()
        }
        // The settings hold strings: deinitialise before releasing the memory.
        engineSettings?.deinitialize()
        engineSettings?.deallocate()
        enginePlanners?.deinitialize()
        enginePlanners?.deallocate()
        for area in scratchAreas { area.deallocate() }
    }

    /// testpmd's pool size: rx and tx rings full, plus every lcore's cache and one burst each.
    static func defaultPoolSize(options: ForwardingOptions, ports: Int, lcores: Int) -> UInt32 {
        let perPort = Int(options.rxQueues) * Int(options.rxDescriptors) + Int(options.txQueues) * Int(options.txDescriptors)
        let perLcore = 250 + options.burst
        return UInt32(max(8192, ports * perPort + (lcores + 1) * perLcore))
    }

    public func port(_ id: UInt16) throws(DataplaneError) -> Port {
        guard let port = ports.first(where: { $0.id == id }) else {
            throw .invalidPort(id, valid: ports.map(\.id))
        }
        return port
    }

    // MARK: ports

    public func startPort(_ id: UInt16) throws(DataplaneError) {
        guard !isForwarding else { throw .forwardingActive }
        let port = try port(id)
        guard !startedPorts.contains(id) else { return }
        log("Configuring Port \(id) (socket \(max(port.socket, 0)))")
        if let device = port.tapDevice {
            startTap(device, id: id)
            return
        }
        let ethdev = port.ethdevPort!
        do {
            var config = PortConfiguration(rxQueues: options.rxQueues, txQueues: options.txQueues)
            if let maxLength = options.maxPacketLength { config.mtu = maxLength - 18 }
            let info = try ethdev.info()
            var settings = offloadSettings[id] ?? PortOffloadSettings()
            settings.capabilities = info.txOffloadCapabilities
            settings.rxCapabilities = info.rxOffloadCapabilities
            settings.driverName = info.driverName
            if settings.txOffloads == nil || settings.rxOffloads == nil {
                let defaults = PortOffloadSettings.defaultOffloads(
                    driver: info.driverName, tx: info.txOffloadCapabilities, rx: info.rxOffloadCapabilities,
                    enableLRO: options.enableLRO)
                settings.txOffloads = settings.txOffloads ?? defaults.tx
                settings.rxOffloads = settings.rxOffloads ?? defaults.rx
            }
            config.txOffloads = settings.txOffloads!.union(settings.requiredTxOffloads).intersection(info.txOffloadCapabilities)
            config.rxOffloads = settings.rxOffloads!.intersection(info.rxOffloadCapabilities)
            try ethdev.configure(config)
            for queue in 0..<options.rxQueues {
                try ethdev.setupRxQueue(queue, descriptors: options.rxDescriptors, pool: pool)
            }
            for queue in 0..<options.txQueues {
                try ethdev.setupTxQueue(queue, descriptors: options.txDescriptors)
            }
            try ethdev.start()
            try ethdev.setPromiscuous(true)
            settings.mtu = Int(ethdev.mtu == 0 ? 1500 : ethdev.mtu)
            settings.plannerCapabilities = TxCapabilities(info: info, mtu: settings.mtu).restricted(to: config.txOffloads)
            switch NICDriver(driverName: info.driverName) {
            case .virtio, .vhost, .ring, .other: settings.mayAskForTransmitWork = true
            default: settings.mayAskForTransmitWork = config.rxOffloads.contains(.tcpLRO)
            }
            offloadSettings[id] = settings
            log("Port \(id): \(try port.macAddress())")
        } catch {
            throw .portSetup(port: id, error)
        }
        startedPorts.insert(id)
    }

    /// A tap has nothing to configure: its offloads are what the kernel granted when it was
    /// attached; starting only records them and lets the workers poll it.
    private func startTap(_ device: TapDevice, id: UInt16) {
        var settings = offloadSettings[id] ?? PortOffloadSettings()
        settings.capabilities = device.txCapabilities
        settings.rxCapabilities = device.rxCapabilities
        settings.driverName = TapDevice.driverName
        settings.txOffloads = settings.txOffloads ?? device.txCapabilities
        settings.rxOffloads = settings.rxOffloads ?? device.rxCapabilities
        try? device.refreshLinkInfo()
        settings.mtu = device.mtu
        // The device fills IPv4 header checksums itself when asked (virtio has no such offload).
        settings.mayAskForTransmitWork = true
        settings.plannerCapabilities = TxCapabilities(
            driverName: TapDevice.driverName,
            advertised: device.txCapabilities.union([.ipv4Checksum, .outerIPv4Checksum]), mtu: settings.mtu)
        offloadSettings[id] = settings
        startedPorts.insert(id)
        log("Port \(id): \(device.macAddressString) (\(device.options.name), offloads \(device.grantedOffloads))")
    }

    public func stopPort(_ id: UInt16) throws(DataplaneError) {
        guard !isForwarding else { throw .forwardingActive }
        let port = try port(id)
        guard startedPorts.contains(id) else { return }
        log("Stopping ports...")
        if let ethdev = port.ethdevPort {
            do { try ethdev.stop() } catch { throw .dpdk(error) }
        }
        startedPorts.remove(id)
        log("Done")
    }

    // MARK: forwarding

    /// Rebuilds the streams for the current options and launches the workers.
    public func startForwarding() throws(DataplaneError) {
        guard !isForwarding else { throw .forwardingActive }
        let stopped = ports.filter { !startedPorts.contains($0.id) }.map(\.id)
        guard stopped.isEmpty else { throw .portsStopped(stopped) }
        plan = ForwardingPlan(ports: ports, options: options, workers: Lcore.workers)
        if options.flushRxOnStart { flushRxQueues() }
        for port in ports { forwardBaseline[port.id] = (try? port.stats()) ?? PortStats() }
        control.setVerbosity(options.verbose)
        runningMode = options.mode
        control.setRunning(true)
        let settings = makePortTable(replacing: &engineSettings, fallback: PortOffloadSettings()) { $0 }
        let gsoFrameSize = gsoSegmentSize
        let planners = makePortTable(replacing: &enginePlanners, fallback: PortOffloadSettings().planner()) {
            $0.planner(gsoFrameSize: gsoFrameSize)
        }
        while scratchAreas.count < plan.assignments.count {
            scratchAreas.append(.allocate(byteCount: EngineContext.scratchSize, alignment: 64))
        }
        for (index, assignment) in plan.assignments.enumerated() {
            let context = EngineContext(
                settings: settings, planners: planners, gsoSegmentSize: gsoSegmentSize,
                pool: pool, indirectPool: indirectPool, scratch: scratchAreas[index], control: control)
            do {
                try launch(assignment, context: context)
            } catch {
                control.setRunning(false)
                Lcore.waitAll()
                throw .dpdk(error)
            }
        }
        isForwarding = true
    }

    /// Forwards with `engine` instead of the mode's (for engines that are not a mode yet,
    /// such as the tests' holding engines).
    func startForwarding<Engine: ForwardingEngine>(engine: Engine.Type) throws(DataplaneError) {
        launchOverride = { assignment, context throws(DPDKError) in try self.launch(Worker<Engine>.self, assignment, context) }
        defer { launchOverride = nil }
        try startForwarding()
    }

    private func launch(_ assignment: ForwardingPlan.Assignment, context: EngineContext) throws(DPDKError) {
        if let launchOverride { return try launchOverride(assignment, context) }
        switch options.mode {
        case .io: try launch(Worker<IOEngine>.self, assignment, context)
        case .mac: try launch(Worker<MACEngine>.self, assignment, context)
        case .csum: try launch(Worker<CsumEngine>.self, assignment, context)
        }
    }

    private func launch<E>(_ type: Worker<E>.Type, _ assignment: ForwardingPlan.Assignment, _ context: EngineContext) throws(DPDKError) {
        let worker = Worker<E>(
            streams: assignment.streams, burst: options.burst, control: control, context: context,
            idleSleepMicroseconds: options.idleSleepMicroseconds)
        try assignment.lcore.launch { worker.run() }
    }

    /// A per-port table the workers read without locks, indexed by port id: `value(settings)`
    /// for each port (`fallback` for ids no port has). The previous table is released.
    private func makePortTable<T>(
        replacing old: inout UnsafeMutableBufferPointer<T>?, fallback: T, _ value: (PortOffloadSettings) -> T
    ) -> UnsafePointer<T> {
        if let old {
            old.deinitialize()
            old.deallocate()
        }
        let table = UnsafeMutableBufferPointer<T>.allocate(capacity: Int((ports.map(\.id).max() ?? 0) + 1))
        table.initialize(repeating: fallback)
        for (id, settings) in offloadSettings { table[Int(id)] = value(settings) }
        old = table
        return UnsafePointer(table.baseAddress!)
    }

    /// Stops the workers and returns the forward statistics since start.
    @discardableResult
    public func stopForwarding() throws(DataplaneError) -> ForwardStatistics {
        guard isForwarding else { throw .forwardingNotActive }
        log("Telling cores to stop...")
        control.setRunning(false)
        log("Waiting for lcores to finish...")
        for assignment in plan.assignments { assignment.lcore.wait() }
        isForwarding = false
        return forwardStatistics()
    }

    /// Drains whatever sits in the rx queues so a new run starts clean (testpmd's flush).
    private func flushRxQueues() {
        let packets = UnsafeMutablePointer<OpaquePointer?>.allocate(capacity: 512)
        defer { packets.deallocate() }
        for port in ports where startedPorts.contains(port.id) {
            for queue in 0..<options.rxQueues {
                // Bounded: a generator port (net_null) never runs dry.
                for _ in 0..<64 {
                    let received = port.receive(queue: queue, into: packets, count: 512)
                    if received == 0 { break }
                    Mbuf.freeBulk(packets, count: Int(received))
                }
            }
        }
    }

    // MARK: settings

    public func setMode(_ mode: ForwardingMode) throws(DataplaneError) {
        guard !isForwarding else { throw .forwardingActive }
        options.mode = mode
    }

    /// Takes effect at once, also while forwarding.
    public func setVerbosity(_ level: Int) {
        options.verbose = level
        control.setVerbosity(level)
    }

    /// `set eth-peer <port> <mac>`: the destination address the mac and csum engines write on
    /// frames leaving `port`, from the next start (forwarding must be stopped).
    public func setPeer(_ mac: MACAddress, port id: UInt16) throws(DataplaneError) {
        _ = try port(id)
        guard !isForwarding else { throw .forwardingActive }
        options.ethPeers[id] = mac
    }

    /// Options that only shape the next start (burst, topology, cores).
    public func update(_ change: (inout ForwardingOptions) -> Void) throws(DataplaneError) {
        guard !isForwarding else { throw .forwardingActive }
        var updated = options
        change(&updated)
        do { try updated.validate() } catch { throw .option(error) }
        if updated.forwardingCores > Lcore.workers.count {
            throw .option(OptionError(
                option: "nb-cores", value: "\(updated.forwardingCores)", allowed: "1-\(Lcore.workers.count)"))
        }
        options = updated
    }

    // MARK: statistics

    /// Per-port and accumulated counters of the current (or last) run.
    public func forwardStatistics() -> ForwardStatistics {
        Self.forwardStatistics(ports: ports, streams: plan.allStreams, baseline: forwardBaseline, runningMode: runningMode)
    }

    /// The statistics of `streams` (relaxed loads of counters only their lcores write) and the NIC
    /// counters since `baseline`: what `stop` prints and telemetry reports, from any thread.
    static func forwardStatistics(
        ports: [Port], streams: UnsafeMutableBufferPointer<Stream>, baseline: [UInt16: PortStats],
        runningMode: ForwardingMode?
    ) -> ForwardStatistics {
        var result = ForwardStatistics(ports: [])
        result.showsEngineCounters = runningMode == .csum
        for port in ports {
            var entry = ForwardStatistics.Port(id: port.id)
            for stream in streams {
                // Relaxed loads of counters only the stream's lcore writes.
                let counters = UnsafeMutableRawPointer(stream.counters).assumingMemoryBound(to: UInt64.self)
                func load(_ field: KeyPath<StreamCounters, UInt64>) -> UInt64 {
                    cdpdk_load_counter(counters + MemoryLayout<StreamCounters>.offset(of: field)! / 8)
                }
                if stream.rxPort == port {
                    entry.rxPackets &+= load(\.rxPackets)
                    entry.engineDropped &+= load(\.engineDropped)
                }
                if stream.txPort == port {
                    entry.txPackets &+= load(\.txPackets)
                    entry.txDropped &+= load(\.txDropped)
                }
                // Each engine counter on the port its schema entry names (rx or tx side).
                for slot in 0..<EngineCounter.slotCount where (EngineCounter.sideOfSlot[slot] == .rx ? stream.rxPort : stream.txPort) == port {
                    entry.engine[slot] &+= cdpdk_load_counter(stream.engineCounters + slot)
                }
            }
            // io and mac count only the packets whose metadata asked for transmit work.
            if entry.engine.contains(where: { $0 != 0 }) { result.showsEngineCounters = true }
            if let now = try? port.stats(), let base = baseline[port.id] {
                entry.rxDropped = (now.rxMissed &- base.rxMissed)
                entry.rxNoMbuf = now.rxNoMbuf &- base.rxNoMbuf
                entry.rxErrors = now.rxErrors &- base.rxErrors
            }
            result.ports.append(entry)
        }
        return result
    }

    /// NIC counters plus the rates since the previous call for this port.
    public func nicStatistics(_ id: UInt16) throws(DataplaneError) -> NICStatistics {
        let port = try port(id)
        let stats: PortStats
        do { stats = try port.stats() } catch { throw .dpdk(error) }
        let now = ThroughputSample(tsc: EAL.tsc, stats: stats)
        let rates = throughputBaseline[id].map { now.rates(since: $0, hz: EAL.tscHz) } ?? .zero
        throughputBaseline[id] = now
        return NICStatistics(port: id, stats: stats, rates: rates)
    }

    public func clearStatistics(_ id: UInt16) throws(DataplaneError) {
        let port = try port(id)
        do { try port.resetStats() } catch { throw .dpdk(error) }
        throughputBaseline[id] = nil
        forwardBaseline[id] = PortStats()
    }

    /// The streams each lcore will forward, for `show config fwd`.
    public var configuration: ForwardingPlan.Summary { plan.summary(mode: options.mode, options: options) }

    // MARK: telemetry

    /// Called on the forwarder's thread after every change telemetry shows (`Telemetry.attach`).
    var onChange: ((Forwarder) -> Void)?

    private func changed() { onChange?(self) }

    /// What telemetry reads from its own thread: immutable copies, and the plan and taps
    /// retained so the counters it points at stay valid after the next start replaces them.
    func telemetryView() -> TelemetryView {
        TelemetryView(
            forwarder: self, plan: plan, taps: taps, baseline: forwardBaseline, runningMode: runningMode,
            summary: configuration)
    }

    // MARK: shutdown

    /// Stops forwarding if needed, then stops and closes every port. Returns the statistics of
    /// the last run when forwarding was active.
    @discardableResult
    public func shutdown() -> ForwardStatistics? {
        let statistics = isForwarding ? try? stopForwarding() : nil
        if let capture = captureSession {
            log(capture.stop().description)
            captureSession = nil
        }
        for port in ports {
            log("\nStopping port \(port.id)...")
            if startedPorts.contains(port.id) { try? port.ethdevPort?.stop() }
            startedPorts.remove(port.id)
            log("Closing port \(port.id)...")
            if let ethdev = port.ethdevPort { try? ethdev.close() } else { port.tapDevice?.close() }
            log("Port \(port.id) is closed")
        }
        closed = true
        return statistics
    }
}

/// Errors a user can act on, each naming what was wrong.
public enum DataplaneError: Error, CustomStringConvertible, Equatable {
    case option(OptionError)
    case dpdk(DPDKError)
    case portSetup(port: UInt16, DPDKError)
    case noPorts
    case noWorkerLcores
    case invalidPort(UInt16, valid: [UInt16])
    case forwardingActive
    case forwardingNotActive
    case portsStopped([UInt16])
    case portNotStopped(UInt16)
    case unsupportedOffload(port: UInt16, offload: String, capabilities: TxOffloads)
    case tunnelPort(String)
    case tap(String)
    case unsupportedTxOffload(port: UInt16, offload: String, capabilities: TxOffloads)
    case unsupportedRxOffload(port: UInt16, offload: String, capabilities: RxOffloads)

    public var description: String {
        switch self {
        case .option(let error): return error.description
        case .dpdk(let error): return error.description
        case .portSetup(let port, let error): return "port \(port): \(error)"
        case .noPorts:
            return "no ethdev ports: give EAL a device, e.g. --vdev net_null0 --vdev net_null1, or a PCI address with -a"
        case .noWorkerLcores:
            return "no forwarding lcore: give EAL at least two lcores (e.g. -l 0-1); the first one runs the console"
        case .invalidPort(let id, let valid):
            return "invalid port \(id); valid ports: \(valid.map(String.init).joined(separator: ", "))"
        case .forwardingActive: return "packet forwarding is active; stop it first"
        case .forwardingNotActive: return "packet forwarding is not active"
        case .portNotStopped(let id): return "port \(id) is started; stop it first (port stop \(id))"
        case .unsupportedOffload(let port, let offload, let capabilities):
            let names = capabilities.names
            return "port \(port) cannot do \(offload) checksum in hardware; allowed: sw"
                + " (tx offload capabilities: \(names.isEmpty ? "none" : names.joined(separator: " ")))"
        case .tunnelPort(let message): return message
        case .tap(let message): return message
        case .unsupportedTxOffload(let port, let offload, let capabilities):
            let names = capabilities.names.map { $0.lowercased() }
            return "port \(port) does not offer tx offload \(offload); allowed: \(names.isEmpty ? "none" : names.joined(separator: ", "))"
        case .unsupportedRxOffload(let port, let offload, let capabilities):
            let names = capabilities.names.map { $0.lowercased() }
            return "port \(port) does not offer rx offload \(offload); allowed: \(names.isEmpty ? "none" : names.joined(separator: ", "))"
        case .portsStopped(let ports):
            return "port(s) \(ports.map(String.init).joined(separator: ", ")) stopped; start them first (port start all)"
        }
    }
}
