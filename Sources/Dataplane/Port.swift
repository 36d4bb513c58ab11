import DPDK
import VnetTap

/// A port the forwarder moves packets through: a DPDK ethdev, or a kernel tap with the
/// virtio-net header (`--vnet-tap`). Ethdev ports keep their DPDK ids; taps are numbered after
/// them. A trivial value: the tap is held unretained (the forwarder owns it), so copying a
/// stream costs no reference counting; each call switches once on the backend.
@frozen
public struct Port: Hashable, @unchecked Sendable, CustomStringConvertible {
    /// What is behind a port id.
    @frozen
    public enum Backend {
        case ethdev(EthPort)
        /// The device must outlive every copy of the port (the forwarder keeps it).
        case vnetTap(Unmanaged<TapDevice>)
    }

    public let id: UInt16
    public let backend: Backend

    public init(_ ethdev: EthPort) {
        id = ethdev.id
        backend = .ethdev(ethdev)
    }

    /// `device` must outlive every copy of the port (the forwarder keeps it).
    public init(tap device: TapDevice, id: UInt16) {
        self.id = id
        backend = .vnetTap(.passUnretained(device))
        device.portID = id
    }

    public static func == (a: Port, b: Port) -> Bool { a.id == b.id }
    public func hash(into hasher: inout Hasher) { hasher.combine(id) }
    public var description: String { "port \(id)" }

    public var isTap: Bool { if case .vnetTap = backend { true } else { false } }
    public var tapDevice: TapDevice? {
        if case .vnetTap(let device) = backend { device.takeUnretainedValue() } else { nil }
    }
    /// The ethdev, nil for a tap.
    public var ethdevPort: EthPort? { if case .ethdev(let port) = backend { port } else { nil } }

    // MARK: fast path (once per burst)

    @inlinable @inline(__always)
    public func receive(queue: UInt16, into mbufs: UnsafeMutablePointer<OpaquePointer?>, count: UInt16) -> UInt16 {
        switch backend {
        case .ethdev(let port): port.receive(queue: queue, into: mbufs, count: count)
        case .vnetTap(let tap):
            tap._withUnsafeGuaranteedRef { UInt16(truncatingIfNeeded: $0.receive(into: mbufs, count: Int(count))) }
        }
    }

    @inlinable @inline(__always)
    public func transmit(queue: UInt16, _ mbufs: UnsafeMutablePointer<OpaquePointer?>, count: UInt16) -> UInt16 {
        switch backend {
        case .ethdev(let port): port.transmit(queue: queue, mbufs, count: count)
        case .vnetTap(let tap):
            tap._withUnsafeGuaranteedRef { UInt16(truncatingIfNeeded: $0.transmit(mbufs, count: Int(count))) }
        }
    }

    /// A tap checks its metadata itself when it writes; only ethdevs have tx_prepare.
    @inlinable @inline(__always)
    public func prepare(queue: UInt16, _ mbufs: UnsafeMutablePointer<OpaquePointer?>, count: UInt16) -> UInt16 {
        switch backend {
        case .ethdev(let port): port.prepare(queue: queue, mbufs, count: count)
        case .vnetTap: count
        }
    }

    // MARK: control

    public var name: String {
        switch backend {
        case .ethdev(let port): port.name
        case .vnetTap(let tap): "vnet_tap:" + tap.takeUnretainedValue().options.name
        }
    }

    public var socket: Int32 { ethdevPort?.socket ?? -1 }

    public func driverName() throws(DPDKError) -> String {
        switch backend {
        case .ethdev(let port): try port.info().driverName
        case .vnetTap: TapDevice.driverName
        }
    }

    public func capabilities() throws(DPDKError) -> (tx: TxOffloads, rx: RxOffloads) {
        switch backend {
        case .ethdev(let port):
            let info = try port.info()
            return (info.txOffloadCapabilities, info.rxOffloadCapabilities)
        case .vnetTap(let tap):
            let device = tap.takeUnretainedValue()
            return (device.txCapabilities, device.rxCapabilities)
        }
    }

    public func macAddress() throws(DPDKError) -> MACAddress {
        switch backend {
        case .ethdev(let port): return try port.macAddress()
        case .vnetTap(let tap):
            let m = tap.takeUnretainedValue().macAddress
            return MACAddress(m.0, m.1, m.2, m.3, m.4, m.5)
        }
    }

    public func link() throws(DPDKError) -> Link {
        switch backend {
        case .ethdev(let port): return try port.link()
        case .vnetTap(let tap):
            // Asks the kernel: a deleted interface shows down even before the data path meets it.
            return Link(speedMbps: 0, isUp: tap.takeUnretainedValue().probeLink().isUp, isFullDuplex: true, autonegotiation: false)
        }
    }

    public var mtu: UInt16 {
        switch backend {
        case .ethdev(let port): port.mtu
        case .vnetTap(let tap): UInt16(clamping: tap.takeUnretainedValue().mtu)
        }
    }

    public var isPromiscuous: Bool { ethdevPort?.isPromiscuous ?? true }

    /// The port's basic statistics; a tap's come from the counters its schema declares as
    /// standing for them (`TapStatistics.Counter.basic`).
    public func stats() throws(DPDKError) -> PortStats {
        switch backend {
        case .ethdev(let port): try port.stats()
        case .vnetTap(let tap): tap.takeUnretainedValue().statistics().basic
        }
    }

    public func resetStats() throws(DPDKError) {
        switch backend {
        case .ethdev(let port): try port.resetStats()
        case .vnetTap(let tap): tap.takeUnretainedValue().resetStatistics()
        }
    }

    /// The driver's extended statistics; a tap's are its declared counters (`TapStatistics.schema`),
    /// named as `/tunnelpmd/taps` names them.
    public func xstats() throws(DPDKError) -> [(name: String, value: UInt64)] {
        switch backend {
        case .ethdev(let port): try port.xstats()
        case .vnetTap(let tap): tap.takeUnretainedValue().statistics().entries
        }
    }
}
