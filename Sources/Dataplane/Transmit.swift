import CDPDK
import DPDK

extension ForwardingControl {
    /// Hands `output[0..<ready]` to `stream`'s tx queue; what it does not take is freed and
    /// counted. The one tx path: the worker's end of a burst and Swift GSO's rounds (a frame
    /// cut into more segments than the output holds) both end here.
    @inline(__always)
    func transmit(_ stream: Stream, _ output: UnsafeMutablePointer<OpaquePointer?>, ready: Int, retry: Bool) {
        let counters = stream.counters
        if isCapturing {
            let txSlot = captureSlots.slot(port: stream.txPort.id, outbound: 1)
            if cdpdk_load_flag(&txSlot.pointee.armed) != 0 {
                CaptureHook.capture(txSlot, port: stream.txPort.id, queue: stream.txQueue, output, count: ready, outbound: 1)
            }
        }
        var sent = Int(stream.txPort.transmit(queue: stream.txQueue, output, count: UInt16(truncatingIfNeeded: ready)))
        if retry {
            // A burst of segments can exceed the tx ring: keep feeding it while it takes some.
            while sent < ready {
                let more = Int(stream.txPort.transmit(
                    queue: stream.txQueue, output + sent, count: UInt16(truncatingIfNeeded: min(ready - sent, 512))))
                if more == 0 { break }
                sent &+= more
            }
        }
        counters.pointee.txPackets &+= UInt64(sent)
        if recordsBursts { stream.burstSpread[BurstSpread.sizes &+ min(sent, BurstSpread.sizes &- 1)] &+= 1 }
        if sent < ready {
            let unsent = ready &- sent
            counters.pointee.txDropped &+= UInt64(unsent)
            Mbuf.freeBulk(output + sent, count: unsent)
        }
    }
}
