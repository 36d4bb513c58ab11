import DPDK
import Offload
import Wire

/// Which checksums of one packet Swift computes and which it asks the NIC for, from the
/// parsed layout and the egress port's settings — and the mbuf metadata that asks.
struct ChecksumPlan {
    var software: SoftwareChecksums = []
    var hardware: SoftwareChecksums = []
    var outerUDPZero = false
    var flags: MbufFlags = []
    var lengths = TxOffloadLengths()

    @inline(__always)
    init(layout: PacketLayout, settings: UnsafePointer<PortOffloadSettings>) {
        let port = settings.pointee
        func place(_ checksum: SoftwareChecksums, _ placement: ChecksumPlacement) {
            if placement == .hardware { hardware.insert(checksum) } else { software.insert(checksum) }
        }
        if layout.l3 == .ipv4 { place(.innerIPv4, port.ip) }
        if layout.l4 == .tcp { place(.innerL4, port.tcp) }
        if layout.l4 == .udp { place(.innerL4, port.udp) }
        let udpTunnel = layout.isTunnel && layout.outerL4 == .udp
        if layout.isTunnel {
            if layout.outerL3 == .ipv4 { place(.outerIPv4, port.outerIP) }
            if udpTunnel {
                outerUDPZero = port.outerUDPZero && layout.outerL3 == .ipv4
                if !outerUDPZero { place(.outerUDP, port.outerUDP) }
            }
            // An outer UDP checksum computed here covers the inner checksums, so the NIC must
            // not change them afterwards: compute those here too.
            if software.contains(.outerUDP) {
                software.formUnion(hardware.intersection([.innerIPv4, .innerL4]))
                hardware.subtract([.innerIPv4, .innerL4])
            }
        }
        if hardware.isEmpty { return }
        let l = layout.offloadLengths
        switch layout.l3 {
        case .ipv4: flags.insert(.txIPv4)
        case .ipv6: flags.insert(.txIPv6)
        case .none: break
        }
        if hardware.contains(.innerIPv4) { flags.insert(.txIPChecksum) }
        if hardware.contains(.innerL4) { flags.insert(layout.l4 == .tcp ? .txTCPChecksum : .txUDPChecksum) }
        let outerOffload = !hardware.isDisjoint(with: [.outerIPv4, .outerUDP])
        if layout.isTunnel && outerOffload {
            flags.insert(layout.outerL3 == .ipv4 ? .txOuterIPv4 : .txOuterIPv6)
            if hardware.contains(.outerIPv4) { flags.insert(.txOuterIPChecksum) }
            if hardware.contains(.outerUDP) { flags.insert(.txOuterUDPChecksum) }
            flags.insert(layout.tunnelOffloadFlag)
            lengths = TxOffloadLengths(
                l2: Int(l.l2Len), l3: Int(l.l3Len), l4: Int(l.l4Len), outerL2: Int(l.outerL2Len), outerL3: Int(l.outerL3Len))
        } else {
            // Without outer offloads the NIC sees the outer headers as part of L2 (testpmd does
            // the same), so inner offsets stay right.
            lengths = TxOffloadLengths(
                l2: Int(l.outerL2Len + l.outerL3Len + l.l2Len), l3: Int(l.l3Len), l4: Int(l.l4Len))
        }
    }

    /// Writes the request into `packet`: flags, lengths and, unless GSO already left them in
    /// its segments, the pseudo-header sums and zeroed IPv4 checksums the NIC starts from.
    @inline(__always)
    func request(_ packet: Mbuf, layout: PacketLayout, headersPrepared: Bool) {
        guard !hardware.isEmpty else { return }
        packet.offloadFlags = packet.offloadFlags.intersection([.indirect, .externalBuffer]).union(flags)
        packet.txOffload = lengths
        if !headersPrepared {
            PacketChecksums.preparePseudoHeaders(packet, layout: layout, hardware: hardware, forSegmentation: false)
        }
    }
}
