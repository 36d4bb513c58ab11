import DPDK
import Foundation

/// Test frames: Ethernet/IPv4/UDP with a recognisable payload, and their mbufs.
public enum Frames {
    /// An Ethernet II frame of `length` bytes (>= 42) whose payload encodes `sequence`.
    public static func udp(sequence: UInt32, length: Int = 64) -> [UInt8] {
        precondition(length >= 46)
        var frame = [UInt8](repeating: 0, count: length)
        frame[0..<6] = [0x02, 0xAA, 0, 0, 0, 0x01]
        frame[6..<12] = [0x02, 0xBB, 0, 0, 0, 0x02]
        frame[12] = 0x08
        frame[13] = 0x00
        let ipLength = length - 14
        frame[14..<34] = [
            0x45, 0, UInt8(ipLength >> 8), UInt8(ipLength & 0xFF), 0, 1, 0x40, 0, 64, 17, 0, 0,
            10, 0, 0, 1, 10, 0, 0, 2,
        ]
        let udpLength = ipLength - 20
        frame[34..<42] = [0x30, 0x39, 0x12, 0xB5, UInt8(udpLength >> 8), UInt8(udpLength & 0xFF), 0, 0]
        withUnsafeBytes(of: sequence.bigEndian) { frame[42..<46] = ArraySlice($0) }
        for index in 46..<length { frame[index] = UInt8(truncatingIfNeeded: index &+ Int(sequence)) }
        return frame
    }

    /// The sequence number `udp(sequence:)` wrote.
    public static func sequence(of frame: [UInt8]) -> UInt32 {
        frame[42..<46].reduce(0) { $0 << 8 | UInt32($1) }
    }

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

/// Classic libpcap files (microsecond, Ethernet), enough to feed and read net_pcap.
public enum Pcap {
    public static func write(_ frames: [[UInt8]], to url: URL) throws {
        var data = Data()
        func append<T: FixedWidthInteger>(_ value: T) { withUnsafeBytes(of: value.littleEndian) { data.append(contentsOf: $0) } }
        append(UInt32(0xA1B2_C3D4)); append(UInt16(2)); append(UInt16(4))
        append(Int32(0)); append(UInt32(0)); append(UInt32(65535)); append(UInt32(1))
        for (index, frame) in frames.enumerated() {
            append(UInt32(index)); append(UInt32(0)); append(UInt32(frame.count)); append(UInt32(frame.count))
            data.append(contentsOf: frame)
        }
        try data.write(to: url)
    }

    public static func read(_ url: URL) throws -> [[UInt8]] {
        let bytes = [UInt8](try Data(contentsOf: url))
        guard bytes.count >= 24 else { throw CocoaError(.fileReadCorruptFile) }
        func u32(_ offset: Int) -> Int {
            Int(bytes[offset]) | Int(bytes[offset + 1]) << 8 | Int(bytes[offset + 2]) << 16 | Int(bytes[offset + 3]) << 24
        }
        // Microsecond or nanosecond timestamps (net_pcap writes the latter).
        guard u32(0) == 0xA1B2_C3D4 || u32(0) == 0xA1B2_3C4D else { throw CocoaError(.fileReadCorruptFile) }
        var frames: [[UInt8]] = []
        var offset = 24
        while offset + 16 <= bytes.count {
            let captured = u32(offset + 8)
            offset += 16
            guard offset + captured <= bytes.count else { throw CocoaError(.fileReadCorruptFile) }
            frames.append(Array(bytes[offset..<(offset + captured)]))
            offset += captured
        }
        return frames
    }
}
