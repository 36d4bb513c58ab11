import Foundation
import TestSupport
import XCTest

/// A network namespace holding one tap (vtap0, vnet_hdr) that is up, with no address and IPv6
/// off, so the kernel sends nothing of its own on it. `remove` ends every process left in the
/// namespace by pid and deletes it; it is safe to call more than once.
struct TapNamespace {
    let name: String

    init(_ name: String) throws {
        self.name = name
        remove()
        for command in [
            ["ip", "netns", "add", name],
            ["ip", "netns", "exec", name, "ip", "tuntap", "add", "mode", "tap", "name", "vtap0", "vnet_hdr"],
            ["ip", "netns", "exec", name, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1"],
            ["ip", "-n", name, "link", "set", "vtap0", "up"],
        ] {
            let result = try Command.run("/usr/bin/env", command)
            XCTAssertEqual(result.status, 0, "\(command): \(result.output)")
        }
    }

    func remove() {
        guard FileManager.default.fileExists(atPath: "/var/run/netns/\(name)") else { return }
        if let pids = try? Command.run("/usr/bin/env", ["ip", "netns", "pids", name]).output {
            for pid in pids.split(separator: "\n").compactMap({ Int32($0) }) { kill(pid, SIGKILL) }
        }
        _ = try? Command.run("/usr/bin/env", ["ip", "netns", "del", name])
    }
}
