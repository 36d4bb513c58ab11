// Lines from a C stream: a piped stdin or a command file.
import CEditLine
#if canImport(Glibc)
import Glibc
#endif

/// A command file that cannot be opened.
public struct FileOpenError: ConsoleError, Equatable {
    public let path: String
    public let reason: String

    public var message: String { "cannot open '\(path)': \(reason)" }
}

public final class StreamLineReader: LineReader {
    private let file: UnsafeMutablePointer<FILE>
    private let ownsFile: Bool

    /// Opens `path` for reading.
    public init(path: String) throws(FileOpenError) {
        guard let file = fopen(path, "r") else {
            throw FileOpenError(path: path, reason: String(cString: strerror(errno)))
        }
        self.file = file
        self.ownsFile = true
    }

    /// Reads an open descriptor (a pipe, say) and closes it when the reader goes away.
    /// `wakeDescriptor`: a pipe whose byte ends a waiting read (default: `ConsoleWakeup`'s).
    public init?(descriptor: Int32, wakeDescriptor: Int32? = nil) {
        guard let file = fdopen(descriptor, "r") else { return nil }
        self.file = file
        self.ownsFile = true
        self.wakeDescriptor = wakeDescriptor
    }

    private var wakeDescriptor: Int32?

    /// Reads the process's stdin (not closed when the reader goes away).
    public static func standardInput() -> StreamLineReader? {
        guard let file = cel_stdin() else { return nil }
        return StreamLineReader(borrowing: file)
    }

    private init(borrowing file: UnsafeMutablePointer<FILE>) {
        self.file = file
        self.ownsFile = false
    }

    deinit {
        if ownsFile { fclose(file) }
    }

    public var echoesInput: Bool { true }

    public func readLine(prompt: String) -> LineEvent {
        var buffer: UnsafeMutablePointer<CChar>?
        var capacity = 0
        defer { free(buffer) }
        // A signal before or during the wait ends it (ConsoleWakeup): not the end of input.
        if cel_input_buffered(file) == 0,
            ConsoleWakeup.wait(for: fileno(file), wakeFD: wakeDescriptor ?? ConsoleWakeup.descriptor) == .woken
        {
            return .interrupted
        }
        errno = 0
        let length = getline(&buffer, &capacity, file)
        if length < 0, errno == EINTR {
            // A signal broke the read (its handler has no SA_RESTART): not the end of input.
            clearerr(file)
            return .interrupted
        }
        guard length >= 0, let buffer else { return .endOfInput }
        var bytes = UnsafeRawBufferPointer(start: buffer, count: length)[...]
        // Byte-wise, since "\r\n" is a single Character and would defeat hasSuffix("\n").
        while let last = bytes.last, last == 0x0A || last == 0x0D { bytes.removeLast() }
        return .line(String(decoding: bytes, as: UTF8.self))
    }
}
