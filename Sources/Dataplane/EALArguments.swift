/// EAL arguments from a config file's `eal:` section merged with those on the command line,
/// as the README promises: the command line overrides the file. rte_eal_init refuses some
/// options given twice (`-l 0-1 ... -l 0-3`: "Option -l is ignored", then its usage and exit),
/// so an option EAL takes once that the command line gives replaces the file's; options EAL
/// takes many times (`--vdev`, `-a`, `--log-level`, ...) add up, each distinct value once.
public enum EALArguments {
    /// EAL options that take a value (DPDK 22.11, lib/eal/common/eal_common_options.c), by
    /// every spelling. Options that conflict with each other share a key (`-c`, `-l`, `--lcores`).
    static let valueOptions: [String: String] = [
        "-c": "cores", "-l": "cores", "--lcores": "cores",
        "-s": "service-cores", "-S": "service-cores",
        "-n": "-n", "-r": "-r", "-m": "memory", "--socket-mem": "memory",
        "-a": "-a", "--allow": "-a", "-b": "-b", "--block": "-b", "--vdev": "--vdev", "-d": "-d",
        "--file-prefix": "--file-prefix", "--socket-limit": "--socket-limit", "--huge-dir": "--huge-dir",
        "--proc-type": "--proc-type", "--base-virtaddr": "--base-virtaddr", "--log-level": "--log-level",
        "--main-lcore": "--main-lcore", "--iova-mode": "--iova-mode", "--mbuf-pool-ops-name": "--mbuf-pool-ops-name",
        "--vfio-intr": "--vfio-intr", "--vfio-vf-token": "--vfio-vf-token", "--trace": "--trace",
        "--trace-dir": "--trace-dir", "--trace-bufsz": "--trace-bufsz", "--trace-mode": "--trace-mode",
        "--force-max-simd-bitwidth": "--force-max-simd-bitwidth",
    ]
    /// Keys EAL accepts more than once.
    static let repeatable: Set<String> = ["-a", "-b", "--vdev", "-d", "--log-level", "--trace"]

    /// One option as given: its key and its words (`["-l", "0-1"]`, `["--no-huge"]`).
    struct Item: Equatable {
        var key: String
        var words: [String]
        var value: String?
    }

    static func items(_ arguments: [String]) -> [Item] {
        var items: [Item] = []
        var index = arguments.startIndex
        while index < arguments.endIndex {
            let word = arguments[index]
            index += 1
            if let equals = word.firstIndex(of: "="), word.hasPrefix("--"),
               let key = valueOptions[String(word[..<equals])] {
                items.append(Item(key: key, words: [word], value: String(word[word.index(after: equals)...])))
            } else if let key = valueOptions[word], index < arguments.endIndex {
                items.append(Item(key: key, words: [word, arguments[index]], value: arguments[index]))
                index += 1
            } else if word.count > 2, !word.hasPrefix("--"), let key = valueOptions[String(word.prefix(2))] {
                items.append(Item(key: key, words: [word], value: String(word.dropFirst(2))))  // -l0-1
            } else {
                items.append(Item(key: word, words: [word], value: nil))  // a flag, or what EAL will judge
            }
        }
        return items
    }

    /// The file's arguments, less each single option the command line also gives, then the
    /// command line's; repeated options and flags appear once per distinct value.
    public static func merge(file: [String], commandLine: [String]) -> [String] {
        let given = items(commandLine)
        let overridden = Set(given.map(\.key)).subtracting(repeatable)
        var merged: [Item] = []
        for item in items(file) + given where !(merged.contains { $0.key == item.key && $0.value == item.value }) {
            if overridden.contains(item.key), !given.contains(item) { continue }
            merged.append(item)
        }
        return merged.flatMap(\.words)
    }

    /// EAL makes its runtime directory `<runtime dir>/<file prefix>`: a prefix with a path
    /// separator, or `.`/`..`, would put it (and the files it writes) somewhere else.
    public static func validateFilePrefix(_ arguments: [String], source: String = "file-prefix") throws(OptionError) {
        for item in items(arguments) where item.key == "--file-prefix" {
            let prefix = item.value ?? ""
            if prefix.isEmpty || prefix.contains("/") || prefix == "." || prefix == ".." {
                throw OptionError(option: source, value: prefix, allowed: "a name without '/' (not '.' or '..')")
            }
        }
    }
}
