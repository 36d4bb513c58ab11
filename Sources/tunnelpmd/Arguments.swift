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
    /// `--capture=PORT,rx|tx|both,FILE[,COUNT]`: pcapng captures armed once the ports are up.
    var captures: [CaptureRequest] = []
    /// Forwarding options from the command line, applied over the config file's.
    var overrides: [(inout ForwardingOptions) -> Void] = []

    /// The options of tunnelpmd itself, beside the forwarding options of the table
    /// (`ForwardingOptions.options`): short name, `--name`, placeholder (nil: a flag), help.
    static let ownOptions: [(short: String?, name: String, argument: String?, help: String)] = [
        ("-i", "interactive", nil, "run the interactive console (tunnelpmd> prompt)"),
        ("-a", "auto-start", nil, "start forwarding at once (with -i)"),
        (nil, "config", "FILE", "YAML config for the fixed-core mode (EAL and forwarding keys)"),
        (nil, "cmdline-file", "FILE", "run console commands from FILE first"),
        (nil, "capture", "PORT,rx|tx|both,FILE[,COUNT]", "write the port's packets to a pcapng file (as `capture port`)"),
        ("-h", "help", nil, "this text"),
    ]
    static var valueOptions: [String] {
        ownOptions.filter { $0.argument != nil }.map(\.name) + ForwardingOptions.options.filter { $0.argument != nil }.map(\.name)
    }
    static var allowed: String {
        (ownOptions.compactMap(\.short) + ownOptions.map { "--" + $0.name } + ForwardingOptions.options.map { "--" + $0.name })
            .joined(separator: ", ")
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
            case "--cmdline-file": result.commandFile = try value()
            case "--config": result.configFile = try value()
            case "--capture": result.captures.append(try CaptureRequest.parse(try value()))
            default:
                guard name.hasPrefix("--"), let option = ForwardingOptions.option(named: String(name.dropFirst(2))) else {
                    throw OptionError(option: "option", value: word, allowed: allowed)
                }
                let text = if let flag = option.flagValue { flag } else { try value() }
                result.overrides.append(try option.parse(text, as: option.name))
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

    /// `--help`: tunnelpmd's own options, then every forwarding option of the table with
    /// what it allows and its default.
    static var usage: String {
        func line(_ label: String, _ help: String) -> String {
            let indent = String(repeating: " ", count: 29)
            if label.count > 25 { return "  \(label)\n\(indent)\(help)" }
            return "  " + label.padding(toLength: 27, withPad: " ", startingAt: 0) + help
        }
        var lines = ["Usage: tunnelpmd [EAL options] -- [tunnelpmd options]"]
        for option in ownOptions where option.name != "help" {
            let label = (option.short.map { $0 + ", " } ?? "") + "--" + option.name + (option.argument.map { " " + $0 } ?? "")
            lines.append(line(label, option.help))
        }
        for option in ForwardingOptions.options {
            // Ranges and words in full; free-form values (lists, files, MACs) by their help.
            let allowed = option.range != nil || option.isChoice ? "\(option.allowed); " : ""
            lines.append(line(option.usage, "\(option.help) (\(allowed)default \(option.defaultText))"))
        }
        for option in ownOptions where option.name == "help" {
            lines.append(line("\(option.short!), --\(option.name)", option.help))
        }
        lines.append("Without -i, forwards until SIGINT, SIGTERM, SIGHUP or SIGQUIT and prints the statistics; SIGUSR1 or SIGUSR2 prints them and goes on.")
        return lines.joined(separator: "\n")
    }
}
