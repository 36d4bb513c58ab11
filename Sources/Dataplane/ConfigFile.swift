#if canImport(Glibc)
import Glibc
#endif

/// Reading a config file safely: errors in plain words, and limits checked before the YAML
/// parser sees the text. Yams (libyaml's composer) recurses once per nesting level, so a
/// small file of thousands of nested `[` or `{k:` overflows the stack; a cheap scan of the
/// text bounds the nesting first.
public enum ConfigFile {
    /// Larger than any config needs (the examples are under 2 KB).
    public static let maximumBytes = 1 << 20
    /// Block levels (indentation, `- ` items) plus flow levels (`[`, `{`) at any point.
    public static let maximumDepth = 64

    /// The file's text, or an error saying what is wrong with the path or the file.
    public static func read(path: String) throws(OptionError) -> String {
        func refuse(_ reason: String) -> OptionError {
            OptionError(option: "config", value: path, allowed: "a readable YAML file (\(reason))")
        }
        let descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else { throw refuse(String(cString: strerror(errno))) }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { throw refuse(String(cString: strerror(errno))) }
        if status.st_mode & S_IFMT == S_IFDIR { throw refuse("it is a directory") }
        if status.st_mode & S_IFMT != S_IFREG { throw refuse("it is not a regular file") }
        if Int(status.st_size) > maximumBytes {
            throw refuse("\(status.st_size) bytes; at most \(maximumBytes)")
        }
        var bytes = [UInt8](repeating: 0, count: maximumBytes + 1)
        var count = 0
        while count < bytes.count {
            let got = bytes.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress! + count, $0.count - count) }
            if got < 0, errno == EINTR { continue }
            guard got >= 0 else { throw refuse(String(cString: strerror(errno))) }
            if got == 0 { break }
            count += got
        }
        if count > maximumBytes { throw refuse("more than \(maximumBytes) bytes") }
        return String(decoding: bytes[..<count], as: UTF8.self)
    }

    /// Throws if `text` nests deeper than `maximumDepth` anywhere (an estimate on the safe
    /// side: quoted text and comments are skipped, every indentation step counts as a level).
    public static func checkNesting(_ text: String, source: String) throws(OptionError) {
        var indents: [Int] = []  // indentation of the open block levels
        var flow = 0
        var lineNumber = 0
        for line in text.utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            lineNumber += 1
            let indent = line.prefix { $0 == UInt8(ascii: " ") }.count
            let rest = line.dropFirst(indent)
            guard let first = rest.first, first != UInt8(ascii: "#"), first != UInt8(ascii: "\r") else { continue }
            if flow == 0 {
                while let last = indents.last, last >= indent { indents.removeLast() }
                indents.append(indent)
            }
            var depth = indents.count
            var quote: UInt8?
            var previous = UInt8(ascii: " ")
            for byte in rest {
                defer { previous = byte }
                if let open = quote {
                    if byte == open { quote = nil }
                    continue
                }
                let atTokenStart = [UInt8(ascii: " "), UInt8(ascii: "["), UInt8(ascii: "{"), UInt8(ascii: ",")].contains(previous)
                if byte == UInt8(ascii: "#"), previous == UInt8(ascii: " ") { break }  // a comment
                if byte == UInt8(ascii: "'") || byte == UInt8(ascii: "\""), atTokenStart { quote = byte }
                if byte == UInt8(ascii: "[") || byte == UInt8(ascii: "{") { flow += 1 }
                if byte == UInt8(ascii: "]") || byte == UInt8(ascii: "}") { flow = max(0, flow - 1) }
                if byte == UInt8(ascii: "-"), atTokenStart, flow == 0 { depth += 1 }  // "- - x"
                if depth + flow > maximumDepth { break }
            }
            if depth + flow > maximumDepth {
                throw OptionError(option: "config", value: source,
                                  allowed: "YAML nested at most \(maximumDepth) levels deep (deeper at line \(lineNumber))")
            }
        }
    }
}
