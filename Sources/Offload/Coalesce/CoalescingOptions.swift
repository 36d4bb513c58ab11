/// How receive coalescing (GRO) holds and merges segments: the per-lcore table's size, the
/// per-super-frame limits, how long a flow may be held, and whose checksum verdicts count.
@frozen
public struct CoalescingOptions: Hashable, Sendable {
    /// Flows held at once per lcore; a full table flushes its oldest flow.
    public var flows: Int
    /// Segments per super-frame at most.
    public var segments: Int
    /// Bytes of the outermost IP packet at most (IPv4's total length caps it at 65535; Linux
    /// caps tunnelled super-frames at 64 KB too).
    public var size: Int
    /// Microseconds a flow waits for its next segment before it leaves (a flow that keeps
    /// getting segments leaves at a cap). A poll-mode loop polls far more often than segments
    /// arrive, so a flow waits by time, not by polls (0: it leaves at the end of the poll).
    public var timeoutMicroseconds: Int
    /// Every this many poll rounds of a stream, all its flows leave (testpmd's `set gro flush
    /// <n>`: 1 is librte_gro's lightweight mode); 0: only the timeout and the rules end flows.
    public var flushRounds: Int
    public var verification: Verification

    /// Who vouches for a segment's checksums before it is merged.
    public enum Verification: String, Hashable, Sendable, CaseIterable {
        /// A good verdict from the rx port (ol_flags) counts; what it did not verify, Swift does.
        case trustVerdicts = "trust"
        /// Swift verifies every checksum, whatever the port said.
        case verifyAll = "verify"
    }

    public init(flows: Int = 64, segments: Int = 44, size: Int = 65535, timeoutMicroseconds: Int = 50,
                flushRounds: Int = 0, verification: Verification = .trustVerdicts) {
        self.flows = flows
        self.segments = segments
        self.size = size
        self.timeoutMicroseconds = timeoutMicroseconds
        self.flushRounds = flushRounds
        self.verification = verification
    }

    public static let flowRange = 1...1024
    public static let segmentRange = 2...64
    public static let sizeRange = 1500...65535
    public static let flushRange = 0...1_000_000
    public static let timeoutRange = 0...1_000_000
}
