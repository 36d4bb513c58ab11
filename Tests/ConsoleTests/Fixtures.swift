// A console with testpmd-like commands whose handlers record what they received.
@testable import Console

/// What handlers saw, in call order.
final class Calls {
    var log: [String] = []
}

func makeConsole() throws -> (console: Console, capture: OutputCapture, calls: Calls) {
    let capture = OutputCapture()
    let calls = Calls()
    let console = Console(output: capture.output)
    try console.register("start", section: "control", help: "start packet forwarding") { _ in
        calls.log.append("start")
        return .continue
    }
    try console.register("stop", section: "control", help: "stop packet forwarding") { _ in
        calls.log.append("stop")
        return .continue
    }
    try console.register(
        "show port info|stats|xstats|summary <port>", section: "display", help: "show port information",
        detail: "Display information, statistics or extended statistics\nof a port id, or of all ports."
    ) { args in
        calls.log.append("show \(try args.keyword(at: 2)) \(try args.port("port"))")
        return .continue
    }
    try console.register("show config fwd", section: "display", help: "show forwarding configuration") { _ in
        calls.log.append("show config fwd")
        return .continue
    }
    try console.register("clear port stats <port>", section: "display", help: "clear port statistics") { args in
        calls.log.append("clear \(try args.port("port"))")
        return .continue
    }
    try console.register("set fwd <mode:io|mac>", section: "config", help: "set the forwarding mode") { args in
        calls.log.append("fwd \(try args.keyword("mode"))")
        args.print("Set \(try args.keyword("mode")) packet forwarding mode")
        return .continue
    }
    try console.register("set verbose <level:uint>", section: "config", help: "set the verbosity level") { args in
        calls.log.append("verbose \(try args.uint("level"))")
        return .continue
    }
    try console.register("set burst <n:uint:1-512>", section: "config", help: "set packets per burst") { args in
        calls.log.append("burst \(try args.uint("n"))")
        return .continue
    }
    try console.register("set promisc <port> <on:onoff>", section: "config", help: "promiscuous mode") { args in
        calls.log.append("promisc \(try args.port("port")) \(try args.bool("on"))")
        return .continue
    }
    try console.register("csum set <proto:ip|udp> <where:hwsw> <port_id:uint16>", section: "config",
                         help: "checksum offload") { args in
        calls.log.append("csum \(try args.keyword("proto")) \(try args.hwsw("where")) \(try args.uint16("port_id"))")
        return .continue
    }
    try console.register("set offset <delta:int:-100-100>", section: "config", help: "signed test") { args in
        calls.log.append("offset \(try args.int("delta"))")
        return .continue
    }
    try console.register("port action=start|stop <port>", section: "ports", help: "start or stop ports") { args in
        calls.log.append("port \(try args.keyword("action")) \(try args.port("port"))")
        return .continue
    }
    try console.register(
        "port config <port_id:uint16> udp_tunnel_port add|rm <type:vxlan|geneve> <udp_port:uint16>",
        section: "ports", help: "add or remove a UDP tunnel port"
    ) { args in
        let port = try args.uint16("port_id")
        if port == 9 { throw CommandFailure("port 9 is not stopped") }
        calls.log.append("tunnel \(port) \(try args.keyword(at: 4)) \(try args.keyword("type")) \(try args.uint16("udp_port"))")
        return .continue
    }
    try console.register("port name <port_id:uint16> <name:string>", section: "ports", help: "name a port") { args in
        calls.log.append("name \(try args.uint16("port_id")) \(try args.string("name"))")
        return .continue
    }
    try console.register("echo <text:rest>", help: "print the text") { args in
        args.print(try args.string("text"))
        return .continue
    }
    return (console, capture, calls)
}
