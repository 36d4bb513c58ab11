import Wire

extension Frames {
    /// One whole STT frame (draft-davie-stt-08 §3): outer Ethernet (VLAN tags) / IPv4 or IPv6
    /// / TCP-like header to 7471 (seq = frame length << 16, `ack` the frame identifier, ACK|PSH),
    /// the STT header with `flags`, `mss` and the VLAN tag for the carried frame, and the
    /// carried Ethernet/IP/TCP frame of `payload` bytes. Every checksum filled.
    public static func stt(
        outerV6: Bool = false, innerV6: Bool = false, payload: Int, flags: STTFlags = [.checksumVerified, .tcpPayload, .ipv4],
        mss: UInt16 = 1448, vlan: UInt16? = 100, ack: UInt32 = 0x0100_0001, sport: UInt16 = 50000,
        outerVLANs: [UInt16] = [], outerID: UInt16 = 0x1234
    ) -> [UInt8] {
        let outer = Endpoints.outer(v6: outerV6)
        let inner = Endpoints.inner(v6: innerV6)
        let innerFrame = ethernet(etherType(inner), body: innerPacket(inner, .tcp, payloadLength: payload))
        let header = STTFields(contextID: 0x1122_3344_5566_7788, flags: flags, l4Offset: UInt8(14 + (innerV6 ? 40 : 20)),
                               maximumSegmentSize: mss, vlanID: vlan, priorityCodePoint: 5)
        let sttFrame = emit(18) { try header.emit(into: $0) } + innerFrame
        let fields = TCPFields(sourcePort: sport, destinationPort: STTHeader.tcpPort,
                               sequenceNumber: STTHeader.sequenceNumber(frameLength: sttFrame.count, fragmentOffset: 0),
                               acknowledgmentNumber: ack, flags: [.ack, .psh], window: 0xFFFF)
        var tcp = emit(fields.headerLength) { try fields.emit(into: $0) } + sttFrame
        tcp.withUnsafeMutableBytes { b in
            try! MutableTCPHeader(b).fillChecksum(pseudoHeaderSum: outer.pseudoHeaderSum(IPProtocol.tcp, length: b.count))
        }
        return ethernet(etherType(outer), vlans: outerVLANs, body: ip(outer, proto: IPProtocol.tcp, identification: outerID, body: tcp))
    }
}
