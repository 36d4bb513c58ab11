import DPDK

/// `start tx_first [n]` and `--tx-first`: before the workers launch, every forwarded stream
/// sends `n` bursts of txonly frames on its tx queue (testpmd runs the txonly engine once per
/// burst on the forwarding lcores; here the main lcore does it while the queues are idle).
/// What is sent counts as the stream's tx, what the port refuses as its tx-dropped.
extension Forwarder {
    func sendFirstBursts(_ bursts: Int) {
        var generator = TxFrameGenerator(options.traffic)
        let packets = UnsafeMutablePointer<OpaquePointer?>.allocate(capacity: options.burst)
        defer {
            packets.deallocate()
            generator.deallocate()
        }
        for assignment in plan.assignments {
            for stream in assignment.streams {
                for _ in 0..<bursts {
                    let made = generator.make(packets, count: options.burst, pool: pool, stream: stream)
                    let sent = Int(stream.txPort.transmit(queue: stream.txQueue, packets, count: UInt16(made)))
                    stream.counters.pointee.txPackets &+= UInt64(sent)
                    if sent < made {
                        stream.counters.pointee.txDropped &+= UInt64(made - sent)
                        Mbuf.freeBulk(packets + sent, count: made - sent)
                    }
                }
            }
        }
    }
}
