/// Why a buffer was rejected: the layer that could not be read and the reason.
///
/// A small trivial value (two bytes plus two integers), so throwing it with typed throws
/// allocates nothing; the hot path turns it into a drop counter with `reason`.
public struct WireError: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Layer: UInt8, Sendable, CaseIterable {
        case ethernet, vlan, ipv4, ipv4Options, ipv6, ipv6ExtensionHeader, udp, tcp, tcpOptions
        case vxlan, vxlanGPE, geneve, geneveOption, gre, gue, stt, tunnel, checksum
    }

    public enum Reason: UInt8, Sendable, CaseIterable {
        /// The buffer ends before the header (or a field it announces) does.
        case truncated
        /// A version field holds a value this layer does not speak.
        case unsupportedVersion
        /// A header length field is below the fixed part (IPv4 IHL < 5, TCP data offset < 5).
        case headerLengthTooShort
        /// Two length fields disagree (IP total length vs header length, UDP length vs IP payload).
        case lengthMismatch
        /// An option's length is below its minimum or runs past the option area.
        case optionOverrun
        /// An IPv6 extension header repeats, comes out of order, or the chain is too long.
        case extensionHeaderLoop
        /// Reserved or must-be-zero bits are set, or mandatory flag bits are clear.
        case invalidFlags
        /// More VLAN tags than the two of QinQ.
        case tooManyTags
        /// A tunnel inside a tunnel. No longer thrown by the parser (the layout carries the
        /// `nestedTunnel` flag and the inner tunnel as payload); kept so the reasons' numbering
        /// and counter names stay stable.
        case nestedTunnel
        /// Headers end beyond offset 65535, which the layout's 16-bit offsets cannot carry.
        case headersTooLong
        /// A builder was given a value that does not fit its field.
        case fieldOutOfRange
        /// A builder's output buffer is smaller than the header it must write.
        case bufferTooSmall
    }

    public var layer: Layer
    public var reason: Reason
    /// Bytes the layer needed and bytes it had, where meaningful (0 otherwise).
    public var needed: Int
    public var available: Int
    /// True when the header was inside a tunnel (the inner IPv4 header, not the outer one).
    public var inner: Bool = false

    @inlinable
    public init(_ layer: Layer, _ reason: Reason, needed: Int = 0, available: Int = 0) {
        self.layer = layer
        self.reason = reason
        self.needed = needed
        self.available = available
    }

    public var description: String {
        var text = (inner ? "inner " : "") + "\(layer): \(reason)"
        if needed != 0 || available != 0 { text += " (needed \(needed) bytes, have \(available))" }
        return text
    }
}
