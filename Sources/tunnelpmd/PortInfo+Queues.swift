import Dataplane
import DPDK

/// testpmd's queue and device displays (rx_queue_infos_display, tx_queue_infos_display,
/// device_infos_display in app/test-pmd/config.c).
extension PortInfo {
    static func queue(_ info: QueueInfo, rx: Bool, port: UInt16, queue: UInt16) -> String {
        let border = String(repeating: "*", count: 21)
        let label = rx ? "RX" : "TX"
        var lines = ["", "\(border) Infos for port \(pad(port, 2)), \(label) queue \(pad(queue, 2)) \(border)"]
        if rx { lines.append("Mempool: \(info.mempool ?? "NULL")") }
        guard info.reportedByDriver else {
            // Only what tunnelpmd set: no thresholds the driver did not report.
            lines.append("\(rx ? "Rx" : "Tx") queue state: \(info.state)")
            lines.append("Number of \(label)Ds: \(info.descriptors)")
            lines.append("(the driver reports no queue information: the values tunnelpmd configured)")
            return lines.joined(separator: "\n")
        }
        lines += [
            "\(label) prefetch threshold: \(info.prefetchThreshold)",
            "\(label) host threshold: \(info.hostThreshold)",
            "\(label) writeback threshold: \(info.writebackThreshold)",
        ]
        if rx {
            lines += [
                "RX free threshold: \(info.freeThreshold)",
                "RX drop packets: \(info.dropEnabled ? "on" : "off")",
                "RX deferred start: \(info.deferredStart ? "on" : "off")",
                "RX scattered packets: \(info.scattered ? "on" : "off")",
                "Rx queue state: \(info.state)",
            ]
            if info.bufferSize != 0 { lines.append("RX buffer size: \(info.bufferSize)") }
            lines.append("Number of RXDs: \(info.descriptors)")
        } else {
            lines += [
                "TX RS threshold: \(info.rsThreshold)",
                "TX free threshold: \(info.freeThreshold)",
                "TX deferred start: \(info.deferredStart ? "on" : "off")",
                "Number of TXDs: \(info.descriptors)",
                "Tx queue state: \(info.state)",
            ]
        }
        if let mode = info.burstMode { lines.append("Burst mode: \(mode)") }
        return lines.joined(separator: "\n")
    }

    static func device(_ device: DeviceIdentity, port: Port) throws(DPDKError) -> String {
        let border = String(repeating: "*", count: 21)
        return """

            \(border) Infos for device \(device.name) \(border)
            Bus name: \(device.bus)
            Bus information: \(device.busInfo)
            Driver name: \(device.driver)
            Devargs: \(device.devargs)
            Connect to socket: \(device.numaNode)

            \tPort id: \(pad(port.id, 2))
            \tMAC address: \(try port.macAddress())
            \tDevice name: \(port.name)
            """
    }

    /// The RSS lines of `show port info`: key and table sizes, and the flow types offered.
    static func rssLines(_ info: DeviceInfo) -> [String] {
        var lines: [String] = []
        if info.hashKeySize > 0 { lines.append("Hash key size in bytes: \(info.hashKeySize)") }
        if info.redirectionTableSize > 0 { lines.append("Redirection table size: \(info.redirectionTableSize)") }
        if info.rssHashFunctions == 0 {
            lines.append("No RSS offload flow type is supported.")
        } else {
            lines.append("Supported RSS offload flow types:")
            lines.append(RSSTypes.describeSingle(info.rssHashFunctions))
        }
        return lines
    }
}
