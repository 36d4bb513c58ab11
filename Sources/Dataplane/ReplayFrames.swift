import Foundation

/// The frames of a classic pcap file (`set txonly-pcap`, `--txonly-pcap`) in one buffer, loaded
/// before forwarding starts; the txonly engine replays them (`PcapReplayEngine`). Read-only
/// once loaded, so every forwarding lcore shares it.
public final class ReplayFrames: @unchecked Sendable {
    /// Every frame's bytes, back to back.
    let bytes: UnsafeMutableRawPointer
    /// Frame `i` is `bytes[offsets[i] ..< offsets[i + 1]]`.
    let offsets: UnsafeMutablePointer<Int>
    public let count: Int
    public let largest: Int

    /// An IP packet of 65,535 bytes behind Ethernet with two VLAN tags.
    public static let maxFrameLength = 65_535 + 22
    public static let allowed =
        "a classic pcap file (microsecond or nanosecond, either byte order) of Ethernet frames, "
        + "each captured whole and at most \(maxFrameLength) bytes; off to stop replaying"

    /// Reads `path`; the error says what is wrong with the file.
    public init(path: String) throws(OptionError) {
        func fail(_ reason: String) -> OptionError {
            OptionError(option: "txonly-pcap", value: path, allowed: "\(Self.allowed) (\(reason))")
        }
        guard let data = FileManager.default.contents(atPath: path) else { throw fail("cannot read the file") }
        guard data.count >= 24 else { throw fail("shorter than a pcap header") }
        let file = [UInt8](data)
        let magic = UInt32(file[0]) | UInt32(file[1]) << 8 | UInt32(file[2]) << 16 | UInt32(file[3]) << 24
        let swapped: Bool
        switch magic {
        case 0xA1B2_C3D4, 0xA1B2_3C4D: swapped = false
        case 0xD4C3_B2A1, 0x4D3C_B2A1: swapped = true
        default: throw fail("not a classic pcap file (pcapng is not read)")
        }
        func u32(_ at: Int) -> Int {
            let little = UInt32(file[at]) | UInt32(file[at + 1]) << 8 | UInt32(file[at + 2]) << 16 | UInt32(file[at + 3]) << 24
            return Int(swapped ? little.byteSwapped : little)
        }
        guard u32(20) & 0xFFFF == 1 else { throw fail("link type \(u32(20)), not Ethernet (1)") }
        var frames: [Range<Int>] = []
        var at = 24
        while at < file.count {
            guard at + 16 <= file.count else { throw fail("frame \(frames.count + 1): record header cut short") }
            let captured = u32(at + 8), original = u32(at + 12)
            guard at + 16 + captured <= file.count else { throw fail("frame \(frames.count + 1): cut short") }
            guard captured == original else {
                throw fail("frame \(frames.count + 1): \(captured) of \(original) bytes captured (snap length)")
            }
            guard (14...Self.maxFrameLength).contains(captured) else {
                throw fail("frame \(frames.count + 1): \(captured) bytes")
            }
            frames.append(at + 16 ..< at + 16 + captured)
            at += 16 + captured
        }
        guard !frames.isEmpty else { throw fail("no frames") }
        let total = frames.reduce(0) { $0 + $1.count }
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: total, alignment: 64)
        let starts = UnsafeMutablePointer<Int>.allocate(capacity: frames.count + 1)
        var offset = 0
        for (index, range) in frames.enumerated() {
            starts[index] = offset
            file.withUnsafeBytes { (buffer + offset).copyMemory(from: $0.baseAddress! + range.lowerBound, byteCount: range.count) }
            offset += range.count
        }
        starts[frames.count] = offset
        bytes = buffer
        offsets = starts
        count = frames.count
        largest = frames.map(\.count).max()!
    }

    /// The frames as the engines read them: plain pointers, no reference counting per lcore.
    var table: ReplayTable { ReplayTable(bytes: bytes, offsets: offsets, count: count) }

    deinit {
        bytes.deallocate()
        offsets.deallocate()
    }
}

/// Where the frames of a `ReplayFrames` lie; valid while the forwarder holds its owner.
public struct ReplayTable: @unchecked Sendable {
    let bytes: UnsafeMutableRawPointer
    let offsets: UnsafeMutablePointer<Int>
    let count: Int
}
