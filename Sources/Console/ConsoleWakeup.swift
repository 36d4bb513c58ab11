// A self-pipe that ends a console read when a signal arrives.
#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// The pipe's ends (-1: not installed). Global atomics: the only state a signal handler may
/// touch; `ConsoleWakeup.install()` initialises them before any handler can run.
private let wakeReadEnd = Atomic<Int32>(-1)
private let wakeWriteEnd = Atomic<Int32>(-1)

/// A signal handler that only sets a flag cannot end a read that has not begun yet: if the
/// signal lands after the console checked its flags and before the read starts, EINTR never
/// comes and the signal waits for the next input line. With the self-pipe, the handler also
/// writes a byte (`wake()`, async-signal-safe), and the readers wait on the pipe beside their
/// input, so that byte ends the wait whenever it was written.
public enum ConsoleWakeup {
    /// Makes the pipe (once). Call before installing the handlers that call `wake()`.
    public static func install() {
        guard wakeReadEnd.load(ordering: .acquiring) < 0 else { return }
        var ends: [Int32] = [-1, -1]
        guard pipe(&ends) == 0 else { return }
        for fd in ends {
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        }
        wakeWriteEnd.store(ends[1], ordering: .releasing)
        wakeReadEnd.store(ends[0], ordering: .releasing)
    }

    /// From a signal handler: one byte into the pipe (a full pipe already wakes the reader).
    /// Keeps errno, which the interrupted code may be about to read.
    public static func wake() {
        let fd = wakeWriteEnd.load(ordering: .relaxed)
        guard fd >= 0 else { return }
        let saved = errno
        var byte: UInt8 = 1
        _ = write(fd, &byte, 1)
        errno = saved
    }

    public enum Readiness { case input, woken }

    /// The read end readers wait on (-1: not installed).
    public static var descriptor: Int32 { wakeReadEnd.load(ordering: .acquiring) }

    /// Waits until `descriptor` has input (or end of file, or an error for the read to report)
    /// or a byte arrived on `wakeFD` (the shared pipe by default; a test may give its own),
    /// which is consumed. Without a pipe: `.input` at once.
    public static func wait(for descriptor: Int32, wakeFD: Int32 = ConsoleWakeup.descriptor) -> Readiness {
        guard wakeFD >= 0 else { return .input }
        var fds = [pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0), pollfd(fd: wakeFD, events: Int16(POLLIN), revents: 0)]
        while true {
            let ready = poll(&fds, 2, -1)
            if ready < 0 {
                if errno == EINTR { continue }  // the handler wrote the pipe: the next poll sees it
                return .input  // let the read report it
            }
            if fds[1].revents != 0 {
                drain(wakeFD)
                return .woken
            }
            if fds[0].revents != 0 { return .input }
        }
    }

    /// One read: poll said there are bytes, so it cannot block even on a blocking pipe; bytes
    /// beyond these only make the next wait end early once more.
    private static func drain(_ fd: Int32) {
        var buffer = (UInt64(0), UInt64(0), UInt64(0), UInt64(0))
        _ = withUnsafeMutableBytes(of: &buffer) { read(fd, $0.baseAddress, $0.count) }
    }
}
