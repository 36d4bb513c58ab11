import Console

/// testpmd commands tunnelpmd leaves out on purpose. Each answers
/// "<command>: not supported by tunnelpmd (<why>)" instead of "unknown command", so a
/// testpmd script says plainly what it asked for. The README lists the same table.
extension Commands {
    static let unsupported: [(command: String, why: String)] = [
        ("flow", "rte_flow rules are NIC-specific classification; tunnelpmd handles tunnels in software and with offload flags"),
        ("tm", "traffic management hierarchies (rte_tm shaping and scheduling) are beyond a forwarding dataplane"),
        ("add port tm", "traffic management hierarchies (rte_tm) are beyond a forwarding dataplane"),
        ("del port tm", "traffic management hierarchies (rte_tm) are beyond a forwarding dataplane"),
        ("set port tm", "traffic management hierarchies (rte_tm) are beyond a forwarding dataplane"),
        ("show port tm", "traffic management hierarchies (rte_tm) are beyond a forwarding dataplane"),
        ("port tm", "traffic management hierarchies (rte_tm) are beyond a forwarding dataplane"),
        ("add port meter", "rte_mtr metering and policing are beyond a forwarding dataplane"),
        ("create port meter", "rte_mtr metering and policing are beyond a forwarding dataplane"),
        ("del port meter", "rte_mtr metering and policing are beyond a forwarding dataplane"),
        ("show port meter", "rte_mtr metering and policing are beyond a forwarding dataplane"),
        ("set bonding", "bond ports with DPDK's net_bonding vdev given to EAL (--vdev net_bonding0,...)"),
        ("create bonded device", "bond ports with DPDK's net_bonding vdev given to EAL (--vdev net_bonding0,...)"),
        ("add bonding slave", "bond ports with DPDK's net_bonding vdev given to EAL (--vdev net_bonding0,...)"),
        ("remove bonding slave", "bond ports with DPDK's net_bonding vdev given to EAL (--vdev net_bonding0,...)"),
        ("show bonding config", "bond ports with DPDK's net_bonding vdev given to EAL (--vdev net_bonding0,...)"),
        ("bpf-load", "per-queue BPF callbacks would run beside the Swift engines on every packet"),
        ("bpf-unload", "per-queue BPF callbacks would run beside the Swift engines on every packet"),
        ("ddp", "Intel i40e dynamic device personalisation profiles are one vendor's feature"),
        ("set vf", "SR-IOV VF control is the PF driver's job (ip link set <pf> vf ...)"),
        ("vf", "SR-IOV VF control is the PF driver's job (ip link set <pf> vf ...)"),
        ("set macsec", "MACsec offload is link-layer crypto, outside a tunnel dataplane"),
        ("set raw_encap", "encapsulation templates for rte_flow actions; tunnelpmd does not use rte_flow"),
        ("set raw_decap", "encapsulation templates for rte_flow actions; tunnelpmd does not use rte_flow"),
        ("set vxlan", "encapsulation templates for rte_flow actions; tunnelpmd does not use rte_flow"),
        ("set nvgre", "encapsulation templates for rte_flow actions; tunnelpmd does not use rte_flow"),
        ("set l2_encap", "encapsulation templates for rte_flow actions; tunnelpmd does not use rte_flow"),
        ("set mplsogre_encap", "encapsulation templates for rte_flow actions; tunnelpmd does not use rte_flow"),
        ("set mplsoudp_encap", "encapsulation templates for rte_flow actions; tunnelpmd does not use rte_flow"),
        ("set conntrack", "rte_flow connection tracking; tunnelpmd does not use rte_flow"),
        ("set sample_actions", "rte_flow sampling; tunnelpmd does not use rte_flow"),
        ("queue-region", "i40e queue regions are one vendor's feature; RSS spreads flows over the rx queues"),
        ("set port queue-region", "i40e queue regions are one vendor's feature; RSS spreads flows over the rx queues"),
        ("set bypass", "ixgbe bypass adapters are one vendor's feature"),
        ("show bypass config", "ixgbe bypass adapters are one vendor's feature"),
        ("set flow_ctrl", "pause-frame flow control is left at the NIC's defaults"),
        ("set pfc_ctrl", "priority flow control (DCB) is left at the NIC's defaults"),
        ("port config dcb", "DCB traffic classes are not used: every queue is an RSS queue"),
        ("rx_vlan", "VLAN filtering offloads are not used: VLAN-tagged frames are forwarded as they are"),
        ("tx_vlan", "VLAN insertion offloads are not used: VLAN-tagged frames are forwarded as they are"),
        ("vlan set", "VLAN strip/filter/extend offloads are not used: VLAN-tagged frames are forwarded as they are"),
        ("dump_physmem", "DPDK's internal dumps: query them with dpdk-telemetry.py (/eal/..., /mempool/...)"),
        ("dump_memzone", "DPDK's internal dumps: query them with dpdk-telemetry.py (/eal/..., /mempool/...)"),
        ("dump_struct_sizes", "DPDK's internal dumps: query them with dpdk-telemetry.py (/eal/..., /mempool/...)"),
        ("dump_ring", "DPDK's internal dumps: query them with dpdk-telemetry.py (/eal/..., /mempool/...)"),
        ("dump_mempool", "DPDK's internal dumps: query them with dpdk-telemetry.py (/eal/..., /mempool/...)"),
        ("dump_devargs", "DPDK's internal dumps: query them with dpdk-telemetry.py (/eal/..., /mempool/...)"),
        ("dump_log_types", "DPDK's internal dumps: query them with dpdk-telemetry.py (/eal/..., /mempool/...)"),
    ]

    func registerUnsupportedCommands(into set: Console) throws(PatternError) {
        for entry in Self.unsupported {
            let handler: CommandHandler = { args in
                args.print("\(entry.command): not supported by tunnelpmd (\(entry.why))")
                return .continue
            }
            // testpmd's dump_* take no arguments; every other command here takes some. One
            // pattern each keeps `help` to one line per command.
            let pattern = entry.command.hasPrefix("dump_") ? entry.command : entry.command + " <arguments:rest>"
            try set.register(pattern, section: "unsupported", help: "not supported: \(entry.why)", handler: handler)
        }
    }
}
