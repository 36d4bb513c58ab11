import Dataplane
import VnetTap

/// `tunnelpmd [EAL args] -- [app args]`, testpmd's command line for the options that exist.
/// Values may follow `=` or come as the next word (`--burst=64`, `--burst 64`), as getopt.
struct Arguments {
    var ealArguments: [String] = []
    var interactive = false
    var autoStart = false
    var commandFile: String?
    var configFile: String?
    var showHelp = false
    /// Forwarding options from the command line, applied over the config file's.
    var overrides: [(inout ForwardingOptions) -> Void] = []

    static let valueOptions = ["forward-mode", "port-topology", "cmdline-file", "config", "stop-after", "gso-ports", "vnet-tap",
                                "eth-peer", "eth-peers-configfile"]
        + ForwardingOptions.integerOptions.map(\.commandLineName)
    static let flagOptions = ["interactive", "auto-start", "no-flush-rx", "enable-lro", "help"]
    static var allowed: String {
        "-i, -a, -h, " + (flagOptions + valueOptions).map { "--" + $0 }.joined(separator: ", ")
    }

    /// Splits argv (program name excluded) at `--` and parses the application part.
    static func parse(_ argv: [String]) throws(OptionError) -> Arguments {
        var result = Arguments()
        let split = argv.firstIndex(of: "--")
        result.ealArguments = Array(argv[..<(split ?? argv.endIndex)])
        guard let split else { return result }
        var words = argv[(split + 1)...].makeIterator()
        while let word = words.next() {
            let (name, inlineValue) = Self.split(word)
            func value() throws(OptionError) -> String {
                if let inlineValue { return inlineValue }
                guard let next = words.next() else {
                    throw OptionError(option: word, value: "", allowed: "a value after \(word)")
                }
                return next
            }
            switch name {
            case "-i", "--interactive": result.interactive = true
            case "-a", "--auto-start": result.autoStart = true
            case "-h", "--help": result.showHelp = true
            case "--no-flush-rx": result.overrides.append { $0.flushRxOnStart = false }
            case "--enable-lro": result.overrides.append { $0.enableLRO = true }
            case "--forward-mode":
                let mode = try ForwardingMode.parse(try value(), option: "forward-mode")
                result.overrides.append { $0.mode = mode }
            case "--port-topology":
                let topology = try PortTopology.parse(try value(), option: "port-topology")
                result.overrides.append { $0.topology = topology }
            case "--stop-after":
                let text = try value()
                guard let seconds = Double(text), seconds > 0 else {
                    throw OptionError(option: "stop-after", value: text, allowed: "a positive number of seconds")
                }
                result.overrides.append { $0.stopAfter = seconds }
            case "--gso-ports":
                let ports = try ForwardingOptions.PortList.parse(try value(), option: "gso-ports")
                result.overrides.append { $0.gsoPorts = ports }
            case "--eth-peer":
                let peer = try ForwardingOptions.parseEthPeer(try value(), option: "eth-peer")
                result.overrides.append { $0.ethPeers[peer.port] = peer.mac }
            case "--eth-peers-configfile":
                let peers = try ForwardingOptions.readEthPeers(path: try value(), option: "eth-peers-configfile")
                result.overrides.append { $0.ethPeers.merge(peers) { $1 } }
            case "--vnet-tap":
                let text = try value()
                let tap: TapOptions
                do { tap = try TapOptions(parsing: text) } catch {
                    throw OptionError(option: "vnet-tap", value: text, allowed: "\(error)")
                }
                result.overrides.append { $0.vnetTaps.append(tap) }
            case "--cmdline-file": result.commandFile = try value()
            case "--config": result.configFile = try value()
            default:
                guard name.hasPrefix("--"),
                      let option = ForwardingOptions.integerOptions.first(where: { $0.commandLineName == name.dropFirst(2) })
                else {
                    throw OptionError(option: "option", value: word, allowed: allowed)
                }
                let text = try value()
                guard let number = Int(text), option.range.contains(number) else {
                    throw OptionError(
                        option: option.commandLineName, value: text,
                        allowed: "\(option.range.lowerBound)-\(option.range.upperBound)")
                }
                result.overrides.append { option.apply(&$0, number) }
            }
            if inlineValue != nil, !valueOptions.contains(String(name.dropFirst(2))) {
                throw OptionError(option: name, value: inlineValue!, allowed: "no value (\(name) is a flag)")
            }
        }
        return result
    }

    private static func split(_ word: String) -> (String, String?) {
        guard word.hasPrefix("--"), let equals = word.firstIndex(of: "=") else { return (word, nil) }
        return (String(word[..<equals]), String(word[word.index(after: equals)...]))
    }

    static let usage = """
        Usage: tunnelpmd [EAL options] -- [tunnelpmd options]
          -i, --interactive          run the interactive console (tunnelpmd> prompt)
          -a, --auto-start           start forwarding at once (with -i)
          --config FILE              YAML config for the fixed-core mode (EAL and forwarding keys)
          --forward-mode=MODE        \(ForwardingMode.allowed) (default io)
          --port-topology=TOPOLOGY   \(PortTopology.allowed) (default paired)
          --nb-cores=N               forwarding lcores (default 1)
          --rxq=N, --txq=N           queues per port (default 1)
          --rxd=N, --txd=N           descriptors per queue (default 1024)
          --burst=N                  packets per burst, 1-\(ForwardingOptions.maxBurst) (default 32)
          --mbuf-size=N              mbuf data room incl. headroom (default 2176)
          --total-num-mbufs=N        mbufs in the pool (default: sized from ports and queues)
          --max-pkt-len=N            largest frame; MTU = N - 18
          --no-flush-rx              do not drain rx queues before forwarding starts
          --enable-lro               TCP LRO on every port that offers it (virtio ports have it by default)
          --stats-period=N           print port statistics every N seconds (non-interactive)
          --stop-after=SECONDS       stop forwarding and exit after SECONDS (non-interactive)
          --cmdline-file=FILE        run console commands from FILE first
          --verbose=N                per-packet output level (0 off; 1 or more: a line per packet)
          --eth-peer=N,XX:XX:XX:XX:XX:XX
                                     destination MAC the mac and csum engines write on port N
                                     (repeatable; default 02:00:00:00:00:<N>)
          --eth-peers-configfile=FILE
                                     peer MACs, one a line: line 1 for port 0, line 2 for port 1, ...
          --vnet-tap=name=T[,netns=NS][,offloads=tso,uso,tunnel,tunnel-csum]
                                     attach an existing kernel tap with the virtio-net header as a
                                     port (repeatable; numbered after the ethdev ports)
          --gso-ports=LIST           Swift GSO on exactly these ports (all, none, or ids: 0,1) for the
                                     csum engine (default all: what a port cannot segment, Swift cuts)
          --gso-segsz=N              GSO frame length, headers included (default 1514)
          --idle-sleep-us=N          a worker sleeps N us after 32 empty polls (default 0: busy poll)
          -h, --help                 this text
        Without -i, forwards until SIGINT or SIGTERM and prints the statistics.
        """
}
