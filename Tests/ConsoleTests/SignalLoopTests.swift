import Testing
#if canImport(Glibc)
import Glibc
#endif
@testable import Console

/// The loop's side of the host's signals, and what an error quotes of a hostile line.
@Suite struct SignalLoopTests {
    /// A stop request seen before a read (or after an interrupted one) ends the session as
    /// `quit` does; reads go on while there is none.
    @Test func checkSignalsEndsTheSessionWithQuit() throws {
        let (console, capture, calls) = try makeConsole()
        var checks = 0
        console.checkSignals = {
            checks += 1
            return checks == 3 ? .quit : .continue
        }
        #expect(console.run(TextLineReader("start\nset fwd mac\nstart\n")) == .quit)
        #expect(calls.log == ["start", "fwd mac"], "the third line is never read")
        #expect(capture.lines == ["tunnelpmd> start", "tunnelpmd> set fwd mac", "Set mac packet forwarding mode"])
    }

    /// A read a signal broke (EINTR, no SA_RESTART) is an interruption, not the end of input.
    @Test func interruptedPipeReadIsNotEndOfInput() throws {
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        defer { close(fds[1]) }
        let reader = try #require(StreamLineReader(descriptor: fds[0]))
        var action = sigaction()
        action.__sigaction_handler.sa_handler = { _ in }
        sigemptyset(&action.sa_mask)
        action.sa_flags = 0
        var previous = sigaction()
        sigaction(SIGUSR2, &action, &previous)
        defer { sigaction(SIGUSR2, &previous, nil) }
        // Test threads may block signals (libdispatch's do): unblock SIGUSR2 for this read.
        var usr2 = sigset_t()
        sigemptyset(&usr2)
        sigaddset(&usr2, SIGUSR2)
        var previousMask = sigset_t()
        pthread_sigmask(SIG_UNBLOCK, &usr2, &previousMask)
        defer { pthread_sigmask(SIG_SETMASK, &previousMask, nil) }
        // A helper thread signals this one after 0.2 s; should the read not be interrupted,
        // it writes a line 0.3 s later so the test fails instead of hanging.
        let context = UnsafeMutablePointer<(pthread_t, Int32)>.allocate(capacity: 1)
        context.initialize(to: (pthread_self(), fds[1]))
        defer { context.deallocate() }
        var helper = pthread_t()
        #expect(pthread_create(&helper, nil, { argument in
            let (reader, writeEnd) = argument!.assumingMemoryBound(to: (pthread_t, Int32).self).pointee
            usleep(200_000)
            pthread_kill(reader, SIGUSR2)
            usleep(300_000)
            _ = write(writeEnd, "late\n", 5)
            return nil
        }, context) == 0)
        #expect(reader.readLine(prompt: "") == .interrupted)
        pthread_join(helper, nil)
        #expect(reader.readLine(prompt: "") == .line("late"), "the stream reads on after clearerr")
    }

    @Test func errorsQuoteAtMost64CharactersOfAWord() throws {
        let (console, capture, _) = try makeConsole()
        let word = String(repeating: "y", count: 100_000)
        console.execute("set fwd \(word)")
        console.execute("\(word)")
        #expect(capture.lines.count == 2)
        for line in capture.lines {
            #expect(line.utf8.count < 200, "\(line.prefix(200))")
            #expect(line.contains("'\(String(repeating: "y", count: 64))...' (100000 bytes)"))
        }
    }
}
