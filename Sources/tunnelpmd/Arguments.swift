import Dataplane

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

    static let valueOptions = [
        "forward-mode", "nb-cores", "rxq", "txq", "rxd", "txd", "burst", "mbuf-size", "total-num-mbufs",
        "port-topology", "stats-period", "cmdline-file", "max-pkt-len", "config", "stop-after", "verbose",
    ]
    static let flagOptions = ["interactive", "auto-start", "no-flush-rx", "help"]
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
            case "--forward-mode":
                let mode = try ForwardingMode.parse(try value())
                result.overrides.append { $0.mode = mode }
            case "--port-topology":
                let topology = try PortTopology.parse(try value())
                result.overrides.append { $0.topology = topology }
            case "--nb-cores":
                let cores: Int = try integer(try value(), "nb-cores", 1...128)
                result.overrides.append { $0.forwardingCores = cores }
            case "--rxq":
                let queues: UInt16 = try integer(try value(), "rxq", 1...1024)
                result.overrides.append { $0.rxQueues = queues }
            case "--txq":
                let queues: UInt16 = try integer(try value(), "txq", 1...1024)
                result.overrides.append { $0.txQueues = queues }
            case "--rxd":
                let descriptors: UInt16 = try integer(try value(), "rxd", 1...UInt16.max)
                result.overrides.append { $0.rxDescriptors = descriptors }
            case "--txd":
                let descriptors: UInt16 = try integer(try value(), "txd", 1...UInt16.max)
                result.overrides.append { $0.txDescriptors = descriptors }
            case "--burst":
                let burst: Int = try integer(try value(), "burst", 1...ForwardingOptions.maxBurst)
                result.overrides.append { $0.burst = burst }
            case "--mbuf-size":
                let size: UInt16 = try integer(try value(), "mbuf-size", 384...UInt16.max)
                result.overrides.append { $0.mbufSize = size }
            case "--total-num-mbufs":
                let count: UInt32 = try integer(try value(), "total-num-mbufs", 1024...UInt32.max)
                result.overrides.append { $0.totalMbufs = count }
            case "--max-pkt-len":
                let length: UInt32 = try integer(try value(), "max-pkt-len", 64...65535)
                result.overrides.append { $0.maxPacketLength = length }
            case "--stats-period":
                let period: Int = try integer(try value(), "stats-period", 0...86_400)
                result.overrides.append { $0.statsPeriod = period }
            case "--verbose":
                let level: Int = try integer(try value(), "verbose", 0...3)
                result.overrides.append { $0.verbose = level }
            case "--stop-after":
                let text = try value()
                guard let seconds = Double(text), seconds > 0 else {
                    throw OptionError(option: "stop-after", value: text, allowed: "a positive number of seconds")
                }
                result.overrides.append { $0.stopAfter = seconds }
            case "--cmdline-file": result.commandFile = try value()
            case "--config": result.configFile = try value()
            default:
                throw OptionError(option: "option", value: word, allowed: allowed)
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

    private static func integer<T: FixedWidthInteger>(_ text: String, _ option: String, _ range: ClosedRange<T>) throws(OptionError) -> T {
        guard let value = T(text), range.contains(value) else {
            throw OptionError(option: option, value: text, allowed: "\(range.lowerBound)-\(range.upperBound)")
        }
        return value
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
          --stats-period=N           print port statistics every N seconds (non-interactive)
          --stop-after=SECONDS       stop forwarding and exit after SECONDS (non-interactive)
          --cmdline-file=FILE        run console commands from FILE first
          --verbose=N                per-packet output level (0-3)
          -h, --help                 this text
        Without -i, forwards until SIGINT or SIGTERM and prints the statistics.
        """
}
