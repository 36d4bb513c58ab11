// Ctrl-C at the prompt: interrupt the read and report it, instead of killing the process.
#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// SIGINTs seen by `catchingInterrupts`. An atomic in a global `let` is the only state a signal
/// handler can safely touch; no other global state exists in this module.
private let interruptsSeen = Atomic<Int>(0)

/// Runs `body` (a blocking read) with a SIGINT handler installed without SA_RESTART, so the
/// read fails with EINTR instead of resuming. The caller's own handler (DPDK apps usually have
/// one that stops forwarding) is restored afterwards, so Ctrl-C outside the prompt keeps its
/// meaning. SIGINT is also unblocked in this thread for the read, in case the thread inherited
/// a mask that blocks it (threads started by libdispatch do), and the mask is restored after.
func catchingInterrupts<T>(_ body: () -> T) -> (result: T, interrupted: Bool) {
    var action = sigaction()
    action.__sigaction_handler.sa_handler = { _ in interruptsSeen.add(1, ordering: .relaxed) }
    sigemptyset(&action.sa_mask)
    action.sa_flags = 0
    var previous = sigaction()
    interruptsSeen.store(0, ordering: .relaxed)
    let installed = sigaction(SIGINT, &action, &previous) == 0
    var interruptOnly = sigset_t()
    sigemptyset(&interruptOnly)
    sigaddset(&interruptOnly, SIGINT)
    var previousMask = sigset_t()
    let unblocked = pthread_sigmask(SIG_UNBLOCK, &interruptOnly, &previousMask) == 0
    let result = body()
    if unblocked { pthread_sigmask(SIG_SETMASK, &previousMask, nil) }
    if installed { sigaction(SIGINT, &previous, nil) }
    return (result, interruptsSeen.exchange(0, ordering: .relaxed) > 0)
}
