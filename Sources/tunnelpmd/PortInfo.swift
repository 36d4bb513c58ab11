import Dataplane
import DPDK
import VnetTap

/// testpmd's port displays: `show port info`, `show port summary`, `show port xstats`.
enum PortInfo {
    static func describe(_ port: Port, forwarder: Forwarder) throws(DPDKError) -> String {
        guard let ethdev = port.ethdevPort else { return describeTap(port, forwarder: forwarder) }
        let info = try ethdev.info()
        let link = try port.link()
        let rxd = info.rxDescriptorLimits, txd = info.txDescriptorLimits
        let border = String(repeating: "*", count: 21)
        return """

            \(border) Infos for port \(pad(port.id, 2)) \(border)
            MAC address: \(try port.macAddress())
            Device name: \(ethdev.name)
            Driver name: \(info.driverName)
            Connect to socket: \(max(port.socket, 0))
            memory allocation on the socket: \(forwarder.options.socketNumber ?? 0)
            Link status: \(link.isUp ? "up" : "down")
            Link speed: \(link.speedText)
            Link duplex: \(link.isFullDuplex ? "full-duplex" : "half-duplex")
            Autoneg status: \(link.autonegotiation ? "On" : "Off")
            MTU: \(ethdev.mtu)
            Promiscuous mode: \(ethdev.isPromiscuous ? "enabled" : "disabled")
            Allmulticast mode: \(ethdev.isAllMulticast ? "enabled" : "disabled")
            Port state: \(forwarder.startedPorts.contains(port.id) ? "started" : "stopped")
            Maximum number of MAC addresses: \(info.maxMACAddresses)
            \(rssLines(info).joined(separator: "\n"))
            Minimum size of RX buffer: \(info.minRxBufferSize)
            Maximum configurable length of RX packet: \(info.maxRxPacketLength)
            Maximum configurable size of LRO aggregated packet: \(info.maxLROPacketSize)
            Current number of RX queues: \(info.currentRxQueues)
            Max possible RX queues: \(info.maxRxQueues)
            Max possible number of RXDs per queue: \(rxd.max)
            Min possible number of RXDs per queue: \(rxd.min)
            RXDs number alignment: \(rxd.align)
            Current number of TX queues: \(info.currentTxQueues)
            Max possible TX queues: \(info.maxTxQueues)
            Max possible number of TXDs per queue: \(txd.max)
            Min possible number of TXDs per queue: \(txd.min)
            TXDs number alignment: \(txd.align)
            Max segment number per packet: \(info.maxSegmentsPerPacket)
            Max segment number per MTU/TSO: \(info.maxSegmentsPerMTU)
            Rx offload capabilities: \(list(info.rxOffloadCapabilities.names))
            Tx offload capabilities: \(list(info.txOffloadCapabilities.names))
            """
    }

    /// A kernel tap port: what the kernel granted and the header it speaks.
    static func describeTap(_ port: Port, forwarder: Forwarder) -> String {
        guard let device = port.tapDevice else { return "" }
        let border = String(repeating: "*", count: 21)
        let probes = device.offloadProbe.map { "\($0.offloads) -> \($0.errno == 0 ? "accepted" : "errno \($0.errno)")" }
        return """

            \(border) Infos for port \(pad(port.id, 2)) \(border)
            MAC address: \(device.macAddressString)
            Device name: \(device.options.name)\(device.options.namespace.map { " (netns \($0))" } ?? "")
            Driver name: \(TapDevice.driverName)
            Link status: \(device.probeLink())
            MTU: \(device.mtu)
            Port state: \(forwarder.startedPorts.contains(port.id) ? "started" : "stopped")
            virtio-net header: \(TapDevice.headerLength) bytes (virtio_net_hdr_v1_hash_tunnel)
            Requested offloads: \(device.options.offloads)
            Granted offloads: \(device.grantedOffloads)
            TUNSETOFFLOAD probe: \(probes.joined(separator: "; "))
            Current number of RX queues: 1
            Current number of TX queues: 1
            Rx offload capabilities: \(list(device.rxCapabilities.names))
            Tx offload capabilities: \(list(device.txCapabilities.names))
            """
    }

    static func summary(_ ports: [Port], total: Int) throws(DPDKError) -> String {
        var lines = ["Number of available ports: \(total)", "Port MAC Address       Name         Driver         Status   Link"]
        for port in ports {
            let link = try port.link()
            let driver = try port.driverName()
            lines.append(
                "\(pad(port.id, 4)) \(try port.macAddress()) \(pad(port.name, 12)) \(pad(driver, 14)) "
                    + "\(pad(link.isUp ? "up" : "down", 8)) \(link.speedText)")
        }
        return lines.joined(separator: "\n")
    }

    /// The driver's extended statistics, then tunnelpmd's own counters of the port (`extra`).
    static func xstats(_ port: Port, extra: [(name: String, value: UInt64)] = []) throws(DPDKError) -> String {
        var lines = ["###### NIC extended statistics for port \(pad(port.id, 2))"]
        for entry in try port.xstats() + extra { lines.append("\(entry.name): \(entry.value)") }
        return lines.joined(separator: "\n")
    }

    private static func list(_ names: [String]) -> String { names.isEmpty ? "none" : names.joined(separator: " ") }
}
