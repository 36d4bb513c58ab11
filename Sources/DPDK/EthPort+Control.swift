import CDPDK

/// Port controls beyond start/stop: RSS, promiscuous/all-multicast, link, MAC addresses,
/// queue information and reset (testpmd's `port config`, `set promisc`, `mac_addr`, ...).
extension EthPort {
    // MARK: RSS

    /// The hash functions the port applies now and, if `keyLength` > 0, its hash key
    /// (rte_eth_dev_rss_hash_conf_get).
    public func rssHashConfiguration(keyLength: Int) throws(DPDKError) -> (hashFunctions: UInt64, key: [UInt8]?) {
        var key = [UInt8](repeating: 0, count: max(keyLength, 1))
        var conf = rte_eth_rss_conf()
        conf.rss_key_len = UInt8(clamping: keyLength)
        let result = key.withUnsafeMutableBufferPointer { buffer in
            conf.rss_key = keyLength > 0 ? buffer.baseAddress : nil
            return rte_eth_dev_rss_hash_conf_get(id, &conf)
        }
        try check(result, "rte_eth_dev_rss_hash_conf_get(\(self))")
        return (conf.rss_hf, keyLength > 0 ? key : nil)
    }

    /// Changes the hash functions of a configured port, key unchanged (rte_eth_dev_rss_hash_update).
    public func updateRSSHash(_ hashFunctions: UInt64) throws(DPDKError) {
        var conf = rte_eth_rss_conf()
        conf.rss_hf = hashFunctions
        try check(rte_eth_dev_rss_hash_update(id, &conf), "rte_eth_dev_rss_hash_update(\(self), rss_hf 0x\(String(hashFunctions, radix: 16)))")
    }

    /// The queue of every redirection table entry, `size` entries (the port's reta_size).
    public func redirectionTable(size: Int) throws(DPDKError) -> [UInt16] {
        let groups = (size + 63) / 64
        var entries = [rte_eth_rss_reta_entry64](repeating: rte_eth_rss_reta_entry64(), count: groups)
        for index in entries.indices { entries[index].mask = UInt64.max }
        try check(rte_eth_dev_rss_reta_query(id, &entries, UInt16(clamping: size)), "rte_eth_dev_rss_reta_query(\(self), \(size))")
        var queues: [UInt16] = []
        for entry in entries {
            withUnsafeBytes(of: entry.reta) { queues += $0.bindMemory(to: UInt16.self) }
        }
        return Array(queues.prefix(size))
    }

    /// Points the given entries (hash index, queue) at their queues; the others stay.
    public func updateRedirectionTable(_ updates: [(index: Int, queue: UInt16)], size: Int) throws(DPDKError) {
        var entries = [rte_eth_rss_reta_entry64](repeating: rte_eth_rss_reta_entry64(), count: (size + 63) / 64)
        for update in updates {
            let group = update.index / 64, slot = update.index % 64
            entries[group].mask |= 1 << UInt64(slot)
            withUnsafeMutableBytes(of: &entries[group].reta) { $0.bindMemory(to: UInt16.self)[slot] = update.queue }
        }
        try check(rte_eth_dev_rss_reta_update(id, &entries, UInt16(clamping: size)), "rte_eth_dev_rss_reta_update(\(self), \(size))")
    }

    // MARK: receive modes and link

    /// Promiscuous mode, failing when the driver cannot (unlike `setPromiscuous`, used at start).
    public func changePromiscuous(_ on: Bool) throws(DPDKError) {
        let result = on ? rte_eth_promiscuous_enable(id) : rte_eth_promiscuous_disable(id)
        try check(result, "\(on ? "enabling" : "disabling") promiscuous mode on \(self)")
    }

    public var isAllMulticast: Bool { rte_eth_allmulticast_get(id) == 1 }

    public func changeAllMulticast(_ on: Bool) throws(DPDKError) {
        let result = on ? rte_eth_allmulticast_enable(id) : rte_eth_allmulticast_disable(id)
        try check(result, "\(on ? "enabling" : "disabling") all-multicast mode on \(self)")
    }

    public func setLink(up: Bool) throws(DPDKError) {
        try check(up ? rte_eth_dev_set_link_up(id) : rte_eth_dev_set_link_down(id), "setting link \(up ? "up" : "down") on \(self)")
    }

    // MARK: MAC addresses

    public func setDefaultMACAddress(_ address: MACAddress) throws(DPDKError) {
        var raw = address.raw
        try check(rte_eth_dev_default_mac_addr_set(id, &raw), "setting MAC address \(address) on \(self)")
    }

    public func addMACAddress(_ address: MACAddress) throws(DPDKError) {
        var raw = address.raw
        try check(rte_eth_dev_mac_addr_add(id, &raw, 0), "adding MAC address \(address) to \(self)")
    }

    public func removeMACAddress(_ address: MACAddress) throws(DPDKError) {
        var raw = address.raw
        try check(rte_eth_dev_mac_addr_remove(id, &raw), "removing MAC address \(address) from \(self)")
    }

    /// The port's unicast addresses, default first, zero entries left out.
    public func macAddresses() throws(DPDKError) -> [MACAddress] {
        let capacity = Int(max(try info().maxMACAddresses, 1))
        var raw = [rte_ether_addr](repeating: rte_ether_addr(), count: capacity)
        let count = rte_eth_macaddrs_get(id, &raw, UInt32(capacity))
        try check(count, "rte_eth_macaddrs_get(\(self))")
        return raw.prefix(Int(count)).map(MACAddress.init).filter { $0.array != [0, 0, 0, 0, 0, 0] }
    }

    // MARK: queues and reset

    public func rxQueueInfo(_ queue: UInt16) throws(DPDKError) -> QueueInfo {
        var raw = cdpdk_queue_info()
        try check(cdpdk_rx_queue_info(id, queue, &raw), "rte_eth_rx_queue_info_get(\(self), queue \(queue))")
        return QueueInfo(raw: raw, burstMode: burstMode(queue: queue, rx: true))
    }

    public func txQueueInfo(_ queue: UInt16) throws(DPDKError) -> QueueInfo {
        var raw = cdpdk_queue_info()
        try check(cdpdk_tx_queue_info(id, queue, &raw), "rte_eth_tx_queue_info_get(\(self), queue \(queue))")
        return QueueInfo(raw: raw, burstMode: burstMode(queue: queue, rx: false))
    }

    private func burstMode(queue: UInt16, rx: Bool) -> String? {
        var text = [CChar](repeating: 0, count: 1024)
        var perQueue = false
        guard cdpdk_burst_mode(id, queue, rx, &text, text.count, &perQueue) == 0 else { return nil }
        return String(cString: text) + (perQueue ? " (per queue)" : "")
    }

    /// rte_eth_dev_reset: the port comes back unconfigured and stopped.
    public func reset() throws(DPDKError) { try check(rte_eth_dev_reset(id), "resetting \(self)") }

    // MARK: the device behind the port

    /// Bus, bus information, driver, devargs and NUMA node of the port's rte_device.
    public var device: DeviceIdentity {
        func text(_ pointer: UnsafePointer<CChar>?) -> String { pointer.map { String(cString: $0) } ?? "" }
        return DeviceIdentity(
            name: text(cdpdk_port_device_name(id)), bus: text(cdpdk_port_bus_name(id)),
            busInfo: text(cdpdk_port_bus_info(id)), driver: text(cdpdk_port_device_driver(id)),
            devargs: text(cdpdk_port_devargs(id)), numaNode: cdpdk_port_numa_node(id))
    }
}

/// An rx or tx queue as the driver reports it (rte_eth_rxq_info / rte_eth_txq_info).
public struct QueueInfo: Sendable {
    public private(set) var mempool: String?
    public let prefetchThreshold: UInt8, hostThreshold: UInt8, writebackThreshold: UInt8
    public let freeThreshold: UInt16
    public let rsThreshold: UInt16
    public let dropEnabled: Bool
    public let deferredStart: Bool
    public let scattered: Bool
    /// testpmd's words: stopped, started, hairpin.
    public let state: String
    public let descriptors: UInt16
    public let bufferSize: UInt16
    public let offloads: UInt64
    public let burstMode: String?

    /// What the application configured, for a driver that reports nothing
    /// (rte_eth_rx_queue_info_get is ENOTSUP on net_null, net_ring, net_tap, virtio in 22.11).
    public init(configuredDescriptors: UInt16, mempool: String?, started: Bool) {
        var raw = cdpdk_queue_info()
        raw.descriptors = configuredDescriptors
        raw.state = UInt8(started ? RTE_ETH_QUEUE_STATE_STARTED : RTE_ETH_QUEUE_STATE_STOPPED)
        self.init(raw: raw, burstMode: nil)
        self.mempool = mempool
        reportedByDriver = false
    }

    /// False when the values are the configured ones (the driver reports none).
    public private(set) var reportedByDriver = true

    init(raw: cdpdk_queue_info, burstMode: String?) {
        mempool = raw.mempool.map { String(cString: $0) }
        prefetchThreshold = raw.pthresh
        hostThreshold = raw.hthresh
        writebackThreshold = raw.wthresh
        freeThreshold = raw.free_thresh
        rsThreshold = raw.rs_thresh
        dropEnabled = raw.drop_enabled != 0
        deferredStart = raw.deferred_start != 0
        scattered = raw.scattered != 0
        switch Int32(raw.state) {
        case RTE_ETH_QUEUE_STATE_STOPPED: state = "stopped"
        case RTE_ETH_QUEUE_STATE_STARTED: state = "started"
        case RTE_ETH_QUEUE_STATE_HAIRPIN: state = "hairpin"
        default: state = "unknown"
        }
        descriptors = raw.descriptors
        bufferSize = raw.buffer_size
        offloads = raw.offloads
        self.burstMode = burstMode
    }
}

/// The rte_device behind a port (`show device info`).
public struct DeviceIdentity: Sendable, Equatable {
    public let name: String
    public let bus: String
    public let busInfo: String
    public let driver: String
    public let devargs: String
    public let numaNode: Int32
}

extension MACAddress {
    public var raw: rte_ether_addr {
        var raw = rte_ether_addr()
        raw.addr_bytes = bytes
        return raw
    }
}

extension DeviceInfo {
    /// Bytes of the RSS hash key; 0 when the driver does not say (net_null).
    public var hashKeySize: UInt8 { raw.hash_key_size }
}
