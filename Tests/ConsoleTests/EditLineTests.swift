// Drives the real libedit path through a pseudo-terminal in this process: keystrokes are
// written to the pty's master side before each read, libedit reads them from the slave.
import Testing
#if canImport(Glibc)
import Glibc
#endif
import Foundation
@testable import Console

/// A pty pair. Keystrokes are typed once libedit has put the slave in raw mode: typed earlier,
/// the line discipline would cook them (^D would become an end-of-file marker, not a key).
final class PseudoTerminal: @unchecked Sendable {
    let master: Int32
    let input: UnsafeMutablePointer<FILE>
    let output: UnsafeMutablePointer<FILE>

    init() throws {
        // posix_openpt and friends are not visible to Swift's Glibc module; this is what they do.
        master = open("/dev/ptmx", O_RDWR | O_NOCTTY)
        try #require(master >= 0)
        var unlock: Int32 = 0
        var number: UInt32 = 0
        let unlockRequest: UInt = 0x4004_5431 // TIOCSPTLCK = _IOW('T', 0x31, int); Swift can't import _IOW
        let numberRequest: UInt = 0x8004_5430 // TIOCGPTN = _IOR('T', 0x30, unsigned int)
        try #require(ioctl(master, unlockRequest, &unlock) == 0)
        try #require(ioctl(master, numberRequest, &number) == 0)
        let slave = open("/dev/pts/\(number)", O_RDWR | O_NOCTTY)
        try #require(slave >= 0)
        var size = winsize(ws_row: 24, ws_col: 80, ws_xpixel: 0, ws_ypixel: 0)
        _ = ioctl(slave, UInt(TIOCSWINSZ), &size)
        input = try #require(fdopen(slave, "r"))
        output = try #require(fdopen(dup(slave), "w"))
        _ = fcntl(master, F_SETFL, fcntl(master, F_GETFL) | O_NONBLOCK)
    }

    deinit {
        fclose(input)
        fclose(output)
        close(master)
    }

    /// Types `keys` from another thread as soon as libedit is reading (raw mode), while this
    /// thread blocks in `readLine`.
    func type(_ keys: String) {
        let slave = fileno(input)
        let master = master
        Thread.detachNewThread {
            var mode = termios()
            for _ in 0..<400 {
                tcgetattr(slave, &mode)
                if mode.c_lflag & tcflag_t(ICANON) == 0 { break }
                usleep(5_000)
            }
            let bytes = Array(keys.utf8)
            _ = write(master, bytes, bytes.count)
        }
    }

    /// Everything the slave side has written so far.
    func screen() -> String {
        var text: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = read(master, &buffer, buffer.count)
            if count <= 0 { break }
            text += buffer[0..<count]
        }
        return String(decoding: text, as: UTF8.self)
    }
}

@Suite(.serialized) struct EditLineTests {
    @Test func completionHistoryAndEndOfInputOnAPty() throws {
        setenv("TERM", "vt100", 0)
        let (console, _, _) = try makeConsole()
        let terminal = try PseudoTerminal()
        let history = try temporaryFile("")
        unlink(history)
        defer { unlink(history) }
        let reader = try #require(EditLineReader(
            historyFile: history, input: terminal.input, output: terminal.output,
            complete: { console.completionAction(for: $0) }))

        // Unique completions insert the word and a space.
        terminal.type("sh\tp\tst\t0\r")
        #expect(reader.readLine(prompt: "tunnelpmd> ") == .line("show port stats 0"))
        #expect(terminal.screen().contains("tunnelpmd> "))

        // An ambiguous word lists the candidates below the line, then completes when unique.
        terminal.type("show port s\tu\tall\r")
        #expect(reader.readLine(prompt: "tunnelpmd> ") == .line("show port summary all"))
        #expect(terminal.screen().contains("stats    summary"))

        // Emacs bindings: Ctrl-P recalls the previous line, Ctrl-A/Ctrl-K edit it.
        terminal.type("\u{10}\r")
        #expect(reader.readLine(prompt: "tunnelpmd> ") == .line("show port summary all"))
        terminal.type("set burst 1\u{01}\u{0B}start\r")
        #expect(reader.readLine(prompt: "tunnelpmd> ") == .line("start"))

        // Ctrl-D on an empty line is the end of input.
        terminal.type("\u{04}")
        #expect(reader.readLine(prompt: "tunnelpmd> ") == .endOfInput)

        // History was written to the file (libedit's format, spaces escaped).
        let saved = try String(contentsOfFile: history, encoding: .utf8)
        #expect(saved.contains("show\\040port\\040summary\\040all"))
        #expect(saved.contains("start"))
    }

    @Test func interruptAtThePromptDropsTheLine() throws {
        setenv("TERM", "vt100", 0)
        let (console, _, _) = try makeConsole()
        let terminal = try PseudoTerminal()
        let reader = try #require(EditLineReader(
            input: terminal.input, output: terminal.output, complete: { console.completionAction(for: $0) }))
        terminal.type("set bu")
        // SIGINT must hit the thread blocked in el_gets, as Ctrl-C would on a real terminal.
        let target = pthread_self()
        Thread.detachNewThread {
            usleep(300_000)
            pthread_kill(target, SIGINT)
        }
        #expect(reader.readLine(prompt: "tunnelpmd> ") == .interrupted)
        terminal.type("start\r")
        #expect(reader.readLine(prompt: "tunnelpmd> ") == .line("start"))
    }

    /// A signal that lands before the read begins (after the console checked its flags) must
    /// still end it: its handler's byte on the wake pipe is waiting when the read starts. Before
    /// the self-pipe, this read blocked until the next key.
    @Test func wakeUpBeforeTheReadEndsIt() throws {
        setenv("TERM", "vt100", 0)
        let (console, _, _) = try makeConsole()
        let terminal = try PseudoTerminal()
        var wake: [Int32] = [-1, -1]
        try #require(pipe(&wake) == 0)
        defer { close(wake[0]); close(wake[1]) }
        let reader = try #require(EditLineReader(
            input: terminal.input, output: terminal.output, wakeDescriptor: wake[0], complete: { console.completionAction(for: $0) }))
        var byte: UInt8 = 1
        #expect(write(wake[1], &byte, 1) == 1)
        // A watchdog types a line if the read does not end by itself, so a failure cannot hang.
        let ended = ManagedFlag()
        let master = terminal.master
        Thread.detachNewThread {
            usleep(3_000_000)
            if !ended.isSet { _ = write(master, "quit\r", 5) }
        }
        #expect(reader.readLine(prompt: "tunnelpmd> ") == .interrupted)
        ended.set()
        terminal.type("start\r")
        #expect(reader.readLine(prompt: "tunnelpmd> ") == .line("start"), "the next read waits for keys again")
    }
}

/// A flag one thread sets and another reads.
final class ManagedFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    var isSet: Bool { lock.withLock { value } }
    func set() { lock.withLock { value = true } }
}
