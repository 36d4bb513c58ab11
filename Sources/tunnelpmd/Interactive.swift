import Console
import Dataplane
import Foundation

/// The interactive mode (`-i`): the console on the main lcore, workers on the others.
enum Interactive {
    static func run(_ forwarder: Forwarder, arguments: Arguments) throws(DataplaneError) {
        let console = try makeConsole(forwarder)
        var stopNoticed = false
        console.checkSignals = {
            printRequestedStatistics(forwarder)
            guard let signal = Signals.pendingStop else { return .continue }
            if !stopNoticed { print(Signals.stopNotice(signal)) }
            stopNoticed = true
            return .quit
        }
        if arguments.autoStart {
            console.execute(forwarder.options.traffic.txFirst ? "start tx_first" : "start")
        }
        let history = ProcessInfo.processInfo.environment["HOME"].map { $0 + "/.tunnelpmd_history" }
        console.run(commandFile: arguments.commandFile, historyFile: history)
        if forwarder.isForwarding {
            let statistics = try forwarder.stopForwarding()
            print(statistics, terminator: "")
            print("\nDone.")
        }
    }

    /// `--cmdline-file` without `-i`: the file's commands run before forwarding starts.
    static func runFile(_ path: String, forwarder: Forwarder) throws(DataplaneError) {
        let console = try makeConsole(forwarder)
        console.checkSignals = {
            printRequestedStatistics(forwarder)
            return Signals.pendingStop == nil ? .continue : .quit
        }
        console.runCommandFile(path)
    }

    /// SIGUSR1: the forward statistics of the run so far; forwarding goes on.
    private static func printRequestedStatistics(_ forwarder: Forwarder) {
        if Signals.takeStatisticsRequest() { print(forwarder.forwardStatistics(), terminator: "") }
    }

    private static func makeConsole(_ forwarder: Forwarder) throws(DataplaneError) -> Console {
        let console = Console()
        do {
            try Commands(forwarder: forwarder).register(into: console)
        } catch {
            preconditionFailure("command table: \(error)")
        }
        return console
    }
}
