// libFuzzer entry for PacketLayout.parse. Built by `make fuzz` together with Sources/Wire
// (swiftc -sanitize=fuzzer,address): ASan turns any read past the input into a crash, and
// the invariants below turn a wrong layout into one.
// Compiled in one module with Sources/Wire/*.swift, so Wire's declarations (internal
// helpers too) are in scope without an import.

#if canImport(Glibc)
import Glibc
#endif

/// Every kind the parser knows, plus Linux's VXLAN port and FOU/GUE ports as `ip fou` would add.
let table: TunnelPortTable = {
    var t = TunnelPortTable.defaults
    try! t.add(port: 8472, kind: .vxlan)
    try! t.add(port: 6080, kind: .gue)
    try! t.add(port: 5555, kind: .fou, fouProtocol: 4)
    try! t.add(port: 5556, kind: .fou, fouProtocol: 41)
    try! t.add(port: 5557, kind: .fou, fouProtocol: 47)
    return t
}()

func check(_ condition: Bool, _ what: StaticString) {
    if !condition {
        print("invariant broken: \(what)")
        abort()
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzParser(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let frame = UnsafeRawBufferPointer(start: data, count: size)
    // The short path answers only for frames the full walk accepts, and answers the same.
    var short = PacketLayout()
    if PacketLayout.parseCommon(frame, tunnels: table, into: &short) {
        check((try? PacketLayout.walk(frame, tunnels: table)) == short, "short path agrees with the walk")
    } else {
        check(short == PacketLayout(), "a declined short path leaves the layout empty")
    }
    let parsed = try? PacketLayout.parse(frame, tunnels: table)
    check(parsed == (try? PacketLayout.walk(frame, tunnels: table)), "parse gives what the walk gives")
    guard let layout = parsed else { return 0 }
    check(layout.payloadOffset + Int(layout.payloadLength) <= size, "payload inside frame")
    check(layout.outerL4Offset <= size, "outer L4 inside frame")
    if layout.isTunnel {
        check(layout.innerL2Offset <= layout.payloadOffset, "inner headers ordered")
    }
    // Re-open each header the layout names and read every field: views must agree.
    if layout.outerL3 == .ipv4 {
        let ip = try! IPv4Header(frame.tail(layout.outerL3Offset))
        check(ip.headerLength == Int(layout.outerL3Length), "outer IPv4 length")
        for option in ip.optionIterator { _ = option.data.count }
        _ = ip.verifyChecksum
    }
    if layout.outerL4 == .tcp {
        let tcp = try! TCPHeader(frame.tail(layout.outerL4Offset))
        for option in tcp.optionIterator { if case .sack(let b) = option { _ = b.count } }
        _ = tcp.parsedOptions
    }
    if layout.tunnel == .geneve {
        let g = try! GeneveHeader(frame.tail(layout.tunnelOffset))
        for option in g.optionIterator { _ = option.data.count }
    }
    if layout.innerL3 == .ipv4 {
        let ip = try! IPv4Header(frame.tail(layout.innerL3Offset))
        check(ip.headerLength == Int(layout.innerL3Length), "inner IPv4 length")
    }
    if layout.innerL4 == .tcp {
        let tcp = try! TCPHeader(frame.tail(layout.innerL4Offset))
        check(tcp.headerLength == Int(layout.innerL4Length), "inner TCP length")
        _ = tcp.parsedOptions
    }
    let lengths = layout.offloadLengths
    check(Int(lengths.outerL2Len) + Int(lengths.outerL3Len) + Int(lengths.l2Len) + Int(lengths.l3Len)
          + Int(lengths.l4Len) <= size, "offload lengths inside frame")
    return 0
}
