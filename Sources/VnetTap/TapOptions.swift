import Wire

/// What a tap port asks the kernel for (TUNSETOFFLOAD), in the user's words.
public struct TapOffloads: OptionSet, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// Partial checksums both ways (TUN_F_CSUM). Every other offload needs it.
    public static let checksum = TapOffloads(rawValue: 1 << 0)
    /// TCP super-frames over IPv4 and IPv6 (TUN_F_TSO4 | TUN_F_TSO6).
    public static let tso = TapOffloads(rawValue: 1 << 1)
    /// UDP super-frames, USO (TUN_F_USO4 | TUN_F_USO6).
    public static let uso = TapOffloads(rawValue: 1 << 2)
    /// UDP tunnel GSO: VXLAN/Geneve/... super-frames with outer and inner offsets
    /// (TUN_F_UDP_TUNNEL_GSO). Needs `tso` or `uso`.
    public static let tunnel = TapOffloads(rawValue: 1 << 3)
    /// The outer UDP checksum of tunnel super-frames (TUN_F_UDP_TUNNEL_GSO_CSUM). Needs `tunnel`.
    public static let tunnelChecksum = TapOffloads(rawValue: 1 << 4)

    public static let all: TapOffloads = [.checksum, .tso, .uso, .tunnel, .tunnelChecksum]

    /// The option-string names, in the order they are printed.
    public static let names: [(TapOffloads, String)] = [
        (.checksum, "csum"), (.tso, "tso"), (.uso, "uso"), (.tunnel, "tunnel"), (.tunnelChecksum, "tunnel-csum"),
    ]

    /// The TUNSETOFFLOAD bits (include/uapi/linux/if_tun.h).
    public var kernelBits: UInt32 {
        var bits: UInt32 = 0
        if contains(.checksum) { bits |= 0x01 }
        if contains(.tso) { bits |= 0x02 | 0x04 }
        if contains(.uso) { bits |= 0x20 | 0x40 }
        if contains(.tunnel) { bits |= 0x080 }
        if contains(.tunnelChecksum) { bits |= 0x100 }
        return bits
    }

    /// What validation of virtio-net headers may accept with these offloads.
    public var tunnelOffloads: VirtioNetTunnelOffloads {
        var result: VirtioNetTunnelOffloads = []
        if contains(.tunnel) { result.insert(.udpTunnelGSO) }
        if contains(.tunnelChecksum) { result.insert(.udpTunnelGSOChecksum) }
        return result
    }

    public var description: String {
        let names = Self.names.filter { contains($0.0) }.map(\.1)
        return names.isEmpty ? "none" : names.joined(separator: ",")
    }
}

/// How to attach to one existing kernel tap: `name=<ifname>[,netns=<ns>][,offloads=<list>]`.
public struct TapOptions: Hashable, Sendable, CustomStringConvertible {
    /// The tap interface (it must exist: `ip tuntap add mode tap name <ifname> vnet_hdr`).
    public var name: String
    /// A named network namespace (/var/run/netns/<ns>) that holds the tap, or nil for this one.
    public var namespace: String?
    /// What to ask of the kernel; what it grants may be less (`TapDevice.grantedOffloads`).
    public var offloads: TapOffloads = .all
    /// UDP destination ports whose frames count as tunnelled when received frames are checked
    /// against their header (IANA VXLAN, VXLAN-GPE, Geneve, plus Linux's VXLAN default 8472).
    public var tunnelPorts: TunnelPortTable = TapOptions.defaultTunnelPorts

    public static var defaultTunnelPorts: TunnelPortTable {
        var table = TunnelPortTable.defaults
        try? table.add(port: 8472, kind: .vxlan)
        return table
    }

    public init(name: String, namespace: String? = nil, offloads: TapOffloads = .all) {
        self.name = name
        self.namespace = namespace
        self.offloads = offloads
    }

    public static let keys = ["name", "netns", "offloads"]
    /// Longest interface name Linux takes (IFNAMSIZ - 1).
    public static let maximumNameLength = 15

    /// Parses `name=tap0,netns=ns1,offloads=tso,uso,tunnel,tunnel-csum`. Items without `=`
    /// continue the list of the key before them (only `offloads` takes a list).
    /// `offloads=none` asks for nothing (the kernel then segments and checksums everything).
    public init(parsing text: String) throws(TapOptionsError) {
        var name: String?
        var namespace: String?
        var offloads: TapOffloads?
        var currentKey: String?
        var seen = Set<String>()
        var sawNone = false
        guard !text.isEmpty else { throw .empty }
        for item in text.split(separator: ",", omittingEmptySubsequences: false).map(String.init) {
            guard !item.isEmpty else { throw .emptyItem(text) }
            let key: String
            let value: String
            if let equals = item.firstIndex(of: "=") {
                key = String(item[..<equals])
                value = String(item[item.index(after: equals)...])
                guard Self.keys.contains(key) else { throw .unknownKey(key, allowed: Self.keys) }
                guard !seen.contains(key) else { throw .duplicateKey(key) }
                seen.insert(key)
                guard !value.isEmpty else { throw .missingValue(key) }
                currentKey = key
            } else {
                guard currentKey == "offloads" else {
                    if let currentKey { throw .notAList(key: currentKey, item: item) }
                    throw .unknownKey(item, allowed: Self.keys)
                }
                key = "offloads"
                value = item
            }
            switch key {
            case "name":
                guard value.utf8.count <= Self.maximumNameLength else {
                    throw .badValue(key: key, value: value, allowed: "an interface name of at most \(Self.maximumNameLength) bytes")
                }
                guard !value.contains("/"), value != ".", value != "..", !value.contains(where: \.isWhitespace) else {
                    throw .badValue(key: key, value: value, allowed: "an interface name without '/' or spaces")
                }
                name = value
            case "netns":
                guard !value.contains("/"), value != ".", value != ".." else {
                    throw .badValue(key: key, value: value, allowed: "a namespace name from `ip netns list` (no '/')")
                }
                namespace = value
            default:
                let allowed = "none, " + TapOffloads.names.map(\.1).joined(separator: ", ")
                if value == "none" || sawNone {
                    guard value == "none", offloads == nil else {
                        throw .badValue(key: key, value: value, allowed: "'none' alone, or a list of " + allowed)
                    }
                    sawNone = true
                    offloads = []
                    continue
                }
                guard let flag = TapOffloads.names.first(where: { $0.1 == value })?.0 else {
                    throw .badValue(key: key, value: value, allowed: allowed)
                }
                offloads = (offloads ?? []).union(flag)
            }
        }
        guard let name else { throw .missingName }
        self.name = name
        self.namespace = namespace
        var requested = offloads ?? .all
        if !requested.isEmpty { requested.insert(.checksum) }  // the kernel takes no offload without it
        if requested.contains(.tunnel), requested.isDisjoint(with: [.tso, .uso]) {
            throw .dependency(offload: "tunnel", needs: "tso or uso")
        }
        if requested.contains(.tunnelChecksum), !requested.contains(.tunnel) {
            throw .dependency(offload: "tunnel-csum", needs: "tunnel")
        }
        self.offloads = requested
    }

    public var description: String {
        var text = "name=\(name)"
        if let namespace { text += ",netns=\(namespace)" }
        text += ",offloads=\(offloads)"
        return text
    }
}

/// Why a tap option string was refused: names the key or value and what is allowed.
public enum TapOptionsError: Error, Hashable, Sendable, CustomStringConvertible {
    case empty
    case emptyItem(String)
    case unknownKey(String, allowed: [String])
    case duplicateKey(String)
    case missingValue(String)
    case notAList(key: String, item: String)
    case badValue(key: String, value: String, allowed: String)
    case missingName
    case dependency(offload: String, needs: String)

    public var description: String {
        let usage = "name=<ifname>[,netns=<ns>][,offloads=tso,uso,tunnel,tunnel-csum]"
        switch self {
        case .empty: return "vnet tap: empty option string; expected \(usage)"
        case .emptyItem(let text): return "vnet tap: empty item in '\(text)' (two commas in a row?)"
        case .unknownKey(let key, let allowed):
            return "vnet tap: unknown key '\(key)'; allowed keys: \(allowed.joined(separator: ", ")) (\(usage))"
        case .duplicateKey(let key): return "vnet tap: key '\(key)' given twice"
        case .missingValue(let key): return "vnet tap: key '\(key)' needs a value (\(key)=...)"
        case .notAList(let key, let item):
            return "vnet tap: '\(item)' after \(key)=...: only offloads takes a list; other keys need key=value"
        case .badValue(let key, let value, let allowed): return "vnet tap: bad \(key) '\(value)'; allowed: \(allowed)"
        case .missingName: return "vnet tap: name=<ifname> is required (\(usage))"
        case .dependency(let offload, let needs): return "vnet tap: offload '\(offload)' needs \(needs)"
        }
    }
}
