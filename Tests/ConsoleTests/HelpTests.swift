import Testing
@testable import Console

@Suite struct HelpTests {
    @Test func summaryIsOneAlignedLinePerCommandGroupedBySection() throws {
        let (console, capture, _) = try makeConsole()
        console.execute("help")
        let lines = capture.lines
        let rows = lines.filter { $0.hasPrefix("  ") }
        // Every command appears exactly once, on one line.
        #expect(rows.count == console.commands.commands.count)
        for command in console.commands.commands {
            let pattern = "  " + command.pattern.description
            let matching = rows.filter { row in
                row.hasPrefix(pattern) && row.dropFirst(pattern.count).drop(while: { $0 == " " }) == command.help
            }
            #expect(matching.count == 1, "\(pattern)")
        }
        // Ungrouped commands first, then the sections in registration order.
        #expect(lines[0] == "  echo <text:rest>                            print the text")
        #expect(lines.filter { $0.hasSuffix(":") } == ["control:", "display:", "config:", "ports:"])
        #expect(lines.contains("  set burst <n:uint:1-512>                    set packets per burst"))
        #expect(lines.contains("  quit                                        exit the console"))
        // Help texts start in one column, except where a pattern is longer than the limit.
        let helpColumn = "  show port info|stats|xstats|summary <port>  ".count
        for command in console.commands.commands where command.pattern.description.count <= CommandSet.helpColumnLimit {
            let row = rows.first { $0.hasPrefix("  " + command.pattern.description + " ") && $0.hasSuffix(command.help) }
            #expect(row.map { String($0.dropFirst(helpColumn)) } == command.help)
        }
        #expect(rows.contains("  csum set <proto:ip|udp> <where:hwsw> <port_id:uint16>  checksum offload"))
    }

    @Test func detailForCommandWords() throws {
        let (console, capture, _) = try makeConsole()
        console.execute("help show port")
        #expect(capture.lines == [
            "show port info|stats|xstats|summary <port>",
            "    Display information, statistics or extended statistics",
            "    of a port id, or of all ports.",
        ])
        capture.clear()
        console.execute("help set burst")
        #expect(capture.lines == ["set burst <n:uint:1-512>", "    set packets per burst"])
        capture.clear()
        console.execute("help port")
        #expect(capture.lines.filter { !$0.hasPrefix(" ") && !$0.isEmpty }
            == ["port start|stop <port>",
                "port config <port_id:uint16> udp_tunnel_port add|rm <type:vxlan|geneve> <udp_port:uint16>",
                "port name <port_id:uint16> <name>"])
        capture.clear()
        console.execute("help frob")
        #expect(capture.text == "help: no command matches 'frob'; type 'help' for the list\n")
    }

    @Test func sectionListing() throws {
        let (console, capture, _) = try makeConsole()
        console.execute("help ports")
        #expect(capture.lines == [
            "ports:",
            "  port start|stop <port>             start or stop ports",
            "  port config <port_id:uint16> udp_tunnel_port add|rm <type:vxlan|geneve> <udp_port:uint16>  add or remove a UDP tunnel port",
            "  port name <port_id:uint16> <name>  name a port",
        ])
    }
}
