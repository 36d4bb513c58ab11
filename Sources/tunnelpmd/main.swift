import CDPDK
import Console
import Dataplane
import DPDK
import Glibc

// Line-buffered stdout: statistics and console output reach pipes and logs as they happen.
cdpdk_stdout_line_buffered()
// A vhost-user peer or a pipe that closes must cost an error return, never the process.
signal(SIGPIPE, SIG_IGN)
// Stop and statistics signals, first thing (see Signals): they replace the Swift runtime's
// SIGQUIT backtrace, and are blocked until the mode runs so every thread EAL starts keeps
// them blocked and the main thread alone takes them.
Signals.install()
Signals.blockInThisThread()

func fail(_ message: String, code: Int32) -> Never {
    cdpdk_stderr_write("tunnelpmd: \(message)\n")
    exit(code)
}

var arguments: Arguments
do {
    arguments = try Arguments.parse(Array(CommandLine.arguments.dropFirst()))
} catch {
    fail("\(error) (see tunnelpmd -- --help)", code: 2)
}
if arguments.showHelp {
    print(Arguments.usage)
    exit(0)
}

var options = ForwardingOptions()
var ealArguments = arguments.ealArguments
if let path = arguments.configFile {
    do {
        let config = try RunConfiguration.load(path: path)
        options = config.forwarding
        ealArguments = EALArguments.merge(file: config.ealArguments, commandLine: ealArguments)
    } catch {
        fail("\(error)", code: 2)
    }
}
for override in arguments.overrides { override(&options) }
do {
    try options.validate()
    try EALArguments.validateFilePrefix(ealArguments)
} catch {
    fail("\(error)", code: 2)
}
// A command file that cannot be read is a bad argument: said before EAL starts.
if let path = arguments.commandFile {
    do { _ = try StreamLineReader(path: path) } catch { fail("invalid cmdline-file: \(error.message)", code: 2) }
}

do {
    try EAL.initialize(arguments: [CommandLine.arguments[0]] + ealArguments)
} catch {
    fail("\(error); EAL arguments were: \(ealArguments.joined(separator: " "))", code: 1)
}

// rte_pdump: dpdk-dumpcap / dpdk-pdump attach as secondary processes and capture the ethdev
// ports. Needs the EAL's shared memory and IPC: with --no-shconf (and in practice --no-huge)
// there is no IPC and the call fails; that is not an error for tunnelpmd, so it stays quiet.
let pdumpReady = cdpdk_pdump_init() == 0
let exitCode: Int32
do {
    let forwarder = try Forwarder(options: options)
    // `/tunnelpmd/...` in DPDK telemetry (dpdk-telemetry.py -f <file-prefix>), from now on.
    Telemetry.attach(forwarder)
    for request in arguments.captures { try forwarder.startCapture(request) }
    Signals.unblockInThisThread()
    if arguments.interactive {
        try Interactive.run(forwarder, arguments: arguments)
    } else {
        if let file = arguments.commandFile { try Interactive.runFile(file, forwarder: forwarder) }
        try FixedCore.run(forwarder)
    }
    Telemetry.detach(forwarder)
    forwarder.shutdown()
    exitCode = 0
} catch {
    cdpdk_stderr_write("tunnelpmd: \(error)\n")
    // A bad option only EAL's ports could judge (nb-cores, gso-ports) is still a bad option.
    if case .option? = (error as any Error) as? DataplaneError { exitCode = 2 } else { exitCode = 1 }
}
if pdumpReady { _ = cdpdk_pdump_uninit() }
EAL.cleanup()
print("\nBye...")
exit(exitCode)
