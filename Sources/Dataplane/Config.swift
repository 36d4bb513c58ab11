import DPDK
import Foundation
import Yams
import VnetTap

/// A config file for the fixed-core mode (`--config FILE`): EAL settings and forwarding
/// options. Every key is checked; an unknown key or a bad value names the file, the line,
/// the key and what is allowed. Command-line options given beside it take precedence.
public struct RunConfiguration: Equatable {
    /// Arguments for rte_eal_init, built from the `eal:` section.
    public var ealArguments: [String] = []
    public var forwarding = ForwardingOptions()

    public init() {}

    public static func load(path: String) throws(OptionError) -> RunConfiguration {
        try parse(try ConfigFile.read(path: path), source: path)
    }

    public static func parse(_ text: String, source: String) throws(OptionError) -> RunConfiguration {
        if text.utf8.count > ConfigFile.maximumBytes {
            throw OptionError(option: "config", value: source, allowed: "at most \(ConfigFile.maximumBytes) bytes")
        }
        try ConfigFile.checkNesting(text, source: source)
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch {
            throw OptionError(option: "config", value: source, allowed: "valid YAML: \(error)")
        }
        var config = RunConfiguration()
        // Nothing but comments: EAL would start with no arguments at all; say so instead.
        guard let root else {
            throw OptionError(option: "config", value: source,
                              allowed: "a YAML mapping with eal, forwarding and/or run (the file is empty or only comments)")
        }
        let reader = Reader(source: source)
        for (key, value) in try reader.mapping(root, path: "") {
            switch key {
            case "eal":
                config.ealArguments = try reader.eal(value)
                do throws(OptionError) { try EALArguments.validateFilePrefix(config.ealArguments, source: "eal.args --file-prefix") } catch {
                    var located = error
                    located.location = reader.location(value)
                    throw located
                }
            case "forwarding": try reader.options(value, section: .forwarding, into: &config.forwarding)
            case "run": try reader.options(value, section: .run, into: &config.forwarding)
            default: throw reader.unknown(key, at: value, path: "", allowed: ["eal", "forwarding", "run"])
            }
        }
        do { try config.forwarding.validate() } catch {
            var located = error
            located.location = source
            throw located
        }
        return config
    }
}

extension ForwardingOptions {
    /// testpmd's `--eth-peers-configfile`: one address a line, line N for port N - 1 (lines
    /// past the last port id are ignored, as testpmd does; blank lines at the end too).
    public static func readEthPeers(path: String, option: String) throws(OptionError) -> [UInt16: MACAddress] {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw OptionError(option: option, value: path, allowed: "a readable file (\(error.localizedDescription))")
        }
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        while lines.last == "" { lines.removeLast() }
        var peers: [UInt16: MACAddress] = [:]
        for (index, line) in lines.prefix(peerPorts.count).enumerated() {
            guard let mac = MACAddress(line) else {
                throw OptionError(option: option, value: line, allowed: "\(macFormat) on line \(index + 1) for port \(index)",
                                  location: "\(path):\(index + 1)")
            }
            peers[UInt16(index)] = mac
        }
        return peers
    }
}

/// Walks the YAML tree with locations for every error.
private struct Reader {
    let source: String

    func location(_ node: Node) -> String {
        node.mark.map { "\(source):\($0.line)" } ?? source
    }

    func mapping(_ node: Node, path: String) throws(OptionError) -> [(String, Node)] {
        guard case .mapping(let mapping) = node else {
            throw OptionError(option: path.isEmpty ? "document" : path, value: describe(node), allowed: "a mapping of keys", location: location(node))
        }
        return mapping.map { ($0.key.string ?? "?", $0.value) }
    }

    func unknown(_ key: String, at node: Node, path: String, allowed: [String]) -> OptionError {
        OptionError(option: path.isEmpty ? "key" : "key in \(path)", value: key, allowed: allowed.joined(separator: ", "), location: location(node))
    }

    func describe(_ node: Node) -> String {
        switch node {
        case .scalar(let scalar): return scalar.string
        case .mapping: return "(a mapping)"
        case .sequence: return "(a list)"
        }
    }

    func string(_ node: Node, _ key: String) throws(OptionError) -> String {
        guard case .scalar(let scalar) = node else {
            throw OptionError(option: key, value: describe(node), allowed: "a single value", location: location(node))
        }
        return scalar.string
    }

    func integer<T: FixedWidthInteger>(_ node: Node, _ key: String, _ range: ClosedRange<T>) throws(OptionError) -> T {
        let text = try string(node, key)
        guard let value = T(text), range.contains(value) else {
            throw OptionError(option: key, value: text, allowed: "\(range.lowerBound)-\(range.upperBound)", location: location(node))
        }
        return value
    }

    func bool(_ node: Node, _ key: String) throws(OptionError) -> Bool {
        let text = try string(node, key)
        guard let value = OptionSpec.parseBool(text) else {
            throw OptionError(option: key, value: text, allowed: "true, false", location: location(node))
        }
        return value
    }

    func strings(_ node: Node, _ key: String) throws(OptionError) -> [String] {
        guard case .sequence(let sequence) = node else {
            throw OptionError(option: key, value: describe(node), allowed: "a list", location: location(node))
        }
        var result: [String] = []
        for item in sequence { result.append(try string(item, key)) }
        return result
    }

    func eal(_ node: Node) throws(OptionError) -> [String] {
        var arguments: [String] = []
        let keys = ["lcores", "memory", "no_huge", "no_pci", "no_shconf", "file_prefix", "vdevs", "allow", "args"]
        for (key, value) in try mapping(node, path: "eal") {
            let name = "eal.\(key)"
            switch key {
            case "lcores": arguments += ["-l", try string(value, name)]
            case "memory": arguments += ["-m", String(try integer(value, name, 1...1_048_576) as Int)]
            case "no_huge": if try bool(value, name) { arguments.append("--no-huge") }
            case "no_pci": if try bool(value, name) { arguments.append("--no-pci") }
            case "no_shconf": if try bool(value, name) { arguments.append("--no-shconf") }
            case "file_prefix":
                let prefix = try string(value, name)
                do throws(OptionError) { try EALArguments.validateFilePrefix(["--file-prefix", prefix], source: name) } catch {
                    var located = error
                    located.location = location(value)
                    throw located
                }
                arguments += ["--file-prefix", prefix]
            case "vdevs": for vdev in try strings(value, name) { arguments += ["--vdev", vdev] }
            case "allow": for device in try strings(value, name) { arguments += ["-a", device] }
            case "args": arguments += try strings(value, name)
            default: throw unknown(key, at: value, path: "eal", allowed: keys)
            }
        }
        return arguments
    }

    /// The `forwarding` and `run` sections: every key is an option of the table, read as the
    /// command line reads its value (a list item or `port: value` pair as one value each).
    func options(_ node: Node, section: OptionSpec.Section, into options: inout ForwardingOptions) throws(OptionError) {
        for (key, value) in try mapping(node, path: section.rawValue) {
            guard let option = ForwardingOptions.option(key: key, in: section) else {
                throw unknown(key, at: value, path: section.rawValue, allowed: ForwardingOptions.configKeys(in: section))
            }
            let name = option.configName
            do throws(OptionError) {
                switch option.shape {
                case .scalar: try option.parse(try string(value, name), as: name)(&options)
                case .list: for text in try strings(value, name) { try option.parse(text, as: name)(&options) }
                case .mapping:
                    for (item, itemValue) in try mapping(value, path: name) {
                        try option.parse("\(item),\(try string(itemValue, name))", as: name)(&options)
                    }
                }
            } catch {
                var located = error
                if located.location == nil { located.location = location(value) }
                throw located
            }
        }
    }
}
