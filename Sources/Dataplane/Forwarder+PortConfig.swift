import CDPDK
import DPDK
import Offload

/// What the console set on a port that a restart must not undo: `rte_eth_dev_configure`
/// resets the MTU, and tunnelpmd turns promiscuous mode on at every start.
struct PortOverrides: Equatable {
    var mtu: UInt16?
    var promiscuous: Bool?
    var allMulticast: Bool?
}

/// testpmd's queue counts and sizes (`port config all rxq|txq|rxd|txd <n>`).
public enum QueueSetting: String, NamedChoice, Sendable {
    case rxq, txq, rxd, txd

    var option: OptionSpec {
        switch self {
        case .rxq: .rxq
        case .txq: .txq
        case .rxd: .rxd
        case .txd: .txd
        }
    }
}

/// Port configuration from the console: queues, MTU, RSS, receive modes, link, MAC addresses,
/// close and reset, each as testpmd's command does it.
extension Forwarder {
    /// The ports that forward (`--portmask`, `--nb-ports`); all of them when the options
    /// name none or cannot be met.
    public var forwardingPorts: [Port] { (try? options.forwardingPorts(of: ports)) ?? ports }

    func ethdev(_ id: UInt16, for what: String) throws(DataplaneError) -> EthPort {
        guard let ethdev = try port(id).ethdevPort else {
            throw .portCapability("port \(id) is a vnet tap: \(what) applies to ethdev ports only")
        }
        return ethdev
    }

    /// `port config all rxq|txq|rxd|txd <n>`: every port's queues or descriptors from their
    /// next start; all ports must be stopped, as testpmd requires.
    public func configureQueues(_ setting: QueueSetting, _ value: Int) throws(DataplaneError) {
        guard !isForwarding else { throw .forwardingActive }
        let started = ports.map(\.id).filter(startedPorts.contains)
        guard started.isEmpty else { throw .portsStarted(started) }
        if (setting == .rxq || setting == .txq) && value > 1 && ports.contains(where: \.isTap) {
            throw .option(OptionError(option: setting.rawValue, value: "\(value)", allowed: "1 when --vnet-tap ports are used (a tap has one queue)"))
        }
        let option = setting.option
        var updated = options
        do {
            try option.parse("\(value)", as: option.name)(&updated)
            // `validate` names what ties the options (txq at least rxq).
            try updated.validate()
        } catch {
            throw .option(error)
        }
        options = updated
    }

    /// `port config mtu <p> <n>`: at once, and kept over restarts (forwarding stopped: the
    /// planner sizes segments from it).
    public func setMTU(_ mtu: UInt16, port id: UInt16) throws(DataplaneError) {
        guard !isForwarding else { throw .forwardingActive }
        let ethdev = try ethdev(id, for: "port config mtu")
        let info = try deviceInfo(ethdev, port: id)
        guard (info.minMTU...max(info.minMTU, info.maxMTU)).contains(mtu) else {
            throw .option(OptionError(option: "mtu", value: "\(mtu)", allowed: "\(info.minMTU)-\(info.maxMTU) (port \(id))"))
        }
        do { try ethdev.setMTU(mtu) } catch { throw .portSetup(port: id, error) }
        portOverrides[id, default: PortOverrides()].mtu = mtu
        if startedPorts.contains(id), var settings = offloadSettings[id] {
            settings.mtu = Int(mtu)
            let configured = (settings.txOffloads ?? []).union(settings.requiredTxOffloads).intersection(info.txOffloadCapabilities)
            settings.plannerCapabilities = TxCapabilities(info: info, mtu: settings.mtu).restricted(to: configured)
            offloadSettings[id] = settings
        }
    }

    func deviceInfo(_ ethdev: EthPort, port id: UInt16) throws(DataplaneError) -> DeviceInfo {
        do { return try ethdev.info() } catch { throw .portSetup(port: id, error) }
    }

    /// `set promisc <p> on|off`, kept over restarts.
    public func setPromiscuous(_ on: Bool, port id: UInt16) throws(DataplaneError) {
        let ethdev = try ethdev(id, for: "set promisc")
        do { try ethdev.changePromiscuous(on) } catch { throw .portSetup(port: id, error) }
        portOverrides[id, default: PortOverrides()].promiscuous = on
    }

    /// `set allmulti <p> on|off`, kept over restarts.
    public func setAllMulticast(_ on: Bool, port id: UInt16) throws(DataplaneError) {
        let ethdev = try ethdev(id, for: "set allmulti")
        do { try ethdev.changeAllMulticast(on) } catch { throw .portSetup(port: id, error) }
        portOverrides[id, default: PortOverrides()].allMulticast = on
    }

    /// `set link-up|link-down port <p>`.
    public func setLink(up: Bool, port id: UInt16) throws(DataplaneError) {
        let ethdev = try ethdev(id, for: "set link-\(up ? "up" : "down")")
        do { try ethdev.setLink(up: up) } catch { throw .portSetup(port: id, error) }
        changed()
    }

    public enum MACAction: String, NamedChoice, Sendable { case set, add, remove }

    /// `mac_addr set|add|remove <p> <mac>`: the default address (the source `mac` and `csum`
    /// write from the next start) or an extra unicast address.
    public func changeMACAddress(_ action: MACAction, _ address: MACAddress, port id: UInt16) throws(DataplaneError) {
        let ethdev = try ethdev(id, for: "mac_addr")
        do {
            switch action {
            case .set: try ethdev.setDefaultMACAddress(address)
            case .add: try ethdev.addMACAddress(address)
            case .remove: try ethdev.removeMACAddress(address)
            }
        } catch {
            throw .portSetup(port: id, error)
        }
        changed()
    }

    /// `port close <p>`: a stopped port is closed and leaves the forwarder (DPDK releases its id).
    public func closePort(_ id: UInt16) throws(DataplaneError) {
        guard !isForwarding else { throw .forwardingActive }
        let ethdev = try ethdev(id, for: "port close")
        guard !startedPorts.contains(id) else { throw .portNotStopped(id) }
        do { try ethdev.close() } catch { throw .portSetup(port: id, error) }
        ports.removeAll { $0.id == id }
        offloadSettings[id] = nil
        portOverrides[id] = nil
    }

    /// `port reset <p>`: a stopped port is reset by its driver; the next `port start`
    /// configures it again from the current options.
    public func resetPort(_ id: UInt16) throws(DataplaneError) {
        guard !isForwarding else { throw .forwardingActive }
        let ethdev = try ethdev(id, for: "port reset")
        guard !startedPorts.contains(id) else { throw .portNotStopped(id) }
        do { try ethdev.reset() } catch { throw .portSetup(port: id, error) }
    }

    /// The hash functions asked of port `id` at its next configuration: the global types
    /// masked by what the port offers, and only with more than one rx queue (testpmd's
    /// init_port_config).
    func rssHashFunctions(offered: UInt64) -> UInt64 {
        options.rxQueues > 1 ? options.rssHashFunctions & offered : 0
    }

    /// `port config all rss <types>`: the global types for every later configuration, and
    /// each running port's hash functions now where it hashes already. Returns a line per
    /// port that narrowed the request or could not take it now.
    public func configureRSS(_ hashFunctions: UInt64) throws(DataplaneError) -> [String] {
        options.rssHashFunctions = hashFunctions
        var notes: [String] = []
        for port in ports {
            guard let ethdev = port.ethdevPort else {
                notes.append("Port \(port.id) is a vnet tap: no RSS (one queue)")
                continue
            }
            let offered: UInt64
            do { offered = try ethdev.info().rssHashFunctions } catch { throw .portSetup(port: port.id, error) }
            let masked = hashFunctions & offered
            if offered == 0 {
                notes.append("Port \(port.id) offers no RSS hash types: its rx queue 0 receives everything")
                continue
            }
            if hashFunctions & RSSTypes.levelMask != 0 && offered & RSSTypes.levelMask == 0 {
                notes.append("Port \(port.id) offers no RSS level selection (RTE_ETH_RSS_LEVEL_*): it hashes the headers its driver chooses")
            }
            if masked != hashFunctions {
                notes.append("Port \(port.id) modified RSS hash function based on hardware support,requested:0x\(String(hashFunctions, radix: 16)) configured:0x\(String(masked, radix: 16))")
            }
            guard options.rxQueues > 1 else {
                notes.append("Port \(port.id): RSS applies with more than one rx queue (port config all rxq <n>)")
                continue
            }
            do { try ethdev.updateRSSHash(masked) } catch {
                notes.append("Port \(port.id): \(error.message); applied at its next start (port stop \(port.id), port start \(port.id))")
            }
        }
        return notes
    }

    /// What port `id` reports: its hash functions and, with `key`, its hash key.
    public func rssHashConfiguration(port id: UInt16, key: Bool) throws(DataplaneError) -> (hashFunctions: UInt64, key: [UInt8]?) {
        let ethdev = try ethdev(id, for: "show port rss-hash")
        let keySize = Int(try deviceInfo(ethdev, port: id).hashKeySize)
        if key && keySize == 0 {
            throw .portCapability("port \(id) reports no hash key size (dev_info.hash_key_size 0): its key cannot be read")
        }
        do { return try ethdev.rssHashConfiguration(keyLength: key ? keySize : 0) } catch { throw .portSetup(port: id, error) }
    }

    /// `port config <p> rss reta (index,queue)[,...]`: entries checked against the port's
    /// table size and the rx queues.
    public func updateRedirectionTable(_ entries: [(index: Int, queue: UInt16)], port id: UInt16) throws(DataplaneError) {
        let ethdev = try ethdev(id, for: "rss reta")
        let size = Int(try deviceInfo(ethdev, port: id).redirectionTableSize)
        for entry in entries {
            guard entry.index < size else {
                throw .option(OptionError(option: "hash index", value: "\(entry.index)", allowed: "0-\(size - 1) (port \(id)'s reta_size is \(size))"))
            }
            guard entry.queue < options.rxQueues else {
                throw .option(OptionError(option: "queue", value: "\(entry.queue)", allowed: "0-\(options.rxQueues - 1) (the rx queues)"))
            }
        }
        do { try ethdev.updateRedirectionTable(entries, size: size) } catch { throw .portSetup(port: id, error) }
    }

    /// The queue of each redirection table entry of port `id`; `size` must be the port's.
    public func redirectionTable(port id: UInt16, size: Int) throws(DataplaneError) -> [UInt16] {
        let ethdev = try ethdev(id, for: "rss reta")
        let portSize = Int(try deviceInfo(ethdev, port: id).redirectionTableSize)
        guard size == portSize else {
            throw .option(OptionError(option: "size", value: "\(size)", allowed: "\(portSize) (port \(id)'s reta_size)"))
        }
        do { return try ethdev.redirectionTable(size: size) } catch { throw .portSetup(port: id, error) }
    }

    /// `clear fwd stats all`: the forward statistics start again from zero (the running
    /// streams' counters are kept and subtracted, since only their lcores may write them).
    public func clearForwardStatistics() {
        clearedStatistics = nil
        clearedStatistics = (ObjectIdentifier(plan), forwardStatistics())
        for port in ports { forwardBaseline[port.id] = (try? port.stats()) ?? PortStats() }
        recordDeviceErrorBaseline()
    }
}

extension ForwardStatistics {
    /// These statistics less those `clear fwd stats` took of the same plan.
    func since(_ cleared: (plan: ObjectIdentifier, statistics: ForwardStatistics)?, plan: ForwardingPlan) -> ForwardStatistics {
        guard let cleared, cleared.plan == ObjectIdentifier(plan) else { return self }
        var result = self
        for index in result.ports.indices {
            guard let old = cleared.statistics.ports.first(where: { $0.id == result.ports[index].id }) else { continue }
            for counter in ForwardCounter.streamCounters { result.ports[index][counter] &-= old[counter] }
            for slot in result.ports[index].engine.indices { result.ports[index].engine[slot] &-= old.engine[slot] }
            if var bursts = result.ports[index].bursts, let oldBursts = old.bursts {
                for size in bursts.rx.indices {
                    bursts.rx[size] &-= oldBursts.rx[size]
                    bursts.tx[size] &-= oldBursts.tx[size]
                }
                result.ports[index].bursts = bursts
            }
        }
        // Same plan, same streams, same order.
        for index in result.streams.indices where index < cleared.statistics.streams.count {
            let old = cleared.statistics.streams[index]
            result.streams[index].rxPackets &-= old.rxPackets
            result.streams[index].txPackets &-= old.txPackets
            result.streams[index].txDropped &-= old.txDropped
        }
        return result
    }
}
