import Testing
#if canImport(Glibc)
import Glibc
#endif
import Foundation
@testable import Console

/// A temporary file holding `text`, removed by the caller.
func temporaryFile(_ text: String) throws -> String {
    var template = Array("/tmp/console-test-XXXXXX".utf8CString)
    let fd = mkstemp(&template)
    try #require(fd >= 0)
    let bytes = Array(text.utf8)
    #expect(write(fd, bytes, bytes.count) == bytes.count)
    close(fd)
    return String(cString: template)
}

@Suite struct LoopTests {
    @Test func pipedInputReadsLikeASession() throws {
        let (console, capture, calls) = try makeConsole()
        let outcome = console.run(TextLineReader("""
            set fwd mac

            # a comment
            set burst 600
            frob
            start
            quit
            stop
            """))
        #expect(outcome == .quit)
        #expect(capture.lines == [
            "tunnelpmd> set fwd mac",
            "Set mac packet forwarding mode",
            "tunnelpmd> ",
            "tunnelpmd> # a comment",
            "tunnelpmd> set burst 600",
            "set burst: bad value '600' for <n>; allowed: 1-512",
            "tunnelpmd> frob",
            "unknown command 'frob'; type 'help' for the list",
            "tunnelpmd> start",
            "tunnelpmd> quit",
        ])
        #expect(calls.log == ["fwd mac", "start"])
    }

    @Test func endOfInputRunsQuit() throws {
        let (console, capture, _) = try makeConsole()
        var quits = 0
        try console.register("quit", section: "control", help: "exit") { args in
            quits += 1
            args.print("Bye...")
            return .quit
        }
        #expect(console.run(TextLineReader("start\n")) == .quit)
        #expect(quits == 1)
        #expect(capture.lines == ["tunnelpmd> start", "Bye..."])
    }

    @Test func realPipe() throws {
        let (console, capture, calls) = try makeConsole()
        var fds: [Int32] = [0, 0]
        try #require(pipe(&fds) == 0)
        let script = Array("show port stats all\r\nport start 1\nset verbose x\n".utf8)
        #expect(write(fds[1], script, script.count) == script.count)
        close(fds[1])
        let reader = try #require(StreamLineReader(descriptor: fds[0]))
        #expect(console.run(reader) == .quit)
        #expect(calls.log == ["show stats all", "port start 1"])
        #expect(capture.lines == [
            "tunnelpmd> show port stats all",
            "tunnelpmd> port start 1",
            "tunnelpmd> set verbose x",
            "set verbose: bad value 'x' for <level>; expected an unsigned integer",
        ])
    }

    /// The self-pipe on a piped stdin: a wake-up written before the read begins ends it
    /// (before, getline blocked until the next line); lines already buffered come first.
    @Test func wakeUpBeforeAPipedReadEndsIt() throws {
        var input: [Int32] = [0, 0], wake: [Int32] = [0, 0]
        try #require(pipe(&input) == 0 && pipe(&wake) == 0)
        defer { close(input[1]); close(wake[0]); close(wake[1]) }
        let reader = try #require(StreamLineReader(descriptor: input[0], wakeDescriptor: wake[0]))
        var byte: UInt8 = 1
        #expect(write(wake[1], &byte, 1) == 1)
        let ended = ManagedFlag()
        let writeEnd = input[1]
        Thread.detachNewThread {
            usleep(3_000_000)
            if !ended.isSet { _ = write(writeEnd, "late\n", 5) }
        }
        #expect(reader.readLine(prompt: "") == .interrupted)
        ended.set()
        let lines = Array("first\nsecond\n".utf8)
        #expect(write(input[1], lines, lines.count) == lines.count)
        #expect(reader.readLine(prompt: "") == .line("first"))
        #expect(write(wake[1], &byte, 1) == 1)
        #expect(reader.readLine(prompt: "") == .line("second"), "a buffered line is read before the wake-up")
        #expect(reader.readLine(prompt: "") == .interrupted)
    }

    @Test func commandFileStopsAtQuit() throws {
        let (console, capture, calls) = try makeConsole()
        let path = try temporaryFile("set fwd io\nset burst 64\nquit\nstart\n")
        defer { unlink(path) }
        #expect(console.runCommandFile(path) == .quit)
        #expect(calls.log == ["fwd io", "burst 64"])
        #expect(capture.lines == [
            "tunnelpmd> set fwd io",
            "Set io packet forwarding mode",
            "tunnelpmd> set burst 64",
            "tunnelpmd> quit",
            "Read CLI commands from \(path)",
        ])
    }

    @Test func commandFileThenInteractiveInput() throws {
        let (console, capture, calls) = try makeConsole()
        let path = try temporaryFile("set burst 64\nquit\nstart\n")
        defer { unlink(path) }
        // testpmd: a quit in the file ends the file only.
        console.run(commandFile: path, input: TextLineReader("stop\n"))
        #expect(calls.log == ["burst 64", "stop"])
        #expect(capture.lines.suffix(2) == ["Read CLI commands from \(path)", "tunnelpmd> stop"])

        calls.log = []
        capture.clear()
        console.run(commandFile: path, input: TextLineReader("stop\n"), quitAfterCommandFileQuit: true)
        #expect(calls.log == ["burst 64"])
    }

    @Test func commandFileWithoutQuitRunsToTheEnd() throws {
        let (console, capture, calls) = try makeConsole()
        let path = try temporaryFile("start\nset burst 1")
        defer { unlink(path) }
        #expect(console.runCommandFile(path) == .continue)
        #expect(calls.log == ["start", "burst 1"])
        #expect(capture.lines.last == "Read CLI commands from \(path)")
    }

    @Test func missingCommandFile() throws {
        let (console, capture, _) = try makeConsole()
        #expect(console.runCommandFile("/nonexistent/cmds.txt") == .continue)
        #expect(capture.text == "Failed to read CLI commands: cannot open '/nonexistent/cmds.txt': No such file or directory\n")
    }

    @Test func interruptNotifiesAndContinues() throws {
        final class Scripted: LineReader {
            var events: [LineEvent]
            init(_ events: [LineEvent]) { self.events = events }
            var echoesInput: Bool { false }
            func readLine(prompt: String) -> LineEvent { events.isEmpty ? .endOfInput : events.removeFirst() }
        }
        let (console, capture, calls) = try makeConsole()
        var interrupts = 0
        console.onInterrupt = { interrupts += 1 }
        #expect(console.run(Scripted([.line("set bu"), .interrupted, .line("start")])) == .quit)
        #expect(interrupts == 1)
        #expect(calls.log == ["start"])
        // A terminal source is not echoed; Ctrl-D leaves the prompt line, so a newline follows.
        #expect(capture.lines == ["set: unknown 'bu'; expected one of: fwd, verbose, burst, promisc, offset", ""])
    }

    @Test func customPrompt() throws {
        let capture = OutputCapture()
        let console = Console(prompt: "testpmd> ", output: capture.output)
        console.run(TextLineReader("quit\n"))
        #expect(capture.text == "testpmd> quit\n")
    }
}
