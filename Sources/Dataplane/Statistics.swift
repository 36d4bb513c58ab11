import Foundation
import DPDK
import Offload

/// Forward statistics of one run, per port, as testpmd prints them at `stop`.
public struct ForwardStatistics: Equatable, CustomStringConvertible {
    public struct Port: Equatable {
        public var id: UInt16
        public var rxPackets: UInt64 = 0
        /// Dropped by the NIC (imissed) during the run.
        public var rxDropped: UInt64 = 0
        public var rxNoMbuf: UInt64 = 0
        public var rxErrors: UInt64 = 0
        public var txPackets: UInt64 = 0
        /// Not taken by tx_burst, freed by us.
        public var txDropped: UInt64 = 0
        /// Dropped by the engine (malformed or unsupported), freed by us.
        public var engineDropped: UInt64 = 0
        /// Polls of the port's streams that received something.
        public var rxBursts: UInt64 = 0
        /// The csum engine's counters (`EngineCounter` slots): rx verdicts and parse drops of
        /// packets received here, GSO and tx_prepare of packets sent here.
        public var engine = [UInt64](repeating: 0, count: EngineCounter.slotCount)
        /// Burst sizes of the port's streams, when they were recorded (--record-burst-stats).
        public var bursts: BurstSpread?
        /// A vnet tap's failed reads and writes by errno and the packets it refused while its
        /// interface was gone, during the run, by their xstats names (`rx_errno_77`, `tx_link_down`).
        public var deviceErrors: [DeviceError] = []

        public init(id: UInt16) { self.id = id }
    }

    public struct DeviceError: Equatable {
        public var name: String
        public var count: UInt64
        /// What the errno says, when the name carries one.
        public var meaning: String? {
            guard let code = name.split(separator: "_").last.flatMap({ Int32($0) }), name.contains("_errno_") else { return nil }
            return String(cString: strerror(code))
        }
    }

    public var ports: [Port]
    /// One line per stream, in plan order; printed before the ports when there are more
    /// streams than ports (testpmd's fwd_stream_stats_display, e.g. several rx queues).
    public var streams: [StreamLine] = []

    /// The counters of one stream (rx queue of a port to tx queue of a port).
    public struct StreamLine: Equatable {
        public var rxPort: UInt16, rxQueue: UInt16, txPort: UInt16, txQueue: UInt16
        public var rxPackets: UInt64 = 0
        public var txPackets: UInt64 = 0
        public var txDropped: UInt64 = 0
    }

    /// Print the csum engine's counters (the run used it).
    public var showsEngineCounters = false

    public var total: Port {
        ports.reduce(into: Port(id: UInt16.max)) { sum, port in
            for counter in ForwardCounter.allCases { sum[counter] &+= port[counter] }
            for slot in 0..<EngineCounter.slotCount { sum.engine[slot] &+= port.engine[slot] }
        }
    }

    public var description: String {
        var text = ""
        // testpmd skips streams that moved nothing.
        if streams.count > ports.count {
            for line in streams where line.rxPackets != 0 || line.txPackets != 0 || line.txDropped != 0 {
                text += "\n  ------- Forward Stats for RX Port=\(lpad(line.rxPort, 2))/Queue=\(lpad(line.rxQueue, 2)) -> "
                    + "TX Port=\(lpad(line.txPort, 2))/Queue=\(lpad(line.txQueue, 2)) -------\n"
                text += "  RX-packets: \(pad(line.rxPackets, 14)) TX-packets: \(pad(line.txPackets, 14)) TX-dropped: \(line.txDropped)\n"
            }
        }
        for port in ports {
            text += "\n  ---------------------- Forward statistics for port \(pad(port.id, 2)) ----------------------\n"
            text += Self.body(port)
            if showsEngineCounters { text += Self.engineBody(port) }
            if let bursts = port.bursts { text += bursts.description }
            text += "  " + String(repeating: "-", count: 76) + "\n"
        }
        text += "\n  +++++++++++++++ Accumulated forward statistics for all ports+++++++++++++++\n"
        text += Self.body(total)
        if showsEngineCounters { text += Self.engineBody(total) }
        text += "  " + String(repeating: "+", count: 76) + "\n"
        return text
    }

    /// testpmd's bad-checksum lines, then GSO and drops by reason (those only when non-zero).
    private static func engineBody(_ port: Port) -> String {
        let e = port.engine
        var text = "  Bad-ipcsum: \(pad(e[EngineCounter.rxBadIPChecksum], 14)) Bad-l4csum: \(pad(e[EngineCounter.rxBadL4Checksum], 14))"
            + "Bad-outer-l4csum: \(e[EngineCounter.rxBadOuterL4Checksum])\n"
        text += "  Bad-outer-ipcsum: \(e[EngineCounter.rxBadOuterIPChecksum])\n"
        let plans = TxPlanKind.allCases.map { "\($0.name) \(e[EngineCounter.planBase + Int($0.rawValue)])" }
        text += "  Tx-plans: \(plans.joined(separator: ", "))\n"
        if e[EngineCounter.gsoInputFrames] > 0 {
            text += "  GSO-input: \(pad(e[EngineCounter.gsoInputFrames], 14)) GSO-segments: \(e[EngineCounter.gsoOutputSegments])\n"
        }
        text += coalescedLine(e, ("GRO-segments", CoalescingCounter.segmentsIn), ("GRO-super-frames", CoalescingCounter.superFramesOut, 8),
                              merged: CoalescingCounter.segmentsMerged, ("alone", CoalescingCounter.singlesOut))
        text += coalescedLine(e, ("STT-segments", CoalescingCounter.sttSegmentsIn), ("STT-frames", CoalescingCounter.sttFramesOut, 14),
                              merged: CoalescingCounter.sttSegmentsMerged, ("released", CoalescingCounter.sttSegmentsReleased))
        if e[EngineCounter.pendingChecksumsCompleted] > 0 {
            text += "  Pending-csum-finished: \(e[EngineCounter.pendingChecksumsCompleted])\n"
        }
        for (slot, name) in EngineCounter.dropReasons where e[slot] > 0 {
            text += "  Dropped (\(name)): \(e[slot])\n"
        }
        return text
    }

    /// GRO's or STT reassembly's line, when it held anything: segments in, frames made (with
    /// their average size), segments that left as they came. Slots within the coalescing block.
    private static func coalescedLine(
        _ e: [UInt64], _ input: (label: String, slot: Int), _ made: (label: String, slot: Int, width: Int), merged: Int,
        _ unchanged: (label: String, slot: Int)
    ) -> String {
        let base = EngineCounter.coalescingBase
        guard e[base + input.slot] > 0 else { return "" }
        let frames = e[base + made.slot]
        let average = frames > 0 ? String(format: "%.1f", Double(e[base + merged]) / Double(frames)) : "0"
        return "  \(input.label): \(pad(e[base + input.slot], 14)) \(made.label): \(pad(frames, made.width))"
            + "(\(average) segments each), \(unchanged.label): \(e[base + unchanged.slot])\n"
    }

    /// testpmd's lines, labelled as `ForwardCounter` declares.
    private static func body(_ port: Port) -> String {
        func label(_ counter: ForwardCounter) -> String { (counter.label ?? counter.descriptor.name) + ": " }
        var text = "  " + label(.rxPackets) + pad(port.rxPackets, 14) + " " + label(.rxMissed) + pad(port.rxDropped, 14)
            + "RX-total: \(port.rxPackets &+ port.rxDropped)\n"
        if port.rxErrors > 0 { text += "  " + label(.rxErrors) + "\(port.rxErrors)\n" }
        if port.rxNoMbuf > 0 { text += "  " + label(.rxNoMbuf) + pad(port.rxNoMbuf, 14) + "\n" }
        text += "  " + label(.txPackets) + pad(port.txPackets, 14) + " " + label(.txDropped) + pad(port.txDropped, 14)
            + "TX-total: \(port.txPackets &+ port.txDropped)\n"
        if port.engineDropped > 0 { text += "  " + label(.engineDropped) + "\(port.engineDropped)\n" }
        if !port.deviceErrors.isEmpty {
            let list = port.deviceErrors.map { error in error.name + (error.meaning.map { " (\($0))" } ?? "") + ": \(error.count)" }
            text += "  Port-errors: " + list.joined(separator: ", ") + "\n"
        }
        return text
    }
}

/// `show port stats`: NIC counters and the rates since the last show.
public struct NICStatistics: CustomStringConvertible {
    public var port: UInt16
    public var stats: PortStats
    public var rates: ThroughputSample.Rates

    public var description: String {
        """

          ######################## NIC statistics for port \(pad(port, 2)) ########################
          RX-packets: \(pad(stats.rxPackets, 10)) RX-missed: \(pad(stats.rxMissed, 10)) RX-bytes:  \(stats.rxBytes)
          RX-errors: \(stats.rxErrors)
          RX-nombuf:  \(pad(stats.rxNoMbuf, 10))
          TX-packets: \(pad(stats.txPackets, 10)) TX-errors: \(pad(stats.txErrors, 10)) TX-bytes:  \(stats.txBytes)

          Throughput (since last show)
          Rx-pps: \(lpad(rates.rxPPS, 12))          Rx-bps: \(lpad(rates.rxBPS, 12))
          Tx-pps: \(lpad(rates.txPPS, 12))          Tx-bps: \(lpad(rates.txBPS, 12))
          \(String(repeating: "#", count: 76))
        """
    }
}

/// Counters at one instant, to turn two readings into rates.
public struct ThroughputSample {
    public var tsc: UInt64
    public var stats: PortStats

    public struct Rates: Equatable, Sendable {
        public var rxPPS: UInt64, txPPS: UInt64, rxBPS: UInt64, txBPS: UInt64
        public static let zero = Rates(rxPPS: 0, txPPS: 0, rxBPS: 0, txBPS: 0)
    }

    func rates(since earlier: ThroughputSample, hz: UInt64) -> Rates {
        let cycles = tsc &- earlier.tsc
        guard cycles > 0, hz > 0 else { return .zero }
        let seconds = Double(cycles) / Double(hz)
        func rate(_ now: UInt64, _ then: UInt64, _ scale: Double = 1) -> UInt64 {
            now >= then ? UInt64(Double(now - then) * scale / seconds) : 0
        }
        return Rates(
            rxPPS: rate(stats.rxPackets, earlier.stats.rxPackets), txPPS: rate(stats.txPackets, earlier.stats.txPackets),
            rxBPS: rate(stats.rxBytes, earlier.stats.rxBytes, 8), txBPS: rate(stats.txBytes, earlier.stats.txBytes, 8))
    }
}

/// printf's %-N: left-aligned in a field of `width`.
public func pad(_ value: some CustomStringConvertible, _ width: Int) -> String {
    let text = "\(value)"
    return text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
}

/// printf's %N: right-aligned in a field of `width`.
public func lpad(_ value: some CustomStringConvertible, _ width: Int) -> String {
    let text = "\(value)"
    return text.count >= width ? text : String(repeating: " ", count: width - text.count) + text
}
