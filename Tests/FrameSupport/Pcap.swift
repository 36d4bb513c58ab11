import Foundation

/// Classic libpcap files (magic a1b2c3d4, v2.4, LINKTYPE_ETHERNET): what net_pcap reads and
/// every oracle (tshark, scapy, tcpdump) reads and writes.
public enum Pcap {
    /// The file's bytes: header, then one record per frame (timestamps from 1700000000 s, one
    /// second apart).
    public static func data(_ frames: [[UInt8]]) -> Data {
        var out = Data()
        func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) } }
        func u16(_ v: UInt16) { withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) } }
        u32(0xA1B2_C3D4)
        u16(2)
        u16(4)
        u32(0)  // thiszone
        u32(0)  // sigfigs
        u32(262_144)  // snaplen
        u32(1)  // LINKTYPE_ETHERNET
        for (i, frame) in frames.enumerated() {
            u32(UInt32(1_700_000_000 + i))
            u32(0)
            u32(UInt32(frame.count))
            u32(UInt32(frame.count))
            out.append(contentsOf: frame)
        }
        return out
    }

    public static func write(_ frames: [[UInt8]], to url: URL) throws {
        try data(frames).write(to: url)
    }

    /// Writes `frames` to a file in the temporary directory named after `name` and the process.
    public static func write(_ frames: [[UInt8]], name: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("frames-\(name)-\(getpid()).pcap")
        try write(frames, to: url)
        return url
    }

    /// The frames of a classic little-endian pcap, microsecond or nanosecond timestamps
    /// (net_pcap writes the latter, tshark -F pcap the former).
    public static func read(_ url: URL) throws -> [[UInt8]] {
        let bytes = [UInt8](try Data(contentsOf: url))
        guard bytes.count >= 24 else { throw CocoaError(.fileReadCorruptFile) }
        func u32(_ at: Int) -> Int {
            Int(bytes[at]) | Int(bytes[at + 1]) << 8 | Int(bytes[at + 2]) << 16 | Int(bytes[at + 3]) << 24
        }
        guard u32(0) == 0xA1B2_C3D4 || u32(0) == 0xA1B2_3C4D else { throw CocoaError(.fileReadCorruptFile) }
        var frames: [[UInt8]] = []
        var at = 24
        while at + 16 <= bytes.count {
            let captured = u32(at + 8)
            at += 16
            guard at + captured <= bytes.count else { throw CocoaError(.fileReadCorruptFile) }
            frames.append(Array(bytes[at..<(at + captured)]))
            at += captured
        }
        return frames
    }
}
