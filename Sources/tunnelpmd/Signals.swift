import CDPDK
import Glibc

/// SIGINT/SIGTERM in the fixed-core mode: the handler only stores the signal number; the main
/// loop polls it and shuts down in order (workers joined, ports closed, EAL cleaned up).
enum Signals {
    nonisolated(unsafe) private static let received: UnsafeMutablePointer<UInt32> = {
        let flag = UnsafeMutablePointer<UInt32>.allocate(capacity: 1)
        flag.initialize(to: 0)
        return flag
    }()

    static func install() {
        _ = received
        signal(SIGINT) { number in cdpdk_store_flag(Signals.received, UInt32(number)) }
        signal(SIGTERM) { number in cdpdk_store_flag(Signals.received, UInt32(number)) }
    }

    /// The signal that arrived, if any.
    static var pending: Int32? {
        let number = cdpdk_load_flag(received)
        return number == 0 ? nil : Int32(number)
    }
}
