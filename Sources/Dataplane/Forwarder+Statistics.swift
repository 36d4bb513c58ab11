import CDPDK
import DPDK
import Offload
import VnetTap

/// Statistics: forward counters per port from the streams (relaxed loads), NIC counters and
/// rates, the forwarding configuration.
extension Forwarder {
    /// Per-port and accumulated counters of the current (or last) run.
    public func forwardStatistics() -> ForwardStatistics {
        var statistics = Self.forwardStatistics(
            ports: forwardingPorts, streams: plan.allStreams, baseline: forwardBaseline, runningMode: runningMode,
            deviceErrorBaseline: deviceErrorBaseline)
        if options.recordBurstStats { statistics.addBursts(plan.allStreams) }
        return statistics.since(clearedStatistics, plan: plan)
    }

    /// The statistics of `streams` (relaxed loads of counters only their lcores write) and the NIC
    /// counters since `baseline`: what `stop` prints and telemetry reports, from any thread.
    static func forwardStatistics(
        ports: [Port], streams: UnsafeMutableBufferPointer<Stream>, baseline: [UInt16: PortStats],
        runningMode: ForwardingMode?, deviceErrorBaseline: [UInt16: [String: UInt64]] = [:]
    ) -> ForwardStatistics {
        var result = ForwardStatistics(ports: [])
        result.showsEngineCounters = runningMode == .csum
        for port in ports {
            var entry = ForwardStatistics.Port(id: port.id)
            for stream in streams {
                // Each counter the stream keeps on the port of its side (relaxed loads of counters
                // only the stream's lcore writes).
                for counter in ForwardCounter.streamCounters
                where (counter.descriptor.side == .rx ? stream.rxPort : stream.txPort) == port {
                    entry[counter] &+= StreamCounters.load(counter, from: stream.counters)
                }
                // Each engine counter on the port its schema entry names (rx or tx side).
                for slot in 0..<EngineCounter.slotCount where (EngineCounter.sideOfSlot[slot] == .rx ? stream.rxPort : stream.txPort) == port {
                    entry.engine[slot] &+= cdpdk_load_counter(stream.engineCounters + slot)
                }
            }
            // io and mac count only the packets whose metadata asked for transmit work.
            if entry.engine.contains(where: { $0 != 0 }) { result.showsEngineCounters = true }
            // The counters the port keeps: their growth since forwarding started.
            if let now = try? port.stats(), let base = baseline[port.id] {
                for counter in ForwardCounter.allCases {
                    if let field = counter.portField { entry[counter] = now[field] &- base[field] }
                }
            }
            if let device = port.tapDevice {
                let base = deviceErrorBaseline[port.id] ?? [:]
                for (name, value) in Self.deviceErrorCounters(device) where value > (base[name] ?? 0) {
                    entry.deviceErrors.append(.init(name: name, count: value - (base[name] ?? 0)))
                }
            }
            result.ports.append(entry)
        }
        for stream in streams where ports.contains(stream.rxPort) {
            result.streams.append(ForwardStatistics.StreamLine(
                rxPort: stream.rxPort.id, rxQueue: stream.rxQueue, txPort: stream.txPort.id, txQueue: stream.txQueue,
                rxPackets: StreamCounters.load(.rxPackets, from: stream.counters),
                txPackets: StreamCounters.load(.txPackets, from: stream.counters),
                txDropped: StreamCounters.load(.txDropped, from: stream.counters)))
        }
        return result
    }

    /// A tap's error counters the forward statistics show: failed reads and writes by errno,
    /// packets refused while the interface was gone.
    static func deviceErrorCounters(_ device: TapDevice) -> [(name: String, value: UInt64)] {
        device.statistics().entries.filter { $0.name.contains("_errno_") || $0.name == "tx_link_down" }
    }

    /// Where the device error counters stood when the run (or `clear fwd stats`) began.
    func recordDeviceErrorBaseline() {
        deviceErrorBaseline = [:]
        for port in ports {
            guard let device = port.tapDevice else { continue }
            deviceErrorBaseline[port.id] = Dictionary(Self.deviceErrorCounters(device).map { ($0.name, $0.value) }, uniquingKeysWith: +)
        }
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
        deviceErrorBaseline[id] = nil
    }

    /// The streams each lcore will forward, for `show config fwd`.
    public var configuration: ForwardingPlan.Summary {
        var summary = plan.summary(mode: options.mode, options: options)
        summary.pools = [("packets", pool), ("GSO segment headers", headerPool), ("GSO payload views", indirectPool)]
            + socketPools.keys.sorted().map { ("rx packets, socket \($0)", socketPools[$0]!) }
        return summary
    }
}
