import Testing
@testable import Console

@Suite struct PatternTests {
    @Test func parsesEveryTokenKind() throws {
        let pattern = try CommandPattern(parsing:
            "port  config <port_id:uint16> udp_tunnel_port add|rm <type:vxlan|geneve> <udp_port:uint16>")
        #expect(pattern.tokens == [
            .keyword("port"), .keyword("config"),
            .placeholder(name: "port_id", type: .uint16(nil)),
            .keyword("udp_tunnel_port"),
            .alternatives(name: nil, words: ["add", "rm"]),
            .placeholder(name: "type", type: .oneOf(["vxlan", "geneve"])),
            .placeholder(name: "udp_port", type: .uint16(nil)),
        ])
        #expect(pattern.description
            == "port config <port_id:uint16> udp_tunnel_port add|rm <type:vxlan|geneve> <udp_port:uint16>")
    }

    @Test func typesAndRanges() throws {
        let pattern = try CommandPattern(parsing:
            "x <n:uint:1-512> <d:int:-10-10> <p> <q:port> <s> <on:onoff> <w:hwsw> <u16:uint16:1-4095> <t:rest>")
        #expect(pattern.tokens.dropFirst().map { token -> ArgumentType? in
            if case .placeholder(_, let type) = token { return type }
            return nil
        } == [.uint(1...512), .int(-10...10), .string, .port, .string, .onoff, .hwsw, .uint16(1...4095), .rest])
        // `<port>` implies the port type; `<s>` is a string.
        let implied = try CommandPattern(parsing: "clear port stats <port>")
        #expect(implied.tokens.last == .placeholder(name: "port", type: .port))
        #expect(implied.description == "clear port stats <port>")
    }

    @Test func namedAlternatives() throws {
        let pattern = try CommandPattern(parsing: "port action=start|stop <port>")
        #expect(pattern.tokens[1] == .alternatives(name: "action", words: ["start", "stop"]))
        #expect(pattern.description == "port start|stop <port>")
    }

    @Test(arguments: [
        ("", "empty pattern"),
        ("<port> show", "must start with a keyword, not <port>"),
        ("set <n:uint:9-1>", "empty range '9-1' in <n:uint:9-1>"),
        ("set <n:uint:a-b>", "bad range 'a-b' in <n:uint:a-b>; expected lo-hi"),
        ("set <n:float>", "unknown type 'float' in <n:float>; known: uint, uint16, int, string, port, onoff, hwsw, rest, or a|b|c"),
        ("set <n:uint", "unclosed or empty placeholder '<n:uint'"),
        ("set <>", "unclosed or empty placeholder '<>'"),
        ("set a||b", "empty alternative in 'a||b'"),
        ("set a|b|a", "repeated alternative in 'a|b|a'"),
        ("set <x:rest> more", "<x:rest> must be the last token"),
        ("set <x> <x:uint>", "duplicate argument name 'x'"),
        ("set <9x:uint>", "bad argument name '9x' in <9x:uint>"),
        ("set <p:port:1-5>", "a range only applies to numbers, in <p:port:1-5>"),
        ("set <m:a|b:1-2>", "a range only applies to numbers, in <m:a|b:1-2>"),
        ("set fo>o", "stray '<' or '>' in 'fo>o'"),
    ])
    func rejectsMalformed(pattern: String, reason: String) {
        #expect(throws: PatternError(pattern: pattern, reason: reason)) {
            try CommandPattern(parsing: pattern)
        }
    }

    @Test func registrationRejectsMalformedAndDuplicates() throws {
        let console = Console(output: OutputCapture().output)
        let error = #expect(throws: PatternError.self) {
            try console.register("set burst <n:uint:1-512", help: "x") { _ in .continue }
        }
        #expect(error?.description == "bad command pattern 'set burst <n:uint:1-512': unclosed or empty placeholder '<n:uint:1-512'")
        try console.register("start", help: "x") { _ in .continue }
        #expect(throws: PatternError(pattern: "start", reason: "already registered")) {
            try console.register("start", help: "again") { _ in .continue }
        }
        #expect(throws: PatternError(pattern: "help me", reason: "'help' is built in")) {
            try console.register("help me", help: "x") { _ in .continue }
        }
        // The built-in quit may be replaced by the application's.
        var quitRan = false
        try console.register("quit", help: "stop ports and exit") { _ in quitRan = true; return .quit }
        #expect(console.execute("quit") == .quit)
        #expect(quitRan)
        #expect(console.commands.commands.filter { $0.pattern.description == "quit" }.count == 1)
    }
}
