import CDPDK

/// RSS hash types (rss_hf bits) by testpmd's names (rss_type_table in app/test-pmd/config.c):
/// group names first (`all`, `ip`, `udp`, ...), then each single type.
public enum RSSTypes {
    public static let ip = CDPDK_RTE_ETH_RSS_IP
    public static let udp = CDPDK_RTE_ETH_RSS_UDP
    public static let tcp = CDPDK_RTE_ETH_RSS_TCP
    /// Every hash type testpmd's `all` names.
    public static let all = CDPDK_RTE_ETH_RSS_ETH | CDPDK_RTE_ETH_RSS_VLAN | CDPDK_RTE_ETH_RSS_IP | CDPDK_RTE_ETH_RSS_TCP
        | CDPDK_RTE_ETH_RSS_UDP | CDPDK_RTE_ETH_RSS_SCTP | CDPDK_RTE_ETH_RSS_L2_PAYLOAD | CDPDK_RTE_ETH_RSS_L2TPV3
        | CDPDK_RTE_ETH_RSS_ESP | CDPDK_RTE_ETH_RSS_AH | CDPDK_RTE_ETH_RSS_PFCP | CDPDK_RTE_ETH_RSS_GTPU
        | CDPDK_RTE_ETH_RSS_ECPRI | CDPDK_RTE_ETH_RSS_MPLS | CDPDK_RTE_ETH_RSS_L2TPV2
    /// Which header level the hash reads: the PMD's default, outermost or innermost (bits 50-51).
    public static let levelMask = CDPDK_RTE_ETH_RSS_LEVEL_MASK
    public static let levelInnermost = CDPDK_RTE_ETH_RSS_LEVEL_INNERMOST
    public static let levelOutermost = CDPDK_RTE_ETH_RSS_LEVEL_OUTERMOST

    /// testpmd's table, in its order: the groups (never shown as such) then the single types.
    public static let table: [(name: String, bits: UInt64)] = [
        ("all", all), ("none", 0), ("ip", ip), ("udp", udp), ("tcp", tcp), ("sctp", CDPDK_RTE_ETH_RSS_SCTP),
        ("tunnel", CDPDK_RTE_ETH_RSS_TUNNEL), ("vlan", CDPDK_RTE_ETH_RSS_VLAN),
        ("ipv4", CDPDK_RTE_ETH_RSS_IPV4), ("ipv4-frag", CDPDK_RTE_ETH_RSS_FRAG_IPV4),
        ("ipv4-tcp", CDPDK_RTE_ETH_RSS_NONFRAG_IPV4_TCP), ("ipv4-udp", CDPDK_RTE_ETH_RSS_NONFRAG_IPV4_UDP),
        ("ipv4-sctp", CDPDK_RTE_ETH_RSS_NONFRAG_IPV4_SCTP), ("ipv4-other", CDPDK_RTE_ETH_RSS_NONFRAG_IPV4_OTHER),
        ("ipv6", CDPDK_RTE_ETH_RSS_IPV6), ("ipv6-frag", CDPDK_RTE_ETH_RSS_FRAG_IPV6),
        ("ipv6-tcp", CDPDK_RTE_ETH_RSS_NONFRAG_IPV6_TCP), ("ipv6-udp", CDPDK_RTE_ETH_RSS_NONFRAG_IPV6_UDP),
        ("ipv6-sctp", CDPDK_RTE_ETH_RSS_NONFRAG_IPV6_SCTP), ("ipv6-other", CDPDK_RTE_ETH_RSS_NONFRAG_IPV6_OTHER),
        ("l2-payload", CDPDK_RTE_ETH_RSS_L2_PAYLOAD), ("ipv6-ex", CDPDK_RTE_ETH_RSS_IPV6_EX),
        ("ipv6-tcp-ex", CDPDK_RTE_ETH_RSS_IPV6_TCP_EX), ("ipv6-udp-ex", CDPDK_RTE_ETH_RSS_IPV6_UDP_EX),
        ("port", CDPDK_RTE_ETH_RSS_PORT), ("vxlan", CDPDK_RTE_ETH_RSS_VXLAN), ("geneve", CDPDK_RTE_ETH_RSS_GENEVE),
        ("nvgre", CDPDK_RTE_ETH_RSS_NVGRE), ("gtpu", CDPDK_RTE_ETH_RSS_GTPU), ("eth", CDPDK_RTE_ETH_RSS_ETH),
        ("s-vlan", CDPDK_RTE_ETH_RSS_S_VLAN), ("c-vlan", CDPDK_RTE_ETH_RSS_C_VLAN), ("esp", CDPDK_RTE_ETH_RSS_ESP),
        ("ah", CDPDK_RTE_ETH_RSS_AH), ("l2tpv3", CDPDK_RTE_ETH_RSS_L2TPV3), ("pfcp", CDPDK_RTE_ETH_RSS_PFCP),
        ("pppoe", CDPDK_RTE_ETH_RSS_PPPOE), ("ecpri", CDPDK_RTE_ETH_RSS_ECPRI), ("mpls", CDPDK_RTE_ETH_RSS_MPLS),
        ("ipv4-chksum", CDPDK_RTE_ETH_RSS_IPV4_CHKSUM), ("l4-chksum", CDPDK_RTE_ETH_RSS_L4_CHKSUM),
        ("l2tpv2", CDPDK_RTE_ETH_RSS_L2TPV2), ("l3-pre96", CDPDK_RTE_ETH_RSS_L3_PRE96),
        ("l3-pre64", CDPDK_RTE_ETH_RSS_L3_PRE64), ("l3-pre56", CDPDK_RTE_ETH_RSS_L3_PRE56),
        ("l3-pre48", CDPDK_RTE_ETH_RSS_L3_PRE48), ("l3-pre40", CDPDK_RTE_ETH_RSS_L3_PRE40),
        ("l3-pre32", CDPDK_RTE_ETH_RSS_L3_PRE32), ("l2-dst-only", CDPDK_RTE_ETH_RSS_L2_DST_ONLY),
        ("l2-src-only", CDPDK_RTE_ETH_RSS_L2_SRC_ONLY), ("l4-dst-only", CDPDK_RTE_ETH_RSS_L4_DST_ONLY),
        ("l4-src-only", CDPDK_RTE_ETH_RSS_L4_SRC_ONLY), ("l3-dst-only", CDPDK_RTE_ETH_RSS_L3_DST_ONLY),
        ("l3-src-only", CDPDK_RTE_ETH_RSS_L3_SRC_ONLY),
    ]

    /// The bits of one name of the table; nil for a name it lacks.
    public static func bits(named name: String) -> UInt64? { table.first { $0.name == name }?.bits }

    /// The names whose bits are all set in `hashFunctions` (groups included, as testpmd's
    /// rss_types_display lists them), wrapped at 64 characters (TESTPMD_RSS_TYPES_CHAR_NUM_PER_LINE) with two spaces before each.
    public static func describe(_ hashFunctions: UInt64) -> String {
        var lines: [String] = []
        var line = ""
        for entry in table where entry.bits != 0 && hashFunctions & entry.bits == entry.bits {
            let item = "  " + entry.name
            if line.count + item.count > 64 {
                lines.append(line)
                line = ""
            }
            line += item
        }
        lines.append(line)
        return lines.joined(separator: "\n")
    }
}

extension RSSTypes {
    /// Each set bit by its single-type name (`user-defined-<bit>` for bits the table lacks),
    /// wrapped as testpmd's rss_offload_types_display wraps them.
    public static func describeSingle(_ hashFunctions: UInt64) -> String {
        var lines: [String] = []
        var line = ""
        for bit in 0..<64 where hashFunctions & (1 << UInt64(bit)) != 0 {
            let name = table.first { $0.bits == 1 << UInt64(bit) }?.name ?? "user-defined-\(bit)"
            let item = "  " + name
            if line.count + item.count >= 64 {
                lines.append(line)
                line = ""
            }
            line += item
        }
        lines.append(line)
        return lines.joined(separator: "\n")
    }
}
