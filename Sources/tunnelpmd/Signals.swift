import CDPDK
import Console
import Glibc

/// Signals, the same in every mode (fixed-core, console on a tty, console on a pipe):
/// SIGINT, SIGTERM, SIGHUP and SIGQUIT ask for a clean stop (workers joined, statistics
/// printed, ports closed, EAL cleaned up, exit 0); SIGUSR1 (and SIGUSR2, which would
/// otherwise kill the process) asks for the forward statistics and forwarding goes on (as `dd`). The handlers only store a flag; the main thread polls it.
///
/// The handlers are installed without SA_RESTART, so a blocking read on the main thread
/// (the console) fails with EINTR and the console looks at the flags at once. They replace
/// the Swift runtime's SIGQUIT handler, so SIGQUIT never prints a crash backtrace.
/// `blockInThisThread()` before rte_eal_init keeps the signals blocked in every thread EAL
/// starts (lcores, interrupts, telemetry), which inherit the mask; `unblockInThisThread()`
/// after it lets the main thread take them.
enum Signals {
    static let stopSignals: [Int32] = [SIGINT, SIGTERM, SIGHUP, SIGQUIT]
    static let statisticsSignals: [Int32] = [SIGUSR1, SIGUSR2]

    /// The first stop signal received (0: none). Later ones change nothing: a second SIGINT
    /// while stopping is harmless.
    nonisolated(unsafe) private static let stopFlag = makeFlag()
    /// Set by SIGUSR1 or SIGUSR2, cleared by whoever prints the statistics.
    nonisolated(unsafe) private static let statisticsFlag = makeFlag()

    /// The thread that installed the handlers (main): a signal that lands on another thread
    /// (one started after the mode began, which does not block them) is passed on to it, so
    /// the main thread's blocking read is interrupted too.
    nonisolated(unsafe) private static let mainThread: UnsafeMutablePointer<pthread_t> = {
        let thread = UnsafeMutablePointer<pthread_t>.allocate(capacity: 1)
        thread.initialize(to: pthread_self())
        return thread
    }()

    private static func makeFlag() -> UnsafeMutablePointer<UInt32> {
        let flag = UnsafeMutablePointer<UInt32>.allocate(capacity: 1)
        flag.initialize(to: 0)
        return flag
    }

    private static var handled: sigset_t {
        var set = sigset_t()
        sigemptyset(&set)
        for number in stopSignals + statisticsSignals { sigaddset(&set, number) }
        return set
    }

    /// Installs the handlers (once, early in main: before EAL and before anything can fault).
    static func install() {
        _ = (stopFlag, statisticsFlag, mainThread)
        ConsoleWakeup.install()
        for number in stopSignals + statisticsSignals {
            var action = sigaction()
            action.__sigaction_handler.sa_handler = { number in
                if number == SIGUSR1 || number == SIGUSR2 {
                    cdpdk_store_flag(Signals.statisticsFlag, 1)
                } else if cdpdk_load_flag(Signals.stopFlag) == 0 {
                    cdpdk_store_flag(Signals.stopFlag, UInt32(number))
                }
                // The console's wait ends even if its read had not begun (a self-pipe).
                ConsoleWakeup.wake()
                // pthread_kill is async-signal-safe (signal-safety(7)).
                if pthread_equal(pthread_self(), Signals.mainThread.pointee) == 0 { pthread_kill(Signals.mainThread.pointee, number) }
            }
            sigemptyset(&action.sa_mask)
            action.sa_flags = 0  // no SA_RESTART: a blocking read returns EINTR
            sigaction(number, &action, nil)
        }
    }

    /// Threads created while the calling thread blocks the signals inherit the block.
    static func blockInThisThread() {
        var set = handled
        pthread_sigmask(SIG_BLOCK, &set, nil)
    }

    static func unblockInThisThread() {
        var set = handled
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
    }

    /// The stop signal that arrived, if any.
    static var pendingStop: Int32? {
        let number = cdpdk_load_flag(stopFlag)
        return number == 0 ? nil : Int32(number)
    }

    /// True once per SIGUSR1/SIGUSR2 (several before a poll count as one).
    static func takeStatisticsRequest() -> Bool {
        guard cdpdk_load_flag(statisticsFlag) != 0 else { return false }
        cdpdk_store_flag(statisticsFlag, 0)
        return true
    }

    /// The line printed when a stop signal ends a run (testpmd's words).
    static func stopNotice(_ number: Int32) -> String {
        "\nSignal \(number) received, preparing to exit..."
    }
}
