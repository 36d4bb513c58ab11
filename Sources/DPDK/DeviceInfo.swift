import CDPDK

/// What a driver says about its port (rte_eth_dev_info), in Swift types.
public struct DeviceInfo: @unchecked Sendable {
    /// The C struct, for fields not surfaced below.
    public let raw: rte_eth_dev_info

    init(_ raw: rte_eth_dev_info) { self.raw = raw }

    public var driverName: String { raw.driver_name.map { String(cString: $0) } ?? "?" }
    public var maxRxQueues: UInt16 { raw.max_rx_queues }
    public var maxTxQueues: UInt16 { raw.max_tx_queues }
    public var maxRxPacketLength: UInt32 { raw.max_rx_pktlen }
    public var maxLROPacketSize: UInt32 { raw.max_lro_pkt_size }
    public var minRxBufferSize: UInt32 { raw.min_rx_bufsize }
    public var minMTU: UInt16 { raw.min_mtu }
    public var maxMTU: UInt16 { raw.max_mtu }
    public var maxMACAddresses: UInt32 { raw.max_mac_addrs }
    public var rxOffloadCapabilities: RxOffloads { RxOffloads(rawValue: raw.rx_offload_capa) }
    public var txOffloadCapabilities: TxOffloads { TxOffloads(rawValue: raw.tx_offload_capa) }
    public var rxQueueOffloadCapabilities: RxOffloads { RxOffloads(rawValue: raw.rx_queue_offload_capa) }
    public var txQueueOffloadCapabilities: TxOffloads { TxOffloads(rawValue: raw.tx_queue_offload_capa) }
    public var rxDescriptorLimits: (min: UInt16, max: UInt16, align: UInt16) {
        (raw.rx_desc_lim.nb_min, raw.rx_desc_lim.nb_max, raw.rx_desc_lim.nb_align)
    }
    public var txDescriptorLimits: (min: UInt16, max: UInt16, align: UInt16) {
        (raw.tx_desc_lim.nb_min, raw.tx_desc_lim.nb_max, raw.tx_desc_lim.nb_align)
    }
    public var maxSegmentsPerPacket: UInt16 { raw.tx_desc_lim.nb_seg_max }
    public var maxSegmentsPerMTU: UInt16 { raw.tx_desc_lim.nb_mtu_seg_max }
    public var rssHashFunctions: UInt64 { raw.flow_type_rss_offloads }
    public var redirectionTableSize: UInt16 { raw.reta_size }
    public var currentRxQueues: UInt16 { raw.nb_rx_queues }
    public var currentTxQueues: UInt16 { raw.nb_tx_queues }
}

/// An Ethernet address.
@frozen
public struct MACAddress: Hashable, Sendable, CustomStringConvertible {
    public var bytes: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8)

    public init(_ raw: rte_ether_addr) { bytes = raw.addr_bytes }
    public init(_ b0: UInt8, _ b1: UInt8, _ b2: UInt8, _ b3: UInt8, _ b4: UInt8, _ b5: UInt8) {
        bytes = (b0, b1, b2, b3, b4, b5)
    }

    /// Parses "02:00:00:00:00:01".
    public init?(_ text: String) {
        let parts = text.split(separator: ":")
        guard parts.count == 6 else { return nil }
        var values: [UInt8] = []
        for part in parts {
            guard part.count == 2, let value = UInt8(part, radix: 16) else { return nil }
            values.append(value)
        }
        bytes = (values[0], values[1], values[2], values[3], values[4], values[5])
    }

    public var array: [UInt8] { [bytes.0, bytes.1, bytes.2, bytes.3, bytes.4, bytes.5] }

    public static func == (a: MACAddress, b: MACAddress) -> Bool { a.array == b.array }
    public func hash(into hasher: inout Hasher) { hasher.combine(array) }

    /// Upper-case, colon-separated, as testpmd prints it.
    public var description: String {
        array.map { byte in
            let digits = String(byte, radix: 16, uppercase: true)
            return byte < 16 ? "0" + digits : digits
        }.joined(separator: ":")
    }
}

/// Link state (rte_eth_link).
public struct Link: Sendable, Equatable {
    public var speedMbps: UInt32
    public var isUp: Bool
    public var isFullDuplex: Bool
    public var autonegotiation: Bool

    public init(speedMbps: UInt32, isUp: Bool, isFullDuplex: Bool, autonegotiation: Bool) {
        self.speedMbps = speedMbps
        self.isUp = isUp
        self.isFullDuplex = isFullDuplex
        self.autonegotiation = autonegotiation
    }

    init(_ raw: rte_eth_link) {
        speedMbps = raw.link_speed
        isUp = raw.link_status != 0
        isFullDuplex = raw.link_duplex != 0
        autonegotiation = raw.link_autoneg != 0
    }

    /// "10 Gbps", "100 Mbps", "None", as testpmd prints speed.
    public var speedText: String {
        if speedMbps == 0 || speedMbps == UInt32(RTE_ETH_SPEED_NUM_UNKNOWN) { return "None" }
        return speedMbps >= 1000 && speedMbps % 1000 == 0 ? "\(speedMbps / 1000) Gbps" : "\(speedMbps) Mbps"
    }
}

/// Basic port counters (rte_eth_stats).
public struct PortStats: Sendable, Equatable {
    public var rxPackets: UInt64
    public var txPackets: UInt64
    public var rxBytes: UInt64
    public var txBytes: UInt64
    public var rxMissed: UInt64
    public var rxErrors: UInt64
    public var txErrors: UInt64
    public var rxNoMbuf: UInt64

    public init() {
        rxPackets = 0; txPackets = 0; rxBytes = 0; txBytes = 0; rxMissed = 0; rxErrors = 0; txErrors = 0; rxNoMbuf = 0
    }

    init(_ raw: rte_eth_stats) {
        rxPackets = raw.ipackets
        txPackets = raw.opackets
        rxBytes = raw.ibytes
        txBytes = raw.obytes
        rxMissed = raw.imissed
        rxErrors = raw.ierrors
        txErrors = raw.oerrors
        rxNoMbuf = raw.rx_nombuf
    }
}
