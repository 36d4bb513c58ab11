// swift-tools-version:6.1
// tunnelpmd: a DPDK poll-mode tunnel dataplane in Swift.
//
// DPDK is found through pkg-config at manifest time. SwiftPM cannot read Debian's libdpdk.pc
// itself and drops `-include rte_config.h` / `-march=` as prohibited flags, so the flags are
// passed with unsafeFlags: C flags to the shim, `-Xcc` flags to every Swift target that imports
// the shim, and `-Wl,a,b` rewritten as `-Xlinker a -Xlinker b`.
//
// TUNNELPMD_WIRE_ONLY=1 declares only the Wire module and its tests: it builds and tests on a
// machine without DPDK, which is how Wire proves it imports nothing of DPDK.
import Foundation
import PackageDescription

let wireOnly = ProcessInfo.processInfo.environment["TUNNELPMD_WIRE_ONLY"] == "1"

func pkgConfig(_ args: String...) -> [String]? {
    for dir in ["/usr/bin", "/usr/local/bin", "/bin"] {
        let tool = dir + "/pkg-config"
        guard FileManager.default.isExecutableFile(atPath: tool) else { continue }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = args
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch { return nil }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { return nil }
        return String(decoding: data, as: UTF8.self).split(whereSeparator: { $0 == " " || $0 == "\n" }).map(String.init)
    }
    return nil
}

let missingDPDK = """
    tunnelpmd needs DPDK 22.11 development files, found through pkg-config (libdpdk.pc).
    Install them with:  apt-get install -y dpdk dpdk-dev libdpdk-dev libnuma-dev pkg-config libpcap-dev libedit-dev
    (or run `make deps`). To build only the DPDK-free Wire module: TUNNELPMD_WIRE_ONLY=1 swift build --target Wire
    """

// Split "-include rte_config.h" pairs stay together; everything else is one flag.
func dpdkFlags() -> (cFlags: [String], swiftFlags: [String], linkerFlags: [String]) {
    guard let cflags = pkgConfig("--cflags", "libdpdk"), let libs = pkgConfig("--libs", "libdpdk") else {
        fatalError(missingDPDK)
    }
    var swiftFlags: [String] = []
    for flag in cflags { swiftFlags += ["-Xcc", flag] }
    var linker: [String] = []
    for flag in libs {
        if flag.hasPrefix("-Wl,") {
            for part in flag.dropFirst(4).split(separator: ",") { linker += ["-Xlinker", String(part)] }
        } else {
            linker.append(flag)
        }
    }
    // rte_vdev_init (vdevs made at run time, as the tests do) lives in a bus driver library
    // that libdpdk.pc does not list.
    linker.append("-lrte_bus_vdev")
    return (cflags, swiftFlags, linker)
}

let swiftSettings: [SwiftSetting] = []

// The AVX2 builds of the checksum loop and of the coalescer's masked header compare: Swift has
// no per-function target attribute, so this module alone is compiled for x86-64-v3 (LLVM's
// "haswell": AVX2, BMI1/2, FMA, F16C, LZCNT, MOVBE). Wire and Offload call it only where CCPU
// found the CPU and the OS support that level.
#if arch(x86_64)
let v3Settings: [SwiftSetting] = swiftSettings + [.unsafeFlags(["-target-cpu", "haswell"])]
#else
let v3Settings: [SwiftSetting] = swiftSettings
#endif

var targets: [Target] = [
    .target(name: "CCPU", path: "CShims/CCPU", cSettings: [.unsafeFlags(["-O2"])]),
    .target(name: "ChecksumKernel", path: "Sources/ChecksumKernel", swiftSettings: swiftSettings),
    .target(
        name: "ChecksumKernelV3", dependencies: ["ChecksumKernel"], path: "Sources/ChecksumKernelV3",
        swiftSettings: v3Settings),
    .target(
        name: "Wire", dependencies: ["CCPU", "ChecksumKernel", "ChecksumKernelV3"], path: "Sources/Wire",
        swiftSettings: swiftSettings),
    // The shared frame builder and pcap files for every test target; DPDK-free, so Wire's tests
    // use it in the Wire-only build too.
    .target(name: "FrameSupport", dependencies: ["Wire"], path: "Tests/FrameSupport"),
    .testTarget(
        name: "WireTests", dependencies: ["Wire", "FrameSupport", "CCPU", "ChecksumKernel", "ChecksumKernelV3"],
        path: "Tests/WireTests"),
]
var products: [Product] = [.library(name: "Wire", targets: ["Wire"])]
var dependencies: [Package.Dependency] = []

if !wireOnly {
    let dpdk = dpdkFlags()
    let dpdkSwift: [SwiftSetting] = swiftSettings + [.unsafeFlags(dpdk.swiftFlags)]
    let dpdkLink: [LinkerSetting] = [.unsafeFlags(dpdk.linkerFlags)]
    dependencies += [
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.1"),
    ]
    products += [.executable(name: "tunnelpmd", targets: ["tunnelpmd"])]
    targets += [
        .target(
            name: "CDPDK", path: "CShims/CDPDK",
            cSettings: [.unsafeFlags(dpdk.cFlags + ["-O2"])],
            linkerSettings: dpdkLink),
        .systemLibrary(name: "CEditLine", path: "CShims/CEditLine"),
        .target(name: "DPDK", dependencies: ["CDPDK"], path: "Sources/DPDK", swiftSettings: dpdkSwift),
        // The kernel tap port's ioctls and setns (Sources/VnetTap).
        .target(name: "CTap", path: "CShims/CTap"),
        .target(
            name: "Offload", dependencies: ["DPDK", "CDPDK", "Wire", "CCPU", "ChecksumKernelV3"],
            path: "Sources/Offload", swiftSettings: dpdkSwift),
        // The kernel tap port with the 24-byte virtio-net header.
        .target(
            name: "VnetTap", dependencies: ["DPDK", "CDPDK", "Wire", "Offload", "CTap"], path: "Sources/VnetTap",
            swiftSettings: dpdkSwift),
        .target(
            name: "Dataplane", dependencies: ["DPDK", "CDPDK", "Wire", "Offload", "VnetTap", "Yams"],
            path: "Sources/Dataplane", swiftSettings: dpdkSwift),
        // Console is a generic grammar + line editor; the commands are bound in the executable.
        .target(name: "Console", dependencies: ["CEditLine"], path: "Sources/Console"),
        .executableTarget(
            name: "tunnelpmd", dependencies: ["Console", "Dataplane", "VnetTap", "Offload", "DPDK", "CDPDK"],
            path: "Sources/tunnelpmd", swiftSettings: dpdkSwift, linkerSettings: dpdkLink),
        // One EAL per test process: the fixture every DPDK-using test target shares.
        .target(
            name: "TestSupport", dependencies: ["DPDK", "CDPDK", "FrameSupport"], path: "Tests/TestSupport",
            swiftSettings: dpdkSwift),
        .testTarget(
            name: "DPDKTests", dependencies: ["DPDK", "CDPDK", "TestSupport", "FrameSupport"], path: "Tests/DPDKTests",
            swiftSettings: dpdkSwift, linkerSettings: dpdkLink),
        // A NIC's transmit in software, from mbuf metadata alone: an oracle for tests only.
        .target(
            name: "NICModelSupport", dependencies: ["Offload", "DPDK", "CDPDK", "Wire"], path: "Tests/NICModelSupport",
            swiftSettings: dpdkSwift),
        .testTarget(
            name: "OffloadTests",
            dependencies: [
                "Offload", "Wire", "DPDK", "CDPDK", "TestSupport", "FrameSupport", "NICModelSupport", "GROBaseline", "CCPU",
                "ChecksumKernelV3",
            ],
            path: "Tests/OffloadTests", swiftSettings: dpdkSwift, linkerSettings: dpdkLink),
        .testTarget(
            name: "DataplaneTests", dependencies: ["Dataplane", "VnetTap", "Offload", "DPDK", "CDPDK", "TestSupport", "FrameSupport"],
            path: "Tests/DataplaneTests", swiftSettings: dpdkSwift, linkerSettings: dpdkLink),
        .testTarget(name: "ConsoleTests", dependencies: ["Console"], path: "Tests/ConsoleTests"),
        .testTarget(
            name: "InteropTests", dependencies: ["TestSupport", "FrameSupport"], path: "Tests/InteropTests",
            swiftSettings: dpdkSwift, linkerSettings: dpdkLink),
        // The vhost-user side for tests: injects TSO super-frames toward a virtio_user port.
        .executableTarget(
            name: "vhost-peer", dependencies: ["DPDK", "CDPDK", "Wire"], path: "Tools/vhost-peer",
            swiftSettings: dpdkSwift, linkerSettings: dpdkLink),
        // Benchmarks (make bench): Swift beside DPDK's C in one process.
        // librte_gso plus a software checksum fix-up: the C baseline the Swift GSO is measured against.
        .target(
            name: "GSOBaseline", dependencies: ["CDPDK"], path: "Tools/bench/gso-baseline",
            cSettings: [.unsafeFlags(dpdk.cFlags + ["-O3"])], linkerSettings: dpdkLink),
        .executableTarget(
            name: "gso-bench", dependencies: ["Offload", "Wire", "DPDK", "CDPDK", "GSOBaseline"],
            path: "Tools/bench/gso", swiftSettings: dpdkSwift, linkerSettings: dpdkLink),
        // librte_gro (lightweight and heavyweight): the C baseline of the Swift coalescer, in
        // the bench and in the differential test.
        .target(
            name: "GROBaseline", dependencies: ["CDPDK"], path: "Tools/bench/gro-baseline",
            cSettings: [.unsafeFlags(dpdk.cFlags + ["-O3"])], linkerSettings: dpdkLink),
        // GSOBaseline only for its malloc counter.
        .executableTarget(
            name: "gro-bench", dependencies: ["Offload", "Wire", "DPDK", "CDPDK", "GROBaseline", "GSOBaseline"],
            path: "Tools/bench/gro", swiftSettings: dpdkSwift, linkerSettings: dpdkLink),
        .executableTarget(
            name: "cksum-bench", dependencies: ["Wire", "CDPDK", "CCPU", "ChecksumKernel", "ChecksumKernelV3"], path: "Tools/bench/cksum",
            swiftSettings: dpdkSwift, linkerSettings: dpdkLink),
    ]
}

let package = Package(
    name: "tunnelpmd",
    products: products,
    dependencies: dependencies,
    targets: targets,
    swiftLanguageModes: [.v6]
)
