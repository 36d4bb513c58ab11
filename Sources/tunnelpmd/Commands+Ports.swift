import Glibc
import Console
import Dataplane
import DPDK

/// testpmd's everyday port commands: queues, MTU, RSS, receive modes, link, MAC addresses,
/// close and reset, and the port and queue displays that go with them.
extension Commands {
    func registerPortCommands(into set: Console) throws(PatternError) {
        try registerPortLifecycleCommands(into: set)
        try registerRSSCommands(into: set)
        try registerPortModeCommands(into: set)
        try registerQueueInfoCommands(into: set)
    }

    func registerPortLifecycleCommands(into set: Console) throws(PatternError) {
        try set.register("port close|reset <port:port>", section: "ports", help: "close or reset stopped ports (forwarding stopped)") { args in
            let close = try args.keyword(at: 1) == "close"
            for id in try select(args.port("port")) {
                if close {
                    args.print("Closing ports...")
                    try forwarder.closePort(id)
                    args.print("Port \(id) is closed")
                } else {
                    args.print("Resetting ports...")
                    try forwarder.resetPort(id)
                }
                args.print("Done")
            }
            return .continue
        }
        let settings = QueueSetting.allCases.map(\.rawValue).joined(separator: "|")
        try set.register(
            "port config <port:port> <setting:\(settings)> <value:uint16>", section: "ports",
            help: "rx/tx queues or descriptors of every port from its next start (all ports stopped)",
            detail: """
                port config all rxq|txq|rxd|txd <value>
                    as testpmd: every port, all of them stopped first (port stop all); applied by
                    port start. rxq/txq 1-1024 (txq at least rxq: each rx queue forwards to its own
                    tx queue), rxd/txd 1-65535. With rxq > 1 the ports hash with RSS.
                """
        ) { args in
            let setting = try args.choice("setting", as: QueueSetting.self)
            guard case .all = try args.port("port") else {
                throw CommandFailure("per-port \(setting.rawValue) is not supported; allowed: port config all \(setting.rawValue) <value> (queues are the same on every port, as testpmd's)")
            }
            try forwarder.configureQueues(setting, Int(try args.uint16("value")))
            return .continue
        }
        try set.register(
            "port config mtu <port_id:uint16> <value:uint16>", section: "ports",
            help: "set a port's MTU now; kept over restarts (forwarding stopped)"
        ) { args in
            try forwarder.setMTU(try args.uint16("value"), port: try args.uint16("port_id"))
            return .continue
        }
    }

    func registerRSSCommands(into set: Console) throws(PatternError) {
        try set.register(
            "port config all rss <types:string>", section: "ports",
            help: "RSS hash types of every port: ip, udp, tcp, all, none, or one of testpmd's types",
            detail: """
                port config all rss all|none|ip|udp|tcp|sctp|tunnel|vlan|ipv4|ipv4-tcp|...|<type>
                port config all rss level-default|level-outer|level-inner
                    the hash functions every port with more than one rx queue applies (testpmd's
                    names; each port takes those it offers). Running ports change at once where
                    they hash already; the setting holds for every later start (--rss-ip,
                    --rss-udp, --disable-rss set it at launch). level-inner hashes the inner headers
                    of tunnelled packets where the port offers it (RTE_ETH_RSS_LEVEL_INNERMOST);
                    a port that does not says so and keeps hashing the outer ones.
                """
        ) { args in
            let name = try args.string("types")
            // level-*: which headers of a tunnelled packet the types apply to (bits 50-51),
            // kept with the current types; a port that cannot is told in the masking note.
            let levels = ["level-default": UInt64(0), "level-outer": RSSTypes.levelOutermost, "level-inner": RSSTypes.levelInnermost]
            let current = forwarder.options.rssHashFunctions & ~RSSTypes.levelMask
            guard let bits = RSSTypes.bits(named: name) ?? levels[name].map({ current | $0 }) else {
                let allowed = RSSTypes.table.map(\.name) + ["level-default", "level-outer", "level-inner"]
                throw CommandFailure("bad value '\(name)' for <types>; allowed: \(allowed.joined(separator: ", "))")
            }
            for note in try forwarder.configureRSS(bits) { args.print(note) }
            args.print("rss_hf 0x\(String(bits, radix: 16))")
            return .continue
        }
        try set.register("show port <port_id:uint16> rss-hash", section: "display", help: "RSS hash functions the port applies") { args in
            let reported = try forwarder.rssHashConfiguration(port: try args.uint16("port_id"), key: false)
            args.print(Self.describeRSS(reported.hashFunctions, key: nil))
            return .continue
        }
        try set.register("show port <port_id:uint16> rss-hash key", section: "display", help: "RSS hash functions and hash key of the port") { args in
            let reported = try forwarder.rssHashConfiguration(port: try args.uint16("port_id"), key: true)
            args.print(Self.describeRSS(reported.hashFunctions, key: reported.key))
            return .continue
        }
        try set.register(
            "port config <port_id:uint16> rss reta <entries:string>", section: "ports",
            help: "point redirection table entries at rx queues: (hash_index,queue)[,(hash_index,queue)]"
        ) { args in
            let text = try args.string("entries")
            guard let entries = Self.parseRETA(text) else {
                throw CommandFailure("bad value '\(text)' for <entries>; allowed: (hash_index,queue)[,(hash_index,queue)]*, e.g. (0,1),(1,0)")
            }
            try forwarder.updateRedirectionTable(entries, port: try args.uint16("port_id"))
            return .continue
        }
        try set.register(
            "show port <port_id:uint16> rss reta <size:uint16> <masks:string>", section: "display",
            help: "redirection table entries: <size> the port's reta_size, one 64-bit mask per 64 entries: (0xffff[,0x...])"
        ) { args in
            let size = Int(try args.uint16("size"))
            let text = try args.string("masks")
            let masks = text.trimmingCharacters(in: ["(", ")"]).split(separator: ",").map { part in
                part.lowercased().hasPrefix("0x") ? UInt64(part.dropFirst(2), radix: 16) : UInt64(part)
            }
            let groups = (size + 63) / 64
            guard masks.count == groups, masks.allSatisfy({ $0 != nil }) else {
                throw CommandFailure("bad value '\(text)' for <masks>; allowed: \(groups) mask(s) for \(size) entries, e.g. (\(Array(repeating: "0xffffffffffffffff", count: max(groups, 1)).joined(separator: ",")))")
            }
            let queues = try forwarder.redirectionTable(port: try args.uint16("port_id"), size: size)
            for (index, queue) in queues.enumerated() where masks[index / 64]! & (1 << UInt64(index % 64)) != 0 {
                args.print("RSS RETA configuration: hash index=\(index), queue=\(queue)")
            }
            return .continue
        }
    }

    func registerPortModeCommands(into set: Console) throws(PatternError) {
        try set.register("set promisc|allmulti <port:port> <on:onoff>", section: "ports", help: "promiscuous or all-multicast mode of ports") { args in
            let promiscuous = try args.keyword(at: 1) == "promisc"
            let on = try args.bool("on")
            // As testpmd, `all` goes on past a port whose driver refuses, naming it.
            for id in try select(args.port("port")) {
                do {
                    if promiscuous { try forwarder.setPromiscuous(on, port: id) } else { try forwarder.setAllMulticast(on, port: id) }
                } catch {
                    guard case .all = try args.port("port") else { throw error }
                    args.print("\(args.commandName): \((error as? any ConsoleError)?.message ?? "\(error)")")
                }
            }
            return .continue
        }
        try set.register("set link-up|link-down port <port_id:uint16>", section: "ports", help: "set a port's link up or down") { args in
            try forwarder.setLink(up: try args.keyword(at: 1) == "link-up", port: try args.uint16("port_id"))
            return .continue
        }
        let actions = Forwarder.MACAction.allCases.map(\.rawValue).joined(separator: "|")
        try set.register(
            "mac_addr <action:\(actions)> <port_id:uint16> <mac:string>", section: "ports",
            help: "set the port's address (the source mac/csum write from the next start), add or remove an extra one"
        ) { args in
            let text = try args.string("mac")
            guard let mac = MACAddress(text) else {
                throw DataplaneError.option(OptionError(option: "mac", value: text, allowed: ForwardingOptions.macFormat))
            }
            try forwarder.changeMACAddress(try args.choice("action", as: Forwarder.MACAction.self), mac, port: try args.uint16("port_id"))
            return .continue
        }
        try set.register("show port <port_id:uint16> macs", section: "display", help: "the port's unicast MAC addresses") { args in
            let id = try args.uint16("port_id")
            let port = try forwarder.port(id)
            let addresses: [MACAddress]
            if let ethdev = port.ethdevPort {
                do { addresses = try ethdev.macAddresses() } catch let error as DPDKError { throw DataplaneError.portSetup(port: id, error) }
            } else {
                addresses = [try port.macAddress()]
            }
            args.print("Number of MAC address added: \(addresses.count)")
            for address in addresses { args.print("  \(address)") }
            return .continue
        }
        try set.register("show device info <device:string>", section: "display", help: "bus, driver, devargs and ports of devices: all or a device name") { args in
            let wanted = try args.string("device")
            var shown = 0
            for port in forwarder.ports {
                guard let ethdev = port.ethdevPort else { continue }
                let device = ethdev.device
                guard wanted == "all" || wanted == device.name else { continue }
                args.print(try PortInfo.device(device, port: port))
                shown += 1
            }
            if shown == 0 {
                throw CommandFailure("no device '\(wanted)'; allowed: all, \(forwarder.ports.compactMap { $0.ethdevPort?.device.name }.joined(separator: ", "))")
            }
            return .continue
        }
    }

    func registerQueueInfoCommands(into set: Console) throws(PatternError) {
        try set.register("show rxq|txq info <port_id:uint16> <queue_id:uint16>", section: "display", help: "a queue's configuration as the driver reports it") { args in
            let rx = try args.keyword(at: 1) == "rxq"
            args.print(try queueInfo(rx: rx, port: try args.uint16("port_id"), queue: try args.uint16("queue_id")))
            return .continue
        }
        try set.register("show port <port_id:uint16> rxq|txq <queue_id:uint16> info", section: "display", help: "a queue's configuration (as show rxq|txq info)") { args in
            let rx = try args.keyword(at: 3) == "rxq"
            args.print(try queueInfo(rx: rx, port: try args.uint16("port_id"), queue: try args.uint16("queue_id")))
            return .continue
        }
    }

    func queueInfo(rx: Bool, port id: UInt16, queue: UInt16) throws -> String {
        guard let ethdev = try forwarder.port(id).ethdevPort else {
            throw CommandFailure("port \(id) is a vnet tap: one queue, no driver queue information")
        }
        let count = rx ? forwarder.options.rxQueues : forwarder.options.txQueues
        guard queue < count else {
            throw CommandFailure("invalid \(rx ? "rx" : "tx") queue \(queue) of port \(id); allowed: 0-\(count - 1)")
        }
        do {
            return PortInfo.queue(rx ? try ethdev.rxQueueInfo(queue) : try ethdev.txQueueInfo(queue), rx: rx, port: id, queue: queue)
        } catch where error.code == ENOTSUP {
            let descriptors = rx ? forwarder.options.rxDescriptors : forwarder.options.txDescriptors
            let configured = QueueInfo(
                configuredDescriptors: descriptors, mempool: rx ? forwarder.rxPool(for: try forwarder.port(id)).name : nil,
                started: forwarder.startedPorts.contains(id))
            return PortInfo.queue(configured, rx: rx, port: id, queue: queue)
        } catch {
            throw DataplaneError.portSetup(port: id, error)
        }
    }

    /// testpmd's port_rss_hash_conf_show: "RSS disabled", or the functions and the key.
    static func describeRSS(_ hashFunctions: UInt64, key: [UInt8]?) -> String {
        guard hashFunctions != 0 else { return "RSS disabled" }
        var text = "RSS functions:\n" + RSSTypes.describe(hashFunctions)
        if let key { text += "\nRSS key:\n" + key.map { lpad(String($0, radix: 16, uppercase: true), 2).replacingOccurrences(of: " ", with: "0") }.joined() }
        return text
    }

    /// `(0,1),(1,0)`: hash index, queue pairs.
    static func parseRETA(_ text: String) -> [(index: Int, queue: UInt16)]? {
        var entries: [(index: Int, queue: UInt16)] = []
        var rest = Substring(text)
        while !rest.isEmpty {
            guard rest.first == "(", let close = rest.firstIndex(of: ")") else { return nil }
            let pair = rest[rest.index(after: rest.startIndex)..<close].split(separator: ",")
            guard pair.count == 2, let index = Int(pair[0]), index >= 0, let queue = UInt16(pair[1]) else { return nil }
            entries.append((index, queue))
            rest = rest[rest.index(after: close)...]
            if rest.first == "," { rest = rest.dropFirst() }
        }
        return entries.isEmpty ? nil : entries
    }
}
