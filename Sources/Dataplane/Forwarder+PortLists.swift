/// Port lists of the options (`--gso-ports`, `--gro-ports`) may only name ports that exist:
/// the ids are known once EAL has probed the devices, so they are checked then, before any
/// port starts, instead of being ignored.
extension Forwarder {
    static func checkPortLists(_ options: ForwardingOptions, ports: [UInt16]) throws(DataplaneError) {
        let lists: [(String, ForwardingOptions.PortList?)] = [("gso-ports", options.gsoPorts), ("gro-ports", options.groPorts)]
        for case let (name, .ids(ids)?) in lists {
            let missing = ids.filter { !ports.contains($0) }
            guard missing.isEmpty else {
                let existing = ports.isEmpty ? "none" : ports.map(String.init).joined(separator: ", ")
                throw .option(OptionError(option: name, value: ids.map(String.init).joined(separator: ","),
                                          allowed: "all, none or ports that exist (\(existing)); no port \(missing.map(String.init).joined(separator: ", "))"))
            }
        }
    }
}
