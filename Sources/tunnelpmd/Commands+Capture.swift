import Console
import Dataplane

/// `capture port <p> rx|tx|both <file.pcapng> [count <n>]`, `capture stop`, `capture show`:
/// pcapng captures written by a thread of their own (Sources/Dataplane/Capture.swift).
extension Commands {
    func registerCaptureCommands(into set: Console) throws(PatternError) {
        let detail = """
            capture port <port_id> rx|tx|both <file> [count <n>]
                Writes the packets the port receives (rx, after rx_burst) or is given to send (tx,
                before tx_burst) to a pcapng file, in every mode and on vnet tap ports. Each
                packet carries a comment with its offload metadata (ol_flags, tso_segsz, the six
                lengths, segments); super-frames are written whole. The forwarding lcores copy
                into a bounded ring; what does not fit is counted, never waited for. With a
                count the capture finishes by itself after n packets. One capture at a time.
            capture stop    disarms, writes what is queued, closes the file, prints the counters
            capture show    the running capture's counters
            """
        let start: (CommandArguments) throws -> CommandOutcome = { args in
            let direction = try args.choice("direction", as: CaptureRequest.Direction.self)
            let count = (try? args.uint("n")).map { UInt64($0) }
            if count == 0 { throw CaptureError("count must be at least 1") }
            let request = CaptureRequest(
                port: try args.uint16("port_id"), direction: direction, path: try args.string("file"), count: count)
            try forwarder.startCapture(request)
            args.print("Capture port \(request.port) \(direction.rawValue) to \(request.path) started")
            return .continue
        }
        try set.register(
            "capture port <port_id:uint16> <direction:rx|tx|both> <file:string>", section: "capture",
            help: "write the port's packets to a pcapng file", detail: detail, handler: start)
        try set.register(
            "capture port <port_id:uint16> <direction:rx|tx|both> <file:string> count <n:uint>",
            section: "capture", help: "write the port's next n packets to a pcapng file", detail: detail, handler: start)
        try set.register("capture stop", section: "capture", help: "stop the capture and close its file") { args in
            args.print(try forwarder.stopCapture().description)
            return .continue
        }
        try set.register("capture show", section: "capture", help: "the capture's counters") { args in
            args.print(forwarder.captureStatus?.description ?? "No capture")
            return .continue
        }
    }
}
