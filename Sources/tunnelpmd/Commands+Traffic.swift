import CDPDK
import Console
import Dataplane

/// The traffic generation commands of testpmd: `start tx_first [n]`, and what txonly, flowgen
/// and tx_first send (`set txpkts`, `set txsplit`, `set tx_ip`, `set tx_udp`).
extension Commands {
    func registerTrafficCommands(into set: Console) throws(PatternError) {
        try registerReplayCommand(into: set)
        let burstsAllowed = "1-\(Self.maxTxFirstBursts)"
        try set.register(
            "start tx_first", section: "control",
            help: "send one txonly burst on every stream, then start forwarding"
        ) { args in
            try startTxFirst(bursts: 1, args)
        }
        try set.register(
            "start tx_first <n:uint:\(burstsAllowed)>", section: "control",
            help: "send n txonly bursts on every stream, then start forwarding"
        ) { args in
            try startTxFirst(bursts: Int(try args.uint("n")), args)
        }
        try set.register(
            "set nbport <n:uint:1-\(CDPDK_MAX_ETHPORTS)>", section: "config",
            help: "forward on the first n ports only (from the next start)"
        ) { args in
            let count = Int(try args.uint("n"))
            let available = forwarder.ports.count
            guard count <= available else {
                throw DataplaneError.option(OptionError(option: "nbport", value: "\(count)", allowed: "1-\(available) (the ports there are)"))
            }
            try forwarder.update { $0.forwardingPortCount = count }
            args.print("Number of forwarding ports set to \(count)")
            return .continue
        }
        try set.register(
            "set txpkts <lengths:string>", section: "config",
            help: "segment lengths of generated frames (txonly, flowgen, tx_first): len[,len]*",
            detail: """
                set txpkts <len>[,<len>]*
                    one mbuf per length, each at most the mbuf data room; together at least 42 bytes
                    (Ethernet, IPv4, UDP); the frame is their sum. Also --txpkts. Forwarding stopped.
                """
        ) { args in
            let text = try args.string("lengths")
            let lengths = try Self.option { () throws(OptionError) in try TrafficOptions.parseSegments(text, option: "txpkts") }
            try forwarder.update { $0.traffic.segmentLengths = lengths }
            args.print("Tx packet length set to \(lengths.reduce(0) { $0 + Int($1) }) in \(lengths.count) segment(s)")
            return .continue
        }
        try set.register(
            "show config txpkts", section: "display", help: "segments of generated frames, the split mode and what txonly sends"
        ) { args in
            let traffic = forwarder.options.traffic
            // testpmd's show_tx_pkt_segments, then what txonly sends beside it.
            args.print("""
                Number of segments: \(traffic.segmentLengths.count)
                Segment sizes: \(traffic.segmentLengths.map(String.init).joined(separator: ","))
                Split packet: \(traffic.split.rawValue)
                txonly: \(traffic.replayPcap.map { "frames of \($0)" } ?? "UDP \(traffic.ipSource):\(traffic.udpSource) -> \(traffic.ipDestination):\(traffic.udpDestination)")
                """)
            return .continue
        }
        try set.register(
            "set txsplit <mode:\(TxSplit.allCases.map(\.rawValue).joined(separator: "|"))>", section: "config",
            help: "txonly segments per frame: on/off all of them, rand a random number (1 to all)"
        ) { args in
            let split = try args.choice("mode", as: TxSplit.self)
            try forwarder.update { $0.traffic.split = split }
            args.print("Tx split mode set to \(split.rawValue)")
            return .continue
        }
        try set.register(
            "set tx_ip <src:string> <dst:string>", section: "config", help: "IPv4 source and destination of txonly frames"
        ) { args in
            let text = "\(try args.string("src")),\(try args.string("dst"))"
            let (source, destination) = try Self.option { () throws(OptionError) in
                try TrafficOptions.parseIPPair(text, option: "tx_ip")
            }
            try forwarder.update {
                $0.traffic.ipSource = source
                $0.traffic.ipDestination = destination
            }
            args.print("Tx IP addresses set to \(source) -> \(destination)")
            return .continue
        }
        try set.register(
            "set tx_udp <ports:string>", section: "config", help: "UDP ports of txonly frames: <src>[,<dst>]"
        ) { args in
            let text = try args.string("ports")
            let (source, destination) = try Self.option { () throws(OptionError) in
                try TrafficOptions.parseUDPPorts(text, option: "tx_udp")
            }
            try forwarder.update {
                $0.traffic.udpSource = source
                $0.traffic.udpDestination = destination
            }
            args.print("Tx UDP ports set to \(source) -> \(destination)")
            return .continue
        }
    }

    func registerReplayCommand(into set: Console) throws(PatternError) {
        try set.register(
            "set txonly-pcap <file:string>", section: "config",
            help: "txonly replays a pcap's frames (super-frames too) through the csum engine's egress; off: testpmd's frames",
            detail: """
                set txonly-pcap <file>|off
                    txonly sends the frames of <file> (a classic pcap of Ethernet frames, 64 KB tunnel
                    super-frames included) round and round, each as if the csum engine had received it:
                    parsed, addressed to the tx port's peer, and planned for the tx port (tunnel TSO,
                    checksum offloads, or Swift GSO cut at `set gso segsz`). Also --txonly-pcap.
                """
        ) { args in
            let text = try args.string("file")
            let set = try Self.option { () throws(OptionError) in try OptionSpec.txonlyPcap.parse(text, as: "txonly-pcap") }
            try forwarder.update(set)
            args.print(text == "off" ? "txonly sends testpmd's UDP frames" : "txonly replays \(text)")
            return .continue
        }
    }

    /// testpmd bounds `start tx_first n` by nothing but memory; a ring of 1024 descriptors holds 32.
    static let maxTxFirstBursts = 1024

    private func startTxFirst(bursts: Int, _ args: CommandArguments) throws -> CommandOutcome {
        if forwarder.isForwarding {
            args.print("Packet forwarding already started")
            return .continue
        }
        try forwarder.startForwarding(txFirstBursts: bursts)
        args.print(forwarder.configuration.description)
        return .continue
    }

    /// A parse error as the console reports option errors.
    static func option<T>(_ parse: () throws(OptionError) -> T) throws(DataplaneError) -> T {
        do { return try parse() } catch { throw .option(error) }
    }
}
