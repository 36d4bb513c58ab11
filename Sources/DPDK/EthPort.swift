import CDPDK

/// One ethdev port (PCI or vdev), by its DPDK port id.
@frozen
public struct EthPort: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let id: UInt16
    @inlinable @inline(__always) public init(_ id: UInt16) { self.id = id }

    public static func < (a: EthPort, b: EthPort) -> Bool { a.id < b.id }
    public var description: String { "port \(id)" }

    /// Every probed port not owned by another component, ascending.
    public static var all: [EthPort] {
        var ports: [EthPort] = []
        var id = cdpdk_eth_find_next(0)
        while id < CDPDK_MAX_ETHPORTS {
            ports.append(EthPort(id))
            id = cdpdk_eth_find_next(id + 1)
        }
        return ports
    }

    public var isValid: Bool { rte_eth_dev_is_valid_port(id) != 0 }

    public var name: String {
        var buffer = [CChar](repeating: 0, count: Int(RTE_ETH_NAME_MAX_LEN))
        guard rte_eth_dev_get_name_by_port(id, &buffer) == 0 else { return "?" }
        return String(cString: buffer)
    }

    public var socket: Int32 { rte_eth_dev_socket_id(id) }

    // MARK: information

    public func info() throws(DPDKError) -> DeviceInfo {
        var raw = rte_eth_dev_info()
        try check(rte_eth_dev_info_get(id, &raw), "rte_eth_dev_info_get(\(self))")
        return DeviceInfo(raw)
    }

    public func macAddress() throws(DPDKError) -> MACAddress {
        var raw = rte_ether_addr()
        try check(rte_eth_macaddr_get(id, &raw), "rte_eth_macaddr_get(\(self))")
        return MACAddress(raw)
    }

    public func link() throws(DPDKError) -> Link {
        var raw = rte_eth_link()
        try check(rte_eth_link_get_nowait(id, &raw), "rte_eth_link_get_nowait(\(self))")
        return Link(raw)
    }

    public var mtu: UInt16 {
        var value: UInt16 = 0
        return rte_eth_dev_get_mtu(id, &value) == 0 ? value : 0
    }

    public func setMTU(_ mtu: UInt16) throws(DPDKError) {
        try check(rte_eth_dev_set_mtu(id, mtu), "setting MTU \(mtu) on \(self)")
    }

    public var isPromiscuous: Bool { rte_eth_promiscuous_get(id) == 1 }

    public func setPromiscuous(_ on: Bool) throws(DPDKError) {
        let result = on ? rte_eth_promiscuous_enable(id) : rte_eth_promiscuous_disable(id)
        // Many vdevs do not implement it; that is not worth failing a port start.
        if result < 0 && result != -ENOTSUP { throw DPDKError("promiscuous mode on \(self)", code: result) }
    }

    // MARK: lifecycle

    public func configure(_ configuration: PortConfiguration) throws(DPDKError) {
        var conf = rte_eth_conf()
        conf.rxmode.offloads = configuration.rxOffloads.rawValue
        conf.txmode.offloads = configuration.txOffloads.rawValue
        conf.rxmode.mtu = configuration.mtu ?? 0
        // As testpmd's init_port_config: RSS only with hash functions to apply, else one queue
        // gets everything (a PMD may refuse RSS mode with rss_hf 0).
        if configuration.rssHashFunctions != 0 {
            conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS
            conf.rx_adv_conf.rss_conf.rss_hf = configuration.rssHashFunctions
        }
        try check(
            rte_eth_dev_configure(id, configuration.rxQueues, configuration.txQueues, &conf),
            "configuring \(self) (rxq=\(configuration.rxQueues), txq=\(configuration.txQueues))")
    }

    public func setupRxQueue(_ queue: UInt16, descriptors: UInt16, pool: Mempool, socket: Int32? = nil) throws(DPDKError) {
        try check(
            rte_eth_rx_queue_setup(id, queue, descriptors, UInt32(bitPattern: socket ?? self.socket), nil, pool.pointer),
            "setting up rx queue \(queue) of \(self) with \(descriptors) descriptors")
    }

    /// `offloads` nil: the driver's defaults; otherwise its default txconf with these offloads.
    public func setupTxQueue(_ queue: UInt16, descriptors: UInt16, offloads: TxOffloads? = nil, socket: Int32? = nil) throws(DPDKError) {
        let socketID = UInt32(bitPattern: socket ?? self.socket)
        let what = "setting up tx queue \(queue) of \(self) with \(descriptors) descriptors"
        if let offloads {
            var txconf = try info().raw.default_txconf
            txconf.offloads = offloads.rawValue
            try check(rte_eth_tx_queue_setup(id, queue, descriptors, socketID, &txconf), what)
        } else {
            try check(rte_eth_tx_queue_setup(id, queue, descriptors, socketID, nil), what)
        }
    }

    public func start() throws(DPDKError) { try check(rte_eth_dev_start(id), "starting \(self)") }
    public func stop() throws(DPDKError) { try check(rte_eth_dev_stop(id), "stopping \(self)") }
    public func close() throws(DPDKError) { try check(rte_eth_dev_close(id), "closing \(self)") }

    // MARK: statistics

    public func stats() throws(DPDKError) -> PortStats {
        var raw = rte_eth_stats()
        try check(rte_eth_stats_get(id, &raw), "rte_eth_stats_get(\(self))")
        return PortStats(raw)
    }

    public func resetStats() throws(DPDKError) {
        try check(rte_eth_stats_reset(id), "rte_eth_stats_reset(\(self))")
        _ = rte_eth_xstats_reset(id)
    }

    /// Every extended statistic, name and value, in the driver's order.
    public func xstats() throws(DPDKError) -> [(name: String, value: UInt64)] {
        let count = rte_eth_xstats_get_names(id, nil, 0)
        try check(count, "rte_eth_xstats_get_names(\(self))")
        var names = [rte_eth_xstat_name](repeating: rte_eth_xstat_name(), count: Int(count))
        var values = [rte_eth_xstat](repeating: rte_eth_xstat(), count: Int(count))
        try check(rte_eth_xstats_get_names(id, &names, UInt32(count)), "rte_eth_xstats_get_names(\(self))")
        let got = rte_eth_xstats_get(id, &values, UInt32(count))
        try check(got, "rte_eth_xstats_get(\(self))")
        return (0..<min(Int(got), Int(count))).map { index in
            var entry = names[Int(values[index].id)]
            let name = withUnsafeBytes(of: &entry.name) { String(cString: $0.baseAddress!.assumingMemoryBound(to: CChar.self)) }
            return (name, values[index].value)
        }
    }

    /// One extended statistic by name, nil when the driver has none of that name.
    public func xstat(named name: String) throws(DPDKError) -> UInt64? {
        try xstats().first { $0.name == name }?.value
    }

    // MARK: fast path

    @inlinable @inline(__always)
    public func receive(queue: UInt16, into mbufs: UnsafeMutablePointer<OpaquePointer?>, count: UInt16) -> UInt16 {
        cdpdk_rx_burst(id, queue, mbufs, count)
    }

    @inlinable @inline(__always)
    public func transmit(queue: UInt16, _ mbufs: UnsafeMutablePointer<OpaquePointer?>, count: UInt16) -> UInt16 {
        cdpdk_tx_burst(id, queue, mbufs, count)
    }

    /// Checks (and fixes, per PMD) offload metadata; returns how many leading packets are valid.
    @inlinable @inline(__always)
    public func prepare(queue: UInt16, _ mbufs: UnsafeMutablePointer<OpaquePointer?>, count: UInt16) -> UInt16 {
        cdpdk_tx_prepare(id, queue, mbufs, count)
    }
}

/// What a port was configured with.
public struct PortConfiguration: Sendable, Equatable {
    public var rxQueues: UInt16
    public var txQueues: UInt16
    public var rxOffloads: RxOffloads
    public var txOffloads: TxOffloads
    public var mtu: UInt32?
    public var rssHashFunctions: UInt64

    public init(
        rxQueues: UInt16 = 1, txQueues: UInt16 = 1, rxOffloads: RxOffloads = [], txOffloads: TxOffloads = [],
        mtu: UInt32? = nil, rssHashFunctions: UInt64 = 0
    ) {
        self.rxQueues = rxQueues
        self.txQueues = txQueues
        self.rxOffloads = rxOffloads
        self.txOffloads = txOffloads
        self.mtu = mtu
        self.rssHashFunctions = rssHashFunctions
    }
}
