import CDPDK
import DPDK
import Wire

/// Walks the input's payload in order and hands out zero-copy views of it: indirect mbufs
/// attached to the input segment that holds the bytes. A slice that crosses an input segment
/// boundary becomes several views.
struct PayloadSlicer {
    /// The input segment holding the next payload byte, and that byte's offset in its data.
    var segment: OpaquePointer
    var offset: Int
    /// Fresh mbufs to make views of, and how many are used.
    let pieces: UnsafeMutablePointer<OpaquePointer?>
    var used = 0

    /// Starts at `offset` of `segment`'s data: the payload start (the headers were checked to
    /// sit in the first segment), or where the previous round of a cut stopped.
    init(segment: OpaquePointer, offset: Int, pieces: UnsafeMutablePointer<OpaquePointer?>) {
        self.segment = segment
        self.offset = offset
        self.pieces = pieces
    }

    /// Chains views of the next `length` bytes after `tail`; returns how many views and, when
    /// `summing`, the bytes' Internet sum.
    @inline(__always)
    mutating func take(_ length: Int, after tail: OpaquePointer, summing: Bool) -> (views: Int, sum: UInt16) {
        var remaining = length
        var last = tail
        var views = 0
        var sum = ChecksumAccumulator()
        while remaining > 0 {
            var available = Int(cdpdk_mbuf_data_len(segment)) - offset
            while available <= 0 {  // the piece count promised the bytes are there
                segment = cdpdk_mbuf_next(segment)!
                offset = 0
                available = Int(cdpdk_mbuf_data_len(segment))
            }
            let count = min(remaining, available)
            let view = pieces[used]!
            used += 1
            cdpdk_mbuf_attach(view, segment)
            cdpdk_mbuf_set_data_off(view, cdpdk_mbuf_data_off(view) &+ UInt16(truncatingIfNeeded: offset))
            cdpdk_mbuf_set_data_len(view, UInt16(truncatingIfNeeded: count))
            cdpdk_mbuf_set_pkt_len(view, UInt32(truncatingIfNeeded: count))
            cdpdk_mbuf_set_next(last, view)
            if summing {
                sum.add(UnsafeRawBufferPointer(start: cdpdk_mbuf_mtod(view), count: count))
            }
            last = view
            offset += count
            remaining -= count
            views += 1
        }
        return (views, sum.sum)
    }

    /// Views needed to cut `length` payload bytes at `payloadOffset` of `packet` (from the frame
    /// start, anywhere in the chain) into slices
    /// of `firstSize`, then `size`, bytes: one per slice, plus one per input segment boundary
    /// that falls inside a slice. Empty input segments may make it an overestimate.
    static func viewCount(
        _ packet: Mbuf, payloadOffset: Int, length: Int, slices: Int, firstSize: Int, size: Int
    ) -> Int {
        guard cdpdk_mbuf_nb_segs(packet.pointer) > 1 else { return length == 0 ? 0 : slices }
        var count = length == 0 ? 0 : slices
        var boundary = -payloadOffset  // payload position of the current segment's start
        var segment: OpaquePointer? = packet.pointer
        while let current = segment {
            boundary += Int(cdpdk_mbuf_data_len(current))
            if boundary >= length { break }
            if boundary > 0 && (boundary < firstSize || (boundary - firstSize) % size != 0) { count += 1 }
            segment = cdpdk_mbuf_next(current)
        }
        return count
    }
}
