import Console
import Dataplane
import DPDK
import Offload

/// The console's commands, testpmd's syntax, bound to the forwarder.
struct Commands {
    let forwarder: Forwarder

    func register(into set: Console) throws(PatternError) {
        try registerOffloadCommands(into: set)
        try registerPortOffloadCommands(into: set)
        try registerTSOCommands(into: set)
        try registerCaptureCommands(into: set)
        try registerTrafficCommands(into: set)
        try registerCoalescingCommands(into: set)
        try registerPortCommands(into: set)
        try registerStateCommands(into: set)
        try registerUnsupportedCommands(into: set)
        try set.register("start", section: "control", help: "start packet forwarding with the current configuration") { args in
            // As testpmd: a second start is a notice, not an error (scripts may hold one).
            if forwarder.isForwarding {
                args.print("Packet forwarding already started")
                return .continue
            }
            try forwarder.startForwarding()
            args.print(forwarder.configuration.description)
            return .continue
        }
        try set.register("stop", section: "control", help: "stop packet forwarding and display the statistics") { args in
            let statistics = try forwarder.stopForwarding()
            args.print(statistics.description)
            args.print("Done.")
            return .continue
        }
        try set.register("quit", section: "control", help: "stop forwarding, close the ports and exit") { _ in .quit }

        try set.register(
            "show port info|stats|xstats|summary <port:port>", section: "display",
            help: "port information, NIC statistics, extended statistics or the one-line summary",
            detail: """
                show port info <port|all>     driver, link, MTU, queues and offload capabilities
                show port stats <port|all>    NIC counters and the rates since the previous show
                show port xstats <port|all>   every extended statistic the driver reports, then tunnelpmd's (tunnelpmd_*)
                show port summary <port|all>  one line per port: MAC, name, driver, link
                """
        ) { args in
            let what = try args.keyword(at: 2)
            let ports = try select(args.port("port"))
            switch what {
            case "info": for id in ports { args.print(try PortInfo.describe(forwarder.port(id), forwarder: forwarder)) }
            case "stats": for id in ports { args.print(try forwarder.nicStatistics(id).description) }
            case "xstats":
                for id in ports { args.print(try PortInfo.xstats(forwarder.port(id), extra: forwarder.forwardXstats(port: id))) }
            default: args.print(try PortInfo.summary(ports.map(forwarder.port), total: forwarder.ports.count))
            }
            return .continue
        }
        try set.register("clear port stats <port:port>", section: "display", help: "reset NIC and forward statistics") { args in
            for id in try select(args.port("port")) {
                try forwarder.clearStatistics(id)
                args.print("\n  NIC statistics for port \(id) cleared")
            }
            return .continue
        }
        try set.register("show config fwd", section: "display", help: "streams and lcores of the forwarding configuration") { args in
            args.print(forwarder.configuration.description)
            return .continue
        }

        let modes = ForwardingMode.allCases.map(\.rawValue).joined(separator: "|")
        try set.register("set fwd <mode:\(modes)>", section: "config", help: "choose the forwarding engine") { args in
            let mode = try args.choice("mode", as: ForwardingMode.self)
            try forwarder.setMode(mode)
            args.print("Set \(mode.rawValue) packet forwarding mode")
            return .continue
        }
        try set.register(
            "set verbose <level:uint>", section: "config",
            help: "per-packet output: 0 off, 1 or more a line per received packet (csum: and its plan)",
            detail: """
                set verbose <level>
                    0 prints nothing per packet. Any level of 1 or more (testpmd accepts any) prints,
                    per received burst, a line per packet (addresses, type, length, segments) and,
                    under the csum engine, its parsed layout, checksum placement and tx plan.
                    Takes effect at once, also while forwarding.
                """
        ) { args in
            let level = Int(clamping: min(try args.uint("level"), UInt(UInt32.max)))
            args.print("Change verbose level from \(forwarder.options.verbose) to \(level)")
            forwarder.setVerbosity(level)
            return .continue
        }
        try set.register(
            "set eth-peer <port_id:uint16> <mac:string>", section: "config",
            help: "destination MAC the mac and csum engines write on frames leaving a port",
            detail: """
                set eth-peer <port_id> <XX:XX:XX:XX:XX:XX>
                    the peer of <port_id>: frames the mac and csum engines send out of it get this
                    destination address (and the port's own as source). Default 02:00:00:00:00:<port_id>;
                    also --eth-peer=<port>,<mac> and --eth-peers-configfile. Forwarding stopped.
                """
        ) { args in
            let id = try args.uint16("port_id")
            let text = try args.string("mac")
            guard let mac = MACAddress(text) else {
                throw DataplaneError.option(OptionError(option: "mac", value: text, allowed: ForwardingOptions.macFormat))
            }
            try forwarder.setPeer(mac, port: id)
            return .continue
        }
        try set.register("set burst <n:uint:\(OptionSpec.burst.allowed)>", section: "config", help: "packets per rx/tx burst") { args in
            let burst = Int(try args.uint("n"))
            try forwarder.update { $0.burst = burst }
            args.print("Number of packets per burst set to \(burst)")
            return .continue
        }
        // The range this machine allows: the EAL lcores other than the main one (the option's
        // 1-128 is only its ceiling).
        let cores = "1-\(max(1, min(Lcore.workers.count, OptionSpec.nbCores.range!.upperBound)))"
        try set.register("set nbcore <n:uint:\(cores)>", section: "config", help: "number of forwarding lcores") { args in
            let cores = Int(try args.uint("n"))
            try forwarder.update { $0.forwardingCores = cores }
            args.print("Number of forwarding cores set to \(cores)")
            return .continue
        }

        try set.register("port start|stop <port:port>", section: "ports", help: "start or stop ports (forwarding must be stopped)") { args in
            let start = try args.keyword(at: 1) == "start"
            for id in try select(args.port("port")) {
                if start { try forwarder.startPort(id) } else {
                    // Refused before the notice, not after it.
                    if forwarder.isForwarding { throw DataplaneError.forwardingActive }
                    args.print("Stopping port \(id)...")
                    try forwarder.stopPort(id)
                }
            }
            return .continue
        }
    }

    func registerOffloadCommands(into set: Console) throws(PatternError) {
        let fields = ChecksumField.allCases.map(\.rawValue).joined(separator: "|")
        try set.register(
            "csum set <field:\(fields)> <placement:hw|sw> <port_id:uint16>", section: "config",
            help: "compute a checksum in hardware or software on tx (port stopped)",
            detail: """
                csum set ip|udp|tcp|outer-ip|outer-udp hw|sw <port_id>
                    where the csum engine computes each checksum of packets leaving <port_id>:
                    hw asks the NIC (only where the port advertises it), sw computes it in Swift.
                    Takes effect at the next port start, as in testpmd.
                csum set outer-udp zero <port_id>
                    send IPv4 outer UDP checksums as 0 (RFC 7348 allows it; IPv6 outers keep theirs).
                """
        ) { args in
            let field = try args.choice("field", as: ChecksumField.self)
            let placement = try args.choice("placement", as: ChecksumPlacement.self)
            let id = try args.uint16("port_id")
            try forwarder.setChecksum(field, placement, port: id)
            args.print(try forwarder.settings(id).describe(port: id))
            return .continue
        }
        try set.register("csum set outer-udp zero <port_id:uint16>", section: "config", help: "send IPv4 outer UDP checksums as 0") { args in
            let id = try args.uint16("port_id")
            try forwarder.setOuterUDPZero(port: id)
            args.print(try forwarder.settings(id).describe(port: id))
            return .continue
        }
        try set.register("csum parse-tunnel <on:onoff> <port_id:uint16>", section: "config", help: "parse tunnel headers of packets received on a port") { args in
            let id = try args.uint16("port_id")
            try forwarder.setParseTunnel(try args.bool("on"), port: id)
            args.print(try forwarder.settings(id).describe(port: id))
            return .continue
        }
        try set.register("csum show <port_id:uint16>", section: "display", help: "checksum settings of a port") { args in
            let id = try args.uint16("port_id")
            args.print(try forwarder.settings(id).describe(port: id))
            return .continue
        }
        let types = UDPTunnelPortType.allCases.map(\.rawValue).joined(separator: "|")
        try set.register(
            "port config <port_id:uint16> udp_tunnel_port add|rm <type:\(types)> <udp_port:uint16>", section: "ports",
            help: "add or remove a UDP port the parser treats as a tunnel"
        ) { args in
            let id = try args.uint16("port_id")
            let type = try args.choice("type", as: UDPTunnelPortType.self)
            let udpPort = try args.uint16("udp_port")
            if try args.keyword(at: 4) == "add" {
                try forwarder.addTunnelPort(type, udpPort: udpPort, port: id)
            } else {
                try forwarder.removeTunnelPort(type, udpPort: udpPort, port: id)
            }
            return .continue
        }
        try set.register("show port <port_id:uint16> udp_tunnel_port", section: "display", help: "the UDP tunnel ports of a port") { args in
            let id = try args.uint16("port_id")
            var lines = ["UDP tunnel ports of port \(id):"]
            for entry in try forwarder.settings(id).tunnelPorts.entries {
                let type = UDPTunnelPortType(kind: entry.kind, fouProtocol: entry.fouProtocol)?.rawValue ?? "\(entry.kind)"
                lines.append("  \(entry.port)\t\(type)")
            }
            args.print(lines.joined(separator: "\n"))
            return .continue
        }
        try set.register("set port <port_id:uint16> gso <on:onoff>", section: "config", help: "Swift GSO cuts what a port cannot segment (on by default; off: such frames are dropped)") { args in
            let id = try args.uint16("port_id")
            let on = try args.bool("on")
            try forwarder.setGSO(on, port: id)
            args.print("GSO is \(on ? "on" : "off") for port \(id)")
            return .continue
        }
        try set.register(
            "set gso segsz <length:uint:\(OptionSpec.gsoSegsz.allowed)>", section: "config",
            help: "largest frame GSO makes, headers included (default 1514)"
        ) { args in
            try forwarder.setGSOSegmentSize(Int(try args.uint("length")))
            args.print("GSO segment size set to \(forwarder.gsoSegmentSize)")
            return .continue
        }
        try set.register("show port <port_id:uint16> gso", section: "display", help: "GSO setting and segment size of a port") { args in
            let id = try args.uint16("port_id")
            let settings = try forwarder.settings(id)
            args.print("""
                GSO is \(settings.gso ? "on" : "off") for port \(id)
                Max GSO'd packet size: \(forwarder.gsoSegmentSize)
                Egress MTU: \(settings.mtu)
                """)
            return .continue
        }
    }

    /// testpmd's GRO commands, and the coalescer's counters per port.
    func registerCoalescingCommands(into set: Console) throws(PatternError) {
        try set.register(
            "set port <port_id:uint16> gro <on:onoff>", section: "config",
            help: "receive coalescing (GRO) of the TCP segments a port receives, tunnelled or not (off by default)"
        ) { args in
            let id = try args.uint16("port_id")
            let on = try args.bool("on")
            try forwarder.setGRO(on, port: id)
            args.print("GRO is \(on ? "on" : "off") for port \(id)")
            return .continue
        }
        try set.register(
            "set gro flush <rounds:uint:\(OptionSpec.groFlush.allowed)>", section: "config",
            help: "every <rounds> polls GRO flushes all flows (1: every poll, librte_gro's lightweight mode; 0: by timeout only, the default)"
        ) { args in
            try forwarder.setGROFlushRounds(Int(try args.uint("rounds")))
            args.print("GRO flush rounds set to \(forwarder.options.coalescing.flushRounds)")
            return .continue
        }
        try set.register("show port <port_id:uint16> gro", section: "display", help: "GRO setting, limits and counters of a port") { args in
            let id = try args.uint16("port_id")
            args.print(try CoalescingReport.describe(port: id, forwarder: forwarder))
            return .continue
        }
    }

    func registerPortOffloadCommands(into set: Console) throws(PatternError) {
        let txNames = TxOffloads.names.map { $0.1.lowercased() }.joined(separator: "|")
        let rxNames = RxOffloads.names.map { $0.1.lowercased() }.joined(separator: "|")
        try set.register(
            "port config <port_id:uint16> tx_offload <offload:\(txNames)> <on:onoff>", section: "ports",
            help: "enable or disable a tx offload of a stopped port (applied at its next start)"
        ) { args in
            let id = try args.uint16("port_id")
            let name = try args.keyword("offload")
            let offload = TxOffloads.names.first { $0.1.lowercased() == name }!.0
            try forwarder.setTxOffload(offload, named: name, on: try args.bool("on"), port: id)
            return .continue
        }
        try set.register(
            "port config <port_id:uint16> rx_offload <offload:\(rxNames)> <on:onoff>", section: "ports",
            help: "enable or disable an rx offload of a stopped port (applied at its next start)"
        ) { args in
            let id = try args.uint16("port_id")
            let name = try args.keyword("offload")
            let offload = RxOffloads.names.first { $0.1.lowercased() == name }!.0
            try forwarder.setRxOffload(offload, named: name, on: try args.bool("on"), port: id)
            return .continue
        }
        try set.register(
            "show port <port_id:uint16> tx_offload|rx_offload capabilities|configuration", section: "display",
            help: "offloads a port offers, or those it is configured with"
        ) { args in
            let id = try args.uint16("port_id")
            let settings = try forwarder.settings(id)
            let tx = try args.keyword(at: 3) == "tx_offload"
            let list: (Bool) -> String = { capabilities in
                let names = tx ? (capabilities ? settings.capabilities : settings.txOffloads ?? []).names
                    : (capabilities ? settings.rxCapabilities : settings.rxOffloads ?? []).names
                return names.isEmpty ? "none" : names.joined(separator: " ")
            }
            let direction = tx ? "Tx" : "Rx"
            if try args.keyword(at: 4) == "capabilities" {
                args.print("\(direction) Offloading Capabilities of port \(id) :\n  Per Port  : \(list(true))")
            } else {
                args.print("\(direction) Offloading Configuration of port \(id) :\n  Port : \(list(false))")
            }
            return .continue
        }
    }

    func select(_ selector: PortSelector) throws(DataplaneError) -> [UInt16] {
        switch selector {
        case .all: return forwarder.ports.map(\.id)
        case .id(let id): return [try forwarder.port(id).id]
        }
    }
}

extension DataplaneError: ConsoleError {
    public var message: String { description }
}
