import Console
import Dataplane
import DPDK

/// testpmd's forwarding state commands: `show config rxtx|cores`, `show fwd stats all`,
/// `clear fwd stats all`, `set record-burst-stats on|off`.
extension Commands {
    func registerStateCommands(into set: Console) throws(PatternError) {
        try set.register("show config rxtx", section: "display", help: "engine, burst, cores, ports and each port's queues and offloads") { args in
            args.print(try rxtxConfiguration())
            return .continue
        }
        try set.register("show config cores", section: "display", help: "the forwarding lcores") { args in
            args.print("List of forwarding lcores:" + Lcore.workers.map { " " + lpad($0.id, 2) }.joined())
            return .continue
        }
        try set.register("show fwd stats all", section: "display", help: "forward statistics of the current or last run, as stop prints them") { args in
            args.print(forwarder.forwardStatistics().description)
            return .continue
        }
        try set.register("clear fwd stats all", section: "display", help: "forward statistics start again from zero") { _ in
            forwarder.clearForwardStatistics()
            return .continue
        }
        try set.register(
            "set record-burst-stats <on:onoff>", section: "config",
            help: "record rx/tx burst sizes; the forward statistics show the most frequent per port"
        ) { args in
            forwarder.setRecordBurstStats(try args.bool("on"))
            return .continue
        }
    }

    /// testpmd's rxtx_config_display: the first queue of each direction per port, as the
    /// driver reports it (the configured values where it does not).
    func rxtxConfiguration() throws -> String {
        let options = forwarder.options
        var lines = [
            "  \(options.mode.rawValue) packet forwarding packets/burst=\(options.burst)",
            "  nb forwarding cores=\(options.forwardingCores) - nb forwarding ports=\(forwarder.forwardingPorts.count)",
        ]
        for port in forwarder.ports {
            let settings = try forwarder.settings(port.id)
            let rxOffloads = (settings.rxOffloads ?? []).intersection(settings.rxCapabilities).rawValue
            let txOffloads = (settings.txOffloads ?? []).union(settings.requiredTxOffloads).intersection(settings.capabilities).rawValue
            let queues = port.isTap ? (1, 1) : (options.rxQueues, options.txQueues)
            lines.append("  port \(port.id): RX queue number: \(queues.0) Tx queue number: \(queues.1)")
            lines.append("    Rx offloads=0x\(String(rxOffloads, radix: 16)) Tx offloads=0x\(String(txOffloads, radix: 16))")
            let rx = try? port.ethdevPort?.rxQueueInfo(0)
            let tx = try? port.ethdevPort?.txQueueInfo(0)
            lines += [
                "    RX queue: 0",
                "      RX desc=\(rx?.descriptors ?? options.rxDescriptors) - RX free threshold=\(rx?.freeThreshold ?? 0)",
                "      RX threshold registers: pthresh=\(rx?.prefetchThreshold ?? 0) hthresh=\(rx?.hostThreshold ?? 0)  wthresh=\(rx?.writebackThreshold ?? 0)",
                "      RX Offloads=0x\(String(rx?.offloads ?? rxOffloads, radix: 16))",
                "    TX queue: 0",
                "      TX desc=\(tx?.descriptors ?? options.txDescriptors) - TX free threshold=\(tx?.freeThreshold ?? 0)",
                "      TX threshold registers: pthresh=\(tx?.prefetchThreshold ?? 0) hthresh=\(tx?.hostThreshold ?? 0)  wthresh=\(tx?.writebackThreshold ?? 0)",
                "      TX offloads=0x\(String(tx?.offloads ?? txOffloads, radix: 16)) - TX RS bit threshold=\(tx?.rsThreshold ?? 0)",
            ]
        }
        return lines.joined(separator: "\n")
    }
}
