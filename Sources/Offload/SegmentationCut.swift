import DPDK

/// A super-frame being cut in rounds: what `Segmenter.resume` needs to make the next
/// segments when the output had no room for all of them at once. Plain values and the
/// input's mbuf (kept until its last segment is made), so holding one costs no ARC.
struct SegmentationCut {
    let headers: SegmentHeaders
    let packet: Mbuf
    /// The input segment holding the next payload byte, and that byte's offset in its data.
    var segment: OpaquePointer
    var offset: Int
    /// Payload position (from the frame start) of the next byte: the slicer's view count
    /// walks from there.
    var position: Int
    /// Index of the next segment to make, and payload bytes not cut yet.
    var next = 0
    var remaining: Int
    /// UFO over IPv6: the datagram's fragment identification.
    let fragmentID: UInt32
    /// UFO in several rounds: the whole datagram's payload sum, for the first fragment's UDP
    /// checksum (made before the later fragments are summed); nil when one round makes all.
    let datagramSum: UInt16?

    var segmentsLeft: Int { headers.segmentCount - next }

    /// Payload bytes carried by segments `next ..< next + count`.
    func payloadLength(segments count: Int) -> Int {
        let size = headers.segmentSize
        guard headers.transport == .udpFragments, next == 0 else { return min(remaining, count * size) }
        // The first fragment's UDP header takes 8 of its bytes.
        return min(remaining, count * size - 8)
    }

    /// Payload bytes of the first segment of this round.
    var firstSliceSize: Int {
        headers.transport == .udpFragments && next == 0 ? headers.segmentSize - 8 : headers.segmentSize
    }
}
