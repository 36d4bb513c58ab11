import DPDK
import Offload
import Wire

/// The csum engine's and GSO's per-port settings, as the console changes them. Each call
/// checks everything before it changes anything, so a refused setting leaves no trace.
extension Forwarder {
    public func settings(_ id: UInt16) throws(DataplaneError) -> PortOffloadSettings {
        _ = try port(id)
        return offloadSettings[id] ?? PortOffloadSettings()
    }

    /// `csum set <field> hw|sw <port>`: as testpmd, the port must be stopped; `hw` needs the
    /// capability and takes effect at the next `port start`, which configures the offload.
    public func setChecksum(_ field: ChecksumField, _ placement: ChecksumPlacement, port id: UInt16) throws(DataplaneError) {
        try changeSettings(port: id, .portStopped) { settings throws(DataplaneError) in
            if placement == .hardware, !settings.capabilities.contains(field.capability) {
                throw .unsupportedOffload(port: id, offload: field.rawValue, capabilities: settings.capabilities)
            }
            settings[field] = placement
            if field == .outerUDP { settings.outerUDPZero = false }
        }
    }

    /// `csum set outer-udp zero <port>`: IPv4 outer UDP checksums are sent as 0.
    public func setOuterUDPZero(port id: UInt16) throws(DataplaneError) {
        try changeSettings(port: id, .portStopped) { settings in
            settings.outerUDP = .software
            settings.outerUDPZero = true
        }
    }

    public func setParseTunnel(_ on: Bool, port id: UInt16) throws(DataplaneError) {
        try changeSettings(port: id, .notForwarding) { $0.parseTunnel = on }
    }

    public func setGSO(_ on: Bool, port id: UInt16) throws(DataplaneError) {
        try changeSettings(port: id, .notForwarding) { $0.gso = on }
    }

    /// testpmd's `set port <id> gro on|off`: coalesce TCP segments received on the port.
    public func setGRO(_ on: Bool, port id: UInt16) throws(DataplaneError) {
        try changeSettings(port: id, .notForwarding) { $0.gro = on }
    }

    /// testpmd's `set gro flush <n>`: poll rounds a flow may be held.
    public func setGROFlushRounds(_ rounds: Int) throws(DataplaneError) {
        guard !isForwarding else { throw .forwardingActive }
        guard CoalescingOptions.flushRange.contains(rounds) else {
            throw .option(OptionError(
                option: "gro flush", value: "\(rounds)",
                allowed: "\(CoalescingOptions.flushRange.lowerBound)-\(CoalescingOptions.flushRange.upperBound)"))
        }
        options.coalescing.flushRounds = rounds
    }

    /// Smallest frame worth cutting to: headers of a VXLAN/IPv6 frame plus some payload.
    public static let gsoSegmentSizeRange = OptionSpec.gsoSegsz.range!

    public func setGSOSegmentSize(_ size: Int) throws(DataplaneError) {
        guard !isForwarding else { throw .forwardingActive }
        guard Self.gsoSegmentSizeRange.contains(size) else {
            throw .option(OptionError(
                option: "gso segsz", value: "\(size)",
                allowed: "\(Self.gsoSegmentSizeRange.lowerBound)-\(Self.gsoSegmentSizeRange.upperBound)"))
        }
        gsoSegmentSize = size
    }

    public func addTunnelPort(_ type: UDPTunnelPortType, udpPort: UInt16, port id: UInt16) throws(DataplaneError) {
        try changeSettings(port: id, .notForwarding) { settings throws(DataplaneError) in
            if let entry = settings.tunnelPorts.lookup(destinationPort: udpPort),
               let existing = UDPTunnelPortType(kind: entry.kind, fouProtocol: entry.fouProtocol), existing != type {
                throw .tunnelPort("udp port \(udpPort) is already a \(existing.rawValue) port of port \(id); remove it first")
            }
            do {
                try settings.tunnelPorts.add(port: udpPort, kind: type.kind, fouProtocol: type.fouProtocol)
            } catch {
                throw .tunnelPort("\(error)")
            }
        }
    }

    public func removeTunnelPort(_ type: UDPTunnelPortType, udpPort: UInt16, port id: UInt16) throws(DataplaneError) {
        try changeSettings(port: id, .notForwarding) { settings throws(DataplaneError) in
            guard let entry = settings.tunnelPorts.lookup(destinationPort: udpPort),
                  UDPTunnelPortType(kind: entry.kind, fouProtocol: entry.fouProtocol) == type
            else {
                throw .tunnelPort("udp port \(udpPort) is not a \(type.rawValue) port of port \(id)")
            }
            _ = settings.tunnelPorts.remove(port: udpPort)
        }
    }

    /// `port config <port> tx_offload <name> on|off`: port stopped; `on` needs the capability.
    /// The setting is kept for every later start of the port.
    public func setTxOffload(_ offload: TxOffloads, named name: String, on: Bool, port id: UInt16) throws(DataplaneError) {
        try setOffload(offload, on: on, port: id, capabilities: \.capabilities, configured: \.txOffloads) { capabilities in
            .unsupportedTxOffload(port: id, offload: name, capabilities: capabilities)
        }
    }

    public func setRxOffload(_ offload: RxOffloads, named name: String, on: Bool, port id: UInt16) throws(DataplaneError) {
        try setOffload(offload, on: on, port: id, capabilities: \.rxCapabilities, configured: \.rxOffloads) { capabilities in
            .unsupportedRxOffload(port: id, offload: name, capabilities: capabilities)
        }
    }

    private func setOffload<Offloads: OptionSet>(
        _ offload: Offloads, on: Bool, port id: UInt16,
        capabilities: KeyPath<PortOffloadSettings, Offloads>,
        configured: WritableKeyPath<PortOffloadSettings, Offloads?>,
        refusal: (Offloads) -> DataplaneError
    ) throws(DataplaneError) where Offloads.Element == Offloads {
        try changeSettings(port: id, .portStopped) { settings throws(DataplaneError) in
            if on && !settings[keyPath: capabilities].isSuperset(of: offload) { throw refusal(settings[keyPath: capabilities]) }
            var offloads = settings[keyPath: configured] ?? []
            if on { offloads.formUnion(offload) } else { offloads.subtract(offload) }
            settings[keyPath: configured] = offloads
        }
    }

    /// `tso set <n> <port>` (`tunnel: false`) / `tunnel_tso set <n> <port>`: payload per segment
    /// of those packets; 0: the port does not segment them. As testpmd, a size asks the port
    /// for the matching segmentation offloads it has (from its next start); what it lacks,
    /// Swift GSO cuts at that size, so a port without the capability is no error.
    public func setTSO(_ size: Int, tunnel: Bool, port id: UInt16) throws(DataplaneError) {
        try changeSettings(port: id, .notForwarding) { settings throws(DataplaneError) in
            guard (0...65535).contains(size) else {
                throw .option(OptionError(option: tunnel ? "tunnel_tso" : "tso", value: "\(size)", allowed: "0-65535"))
            }
            if size > 0 {
                let kinds = tunnel ? PortOffloadSettings.tunnelTSOKinds : PortOffloadSettings.plainTSOKinds
                let offered = kinds.reduce(TxOffloads()) { $0.union($1.offload) }.intersection(settings.capabilities)
                settings.txOffloads = (settings.txOffloads ?? []).union(offered)
            }
            if tunnel { settings.tunnelTSOSegmentSize = size } else { settings.tsoSegmentSize = size }
        }
    }

    /// When a setting may change: `.portStopped` for what configures the port at its next
    /// start; `.notForwarding` for what the workers copy when forwarding starts.
    enum SettingsGate { case portStopped, notForwarding }

    /// The one way the console changes a port's settings: the port exists, is in the state the
    /// setting needs, and `change` succeeds whole or throws, leaving the settings unchanged.
    private func changeSettings(
        port id: UInt16, _ gate: SettingsGate, _ change: (inout PortOffloadSettings) throws(DataplaneError) -> Void
    ) throws(DataplaneError) {
        var settings = try self.settings(id)
        switch gate {
        case .portStopped: guard !startedPorts.contains(id) else { throw .portNotStopped(id) }
        case .notForwarding: guard !isForwarding else { throw .forwardingActive }
        }
        try change(&settings)
        offloadSettings[id] = settings
    }

    /// The plans the csum engine chose for packets leaving `id` in the current or last run.
    public func planCounts(port id: UInt16) throws(DataplaneError) -> (kinds: [(TxPlanKind, UInt64)], reasons: [(TxPlanReason, UInt64)]) {
        _ = try port(id)
        guard let entry = forwardStatistics().ports.first(where: { $0.id == id }) else { return ([], []) }
        let kinds = TxPlanKind.allCases.map { ($0, entry.engine[EngineCounter.plan($0)]) }
        let reasons = TxPlanReason.allCases.filter { $0 != .none }.map { ($0, entry.engine[EngineCounter.planReason($0)]) }
        return (kinds, reasons)
    }

    /// tunnelpmd's own counters of port `id`, as xstats beside the driver's: every forward and
    /// engine counter (`ForwardCounter`, `EngineCounter.schema`), named `tunnelpmd_<name>`.
    public func forwardXstats(port id: UInt16) throws(DataplaneError) -> [(name: String, value: UInt64)] {
        _ = try port(id)
        guard let entry = forwardStatistics().ports.first(where: { $0.id == id }) else { return [] }
        return entry.namedCounters.map { ("tunnelpmd_" + $0.name, $0.value) }
    }
}
