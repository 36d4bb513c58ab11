import DPDK
import Wire

/// How a held flow's next segments are checked the short way. Once a flow's second segment
/// joined, the headers of its next full-size segment are known in advance: the flow's own
/// (`expected`, kept in the flow's `HeaderMask` slot), but for the sequence number (the flow's
/// key) and the IPv4 IDs, which must be the flow's next (`carriesNextIDs`).
/// A segment equal to them under the strict mask (everything but the checksums, PSH/FIN, the
/// sequence number and the IDs) that carries those parses as the flow's first did and meets
/// every header rule, lengths, sequence and IDs included, so what is left is a few words: its
/// rx flags must be the ones the flow's second segment carried (the checksum verdicts, so the
/// checksum work below stays right; the VLAN strip), a UDP checksum the flow sends must not be
/// 0, the checksums the verification leaves, and the caps. Anything else (a short segment, a
/// gap, a new ID pattern) goes the full way, which decides and names the reason: the lane
/// changes no verdict, only what one costs.
struct ExpressLane {
    var rxFlags: UInt64 = 0
    var vlanTCI: UInt16 = 0
    /// Where a full-size segment's frame ends.
    var frameEnd: Int = 0
    /// Offsets of UDP checksums the flow sends (-1: none, or sent as 0 and compared as such).
    var outerUDPChecksum: Int = -1
    var innerUDPChecksum: Int = -1
    /// Offset of the TCP header (-1: UDP coalescing).
    var tcp: Int = -1
    /// Offsets of the IPv4 IDs (-1: IPv6 or none) and how they move per segment (1 or 0).
    var innerID: Int = -1
    var outerID: Int = -1
    var innerIDStep: UInt16 = 1
    var outerIDStep: UInt16 = 1
    var outerL3: Int = 0
    var checksums: ChecksumWork = .all
    /// The loops that take a flow's next segments in one go (`extendRecent`, `takeExpected`)
    /// take one only while the flow holds fewer segments than this: then joining it reaches
    /// neither cap, so nothing is handed back. Set by the coalescer, which knows the caps
    /// (`capFreeBound`).
    var capFreeBelow: Int = 0

    /// What the flow's verification leaves to sum for each segment.
    enum ChecksumWork {
        /// Nothing: every checksum has the rx port's good verdict.
        case none
        /// The outer IPv4 header only (no port reports a verdict for it).
        case outerIPv4Header
        /// The full rules (`CoalescingRules.checksumsAreGood`).
        case all
    }

    init() {}

    /// The lane of a flow whose second segment (`flags`, `vlanTCI`) just joined; `header` is
    /// the flow's first.
    init(
        layout: PacketLayout, header: UnsafeMutableRawPointer, frameEnd: Int, flags: MbufFlags, vlanTCI: UInt16,
        idModes: Coalescer.IDModes, verification: CoalescingOptions.Verification
    ) {
        rxFlags = flags.rawValue
        self.vlanTCI = flags.contains(.rxVLANStripped) ? vlanTCI : 0
        self.frameEnd = frameEnd
        outerL3 = layout.outerL3Offset
        if layout.isTunnel {
            if layout.outerL4 == .udp, header.be16(layout.outerL4Offset + 6) != 0 { outerUDPChecksum = layout.outerL4Offset + 6 }
            if layout.outerL3 == .ipv4 { outerID = layout.outerL3Offset + 4 }
        }
        if layout.l3 == .ipv4 { innerID = layout.l3Offset + 4 }
        follow(idModes)
        if layout.l4 == .udp {
            if header.be16(layout.l4Offset + 6) != 0 { innerUDPChecksum = layout.l4Offset + 6 }
        } else {
            tcp = layout.l4Offset
        }
        checksums = Self.work(layout, header, flags, verification)
    }

    /// `capFreeBelow` for a flow of `segmentSize`-byte segments under these caps. Every segment
    /// a held flow has is full-size (a shorter one ends it), so it holds
    /// `frameEnd - outerL3 + (segments - 1) · segmentSize` IP bytes, and a full-size join
    /// reaches no cap while `segments + 1 < segmentCap` and that + 2 · segmentSize ≤ `sizeCap`.
    static func capFreeBound(frameEnd: Int, outerL3: Int, segmentSize: Int, segmentCap: Int, sizeCap: Int) -> Int {
        let oneSegment = frameEnd - outerL3
        guard segmentSize > 0, sizeCap >= oneSegment else { return 0 }
        return min(segmentCap - 1, (sizeCap - oneSegment) / segmentSize)
    }

    /// Sets the ID steps from a flow's ID modes (learnt from its first two segments).
    mutating func follow(_ idModes: Coalescer.IDModes) {
        innerIDStep = idModes.contains(.innerIncrementing) ? 1 : 0
        outerIDStep = idModes.contains(.outerIncrementing) ? 1 : 0
    }

    /// Whether `header` carries the IPv4 IDs that follow `lastInner` and `lastOuter`.
    @inline(__always)
    func carriesNextIDs(_ header: UnsafeRawPointer, innerID lastInner: UInt16, outerID lastOuter: UInt16) -> Bool {
        (innerID < 0 || Self.id(header, at: innerID) == lastInner &+ innerIDStep)
            && (outerID < 0 || Self.id(header, at: outerID) == lastOuter &+ outerIDStep)
    }

    @inline(__always)
    private static func id(_ header: UnsafeRawPointer, at offset: Int) -> UInt16 {
        UInt16(bigEndian: header.loadUnaligned(fromByteOffset: offset, as: UInt16.self))
    }

    /// The checksum work that stays for segments carrying `flags` (checked equal per segment).
    private static func work(
        _ layout: PacketLayout, _ header: UnsafeMutableRawPointer, _ flags: MbufFlags,
        _ verification: CoalescingOptions.Verification
    ) -> ChecksumWork {
        guard verification == .trustVerdicts,
            flags.isDisjoint(with: [.rxIPChecksumBad, .rxOuterIPChecksumBad, .rxL4ChecksumBad, .rxOuterL4ChecksumBad]),
            flags.contains(.rxL4ChecksumGood),
            layout.l3 != .ipv4 || flags.contains(.rxIPChecksumGood)
        else { return .all }
        guard layout.isTunnel else { return .none }
        if layout.outerL4 == .udp, header.be16(layout.outerL4Offset + 6) != 0, !flags.contains(.rxOuterL4ChecksumGood) {
            return .all
        }
        if layout.tunnel == .gre || layout.tunnel == .nvgre, header.be16(layout.tunnelOffset) & 0x8000 != 0 { return .all }
        return layout.outerL3 == .ipv4 ? .outerIPv4Header : .none
    }
}
