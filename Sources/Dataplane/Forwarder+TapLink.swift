import VnetTap

/// Taps whose interface vanishes: the link watch, and what `port start` and `start` say.
extension Forwarder {
    /// Starts the link watch when there are taps (once).
    func watchTapLinks() {
        guard linkWatch == nil, !taps.isEmpty else { return }
        let watched = ports.compactMap { port in port.tapDevice.map { (port: port.id, device: $0) } }
        linkWatch = TapLinkWatch(taps: watched, log: log)
    }

    /// `port start` on a tap whose interface is gone: attach to it again now, or say why not.
    func reattachIfGone(_ device: TapDevice, id: UInt16) throws(DataplaneError) {
        guard case .gone = device.probeLink() else { return }
        do {
            if try device.reattach() {
                log("Port \(id): link up: \(TapLinkWatch.describe(device)) is back, reattached")
            }
        } catch {
            throw .tap("port \(id): cannot start: link down, \(TapLinkWatch.describe(device)) is gone and cannot be reattached: \(error)")
        }
    }

    /// At `start`: a tap without its interface forwards nothing until it returns; say so.
    func warnAboutGoneTaps() {
        for port in forwardingPorts {
            guard let device = port.tapDevice, case .gone = device.probeLink() else { continue }
            log("Port \(port.id): link down (\(TapLinkWatch.describe(device)) is gone): it forwards nothing until the interface returns")
        }
    }
}
