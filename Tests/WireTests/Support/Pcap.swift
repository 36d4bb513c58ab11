import Foundation

/// Writes frames as a classic libpcap file (magic a1b2c3d4, v2.4, LINKTYPE_ETHERNET), the
/// format every oracle (tshark, scapy, tcpdump) reads.
enum Pcap {
    static func data(_ frames: [[UInt8]]) -> Data {
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

    static func write(_ frames: [[UInt8]], name: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("wiretests-\(name)-\(getpid()).pcap")
        try data(frames).write(to: url)
        return url
    }

    /// Reads the frames of a classic little-endian pcap (what tshark -F pcap writes).
    static func read(_ url: URL) throws -> [[UInt8]] {
        let bytes = [UInt8](try Data(contentsOf: url))
        func u32(_ at: Int) -> Int {
            Int(bytes[at]) | Int(bytes[at + 1]) << 8 | Int(bytes[at + 2]) << 16 | Int(bytes[at + 3]) << 24
        }
        guard bytes.count >= 24, u32(0) == 0xA1B2_C3D4 else { throw CocoaError(.fileReadCorruptFile) }
        var frames: [[UInt8]] = []
        var at = 24
        while at + 16 <= bytes.count {
            let length = u32(at + 8)
            at += 16
            guard at + length <= bytes.count else { break }
            frames.append(Array(bytes[at..<at + length]))
            at += length
        }
        return frames
    }
}
