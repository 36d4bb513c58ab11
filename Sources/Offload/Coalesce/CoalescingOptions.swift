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
    /// Poll rounds of its stream a flow may be held (testpmd's `set gro flush <n>`; 1 flushes
    /// at the end of every poll). Flows are also flushed when a poll leaves the rx queue empty.
    public var flushRounds: Int
    public var verification: Verification

    /// Who vouches for a segment's checksums before it is merged.
    public enum Verification: String, Hashable, Sendable, CaseIterable {
        /// A good verdict from the rx port (ol_flags) counts; what it did not verify, Swift does.
        case trustVerdicts = "trust"
        /// Swift verifies every checksum, whatever the port said.
        case verifyAll = "verify"
    }

    public init(flows: Int = 64, segments: Int = 44, size: Int = 65535, flushRounds: Int = 4,
                verification: Verification = .trustVerdicts) {
        self.flows = flows
        self.segments = segments
        self.size = size
        self.flushRounds = flushRounds
        self.verification = verification
    }

    public static let flowRange = 1...1024
    public static let segmentRange = 2...64
    public static let sizeRange = 1500...65535
    public static let flushRange = 1...1_000_000
}
