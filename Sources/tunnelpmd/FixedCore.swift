import Dataplane
import DPDK
import Glibc

/// The fixed-core mode: forward at once, print statistics every `statsPeriod` seconds, stop
/// on a stop signal (`Signals`) or after `stopAfter` seconds, then print the forward
/// statistics; SIGUSR1 prints them and forwarding goes on.
enum FixedCore {
    static func run(_ forwarder: Forwarder) throws(DataplaneError) {
        // A --cmdline-file may have started forwarding already: as testpmd, say so and go on.
        if forwarder.isForwarding {
            print("Packet forwarding already started")
        } else {
            try forwarder.startForwarding(txFirstBursts: forwarder.options.traffic.txFirst ? 1 : 0)
        }
        let options = forwarder.options
        print(forwarder.configuration)
        if let stopAfter = options.stopAfter {
            print("Forwarding for \(stopAfter) seconds; SIGINT or SIGTERM stops earlier. SIGUSR1 prints the statistics.")
        } else {
            print("Forwarding until SIGINT or SIGTERM. SIGUSR1 prints the statistics.")
        }
        let hz = Double(EAL.tscHz)
        let started = EAL.tsc
        var nextStats = options.statsPeriod > 0 ? Double(options.statsPeriod) : .infinity
        while Signals.pendingStop == nil {
            usleep(10_000)
            if Signals.takeStatisticsRequest() { print(forwarder.forwardStatistics(), terminator: "") }
            let elapsed = Double(EAL.tsc &- started) / hz
            if elapsed >= nextStats {
                printPeriodicStatistics(forwarder)
                nextStats += Double(options.statsPeriod)
            }
            if let stopAfter = options.stopAfter, elapsed >= stopAfter { break }
        }
        if let signal = Signals.pendingStop { print(Signals.stopNotice(signal)) }
        let statistics = try forwarder.stopForwarding()
        print(statistics, terminator: "")
        print("\nDone.")
    }

    /// testpmd's periodic block: every port's NIC statistics with rates.
    static func printPeriodicStatistics(_ forwarder: Forwarder) {
        print("\nPort statistics ====================================")
        for port in forwarder.ports {
            if let statistics = try? forwarder.nicStatistics(port.id) { print(statistics) }
        }
    }
}
