// Splitting an input line into words; the only quoting-free rule testpmd users expect.

struct LineWords {
    let line: String
    /// Whitespace-separated words, as slices of `line` so `rest(from:)` keeps inner spacing.
    let words: [Substring]

    init(_ line: String) {
        self.line = line
        self.words = line.split(whereSeparator: \.isWhitespace)
    }

    /// Blank lines and `#` comments do nothing.
    var isIgnorable: Bool {
        guard let first = words.first else { return true }
        return first.hasPrefix("#")
    }

    var count: Int { words.count }

    subscript(index: Int) -> String { String(words[index]) }

    /// The text from word `index` to the end of the line, trailing whitespace removed.
    func rest(from index: Int) -> String {
        guard let last = words.last else { return "" }
        return String(line[words[index].startIndex..<last.endIndex])
    }
}
