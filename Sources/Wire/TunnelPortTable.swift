/// What a UDP destination port means to the parser.
public enum UDPTunnelKind: UInt8, Sendable, CaseIterable, CustomStringConvertible {
    case vxlan = 1
    case vxlanGPE = 2
    case geneve = 3
    /// GUE: a GUE header (variant 0) or bare IP (variant 1).
    case gue = 4
    /// FOU: a bare UDP header before a fixed IP protocol, set per port.
    case fou = 5

    public var description: String {
        switch self {
        case .vxlan: "vxlan"
        case .vxlanGPE: "vxlan-gpe"
        case .geneve: "geneve"
        case .gue: "gue"
        case .fou: "fou"
        }
    }
}

public enum TunnelPortTableError: Error, Hashable, Sendable, CustomStringConvertible {
    case portZero
    case full(capacity: Int)
    case conflict(port: UInt16, existing: UDPTunnelKind)
    case fouNeedsProtocol(port: UInt16)

    public var description: String {
        switch self {
        case .portZero: "UDP port 0 cannot carry a tunnel"
        case .full(let c): "tunnel port table is full (\(c) ports); remove one first"
        case .conflict(let p, let k): "UDP port \(p) is already a \(k) port; remove it first"
        case .fouNeedsProtocol(let p): "FOU port \(p) needs the IP protocol it carries (4 ipip, 41 sit, 47 gre)"
        }
    }
}

/// UDP destination ports recognised as tunnels: a fixed-capacity value (16 entries in three
/// SIMD vectors, no heap), because the parser consults it for every UDP packet. Lookup is
/// one vector compare. Port 0 marks a free slot.
public struct TunnelPortTable: Hashable, Sendable {
    public static let capacity = 16
    @usableFromInline var ports = SIMD16<UInt16>(repeating: 0)
    @usableFromInline var kinds = SIMD16<UInt8>(repeating: 0)
    @usableFromInline var fouProtocols = SIMD16<UInt8>(repeating: 0)
    /// Recognise STT by TCP destination port 7471.
    public var recognizesSTT = true

    /// An empty table (STT still recognised unless turned off).
    public init() {}

    /// VXLAN 4789, VXLAN-GPE 4790, Geneve 6081 (IANA); FOU/GUE and extra VXLAN ports such as
    /// Linux's 8472 are added at run time, like testpmd's `port config udp_tunnel_port add`.
    public static var defaults: TunnelPortTable {
        var t = TunnelPortTable()
        try! t.add(port: 4789, kind: .vxlan)
        try! t.add(port: 4790, kind: .vxlanGPE)
        try! t.add(port: 6081, kind: .geneve)
        return t
    }

    /// Adds `port`. Adding the same port and kind again is a no-op; a different kind is a
    /// conflict. `fouProtocol` is the IP protocol a FOU port carries (required for `.fou`).
    public mutating func add(port: UInt16, kind: UDPTunnelKind, fouProtocol: UInt8 = 0) throws(TunnelPortTableError) {
        guard port != 0 else { throw .portZero }
        guard kind != .fou || fouProtocol != 0 else { throw .fouNeedsProtocol(port: port) }
        if let i = index(of: port) {
            let existing = UDPTunnelKind(rawValue: kinds[i])!
            guard existing == kind, fouProtocols[i] == fouProtocol else { throw .conflict(port: port, existing: existing) }
            return
        }
        guard let free = index(of: 0) else { throw .full(capacity: Self.capacity) }
        ports[free] = port
        kinds[free] = kind.rawValue
        fouProtocols[free] = kind == .fou ? fouProtocol : 0
    }

    /// Removes `port`; returns false if it was not there.
    @discardableResult
    public mutating func remove(port: UInt16) -> Bool {
        guard port != 0, let i = index(of: port) else { return false }
        ports[i] = 0
        kinds[i] = 0
        fouProtocols[i] = 0
        return true
    }

    @inlinable func index(of port: UInt16) -> Int? {
        // A plain loop: `ports .== SIMD16(repeating:)` with `any` compiled to a per-lane
        // store/reload loop plus a generic `min` call (~500 ns per lookup in gro-bench).
        var i = 0
        while i < Self.capacity {
            if ports[i] == port { return i }
            i &+= 1
        }
        return nil
    }

    /// The tunnel on UDP destination `port`, and for FOU the IP protocol inside.
    @inlinable
    public func lookup(destinationPort port: UInt16) -> (kind: UDPTunnelKind, fouProtocol: UInt8)? {
        guard port != 0, let i = index(of: port) else { return nil }
        return (UDPTunnelKind(rawValue: kinds[i])!, fouProtocols[i])
    }

    /// The entries in slot order, for display.
    public var entries: [(port: UInt16, kind: UDPTunnelKind, fouProtocol: UInt8)] {
        (0..<16).compactMap { i in
            ports[i] == 0 ? nil : (ports[i], UDPTunnelKind(rawValue: kinds[i])!, fouProtocols[i])
        }
    }

    public var count: Int { (0..<16).reduce(0) { $0 + (ports[$1] == 0 ? 0 : 1) } }
}
