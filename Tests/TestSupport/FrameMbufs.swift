import DPDK
import FrameSupport

/// The shared frame builder's frames (FrameSupport, DPDK-free) as mbufs, and back.
extension Frames {
    /// A one-segment mbuf holding `bytes`.
    public static func mbuf(_ bytes: [UInt8], pool: Mempool) -> Mbuf? {
        guard let mbuf = pool.allocate() else { return nil }
        guard let destination = mbuf.append(UInt16(bytes.count)) else {
            mbuf.free()
            return nil
        }
        bytes.withUnsafeBytes { destination.copyMemory(from: $0.baseAddress!, byteCount: bytes.count) }
        return mbuf
    }

    /// The bytes of a whole packet (all segments).
    public static func bytes(of mbuf: Mbuf) -> [UInt8] {
        var result: [UInt8] = []
        for segment in mbuf.segments { result += UnsafeRawBufferPointer(segment.bytes) }
        return result
    }
}
