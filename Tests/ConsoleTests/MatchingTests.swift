import Testing
@testable import Console

@Suite struct MatchingTests {
    @Test func typedArguments() throws {
        let (console, capture, calls) = try makeConsole()
        let lines = [
            "show port stats 0",
            "   show   port    xstats   all   ",
            "show port info 0x10",
            "clear port stats all",
            "set fwd mac",
            "set verbose 3",
            "set burst 1",
            "set burst 512",
            "set promisc all off",
            "set promisc 1 on",
            "csum set udp hw 2",
            "set offset -100",
            "port stop 65535",
            "port config 1 udp_tunnel_port rm geneve 6081",
            "port name 3 uplink",
            "show config fwd",
        ]
        for line in lines { #expect(console.execute(line) == .continue) }
        #expect(calls.log == [
            "show stats 0", "show xstats all", "show info 16", "clear all", "fwd mac", "verbose 3",
            "burst 1", "burst 512", "promisc all false", "promisc 1 true", "csum udp hw 2", "offset -100",
            "port stop 65535", "tunnel 1 rm geneve 6081", "name 3 uplink", "show config fwd",
        ])
        #expect(capture.text == "Set mac packet forwarding mode\n")
    }

    @Test func restKeepsInnerSpacing() throws {
        let (console, capture, _) = try makeConsole()
        console.execute("echo  hello   there  world  ")
        #expect(capture.text == "hello   there  world\n")
    }

    @Test func blankAndCommentLinesAreIgnored() throws {
        let (console, capture, calls) = try makeConsole()
        for line in ["", "   ", "\t", "# set fwd mac", "   #start"] { #expect(console.execute(line) == .continue) }
        #expect(capture.text.isEmpty)
        #expect(calls.log.isEmpty)
    }

    @Test(arguments: [
        ("frob", "unknown command 'frob'; type 'help' for the list"),
        ("frob fwd io", "unknown command 'frob'; type 'help' for the list"),
        ("show port foo 0", "show port: unknown 'foo'; expected one of: info, stats, xstats, summary"),
        ("show foo", "show: unknown 'foo'; expected one of: port, config"),
        ("set fwd foo", "set fwd: bad value 'foo' for <mode>; allowed: io, mac"),
        ("set burst 600", "set burst: bad value '600' for <n>; allowed: 1-512"),
        ("set burst 0", "set burst: bad value '0' for <n>; allowed: 1-512"),
        ("set burst 99999999999999999999999", "set burst: bad value '99999999999999999999999' for <n>; allowed: 1-512"),
        ("set burst ten", "set burst: bad value 'ten' for <n>; expected an unsigned integer"),
        ("set verbose -1", "set verbose: bad value '-1' for <level>; expected an unsigned integer"),
        ("set offset 101", "set offset: bad value '101' for <delta>; allowed: -100-100"),
        ("set offset x", "set offset: bad value 'x' for <delta>; expected an integer"),
        ("show port stats 70000", "show port stats: bad value '70000' for <port>; allowed: 0-65535"),
        ("show port stats any", "show port stats: bad value 'any' for <port>; expected a port id or 'all'"),
        ("set promisc 0 maybe", "set promisc: bad value 'maybe' for <on>; allowed: on, off"),
        ("csum set udp both 0", "csum set: bad value 'both' for <where>; allowed: hw, sw"),
        ("port config 1 udp_tunnel_port add vxlan 65536", "port config: bad value '65536' for <udp_port>; allowed: 0-65535"),
        ("port config 1 udp_tunnel_port del vxlan 1", "port config: unknown 'del'; expected one of: add, rm"),
        ("set fwd", "set fwd: missing <mode>; allowed: io, mac"),
        ("set burst", "set burst: missing <n>"),
        ("show port", "show port: missing argument; expected one of: info, stats, xstats, summary"),
        ("set", "set: missing argument; expected one of: fwd, verbose, burst, promisc, offset"),
        ("set fwd io now", "set fwd: unexpected 'now' after the end of the command"),
        ("port config 9 udp_tunnel_port add vxlan 4789", "port config: port 9 is not stopped"),
    ])
    func errorMessages(line: String, message: String) throws {
        let (console, capture, calls) = try makeConsole()
        #expect(console.execute(line) == .continue)
        #expect(capture.text == message + "\n")
        #expect(calls.log.isEmpty)
    }

    @Test func literalBeatsPlaceholder() throws {
        let capture = OutputCapture()
        let console = Console(output: capture.output)
        var seen: [String] = []
        try console.register("show port stats <port>", help: "one") { _ in seen.append("placeholder"); return .continue }
        try console.register("show port stats all", help: "all") { _ in seen.append("literal"); return .continue }
        console.execute("show port stats all")
        console.execute("show port stats 1")
        #expect(seen == ["literal", "placeholder"])
    }

    @Test func lookupMistakesAreReportedNotFatal() throws {
        let capture = OutputCapture()
        let console = Console(output: capture.output)
        try console.register("set fwd <mode:io|mac>", help: "x") { args in
            _ = try args.uint("mode")
            return .continue
        }
        try console.register("set level <n:uint>", help: "x") { args in
            _ = try args.port("missing")
            return .continue
        }
        try console.register("set thing", help: "x") { args in
            _ = try args.keyword(at: 7)
            return .continue
        }
        struct Plain: Error {}
        try console.register("fail", help: "x") { _ in throw Plain() }
        console.execute("set fwd io")
        console.execute("set level 1")
        console.execute("set thing")
        console.execute("fail")
        #expect(capture.lines == [
            "set fwd: <mode> is a keyword, not a uint",
            "set level: no argument <missing> in 'set level <n:uint>' (asked for port)",
            "set thing: no keyword at position 7 of 'set thing'",
            "fail: Plain()",
        ])
    }

    @Test func choiceConvertsToCallerEnum() throws {
        enum Mode: String { case io, mac }
        let console = Console(output: OutputCapture().output)
        var mode: Mode?
        try console.register("set fwd <mode:io|mac>", help: "x") { args in
            mode = try args.choice("mode", as: Mode.self)
            return .continue
        }
        console.execute("set fwd mac")
        #expect(mode == .mac)
    }
}
