import CDPDK
import DPDK
import Offload
import VnetTap

/// Forwarding: streams, per-lcore tables, launch and stop of the workers, and the options
/// that take effect at the next start.
extension Forwarder {
    /// Rebuilds the streams for the current options and launches the workers.
    /// With `txFirstBursts` > 0 (testpmd's `start tx_first [n]`), every stream first sends that
    /// many txonly bursts, so a loop of ports has traffic to forward.
    public func startForwarding(txFirstBursts: Int = 0) throws(DataplaneError) {
        guard !isForwarding else { throw .forwardingActive }
        let stopped = ports.filter { !startedPorts.contains($0.id) }.map(\.id)
        guard stopped.isEmpty else { throw .portsStopped(stopped) }
        // The pcap txonly replays is read again at each start: the file may have changed.
        replayFrames = nil
        if options.mode == .txonly, let path = options.traffic.replayPcap {
            do { replayFrames = try ReplayFrames(path: path) } catch { throw .option(error) }
        }
        let replay = replayFrames?.table
        plan = ForwardingPlan(ports: forwardingPorts, options: options, workers: Lcore.workers)
        warnAboutGoneTaps()
        if options.flushRxOnStart { flushRxQueues() }
        for port in ports { forwardBaseline[port.id] = (try? port.stats()) ?? PortStats() }
        recordDeviceErrorBaseline()
        control.setVerbosity(options.verbose)
        control.setRecordsBursts(options.recordBurstStats)
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
        if txFirstBursts > 0 { sendFirstBursts(txFirstBursts) }
        for (index, assignment) in plan.assignments.enumerated() {
            let context = EngineContext(
                settings: settings, planners: planners, gsoSegmentSize: gsoSegmentSize,
                pool: pool, headerPool: headerPool, indirectPool: indirectPool, scratch: scratchAreas[index], burst: options.burst,
                streamCount: assignment.streams.count,
                coalescing: options.coalescing, traffic: options.traffic, replay: replay, control: control)
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

    func launch(_ assignment: ForwardingPlan.Assignment, context: EngineContext) throws(DPDKError) {
        if let launchOverride { return try launchOverride(assignment, context) }
        // Coalescing wraps the engine only when some port coalesces: without GRO the loop is
        // the engine's alone.
        let coalescing = offloadSettings.values.contains { $0.gro }
        switch (options.mode, coalescing) {
        case (.io, false): try launch(Worker<IOEngine>.self, assignment, context)
        case (.mac, false): try launch(Worker<MACEngine>.self, assignment, context)
        case (.csum, false): try launch(Worker<CsumEngine>.self, assignment, context)
        case (.io, true): try launch(Worker<Coalescing<IOEngine>>.self, assignment, context)
        case (.mac, true): try launch(Worker<Coalescing<MACEngine>>.self, assignment, context)
        case (.csum, true): try launch(Worker<Coalescing<CsumEngine>>.self, assignment, context)
        // The traffic modes run without receive coalescing: they swap, drop or generate.
        case (.rxonly, _): try launch(Worker<RxOnlyEngine>.self, assignment, context)
        case (.txonly, _) where context.replay != nil: try launch(Worker<PcapReplayEngine>.self, assignment, context)
        case (.txonly, _): try launch(Worker<TxOnlyEngine>.self, assignment, context)
        case (.macswap, _): try launch(Worker<MACSwapEngine>.self, assignment, context)
        case (.fiveTupleSwap, _): try launch(Worker<FiveTupleSwapEngine>.self, assignment, context)
        case (.flowgen, _): try launch(Worker<FlowGenEngine>.self, assignment, context)
        }
    }

    func launch<E>(_ type: Worker<E>.Type, _ assignment: ForwardingPlan.Assignment, _ context: EngineContext) throws(DPDKError) {
        let worker = Worker<E>(
            streams: assignment.streams, burst: options.burst, control: control, context: context,
            idleSleepMicroseconds: options.idleSleepMicroseconds)
        try assignment.lcore.launch { worker.run() }
    }

    /// A per-port table the workers read without locks, indexed by port id: `value(settings)`
    /// for each port (`fallback` for ids no port has). The previous table is released.
    func makePortTable<T>(
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
    func flushRxQueues() {
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
}
