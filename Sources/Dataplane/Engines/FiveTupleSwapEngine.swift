import DPDK
import Offload
import Wire

/// testpmd's 5tswap engine (app/test-pmd/5tswap.c): MAC addresses swapped, and past any
/// VLAN/QinQ tags the IPv4 or IPv6 addresses and the TCP or UDP ports, so the frame answers
/// its own flow. Swapping two fields leaves every checksum valid. Headers are looked for in
/// the first segment only; a field beyond it is left alone (testpmd reads past it).
public struct FiveTupleSwapEngine: ForwardingEngine {
    public static let mode = ForwardingMode.fiveTupleSwap
    public static let worksInPlace = true
    private let egress: Egress

    public init(context: EngineContext) { egress = Egress(context: context) }

    public func finish() { egress.finish() }

    @inline(__always)
    public func process(
        _ input: UnsafeMutablePointer<OpaquePointer?>, count: Int,
        output: UnsafeMutablePointer<OpaquePointer?>, capacity: Int, stream: Stream
    ) -> Int {
        egress.rewriteEach(input, count: count, output: output, stream, Swap())
    }

    /// Swaps what lies within `length` bytes of `frame`: MACs, then IP addresses, then ports.
    @inline(__always)
    static func swapTuple(_ frame: UnsafeMutableRawPointer, length: Int) {
        MACSwapEngine.swapAddresses(frame)
        var offset = 12
        guard offset + 2 <= length else { return }
        var etherType = frame.be16(offset)
        offset &+= 2
        // 802.1Q and 802.1ad tags, as testpmd walks them.
        while etherType == 0x8100 || etherType == 0x88A8, offset + 4 <= length {
            etherType = frame.be16(offset + 2)
            offset &+= 4
        }
        let l4Protocol: UInt8
        switch etherType {
        case 0x0800:
            guard offset + 20 <= length else { return }
            swapWords(frame + offset + 12, frame + offset + 16, bytes: 4)
            l4Protocol = frame.u8(offset + 9)
            offset &+= Int(frame.u8(offset) & 0x0F) &* 4
        case 0x86DD:
            guard offset + 40 <= length else { return }
            swapWords(frame + offset + 8, frame + offset + 24, bytes: 16)
            l4Protocol = frame.u8(offset + 6)
            offset &+= 40
        default:
            return
        }
        guard l4Protocol == 6 || l4Protocol == 17, offset + 4 <= length else { return }
        swapWords(frame + offset, frame + offset + 2, bytes: 2)
    }

    @inline(__always)
    private static func swapWords(_ a: UnsafeMutableRawPointer, _ b: UnsafeMutableRawPointer, bytes: Int) {
        switch bytes {
        case 2:
            let first = a.loadUnaligned(as: UInt16.self)
            a.storeBytes(of: b.loadUnaligned(as: UInt16.self), as: UInt16.self)
            b.storeBytes(of: first, as: UInt16.self)
        case 4:
            let first = a.loadUnaligned(as: UInt32.self)
            a.storeBytes(of: b.loadUnaligned(as: UInt32.self), as: UInt32.self)
            b.storeBytes(of: first, as: UInt32.self)
        default:
            let first = a.loadUnaligned(as: (UInt64, UInt64).self)
            a.storeBytes(of: b.loadUnaligned(as: (UInt64, UInt64).self), as: (UInt64, UInt64).self)
            b.storeBytes(of: first, as: (UInt64, UInt64).self)
        }
    }

    struct Swap: FrameRewrite {
        @inline(__always) func rewrite(_ frame: UnsafeMutableRawPointer, length: Int) { swapTuple(frame, length: length) }
    }
}
