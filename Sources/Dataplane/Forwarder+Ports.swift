import CDPDK
import DPDK
import Offload
import VnetTap

/// Port control: configure and start a port (ethdev or vnet tap) with its offloads, stop it.
extension Forwarder {
    public func startPort(_ id: UInt16) throws(DataplaneError) {
        guard !isForwarding else { throw .forwardingActive }
        let port = try port(id)
        // A started tap whose interface vanished is started again by reattaching it.
        if let device = port.tapDevice { try reattachIfGone(device, id: id) }
        guard !startedPorts.contains(id) else { return }
        log("Configuring Port \(id) (socket \(max(port.socket, 0)))")
        if let device = port.tapDevice {
            startTap(device, id: id)
            return
        }
        let ethdev = port.ethdevPort!
        do {
            var config = PortConfiguration(rxQueues: options.rxQueues, txQueues: options.txQueues)
            if let maxLength = options.maxPacketLength { config.mtu = maxLength - 18 }
            let info = try ethdev.info()
            let overrides = portOverrides[id] ?? PortOverrides()
            if let mtu = overrides.mtu { config.mtu = UInt32(mtu) }
            config.rssHashFunctions = rssHashFunctions(offered: info.rssHashFunctions)
            var settings = offloadSettings[id] ?? PortOffloadSettings()
            settings.capabilities = info.txOffloadCapabilities
            settings.rxCapabilities = info.rxOffloadCapabilities
            settings.driverName = info.driverName
            if settings.txOffloads == nil || settings.rxOffloads == nil {
                let defaults = PortOffloadSettings.defaultOffloads(
                    driver: info.driverName, tx: info.txOffloadCapabilities, rx: info.rxOffloadCapabilities,
                    enableLRO: options.enableLRO)
                settings.txOffloads = settings.txOffloads ?? defaults.tx
                settings.rxOffloads = settings.rxOffloads ?? defaults.rx
            }
            config.txOffloads = settings.txOffloads!.union(settings.requiredTxOffloads).intersection(info.txOffloadCapabilities)
            config.rxOffloads = settings.rxOffloads!.intersection(info.rxOffloadCapabilities)
            try ethdev.configure(config)
            for queue in 0..<options.rxQueues {
                try ethdev.setupRxQueue(
                    queue, descriptors: options.rxDescriptors, pool: rxPool(for: port), socket: options.ringSocket(of: port, .rx))
            }
            for queue in 0..<options.txQueues {
                try ethdev.setupTxQueue(queue, descriptors: options.txDescriptors, socket: options.ringSocket(of: port, .tx))
            }
            try ethdev.start()
            try ethdev.setPromiscuous(overrides.promiscuous ?? true)
            if let allMulticast = overrides.allMulticast { try ethdev.changeAllMulticast(allMulticast) }
            settings.mtu = Int(ethdev.mtu == 0 ? 1500 : ethdev.mtu)
            settings.plannerCapabilities = TxCapabilities(info: info, mtu: settings.mtu).restricted(to: config.txOffloads)
            switch NICDriver(driverName: info.driverName) {
            case .virtio, .vhost, .ring, .other: settings.mayAskForTransmitWork = true
            default: settings.mayAskForTransmitWork = config.rxOffloads.contains(.tcpLRO)
            }
            offloadSettings[id] = settings
            log("Port \(id): \(try port.macAddress())")
        } catch {
            throw .portSetup(port: id, error)
        }
        startedPorts.insert(id)
    }

    /// A tap has nothing to configure: its offloads are what the kernel granted when it was
    /// attached; starting only records them and lets the workers poll it.
    func startTap(_ device: TapDevice, id: UInt16) {
        var settings = offloadSettings[id] ?? PortOffloadSettings()
        settings.capabilities = device.txCapabilities
        settings.rxCapabilities = device.rxCapabilities
        settings.driverName = TapDevice.driverName
        settings.txOffloads = settings.txOffloads ?? device.txCapabilities
        settings.rxOffloads = settings.rxOffloads ?? device.rxCapabilities
        try? device.refreshLinkInfo()
        settings.mtu = device.mtu
        // The device fills IPv4 header checksums itself when asked (virtio has no such offload).
        settings.mayAskForTransmitWork = true
        settings.plannerCapabilities = TxCapabilities(
            driverName: TapDevice.driverName,
            advertised: device.txCapabilities.union([.ipv4Checksum, .outerIPv4Checksum]), mtu: settings.mtu)
        offloadSettings[id] = settings
        startedPorts.insert(id)
        log("Port \(id): \(device.macAddressString) (\(device.options.name), offloads \(device.grantedOffloads))")
    }

    public func stopPort(_ id: UInt16) throws(DataplaneError) {
        guard !isForwarding else { throw .forwardingActive }
        let port = try port(id)
        guard startedPorts.contains(id) else { return }
        log("Stopping ports...")
        if let ethdev = port.ethdevPort {
            do { try ethdev.stop() } catch { throw .dpdk(error) }
        }
        startedPorts.remove(id)
        log("Done")
    }
}
