import CDPDK

/// Burst sizes per stream (testpmd's --record-burst-stats, `set record-burst-stats`): how
/// many rx_burst calls returned n packets and how many tx_burst calls took n, for n from 0 to
/// the largest burst. Each stream's slots are written only by its lcore, as its counters.
public struct BurstSpread: Equatable, Sendable {
    /// Slots per direction: bursts of 0 to 512 packets, the burst option's upper bound (a
    /// literal: the worker reads it, and the option table is a lazily initialised global).
    static var sizes: Int { 513 }
    /// Slots per stream: rx sizes, then tx sizes.
    static var slotsPerStream: Int { 2 * sizes }

    public var rx: [UInt64]
    public var tx: [UInt64]

    public init() {
        rx = Array(repeating: 0, count: Self.sizes)
        tx = Array(repeating: 0, count: Self.sizes)
    }

    /// Adds a stream's slots (relaxed loads).
    mutating func add(rx rxSlots: UnsafeMutablePointer<UInt64>?, tx txSlots: UnsafeMutablePointer<UInt64>?) {
        for size in 0..<Self.sizes {
            if let rxSlots { rx[size] &+= cdpdk_load_counter(rxSlots + size) }
            if let txSlots { tx[size] &+= cdpdk_load_counter(txSlots + Self.sizes + size) }
        }
    }

    /// testpmd's lines (pkt_burst_stats_display in app/test-pmd/testpmd.c): the bursts, the
    /// share of empty ones and of the two most frequent sizes; nothing for a direction
    /// without bursts.
    public var description: String {
        [Self.line("RX", rx), Self.line("TX", tx)].compactMap { $0 }.map { $0 + "\n" }.joined()
    }

    static func line(_ label: String, _ spread: [UInt64]) -> String? {
        var counts: [UInt64] = [spread[0], 0, 0]
        var sizes = [0, 0, 0]
        var total = spread[0]
        for size in 1..<spread.count where spread[size] > 0 {
            total &+= spread[size]
            if spread[size] > counts[1] {
                (counts[2], sizes[2]) = (counts[1], sizes[1])
                (counts[1], sizes[1]) = (spread[size], size)
            } else if spread[size] > counts[2] {
                (counts[2], sizes[2]) = (spread[size], size)
            }
        }
        guard total > 0 else { return nil }
        var text = "  \(label)-bursts : \(total) ["
        var sum: UInt64 = 0
        var percentSum = 0
        for index in 0..<3 {
            sum &+= counts[index]
            if sum == total { return text + "\(100 - percentSum)% of \(sizes[index]) pkts]" }
            let percent = Int(Double(counts[index]) / Double(total) * 100)
            text += "\(percent)% of \(sizes[index]) pkts + "
            percentSum += percent
        }
        return text + "\(100 - percentSum)% of other]"
    }
}

extension ForwardStatistics {
    /// Each port's burst sizes: rx of the streams receiving on it, tx of those sending on it.
    mutating func addBursts(_ streams: UnsafeMutableBufferPointer<Stream>) {
        for index in ports.indices {
            var spread = BurstSpread()
            for stream in streams {
                spread.add(rx: stream.rxPort.id == ports[index].id ? stream.burstSpread : nil,
                           tx: stream.txPort.id == ports[index].id ? stream.burstSpread : nil)
            }
            ports[index].bursts = spread
        }
    }
}

extension Forwarder {
    /// `set record-burst-stats on|off`: at once, also while forwarding, as testpmd.
    public func setRecordBurstStats(_ on: Bool) {
        options.recordBurstStats = on
        control.setRecordsBursts(on)
    }
}
