import DPDK
import Wire

extension PacketLayout {
    /// The RTE_MBUF_F_TX_TUNNEL_* type a port needs to find the inner headers of this tunnel.
    /// FOU and GUE have no type of their own: the generic UDP tunnel type, the port relying on
    /// the lengths alone. STT is plain TCP to a NIC (draft-davie-stt §3.2: its
    /// segments are cut by ordinary TSO), so it has none.
    @inlinable public var tunnelOffloadFlag: MbufFlags {
        switch tunnel {
        case .vxlan: .txTunnelVXLAN
        case .vxlanGPE: .txTunnelVXLANGPE
        case .geneve: .txTunnelGENEVE
        case .gre, .nvgre: .txTunnelGRE
        case .ipInIP: .txTunnelIPIP
        case .fou, .gue: .txTunnelUDP
        case .stt, .none: []
        }
    }
}
