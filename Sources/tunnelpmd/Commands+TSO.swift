import Console
import Dataplane

/// `tso`/`tunnel_tso set|show` and `show port <p> offload plan`: the segment size a port may
/// cut at, and who cuts a super-frame larger than the MTU (the port, Swift GSO, or nobody).
extension Commands {
    func registerTSOCommands(into set: Console) throws(PatternError) {
        try set.register(
            "tso|tunnel_tso set <tso_segsz:uint:0-65535> <port_id:uint16>", section: "config",
            help: "payload per segment (tunnelled) packets are cut into; 0: the port does not segment them",
            detail: """
                tso set <n> <port_id>         untunnelled TCP/UDP
                tunnel_tso set <n> <port_id>  tunnelled packets (VXLAN, GPE, Geneve, GRE, IPIP, FOU/GUE, STT)
                    As testpmd, a size asks the port for the segmentation offloads it has (from its
                    next start). What the port cannot segment, Swift GSO cuts at that size (unless
                    `set port <port_id> gso off`). A super-frame that arrived with its own segment
                    size (LRO, virtio, vnet tap) keeps it. The default lets a capable port segment
                    at that size or the MTU's limit. Forwarding must be stopped.
                """
        ) { args in
            let tunnel = try args.keyword(at: 0) == "tunnel_tso"
            let id = try args.uint16("port_id")
            let size = Int(try args.uint("tso_segsz"))
            try forwarder.setTSO(size, tunnel: tunnel, port: id)
            let settings = try forwarder.settings(id)
            args.print(Self.describeTSO(settings, tunnel: tunnel))
            // One line when the port lacks what was asked: the setting stands, Swift cuts.
            if size > 0 && !settings.missingSegmentation(tunnel: tunnel).isEmpty {
                args.print(whoCuts(settings, port: id, tunnel: tunnel, future: true))
            }
            return .continue
        }
        try set.register("tso|tunnel_tso show <port_id:uint16>", section: "display", help: "the port's TSO segment size and who cuts") { args in
            let tunnel = try args.keyword(at: 0) == "tunnel_tso"
            let id = try args.uint16("port_id")
            let settings = try forwarder.settings(id)
            args.print(Self.describeTSO(settings, tunnel: tunnel) + "\n" + whoCuts(settings, port: id, tunnel: tunnel, future: false))
            return .continue
        }
        try set.register(
            "show port <port_id:uint16> offload plan", section: "display",
            help: "how the csum engine sent packets out of the port: hardware, partial, software; and why"
        ) { args in
            let id = try args.uint16("port_id")
            let counts = try forwarder.planCounts(port: id)
            let settings = try forwarder.settings(id)
            var lines = ["Tx offload plans of port \(id):"]
            for (kind, count) in counts.kinds { lines.append("  \(pad(kind.name, 10)) \(count)") }
            lines.append("Downgrades by reason:")
            for (reason, count) in counts.reasons where count > 0 { lines.append("  \(pad(reason.name, 24)) \(count)") }
            if let capabilities = settings.plannerCapabilities {
                let names = capabilities.offloads.names
                lines.append("Trusted tx offloads: \(names.isEmpty ? "none" : names.joined(separator: " "))")
                for note in capabilities.quirkNotes { lines.append("  quirk: \(note)") }
            }
            lines.append("Super-frames larger than the MTU:")
            lines.append("  tunnelled:   " + whoCuts(settings, port: id, tunnel: true, future: false))
            lines.append("  untunnelled: " + whoCuts(settings, port: id, tunnel: false, future: false))
            args.print(lines.joined(separator: "\n"))
            return .continue
        }
    }

    static func describeTSO(_ settings: PortOffloadSettings, tunnel: Bool) -> String {
        let size = tunnel ? settings.tunnelTSOSegmentSize : settings.tsoSegmentSize
        let what = tunnel ? "tunneled" : "non-tunneled"
        if size == 0 { return "TSO for \(what) packets is disabled" }
        if size == PortOffloadSettings.automatic {
            return "TSO segment size for \(what) packets is automatic (the packet's own, else the MTU's limit)"
        }
        return "TSO segment size for \(what) packets is \(size)"
    }

    /// Who cuts (tunnelled or untunnelled) super-frames leaving port `id`, in one line:
    /// "port 0 has no VXLAN tunnel TSO: Swift GSO will cut at 1410". What the port lacks is
    /// named by testpmd's kinds; `future` for the line `tso set` prints.
    func whoCuts(_ settings: PortOffloadSettings, port id: UInt16, tunnel: Bool, future: Bool) -> String {
        let size = tunnel ? settings.tunnelTSOSegmentSize : settings.tsoSegmentSize
        let kinds = (tunnel ? PortOffloadSettings.tunnelTSOKinds : PortOffloadSettings.plainTSOKinds).map(\.name)
        let what = tunnel ? "tunnel TSO" : "TSO"
        let cut = future ? "will cut" : "cuts"
        let swift: String
        if !settings.gso {
            swift = "Swift GSO is off for port \(id), so frames larger than the MTU are dropped (set port \(id) gso on)"
        } else if size > 0 && size != PortOffloadSettings.automatic {
            swift = "Swift GSO \(cut) at \(size)"
        } else {
            swift = "Swift GSO \(cut) to \(forwarder.gsoSegmentSize)-byte frames (set gso segsz)"
        }
        if size == 0 { return "port \(id) does not segment them (\(tunnel ? "tunnel_tso" : "tso") 0): \(swift)" }
        let missing = settings.missingSegmentation(tunnel: tunnel)
        let present = kinds.filter { !missing.contains($0) }
        if missing.isEmpty { return "port \(id) \(cut) them (\(what): \(present.joined(separator: ", ")))" }
        if present.isEmpty { return "port \(id) has no \(what) (none of \(kinds.joined(separator: ", "))): \(swift)" }
        return "port \(id) has no \(missing.joined(separator: ", ")) \(what): \(swift); the port \(cut) \(present.joined(separator: ", "))"
    }
}
