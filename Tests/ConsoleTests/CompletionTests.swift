import Testing
@testable import Console

@Suite struct CompletionTests {
    @Test func candidatesAtSeveralPositions() throws {
        let (console, _, _) = try makeConsole()
        #expect(console.completions(for: "").words
            == ["help", "quit", "start", "stop", "show", "clear", "set", "csum", "port", "echo"])
        #expect(console.completions(for: "s").words == ["start", "stop", "show", "set"])
        #expect(console.completions(for: "show ") == CompletionCandidates(words: ["port", "config"], hints: []))
        #expect(console.completions(for: "show port ").words == ["info", "stats", "xstats", "summary"])
        #expect(console.completions(for: "show port s").words == ["stats", "summary"])
        #expect(console.completions(for: "show port stats ") == CompletionCandidates(words: ["all"], hints: ["<port>"]))
        #expect(console.completions(for: "show port stats 0 ") == CompletionCandidates(words: [], hints: []))
        #expect(console.completions(for: "set fwd ") == CompletionCandidates(words: ["io", "mac"], hints: []))
        #expect(console.completions(for: "set burst ") == CompletionCandidates(words: [], hints: ["<n:uint:1-512>"]))
        #expect(console.completions(for: "set promisc 0 ").words == ["on", "off"])
        #expect(console.completions(for: "csum set ip ").words == ["hw", "sw"])
        #expect(console.completions(for: "port config 3 udp_tunnel_port ").words == ["add", "rm"])
        #expect(console.completions(for: "port config 3 udp_tunnel_port add ").words == ["vxlan", "geneve"])
        #expect(console.completions(for: "port config 3 udp_tunnel_port add vxlan ").hints == ["<udp_port:uint16>"])
        // An invalid earlier word (port id too large) means no command can continue.
        #expect(console.completions(for: "port config 70000 ") == CompletionCandidates(words: [], hints: []))
        #expect(console.completions(for: "frob ") == CompletionCandidates(words: [], hints: []))
        #expect(console.completions(for: "echo some ") == CompletionCandidates(words: [], hints: []))
    }

    @Test func helpCompletesCommandWordsAndSections() throws {
        let (console, _, _) = try makeConsole()
        #expect(console.completions(for: "help sh").words == ["show"])
        #expect(console.completions(for: "help show ").words == ["port", "config"])
        #expect(console.completions(for: "help c").words == ["clear", "csum", "control", "config"])
    }

    @Test func tabActions() throws {
        let (console, _, _) = try makeConsole()
        #expect(console.completionAction(for: "sh") == .insert("ow "))
        #expect(console.completionAction(for: "show p") == .insert("ort "))
        #expect(console.completionAction(for: "show port ") == .list(["info", "stats", "xstats", "summary"]))
        #expect(console.completionAction(for: "show port s") == .list(["stats", "summary"]))
        #expect(console.completionAction(for: "show port x") == .insert("stats "))
        #expect(console.completionAction(for: "st") == .list(["start", "stop"]))
        #expect(console.completionAction(for: "c") == .list(["clear", "csum"]))
        #expect(console.completionAction(for: "port config 1 udp") == .insert("_tunnel_port "))
        // `all` or a free port id: list both rather than forcing `all`.
        #expect(console.completionAction(for: "clear port stats ") == .list(["all", "<port>"]))
        #expect(console.completionAction(for: "clear port stats a") == .insert("ll "))
        #expect(console.completionAction(for: "set burst ") == .list(["<n:uint:1-512>"]))
        #expect(console.completionAction(for: "set burst 1") == .list(["<n:uint:1-512>"]))
        #expect(console.completionAction(for: "frob") == .none)
        #expect(console.completionAction(for: "set fwd io ") == .none)
    }

    @Test func commonPrefixExtends() throws {
        let console = Console(output: OutputCapture().output)
        try console.register("show port_stats", help: "x") { _ in .continue }
        try console.register("show port_info", help: "x") { _ in .continue }
        #expect(console.completionAction(for: "show p") == .insert("ort_"))
        #expect(console.completionAction(for: "show port_") == .list(["port_stats", "port_info"]))
    }

    @Test func columnsLayout() {
        #expect(EditLineReader.columns(["info", "stats", "xstats", "summary"])
            == ["info     stats    xstats   summary"])
        let many = (1...20).map { "word\($0)" }
        let rows = EditLineReader.columns(many, width: 40)
        #expect(rows.count == 4)
        #expect(rows[0] == "word1   word2   word3   word4   word5")
    }
}
