import DPDK

extension TapStatistics {
    /// One counter of a vnet tap port, declared once in `TapStatistics.schema`: `show port
    /// xstats`, telemetry (`/tunnelpmd/taps`, `/tunnelpmd/drops`) and `show port stats` (through
    /// `basic`) all render from it, under the same name.
    public struct Counter: Sendable {
        public enum Kind: Sendable {
            /// Traffic and events: packets, bytes, super-frames, EAGAIN.
            case count
            /// All drops of one side (the sum of its reasons; on tx, the refused writes too).
            case dropTotal
            /// Drops of one reason.
            case dropReason
            /// Failed reads or writes, all errnos (each errno also as `<side>_errno_<n>`).
            case errorTotal
        }

        public let descriptor: CounterDescriptor
        public let kind: Kind
        /// The ethdev basic statistic it stands for in `show port stats`, if any.
        public let basic: PortStats.Field?
        private let read: @Sendable (TapStatistics) -> UInt64

        init(_ name: String, _ help: String, _ side: CounterSide, _ kind: Kind = .count, basic: PortStats.Field? = nil,
             _ read: @escaping @Sendable (TapStatistics) -> UInt64) {
            descriptor = CounterDescriptor(name, help, side: side, scope: .port)
            self.kind = kind
            self.basic = basic
            self.read = read
        }

        public var name: String { descriptor.name }
        public func value(in statistics: TapStatistics) -> UInt64 { read(statistics) }
    }

    /// Every counter of a tap port. A name that DPDK's ethdev xstats have means the same here
    /// (`rx_good_packets`, `rx_mbuf_allocation_errors`, ...).
    public static let schema: [Counter] = {
        var all: [Counter] = [
            Counter("rx_good_packets", "frames received", .rx, basic: .rxPackets) { $0.rxPackets },
            Counter("rx_good_bytes", "bytes received (frames, without the virtio-net header)", .rx, basic: .rxBytes) { $0.rxBytes },
            Counter("rx_super_frames", "received frames with a GSO type, tunnel or not", .rx) { $0.rxSuperFrames },
            Counter("rx_tunnel_super_frames", "received UDP tunnel super-frames", .rx) { $0.rxTunnelSuperFrames },
            Counter("rx_checksums_completed", "partial checksums no mbuf flag could express, completed in software", .rx) {
                $0.rxChecksumsCompleted
            },
            Counter("rx_again", "reads that found nothing (EAGAIN)", .rx) { $0.rxAgain },
            Counter("rx_mbuf_allocation_errors", "bursts cut short: the pool could not refill the receive mbufs", .rx,
                    basic: .rxNoMbuf) { $0.rxNoMbuf },
            Counter("rx_dropped", "received frames dropped, every reason", .rx, .dropTotal, basic: .rxErrors) { $0.rxDropped },
            Counter("rx_read_errors", "failed reads other than EAGAIN, every errno (EBADFD: the interface is gone)", .rx,
                    .errorTotal, basic: .rxErrors) { $0.rxErrorCount },
        ]
        for reason in TapRxDropReason.allCases {
            all.append(Counter("rx_dropped_" + CounterDescriptor.snakeCase(reason.description), "received frames dropped: \(reason)",
                               .rx, .dropReason) { $0.rxDrops[reason] ?? 0 })
        }
        all += [
            Counter("tx_good_packets", "packets written", .tx, basic: .txPackets) { $0.txPackets },
            Counter("tx_good_bytes", "bytes written (frames, without the virtio-net header)", .tx, basic: .txBytes) { $0.txBytes },
            Counter("tx_super_frames", "packets written as super-frames (a GSO type), tunnel or not", .tx) { $0.txSuperFrames },
            Counter("tx_tunnel_super_frames", "packets written as UDP tunnel super-frames", .tx) { $0.txTunnelSuperFrames },
            Counter("tx_again", "writes the kernel refused with EAGAIN (the burst stops there)", .tx) { $0.txAgain },
            Counter("tx_link_down", "packets refused while the interface was gone (the forwarder drops them)", .tx) {
                $0.txLinkDown
            },
            Counter("tx_dropped", "packets freed unsent: dropped before the write, or the write refused", .tx, .dropTotal,
                    basic: .txErrors) { $0.txDropped },
            Counter("tx_write_errors", "writes the kernel refused (EINVAL: a header it rejects), every errno", .tx, .errorTotal) {
                $0.txErrorCount
            },
        ]
        for reason in TapTxDropReason.allCases {
            all.append(Counter("tx_dropped_" + CounterDescriptor.snakeCase(reason.description), "packets dropped before the write: \(reason)",
                               .tx, .dropReason) { $0.txDrops[reason] ?? 0 })
        }
        return all
    }()

    /// The name of the failed reads (rx) or writes (tx) of one errno.
    public static func errnoName(_ side: CounterSide, _ code: Int32) -> String { "\(side.rawValue)_errno_\(code)" }

    /// Every schema counter with its value, then the failed reads and writes of each errno
    /// that occurred: what `show port xstats` and `/tunnelpmd/taps` list.
    public var entries: [(name: String, value: UInt64)] {
        var list = Self.schema.map { ($0.name, $0.value(in: self)) }
        for (code, count) in rxErrors.sorted(by: { $0.key < $1.key }) { list.append((Self.errnoName(.rx, code), count)) }
        for (code, count) in txErrors.sorted(by: { $0.key < $1.key }) { list.append((Self.errnoName(.tx, code), count)) }
        return list
    }

    /// The port's basic statistics (`show port stats`) from the counters that stand for them.
    public var basic: PortStats {
        var stats = PortStats()
        for counter in Self.schema { if let field = counter.basic { stats[field] &+= counter.value(in: self) } }
        return stats
    }
}
