import CDPDK
import CTap
import DPDK
import Glibc
import Synchronization
import Wire

/// Why a tap could not be attached.
public enum TapDeviceError: Error, Hashable, Sendable, CustomStringConvertible {
    case namespaceNotFound(String, errno: Int32)
    case namespaceSwitch(String, errno: Int32)
    case openTun(errno: Int32)
    case noSuchInterface(name: String, namespace: String?)
    case attach(name: String, errno: Int32)
    case notAVnetTap(name: String, flags: UInt32)
    case headerSize(errno: Int32)
    case linkInfo(what: String, errno: Int32)
    case poolTooSmall(dataRoom: Int)
    /// Reattaching: the interface that came back grants other offloads than the port has.
    case offloadsChanged(name: String, had: TapOffloads, now: TapOffloads)
    /// Reattaching a device that was closed.
    case closed(name: String)

    public var description: String {
        func reason(_ code: Int32) -> String { String(cString: strerror(code)) }
        switch self {
        case .namespaceNotFound(let ns, let code):
            return "vnet tap: network namespace '\(ns)' not found (/var/run/netns/\(ns): \(reason(code))); see `ip netns list`"
        case .namespaceSwitch(let ns, let code): return "vnet tap: cannot enter network namespace '\(ns)': \(reason(code)) (root needed)"
        case .openTun(let code): return "vnet tap: cannot open /dev/net/tun: \(reason(code))"
        case .noSuchInterface(let name, let ns):
            return "vnet tap: no interface '\(name)'" + (ns.map { " in network namespace '\($0)'" } ?? "")
                + "; create it first: ip tuntap add mode tap name \(name) vnet_hdr"
        case .attach(let name, let code):
            var text = "vnet tap: TUNSETIFF on '\(name)' failed: \(reason(code))"
            if code == EBUSY { text += " (another process has it open)" }
            if code == EINVAL { text += " (not a tap, or a multi_queue tap)" }
            if code == EPERM { text += " (owned by another user)" }
            return text
        case .notAVnetTap(let name, let flags):
            return "vnet tap: '\(name)' attached with flags 0x\(String(flags, radix: 16)), not a tap with IFF_VNET_HDR and IFF_NO_PI"
        case .headerSize(let code): return "vnet tap: TUNSETVNETHDRSZ 24 failed: \(reason(code)) (kernel before 6.17?)"
        case .linkInfo(let what, let code): return "vnet tap: \(what) failed: \(reason(code))"
        case .poolTooSmall(let room): return "vnet tap: mbuf data room \(room) too small (at least 256 + headroom)"
        case .offloadsChanged(let name, let had, let now):
            return "vnet tap: '\(name)' is back but grants offloads \(now), not \(had) as when the port started; restart tunnelpmd to use it"
        case .closed(let name): return "vnet tap: '\(name)' was closed (port close); restart tunnelpmd to use it again"
        }
    }
}

/// One existing kernel tap opened with IFF_TAP | IFF_NO_PI | IFF_VNET_HDR and the 24-byte
/// virtio-net header (`virtio_net_hdr_v1_hash_tunnel`): a port whose "NIC" is the kernel.
///
/// Receiving turns the kernel's super-frames (TSO, USO, UDP tunnel GSO) into mbuf chains with
/// tx-offload metadata (DPDK's conventions: `ol_flags`, the length fields, `tso_segsz`,
/// pseudo-header checksums without the length for segmentation) after checking the header as
/// Linux does and against the frame's parsed headers; transmitting turns such metadata back
/// into a header, one `writev` per packet, and the kernel checks it again.
///
/// Threading: receive state and transmit state are separate. One thread may call `receive`
/// while another calls `transmit`; neither may be called from two threads at once.
/// `statistics()` may be called from any thread. `close()` only when neither is running.
public final class TapDevice: @unchecked Sendable {
    public let options: TapOptions
    /// What TUNSETOFFLOAD accepted (the first of: the requested set, then less).
    public let grantedOffloads: TapOffloads
    /// Every set tried while probing, with the errno the kernel gave (0: accepted).
    public let offloadProbe: [(offloads: TapOffloads, errno: Int32)]
    /// The tap's MTU and MAC address when it was opened (or last refreshed, reattached).
    public var mtu: Int { control.withLock { $0.mtu } }
    public var macAddress: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) { control.withLock { $0.mac } }
    /// The interface's index (a reattached interface has a new one).
    public var interfaceIndex: Int32 { control.withLock { $0.index } }
    /// Written into each received mbuf's `port` field.
    public var portID: UInt16 {
        get { hot.pointee.portID }
        set { hot.pointee.portID = newValue }
    }
    public let pool: Mempool

    public static let driverName = "vnet_tap"
    public static let headerLength = VirtioNetHeader.Format.tunnel.length
    /// Data the receive area takes (the header excluded): a 64 KB super-frame plus headers.
    public static let maximumFrameLength = 65_536 + 2_048

    /// The file descriptor (non-blocking), e.g. for epoll; -1 once closed. Owned by the device.
    public var fileDescriptor: Int32 { hot.pointee.fd }

    /// What the per-packet code reads and writes, kept out of class storage so that it costs
    /// no exclusivity checks (the receive and transmit halves touch disjoint fields).
    struct HotState {
        var fd: Int32
        var portID: UInt16 = 0
        /// Receive mbufs in reserve (receive side only).
        var stashCount = 0
        var tunnelPorts: TunnelPortTable
    }
    let hot: UnsafeMutablePointer<HotState>
    /// 0 while the file has its interface; else the errno that showed it gone (EBADFD: the
    /// interface was deleted). Written by the data path and the control thread, read per burst.
    let detached: UnsafeMutablePointer<UInt32>
    /// After a read error other than EAGAIN, reads pause until this TSC (no spinning on errors).
    let rxResume: UnsafeMutablePointer<UInt64>
    let errorBackoffCycles: UInt64

    /// What the control threads (console, link watch) share: link facts, and one reattach at a time.
    struct ControlState {
        var mtu: Int
        var mac: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8)
        var index: Int32
        var closed = false
    }
    let control: Mutex<ControlState>

    // Receive state.
    let rxHeader: UnsafeMutableRawPointer
    /// rxIov[0] = header, rxIov[1...] = the receive mbufs' whole buffers (stash order).
    let rxIov: UnsafeMutablePointer<iovec>
    let stash: UnsafeMutablePointer<OpaquePointer?>
    @inline(__always) var stashCount: Int {
        get { hot.pointee.stashCount }
        set { hot.pointee.stashCount = newValue }
    }
    let stashCapacity: Int
    /// Receive mbufs one read needs for `maximumFrameLength`.
    let segmentsPerRead: Int
    let headroom: Int
    /// Multi-segment frames: the first segment is copied here so checks see contiguous headers.
    let parseScratch: UnsafeMutableRawPointer
    let rxCounters: UnsafeMutablePointer<UInt64>
    let validationOffloads: VirtioNetTunnelOffloads

    // Transmit state.
    let txHeader: UnsafeMutableRawPointer
    let txIov: UnsafeMutablePointer<iovec>
    static let maximumTxSegments = 256
    let txCounters: UnsafeMutablePointer<UInt64>

    /// Attaches to the tap named in `options` (inside its namespace, if any). Receive mbufs
    /// come from `pool` (any data room of at least 256 bytes past the headroom; bigger rooms
    /// make shorter chains).
    public init(options: TapOptions, pool: Mempool) throws(TapDeviceError) {
        self.options = options
        self.pool = pool
        let room = Int(pool.dataRoomSize)
        let headroom = min(Int(CDPDK_PKTMBUF_HEADROOM), room)
        guard room - headroom >= 256 else { throw .poolTooSmall(dataRoom: room) }
        self.headroom = headroom

        let opened = try Self.attach(options)
        hot = .allocate(capacity: 1)
        hot.initialize(to: HotState(fd: opened.fd, tunnelPorts: options.tunnelPorts))
        grantedOffloads = opened.granted
        offloadProbe = opened.probe
        control = Mutex(ControlState(mtu: opened.mtu, mac: opened.mac, index: opened.index))
        detached = .allocate(capacity: 1)
        detached.initialize(to: 0)
        rxResume = .allocate(capacity: 1)
        rxResume.initialize(to: 0)
        errorBackoffCycles = max(cdpdk_tsc_hz() / 1000, 1)  // 1 ms
        validationOffloads = opened.granted.tunnelOffloads

        let firstRoom = room - headroom
        segmentsPerRead = 1 + (Self.maximumFrameLength - firstRoom + room - 1) / room
        stashCapacity = segmentsPerRead * 2
        rxHeader = UnsafeMutableRawPointer.allocate(byteCount: 64, alignment: 64)
        rxIov = .allocate(capacity: 1 + stashCapacity)
        rxIov[0] = iovec(iov_base: rxHeader, iov_len: Self.headerLength)
        stash = .allocate(capacity: stashCapacity)
        stash.initialize(repeating: nil, count: stashCapacity)
        parseScratch = UnsafeMutableRawPointer.allocate(byteCount: Self.maximumFrameLength, alignment: 64)
        rxCounters = .allocate(capacity: TapCounter.rxSlotCount)
        rxCounters.initialize(repeating: 0, count: TapCounter.rxSlotCount)
        txHeader = UnsafeMutableRawPointer.allocate(byteCount: 64, alignment: 64)
        txIov = .allocate(capacity: 1 + Self.maximumTxSegments)
        txIov[0] = iovec(iov_base: txHeader, iov_len: Self.headerLength)
        txCounters = .allocate(capacity: TapCounter.txSlotCount)
        txCounters.initialize(repeating: 0, count: TapCounter.txSlotCount)
    }

    deinit {
        close()
        rxHeader.deallocate()
        rxIov.deallocate()
        stash.deallocate()
        parseScratch.deallocate()
        rxCounters.deallocate()
        txHeader.deallocate()
        txIov.deallocate()
        txCounters.deallocate()
        detached.deallocate()
        rxResume.deallocate()
        hot.deinitialize(count: 1)
        hot.deallocate()
    }

    /// Closes the file descriptor and returns the receive mbufs held in reserve to the pool.
    /// Idempotent. The tap itself stays (it is persistent); its carrier goes down.
    public func close() {
        control.withLock { $0.closed = true }
        if stashCount > 0 {
            Mbuf.freeBulk(stash, count: stashCount)
            for index in 0..<stashCount { stash[index] = nil }
            stashCount = 0
        }
        if hot.pointee.fd >= 0 {
            _ = Glibc.close(hot.pointee.fd)
            hot.pointee.fd = -1
        }
    }

    public var isOpen: Bool { fileDescriptor >= 0 }

    public var driverName: String { Self.driverName }

    /// Transmit offloads this port offers as a "NIC", from what the kernel granted. IPv4 header
    /// checksums are not offered (virtio has none) but requests for them are honoured in software.
    public var txCapabilities: TxOffloads {
        var caps: TxOffloads = [.multiSegments]
        let g = grantedOffloads
        if g.contains(.checksum) { caps.formUnion([.tcpChecksum, .udpChecksum]) }
        if g.contains(.tso) { caps.insert(.tcpTSO) }
        if g.contains(.uso) { caps.insert(.udpTSO) }
        if g.contains(.tunnel) { caps.formUnion([.vxlanTunnelTSO, .geneveTunnelTSO, .udpTunnelTSO]) }
        if g.contains(.tunnelChecksum) { caps.insert(.outerUDPChecksum) }
        return caps
    }

    /// What received mbufs may carry: super-frames (TCP_LRO) and partial checksums.
    public var rxCapabilities: RxOffloads {
        var caps: RxOffloads = [.scatter]
        if grantedOffloads.contains(.checksum) { caps.formUnion([.tcpChecksum, .udpChecksum]) }
        if !grantedOffloads.isDisjoint(with: [.tso, .uso]) { caps.insert(.tcpLRO) }
        return caps
    }

    public var macAddressString: String {
        let m = macAddress
        return [m.0, m.1, m.2, m.3, m.4, m.5].map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined(separator: ":")
    }

    /// The counters now (callable from any thread).
    public func statistics() -> TapStatistics { TapCounter.snapshot(rx: rxCounters, tx: txCounters) }

    /// Zeroes the counters. Only while neither receive nor transmit runs.
    public func resetStatistics() {
        rxCounters.update(repeating: 0, count: TapCounter.rxSlotCount)
        txCounters.update(repeating: 0, count: TapCounter.txSlotCount)
    }

    /// Reads MTU and MAC again (inside the tap's namespace), e.g. after `ip link set mtu`.
    public func refreshLinkInfo() throws(TapDeviceError) {
        let info = try Self.inNamespace(options.namespace) { () throws(TapDeviceError) in try Self.linkInfo(options.name) }
        control.withLock {
            $0.mtu = info.mtu
            $0.mac = info.mac
            $0.index = info.index
        }
    }

    // MARK: attaching

    struct Opened {
        var fd: Int32
        var granted: TapOffloads
        var probe: [(offloads: TapOffloads, errno: Int32)]
        var mtu: Int
        var mac: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8)
        var index: Int32
    }

    static func attach(_ options: TapOptions) throws(TapDeviceError) -> Opened {
        try inNamespace(options.namespace) { () throws(TapDeviceError) -> Opened in
            let info = try linkInfo(options.name, namespace: options.namespace)
            let fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC)
            guard fd >= 0 else { throw .openTun(errno: errno) }
            var ok = false
            defer { if !ok { _ = Glibc.close(fd) } }
            var result = ctap_set_iff_tap_vnet(fd, options.name)
            guard result == 0 else { throw .attach(name: options.name, errno: -result) }
            var flags: UInt32 = 0
            result = ctap_get_iff_flags(fd, &flags)
            guard result == 0 else { throw .linkInfo(what: "TUNGETIFF", errno: -result) }
            // IFF_TAP 0x0002, IFF_NO_PI 0x1000, IFF_VNET_HDR 0x4000
            guard flags & 0x0002 != 0, flags & 0x1000 != 0, flags & 0x4000 != 0 else {
                throw .notAVnetTap(name: options.name, flags: flags)
            }
            result = ctap_set_vnet_hdr_size(fd, Int32(headerLength))
            guard result == 0 else { throw .headerSize(errno: -result) }
            let probe = probeOffloads(fd, requested: options.offloads)
            let granted = probe.first(where: { $0.errno == 0 })?.offloads ?? []
            ok = true
            return Opened(fd: fd, granted: granted, probe: probe, mtu: info.mtu, mac: info.mac, index: info.index)
        }
    }

    /// Tries `requested`, then ever smaller sets, until TUNSETOFFLOAD accepts one (an empty set
    /// is always accepted). Unknown bits give EINVAL, so this also finds what the kernel knows.
    static func probeOffloads(_ fd: Int32, requested: TapOffloads) -> [(offloads: TapOffloads, errno: Int32)] {
        var candidates: [TapOffloads] = [requested]
        var current = requested
        for drop: TapOffloads in [.tunnelChecksum, .tunnel, .uso, .tso, .checksum] where current.contains(drop) {
            current.remove(drop)
            candidates.append(current)
        }
        if candidates.last != [] { candidates.append([]) }
        var tried: [(offloads: TapOffloads, errno: Int32)] = []
        for candidate in candidates {
            let result = ctap_set_offload(fd, candidate.kernelBits)
            tried.append((candidate, -result))
            if result == 0 { break }
        }
        return tried
    }

    static func linkInfo(_ name: String, namespace: String? = nil) throws(TapDeviceError)
        -> (mtu: Int, mac: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8), index: Int32)
    {
        let sock = socket(AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard sock >= 0 else { throw .linkInfo(what: "socket", errno: errno) }
        defer { _ = Glibc.close(sock) }
        var index: Int32 = 0
        var result = ctap_if_index(sock, name, &index)
        if result == -ENODEV { throw .noSuchInterface(name: name, namespace: namespace) }
        guard result == 0 else { throw .linkInfo(what: "SIOCGIFINDEX \(name)", errno: -result) }
        var mtu: Int32 = 0
        result = ctap_if_mtu(sock, name, &mtu)
        guard result == 0 else { throw .linkInfo(what: "SIOCGIFMTU \(name)", errno: -result) }
        var mac: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) = (0, 0, 0, 0, 0, 0)
        result = withUnsafeMutableBytes(of: &mac) { ctap_if_hwaddr(sock, name, $0.baseAddress!.assumingMemoryBound(to: UInt8.self)) }
        guard result == 0 else { throw .linkInfo(what: "SIOCGIFHWADDR \(name)", errno: -result) }
        return (Int(mtu), mac, index)
    }

    /// Runs `body` with the calling thread in network namespace `namespace` (setns), then
    /// returns the thread to the namespace it was in. File descriptors opened inside keep
    /// belonging to that namespace.
    static func inNamespace<T>(_ namespace: String?, _ body: () throws(TapDeviceError) -> T) throws(TapDeviceError) -> T {
        guard let namespace else { return try body() }
        let target = open("/var/run/netns/\(namespace)", O_RDONLY | O_CLOEXEC)
        guard target >= 0 else { throw .namespaceNotFound(namespace, errno: errno) }
        defer { _ = Glibc.close(target) }
        let original = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC)
        guard original >= 0 else { throw .namespaceSwitch(namespace, errno: errno) }
        defer { _ = Glibc.close(original) }
        let entered = ctap_setns_net(target)
        guard entered == 0 else { throw .namespaceSwitch(namespace, errno: -entered) }
        defer {
            let back = ctap_setns_net(original)
            // A thread left in the wrong namespace would silently open later sockets there.
            precondition(back == 0, "vnet tap: cannot return to the original network namespace (errno \(-back))")
        }
        return try body()
    }
}
