import CDPDK
import CTap
import Glibc

/// Whether a tap port still has its interface.
public enum TapLinkState: Hashable, Sendable, CustomStringConvertible {
    case up
    /// The interface was deleted under the open file (every read and write fails with
    /// `errno`, EBADFD); the port waits for an interface of the same name to come back.
    case gone(errno: Int32)
    /// `close()` was called (port close, shutdown).
    case closed

    public var isUp: Bool { self == .up }

    public var description: String {
        switch self {
        case .up: "up"
        case .gone(let code): "down (interface gone: \(String(cString: strerror(code))))"
        case .closed: "down (closed)"
        }
    }
}

/// A vanished interface: `ip link del` on a tap leaves tunnelpmd's file open but detached.
/// The data path notices it from the errno of one read or write, sets `detached` and from then
/// on makes no system call on the port (reads return nothing, writes take nothing, so the
/// forwarder counts them as tx-dropped). The control side notices it too (`probeLink`, a
/// TUNGETIFF) and brings the port back with `reattach()`: a new file on the new interface is
/// `dup2`ed onto the old descriptor, so the data path, which may be polling it at that moment,
/// keeps its descriptor number and simply starts reading the new interface.
extension TapDevice {
    /// The errno of a file whose interface is gone.
    @inline(__always) static func meansInterfaceGone(_ code: Int32) -> Bool { code == EBADFD }

    @inline(__always) var isDetached: Bool { cdpdk_load_flag(detached) != 0 }

    @inline(__always) func markDetached(_ code: Int32) { cdpdk_store_flag(detached, UInt32(bitPattern: code)) }

    /// The link as the data path last saw it, without a system call.
    public var knownLinkState: TapLinkState {
        if control.withLock({ $0.closed }) { return .closed }
        let code = cdpdk_load_flag(detached)
        return code == 0 ? .up : .gone(errno: Int32(bitPattern: code))
    }

    /// The link now: asks the kernel (TUNGETIFF fails with EBADFD on a detached file) and
    /// records what it says, so the data path stops polling a port found gone here.
    public func probeLink() -> TapLinkState {
        control.withLock { state -> TapLinkState in
            if state.closed { return .closed }
            let code = cdpdk_load_flag(detached)
            if code != 0 { return .gone(errno: Int32(bitPattern: code)) }
            var flags: UInt32 = 0
            let result = ctap_get_iff_flags(hot.pointee.fd, &flags)
            if result < 0, Self.meansInterfaceGone(-result) {
                markDetached(-result)
                return .gone(errno: -result)
            }
            return .up
        }
    }

    /// Attaches again to the interface named in `options` once it exists again (same name,
    /// same namespace), with the same offloads as before. Returns false when the link was not
    /// gone; throws why it cannot (no interface yet, not a vnet tap, other offloads).
    @discardableResult
    public func reattach() throws(TapDeviceError) -> Bool {
        try control.withLock { (state: inout ControlState) throws(TapDeviceError) -> Bool in
            if state.closed { throw .closed(name: options.name) }
            guard cdpdk_load_flag(detached) != 0 else { return false }
            let opened = try Self.attach(options)
            guard opened.granted == grantedOffloads else {
                _ = Glibc.close(opened.fd)
                throw .offloadsChanged(name: options.name, had: grantedOffloads, now: opened.granted)
            }
            // The old descriptor now names the new file: whoever polls it goes on unaware.
            let result = dup2(opened.fd, hot.pointee.fd)
            let code = errno
            if result >= 0 { _ = fcntl(hot.pointee.fd, F_SETFD, FD_CLOEXEC) }
            _ = Glibc.close(opened.fd)
            guard result >= 0 else { throw .linkInfo(what: "dup2", errno: code) }
            state.mtu = opened.mtu
            state.mac = opened.mac
            state.index = opened.index
            markDetached(0)
            return true
        }
    }
}
