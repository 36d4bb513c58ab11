import DPDK
import Offload
import Wire

/// `set verbose 1` under the csum engine: per packet, the parsed layout, what was asked of
/// software and hardware, and the GSO result, as testpmd's csum verbose output. Out of line,
/// so the loop only pays a load when verbosity is off.
enum CsumDump {
    @inline(never)
    static func packet(_ stream: Stream, _ layout: PacketLayout, _ plan: TxPlan) {
        var text = header(stream, layout)
        text += "\n  plan: \(plan.summary)"
        text += "\n  sw checksums: \(names(plan.software)) - hw checksums: \(names(plan.hardware))"
        if !plan.flags.isEmpty {
            let l = plan.lengths
            text += "\n  tx: m->l2_len=\(l.l2) m->l3_len=\(l.l3) m->l4_len=\(l.l4) m->outer_l2_len=\(l.outerL2)"
                + " m->outer_l3_len=\(l.outerL3) m->tso_segsz=\(l.tsoSegmentSize) ol_flags=0x\(String(plan.flags.rawValue, radix: 16))"
        }
        if plan.cut == .swift { text += "\n  gso: \(plan.segmentCount) segments" }
        print(text)
    }

    @inline(never)
    static func failure(_ stream: Stream, _ layout: PacketLayout, _ reason: SegmentationFailure) {
        print(header(stream, layout) + "\n  gso failed: \(reason.name); packet dropped")
    }

    static func header(_ stream: Stream, _ layout: PacketLayout) -> String {
        var text = "port \(stream.rxPort.id)/queue \(stream.rxQueue) -> port \(stream.txPort.id):"
        text += " l2_len=\(layout.outerL2Length) \(layout.outerL3) l3_len=\(layout.outerL3Length)"
        text += " l4_proto=\(layout.outerIPProtocol) l4_len=\(layout.outerL4Length)"
        if layout.isTunnel {
            text += " tunnel=\(layout.tunnel) tunnel_len=\(layout.tunnelLength) inner_l2_len=\(layout.innerL2Length)"
            text += " inner \(layout.innerL3) l3_len=\(layout.innerL3Length) l4_proto=\(layout.innerIPProtocol)"
            text += " l4_len=\(layout.innerL4Length)"
        }
        return text + " payload=\(layout.payloadLength)"
    }

    static func names(_ set: SoftwareChecksums) -> String { set.isEmpty ? "none" : set.names }
}
