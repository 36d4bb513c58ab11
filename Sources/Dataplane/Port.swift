import DPDK
import VnetTap

/// A port the forwarder moves packets through: a DPDK ethdev, or a kernel tap with the
/// virtio-net header (`--vnet-tap`). Ethdev ports keep their DPDK ids; taps are numbered after
/// them. A trivial value: the tap is held unretained (the forwarder owns it), so copying a
/// stream costs no reference counting, and the hot calls switch once per burst.
@frozen
public struct Port: Hashable, @unchecked Sendable, CustomStringConvertible {
    public let id: UInt16
    @usableFromInline let ethdev: EthPort
    @usableFromInline let tap: Unmanaged<TapDevice>?

    public init(_ ethdev: EthPort) {
        id = ethdev.id
        self.ethdev = ethdev
        tap = nil
    }

    /// `device` must outlive every copy of the port (the forwarder keeps it).
    public init(tap device: TapDevice, id: UInt16) {
        self.id = id
        ethdev = EthPort(UInt16.max)
        tap = .passUnretained(device)
        device.portID = id
    }

    public static func == (a: Port, b: Port) -> Bool { a.id == b.id }
    public func hash(into hasher: inout Hasher) { hasher.combine(id) }
    public var description: String { "port \(id)" }

    public var isTap: Bool { tap != nil }
    public var tapDevice: TapDevice? { tap?.takeUnretainedValue() }
    /// The ethdev, nil for a tap.
    public var ethdevPort: EthPort? { tap == nil ? ethdev : nil }

    // MARK: fast path (once per burst)

    @inlinable @inline(__always)
    public func receive(queue: UInt16, into mbufs: UnsafeMutablePointer<OpaquePointer?>, count: UInt16) -> UInt16 {
        if let tap {
            return tap._withUnsafeGuaranteedRef { UInt16(truncatingIfNeeded: $0.receive(into: mbufs, count: Int(count))) }
        }
        return ethdev.receive(queue: queue, into: mbufs, count: count)
    }

    @inlinable @inline(__always)
    public func transmit(queue: UInt16, _ mbufs: UnsafeMutablePointer<OpaquePointer?>, count: UInt16) -> UInt16 {
        if let tap {
            return tap._withUnsafeGuaranteedRef { UInt16(truncatingIfNeeded: $0.transmit(mbufs, count: Int(count))) }
        }
        return ethdev.transmit(queue: queue, mbufs, count: count)
    }

    /// A tap checks its metadata itself when it writes; only ethdevs have tx_prepare.
    @inlinable @inline(__always)
    public func prepare(queue: UInt16, _ mbufs: UnsafeMutablePointer<OpaquePointer?>, count: UInt16) -> UInt16 {
        if tap != nil { return count }
        return ethdev.prepare(queue: queue, mbufs, count: count)
    }

    // MARK: control

    public var name: String { tapDevice.map { "vnet_tap:" + $0.options.name } ?? ethdev.name }
    public var socket: Int32 { tap == nil ? ethdev.socket : -1 }

    public func driverName() throws(DPDKError) -> String {
        if tap != nil { return TapDevice.driverName }
        return try ethdev.info().driverName
    }

    public func capabilities() throws(DPDKError) -> (tx: TxOffloads, rx: RxOffloads) {
        if let device = tapDevice { return (device.txCapabilities, device.rxCapabilities) }
        let info = try ethdev.info()
        return (info.txOffloadCapabilities, info.rxOffloadCapabilities)
    }

    public func macAddress() throws(DPDKError) -> MACAddress {
        if let device = tapDevice {
            let m = device.macAddress
            return MACAddress(m.0, m.1, m.2, m.3, m.4, m.5)
        }
        return try ethdev.macAddress()
    }

    public func link() throws(DPDKError) -> Link {
        if let device = tapDevice { return Link(speedMbps: 0, isUp: device.isOpen, isFullDuplex: true, autonegotiation: false) }
        return try ethdev.link()
    }

    public var mtu: UInt16 {
        if let device = tapDevice { return UInt16(clamping: device.mtu) }
        return ethdev.mtu
    }

    public var isPromiscuous: Bool { tap != nil || ethdev.isPromiscuous }

    public func stats() throws(DPDKError) -> PortStats {
        guard let device = tapDevice else { return try ethdev.stats() }
        let tap = device.statistics()
        var stats = PortStats()
        stats.rxPackets = tap.rxPackets
        stats.rxBytes = tap.rxBytes
        stats.txPackets = tap.txPackets
        stats.txBytes = tap.txBytes
        stats.rxErrors = tap.rxDropped
        stats.rxNoMbuf = tap.rxNoMbuf
        stats.txErrors = tap.txDropped
        return stats
    }

    public func resetStats() throws(DPDKError) {
        if let device = tapDevice { device.resetStatistics() } else { try ethdev.resetStats() }
    }

    public func xstats() throws(DPDKError) -> [(name: String, value: UInt64)] {
        guard let device = tapDevice else { return try ethdev.xstats() }
        let s = device.statistics()
        var entries: [(name: String, value: UInt64)] = [
            ("rx_good_packets", s.rxPackets), ("rx_good_bytes", s.rxBytes), ("rx_super_frames", s.rxSuperFrames),
            ("rx_tunnel_super_frames", s.rxTunnelSuperFrames), ("rx_checksums_completed", s.rxChecksumsCompleted),
            ("rx_again", s.rxAgain), ("rx_mbuf_allocation_errors", s.rxNoMbuf),
            ("tx_good_packets", s.txPackets), ("tx_good_bytes", s.txBytes), ("tx_super_frames", s.txSuperFrames),
            ("tx_tunnel_super_frames", s.txTunnelSuperFrames), ("tx_again", s.txAgain),
        ]
        for (reason, count) in s.rxDrops.sorted(by: { $0.key.rawValue < $1.key.rawValue }) { entries.append(("rx_dropped_\(reason)", count)) }
        for (reason, count) in s.txDrops.sorted(by: { $0.key.rawValue < $1.key.rawValue }) { entries.append(("tx_dropped_\(reason)", count)) }
        for (code, count) in s.txErrors.sorted(by: { $0.key < $1.key }) { entries.append(("tx_errno_\(code)", count)) }
        return entries
    }
}
