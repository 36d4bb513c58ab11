import CDPDK
import DPDK
import Offload
import VnetTap

/// The dataplane's state: the mbuf pool, the ports, the streams and the forwarding lcores.
/// Driven from one thread (console or fixed-core main loop); the workers only read their
/// streams and write their counters.
public final class Forwarder {
    public internal(set) var options: ForwardingOptions { didSet { changed() } }
    public internal(set) var ports: [Port]
    /// The kernel taps among the ports, owned here (ports hold them unretained).
    var taps: [TapDevice] = []
    /// Notices taps whose interface vanished and reattaches them (TapLinkWatch.swift).
    var linkWatch: TapLinkWatch?
    public let pool: Mempool
    /// Small mbufs for the headers of the segments Swift GSO makes (`GSOHeaderPool`).
    public let headerPool: Mempool
    /// Mbufs with no data room: GSO's zero-copy references to payload.
    public let indirectPool: Mempool
    /// NUMA mode: the rx mbuf pools of sockets other than `pool`'s, by socket (testpmd's
    /// mb_pool_<socket>), for ports whose socket (or --port-numa-config) says so.
    public private(set) var socketPools: [Int32: Mempool] = [:]
    public internal(set) var isForwarding = false { didSet { changed() } }
    /// Ports whose queues are set up and which are started.
    public internal(set) var startedPorts: Set<UInt16> = [] { didSet { changed() } }
    var closed = false
    /// The engine of the current (or last) run, for its statistics.
    var runningMode: ForwardingMode? { didSet { changed() } }

    let control = ForwardingControl()
    /// The running (or last, finished at its count) packet capture, and the ring and pool
    /// captures share (Capture.swift).
    var captureSession: CaptureSession?
    var captureResources: CaptureResources?
    /// What the console changed on a port that its next start must keep (MTU, promiscuous
    /// and all-multicast modes), by port id (Forwarder+PortConfig.swift).
    var portOverrides: [UInt16: PortOverrides] = [:] { didSet { changed() } }
    /// The forward statistics `clear fwd stats` left behind, for the plan they were taken of.
    var clearedStatistics: (plan: ObjectIdentifier, statistics: ForwardStatistics)?
    /// Per-port csum/GSO settings, by port id.
    var offloadSettings: [UInt16: PortOffloadSettings] = [:] { didSet { changed() } }
    /// Frame length GSO cuts to, headers included (testpmd's `set gso segsz`, default 1514).
    public internal(set) var gsoSegmentSize = 1514 { didSet { changed() } }
    var engineSettings: UnsafeMutableBufferPointer<PortOffloadSettings>?
    var enginePlanners: UnsafeMutableBufferPointer<TxPlanner>?
    /// One scratch area per forwarding lcore, kept for the forwarder's life.
    var scratchAreas: [UnsafeMutableRawPointer] = []
    /// The pcap txonly replays in the current run, kept until the next start.
    var replayFrames: ReplayFrames?
    var plan: ForwardingPlan { didSet { changed() } }
    var forwardBaseline: [UInt16: PortStats] = [:] { didSet { changed() } }
    /// The taps' error counters at the start of the run (`deviceErrors` in the statistics).
    var deviceErrorBaseline: [UInt16: [String: UInt64]] = [:]
    /// Set only while `startForwarding(engine:)` launches an engine that is not a mode.
    var launchOverride: ((ForwardingPlan.Assignment, EngineContext) throws(DPDKError) -> Void)?
    var throughputBaseline: [UInt16: ThroughputSample] = [:]
    let log: (String) -> Void

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
        let firstTapID = Int(ethdevPorts.map(\.id).max() ?? UInt16.max) + 1  // as the taps are numbered below
        try Self.checkPortLists(options, ports: ethdevPorts.map(\.id) + (0..<tapOptions.count).map { UInt16((firstTapID + $0) & 0xFFFF) })
        let workers = Lcore.workers
        guard !workers.isEmpty else { throw .noWorkerLcores }
        guard options.forwardingCores <= workers.count else {
            throw .option(OptionError(
                option: "nb-cores", value: "\(options.forwardingCores)",
                allowed: "1-\(workers.count) (the EAL lcores other than the main one)"))
        }
        let mbufs = options.totalMbufs ?? Self.defaultPoolSize(options: options, ports: portCount, lcores: workers.count)
        do {
            try options.validateSocket()
            try options.validateCoreMask(workers: workers)
        } catch { throw .option(error) }
        if let mask = options.coreMask {
            let masked = workers.filter { $0.id < 64 && mask & (1 << UInt64($0.id)) != 0 }.count
            guard options.forwardingCores <= masked else {
                throw .option(OptionError(option: "nb-cores", value: "\(options.forwardingCores)",
                                          allowed: "1-\(masked) (the lcores --coremask names)"))
            }
        }
        let socket = options.memorySocket
        log("tunnelpmd: create a new mbuf pool <\(poolName)>: n=\(mbufs), size=\(options.mbufSize), socket=\(socket)")
        do {
            pool = try Mempool.createPacketPool(
                name: poolName, count: mbufs, cacheSize: 250, dataRoomSize: options.mbufSize, socket: socket)
            // Segment headers in flight, each with its payload views (one per segment, more
            // where a segment spans input buffers).
            let headers = GSOHeaderPool.size(options: options, ports: portCount, lcores: workers.count)
            indirectPool = try Mempool.createPacketPool(
                name: poolName + "_ind", count: mbufs + 2 * headers, cacheSize: 250, dataRoomSize: 0, socket: socket)
            headerPool = try Mempool.createPacketPool(
                name: poolName + "_hdr", count: headers, cacheSize: 250, dataRoomSize: GSOHeaderPool.dataRoomSize, socket: socket)
            for port in ethdevPorts {
                let portSocket = options.poolSocket(of: port)
                guard portSocket != socket, socketPools[portSocket] == nil else { continue }
                let name = (poolName.hasSuffix("_0") ? String(poolName.dropLast(2)) : poolName) + "_\(portSocket)"
                log("tunnelpmd: create a new mbuf pool <\(name)>: n=\(mbufs), size=\(options.mbufSize), socket=\(portSocket)")
                socketPools[portSocket] = try Mempool.createPacketPool(
                    name: name, count: mbufs, cacheSize: 250, dataRoomSize: options.mbufSize, socket: portSocket)
            }
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
            settings.gro = options.groPorts?.contains(port.id) ?? false
            offloadSettings[port.id] = settings
        }
        let forwarding: [Port]
        do { forwarding = try options.forwardingPorts(of: ports) } catch { throw .option(error) }
        plan = ForwardingPlan(ports: forwarding, options: options, workers: workers)
        for port in ports { try startPort(port.id) }
        watchTapLinks()
    }

    deinit {
        linkWatch?.stop()
        if isForwarding { _ = try? stopForwarding() }
        // The pool outlives the ports that were given its mbufs only if they were not closed.
        if startedPorts.isEmpty && closed {
            pool.free()
            indirectPool.free()
            for extra in socketPools.values { extra.free() }
            headerPool.free()
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

    // MARK: telemetry

    /// Called on the forwarder's thread after every change telemetry shows (`Telemetry.attach`).
    var onChange: ((Forwarder) -> Void)?

    func changed() { onChange?(self) }

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
        linkWatch?.stop()
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
        // With every port closed, every mbuf is back unless something leaked: say which.
        for pool in [pool, indirectPool, headerPool] + socketPools.keys.sorted().map({ socketPools[$0]! }) { log(Self.poolReport(pool)) }
        return statistics
    }

    /// The pool a port's rx queues take mbufs from: its socket's.
    public func rxPool(for port: Port) -> Mempool { socketPools[options.poolSocket(of: port)] ?? pool }

    /// "Mempool <name>: all N mbufs back", or how many are missing.
    static func poolReport(_ pool: Mempool) -> String {
        let missing = pool.size - pool.availableCount
        return missing == 0
            ? "Mempool \(pool.name): all \(pool.size) mbufs back"
            : "Mempool \(pool.name): \(missing) of \(pool.size) mbufs not back"
    }
}
