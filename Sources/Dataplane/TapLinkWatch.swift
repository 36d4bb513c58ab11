import Foundation
import Glibc
import Synchronization
import VnetTap

/// Watches the vnet tap ports from a thread of its own, five times a second: a port whose
/// interface was deleted goes link down with one log line, and is reattached (same name, same
/// namespace, same offloads) as soon as the interface exists again, with one more line. A
/// reattach that cannot be done is logged once per distinct reason. Its thread blocks every
/// signal, so the main thread keeps taking them.
final class TapLinkWatch: @unchecked Sendable {
    struct Watched {
        let port: UInt16
        let device: TapDevice
        var reported = TapLinkState.up
        var lastRefusal: String?
    }

    private let stopping = Mutex(false)
    private let finished = DispatchSemaphore(value: 0)

    init(taps: [(port: UInt16, device: TapDevice)], interval: Double = 0.2, log: @escaping (String) -> Void) {
        let say = UncheckedLog(log)
        let initial = UncheckedWatched(taps.map { Watched(port: $0.port, device: $0.device) })
        let thread = Thread { [self] in
            var watched = initial.entries
            var all = sigset_t()
            sigfillset(&all)
            pthread_sigmask(SIG_BLOCK, &all, nil)
            while !self.stopping.withLock({ $0 }) {
                for index in watched.indices { Self.check(&watched[index], log: say.log) }
                usleep(UInt32(interval * 1_000_000))
            }
            self.finished.signal()
        }
        thread.name = "tap-link-watch"
        thread.start()
    }

    /// Ends the thread and waits for it.
    func stop() {
        let first = stopping.withLock { wasStopping in
            defer { wasStopping = true }
            return !wasStopping
        }
        if first { finished.wait() }
    }

    static func check(_ entry: inout Watched, log: (String) -> Void) {
        let device = entry.device
        let state = device.probeLink()
        switch state {
        case .up, .closed:
            // Up again through `port start`, which said so itself.
            entry.reported = state
            entry.lastRefusal = nil
        case .gone(let code):
            if entry.reported == .up {
                log("Port \(entry.port): link down: \(describe(device)) is gone (\(String(cString: strerror(code))));"
                    + " the port reattaches when an interface of that name returns")
                entry.reported = state
            }
            do {
                if try device.reattach() {
                    log("Port \(entry.port): link up: \(describe(device)) is back, reattached (MTU \(device.mtu), MAC \(device.macAddressString))")
                    entry.reported = .up
                    entry.lastRefusal = nil
                }
            } catch {
                // Waiting for the interface is the normal case; anything else is worth a line.
                if case .noSuchInterface = error { return }
                if error.description != entry.lastRefusal {
                    log("Port \(entry.port): cannot reattach: \(error)")
                    entry.lastRefusal = error.description
                }
            }
        }
    }

    static func describe(_ device: TapDevice) -> String {
        "interface '\(device.options.name)'" + (device.options.namespace.map { " in network namespace '\($0)'" } ?? "")
    }

    private struct UncheckedWatched: @unchecked Sendable {
        let entries: [Watched]
        init(_ entries: [Watched]) { self.entries = entries }
    }

    private struct UncheckedLog: @unchecked Sendable {
        let log: (String) -> Void
        init(_ log: @escaping (String) -> Void) { self.log = log }
    }
}
