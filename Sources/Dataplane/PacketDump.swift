import DPDK

/// `set verbose <n>`, any n of 1 or more: one line per received packet, as testpmd's rx dump. Kept out of line so
/// the forwarding loop pays one load when verbosity is off.
enum PacketDump {
    @inline(never)
    static func received(_ stream: Stream, _ packets: UnsafeMutablePointer<OpaquePointer?>, _ count: Int) {
        var text = "port \(stream.rxPort.id)/queue \(stream.rxQueue): received \(count) packets\n"
        for index in 0..<count {
            let mbuf = Mbuf(packets[index]!)
            text += "  " + describe(mbuf) + "\n"
        }
        // stdout is line buffered (main.swift), so this reaches a pipe as the burst arrives, as
        // testpmd prints per burst. No fflush(NULL) here: it takes every stream's lock, stdin's
        // too, which the console holds while it waits for a line.
        print(text, terminator: "")
    }

    /// A super-frame receive coalescing made, as QEMU's RSC reports one: how many segments of
    /// what size it holds (its mbuf chain has one segment per TCP segment or datagram merged).
    /// Duplicate ACKs are never coalesced (a segment without payload flushes its flow), so the
    /// RSC dup-ack count is always 0.
    @inline(never)
    static func coalesced(_ stream: Stream, _ frame: Mbuf) {
        print("port \(stream.rxPort.id)/queue \(stream.rxQueue): GRO super-frame of \(frame.segmentCount) segments"
              + " (segment size \(frame.txOffload.tsoSegmentSize), dup-acks 0) - " + describe(frame))
    }

    static func describe(_ mbuf: Mbuf) -> String {
        let length = Int(mbuf.dataLength)
        guard length >= 14 else { return "short frame - length=\(mbuf.packetLength) - nb_segs=\(mbuf.segmentCount)" }
        let bytes = UnsafeRawBufferPointer(start: mbuf.data, count: length)
        let destination = MACAddress(bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5])
        let source = MACAddress(bytes[6], bytes[7], bytes[8], bytes[9], bytes[10], bytes[11])
        let type = UInt16(bytes[12]) << 8 | UInt16(bytes[13])
        let hex = String(type, radix: 16)
        return "src=\(source) - dst=\(destination) - type=0x\(String(repeating: "0", count: 4 - hex.count))\(hex)"
            + " - length=\(mbuf.packetLength) - nb_segs=\(mbuf.segmentCount)"
    }
}
