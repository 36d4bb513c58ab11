import DPDK

/// Streams (rx queue -> tx queue) and which lcore forwards which, as testpmd lays them out:
/// streams ordered by queue then port, split into contiguous runs over the forwarding lcores.
public final class ForwardingPlan {
    struct Assignment {
        let lcore: Lcore
        let streams: UnsafeMutableBufferPointer<Stream>
    }

    let allStreams: UnsafeMutableBufferPointer<Stream>
    let assignments: [Assignment]
    private let counters: CounterBlock
    private let ports: [Port]

    /// `ports`: those that forward (--portmask, --nb-ports, `set nbport`: `ForwardingOptions.forwardingPorts(of:)`).
    init(ports: [Port], options: ForwardingOptions, workers: [Lcore]) {
        self.ports = ports
        let streamCount = ports.count * Int(options.rxQueues)
        counters = CounterBlock(count: streamCount)
        allStreams = .allocate(capacity: streamCount)
        var index = 0
        for queue in 0..<options.rxQueues {
            for (portIndex, port) in ports.enumerated() {
                let txPort = ports[options.topology.peer(of: portIndex, count: ports.count)]
                allStreams.initializeElement(
                    at: index,
                    to: Stream(
                        rxPort: port, rxQueue: queue, txPort: txPort, txQueue: queue,
                        txSourceMAC: (try? txPort.macAddress()) ?? MACAddress(0, 0, 0, 0, 0, 0),
                        peerMAC: Self.peer(of: txPort, options),
                        counters: counters.base + index, engineCounters: counters.engineCounters(index),
                        burstSpread: counters.burstSpread(index)))
                index += 1
            }
        }
        // --coremask: only the worker lcores it names forward; of those, lcores on the ports'
        // sockets first (in their order), so --nb-cores below the count picks local ones.
        let allowed = options.coreMask.map { mask in workers.filter { $0.id < 64 && mask & (1 << UInt64($0.id)) != 0 } } ?? workers
        let portSockets = Set(ports.map { options.poolSocket(of: $0) })
        let workers = allowed.filter { portSockets.contains($0.socket) } + allowed.filter { !portSockets.contains($0.socket) }
        let lcores = min(options.forwardingCores, streamCount, workers.count)
        var assignments: [Assignment] = []
        var start = 0
        for lcoreIndex in 0..<lcores {
            // The first lcores take the remainder, one extra stream each.
            let share = streamCount / lcores + (lcoreIndex < streamCount % lcores ? 1 : 0)
            let slice = UnsafeMutableBufferPointer(rebasing: allStreams[start..<(start + share)])
            assignments.append(Assignment(lcore: workers[lcoreIndex], streams: slice))
            start += share
        }
        self.assignments = assignments
    }

    deinit {
        allStreams.deinitialize()
        allStreams.deallocate()
    }

    var streamCount: Int { allStreams.count }

    /// The tx port's peer: the user's (`set eth-peer`), else for a vnet tap the kernel
    /// interface's own address (the one station on its other end), else testpmd's default.
    static func peer(of port: Port, _ options: ForwardingOptions) -> MACAddress {
        if options.ethPeers[port.id] == nil, port.isTap, let address = try? port.macAddress() { return address }
        return options.peer(of: port.id)
    }

    /// What `show config fwd` prints.
    public struct Summary: CustomStringConvertible {
        public var mode: ForwardingMode
        public var portCount: Int
        /// Each lcore with its socket, and its streams with the sockets of their rings.
        public var lcores: [(lcore: UInt32, socket: Int32, streams: [(rx: (UInt16, UInt16, Int32), tx: (UInt16, UInt16, Int32), peer: String)])]
        /// The mempools forwarding draws from, with their sizes (packets, GSO headers, views).
        public var pools: [(role: String, pool: Mempool)] = []

        public var description: String {
            let streamCount = lcores.reduce(0) { $0 + $1.streams.count }
            var lines = [
                "\(mode.rawValue) packet forwarding - ports=\(portCount) - cores=\(lcores.count) - streams=\(streamCount)"
            ]
            for entry in lcores {
                lines.append("Logical Core \(entry.lcore) (socket \(entry.socket)) forwards packets on \(entry.streams.count) streams:")
                for stream in entry.streams {
                    lines.append(
                        "  RX P=\(stream.rx.0)/Q=\(stream.rx.1) (socket \(stream.rx.2)) -> TX P=\(stream.tx.0)/Q=\(stream.tx.1) (socket \(stream.tx.2)) peer=\(stream.peer)")
                }
            }
            for (role, pool) in pools {
                lines.append("Mbuf pool <\(pool.name)> (\(role)): n=\(pool.size), size=\(pool.dataRoomSize)")
            }
            return lines.joined(separator: "\n")
        }
    }

    /// The streams as they stand, with the peers `options` give (those of the running streams
    /// while forwarding, since peers change only while stopped).
    func summary(mode: ForwardingMode, options: ForwardingOptions) -> Summary {
        Summary(
            mode: mode, portCount: ports.count,
            lcores: assignments.map { assignment in
                (assignment.lcore.id, assignment.lcore.socket, assignment.streams.map { stream in
                    ((stream.rxPort.id, stream.rxQueue, options.ringSocket(of: stream.rxPort, .rx)),
                     (stream.txPort.id, stream.txQueue, options.ringSocket(of: stream.txPort, .tx)),
                     Self.peer(of: stream.txPort, options).description)
                })
            })
    }
}
