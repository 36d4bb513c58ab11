import CDPDK
import DPDK
import Offload
import VnetTap

/// Errors a user can act on, each naming what was wrong.
public enum DataplaneError: Error, CustomStringConvertible, Equatable {
    case option(OptionError)
    case dpdk(DPDKError)
    case portSetup(port: UInt16, DPDKError)
    case noPorts
    case noWorkerLcores
    case invalidPort(UInt16, valid: [UInt16])
    case forwardingActive
    case forwardingNotActive
    case portsStopped([UInt16])
    case portsStarted([UInt16])
    /// The port cannot do what was asked (a vnet tap, a driver that reports nothing).
    case portCapability(String)
    case portNotStopped(UInt16)
    case unsupportedOffload(port: UInt16, offload: String, capabilities: TxOffloads)
    case tunnelPort(String)
    case tap(String)
    case unsupportedTxOffload(port: UInt16, offload: String, capabilities: TxOffloads)
    case unsupportedRxOffload(port: UInt16, offload: String, capabilities: RxOffloads)

    public var description: String {
        switch self {
        case .option(let error): return error.description
        case .dpdk(let error): return error.description
        case .portSetup(let port, let error): return "port \(port): \(error)"
        case .noPorts:
            return "no ethdev ports: give EAL a device, e.g. --vdev net_null0 --vdev net_null1, or a PCI address with -a"
        case .noWorkerLcores:
            return "no forwarding lcore: give EAL at least two lcores (e.g. -l 0-1); the first one runs the console"
        case .invalidPort(let id, let valid):
            return "invalid port \(id); valid ports: \(valid.map(String.init).joined(separator: ", "))"
        case .forwardingActive: return "packet forwarding is active; stop it first"
        case .forwardingNotActive: return "packet forwarding is not active"
        case .portNotStopped(let id): return "port \(id) is started; stop it first (port stop \(id))"
        case .unsupportedOffload(let port, let offload, let capabilities):
            let names = capabilities.names
            return "port \(port) cannot do \(offload) checksum in hardware; allowed: sw"
                + " (tx offload capabilities: \(names.isEmpty ? "none" : names.joined(separator: " ")))"
        case .tunnelPort(let message): return message
        case .tap(let message): return message
        case .unsupportedTxOffload(let port, let offload, let capabilities):
            let names = capabilities.names.map { $0.lowercased() }
            return "port \(port) does not offer tx offload \(offload); allowed: \(names.isEmpty ? "none" : names.joined(separator: ", "))"
        case .unsupportedRxOffload(let port, let offload, let capabilities):
            let names = capabilities.names.map { $0.lowercased() }
            return "port \(port) does not offer rx offload \(offload); allowed: \(names.isEmpty ? "none" : names.joined(separator: ", "))"
        case .portCapability(let message): return message
        case .portsStarted(let ports):
            return "port(s) \(ports.map(String.init).joined(separator: ", ")) started; stop them first (port stop all)"
        case .portsStopped(let ports):
            return "port(s) \(ports.map(String.init).joined(separator: ", ")) stopped; start them first (port start all)"
        }
    }
}
