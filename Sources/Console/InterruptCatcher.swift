// Ctrl-C at the prompt: interrupt the read and report it, instead of killing the process.
#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// SIGINTs seen by `catchingInterrupts`, and the caller's handler to pass them on to (its
/// address; 0: none). Atomics in global `let`s are the only state a signal handler can safely
/// touch; no other global state exists in this module.
private let interruptsSeen = Atomic<Int>(0)
private let previousHandler = Atomic<Int>(0)

/// Runs `body` (a blocking read) with a SIGINT handler installed without SA_RESTART, so the
/// read fails with EINTR instead of resuming. The caller's own handler (DPDK apps usually have
/// one that stops forwarding) still runs for each SIGINT during the read, and is restored
/// afterwards, so Ctrl-C keeps its meaning at the prompt and outside it. SIGINT is also
/// unblocked in this thread for the read, in case the thread inherited a mask that blocks it
/// (threads started by libdispatch do), and the mask is restored after.
func catchingInterrupts<T>(_ body: () -> T) -> (result: T, interrupted: Bool) {
    var action = sigaction()
    action.__sigaction_handler.sa_handler = { number in
        interruptsSeen.add(1, ordering: .relaxed)
        let previous = previousHandler.load(ordering: .relaxed)
        if previous != 0 { unsafeBitCast(previous, to: (@convention(c) (Int32) -> Void).self)(number) }
    }
    sigemptyset(&action.sa_mask)
    action.sa_flags = 0
    var previous = sigaction()
    interruptsSeen.store(0, ordering: .relaxed)
    sigaction(SIGINT, nil, &previous)
    previousHandler.store(callerHandler(previous), ordering: .relaxed)
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

/// The address of a handler function in `action` (0 for SIG_DFL, SIG_IGN or an SA_SIGINFO one).
private func callerHandler(_ action: sigaction) -> Int {
    guard action.sa_flags & SA_SIGINFO == 0, let handler = action.__sigaction_handler.sa_handler else { return 0 }
    let address = unsafeBitCast(handler, to: Int.self)
    return address == unsafeBitCast(SIG_IGN, to: Int.self) || address == 0 ? 0 : address
}
