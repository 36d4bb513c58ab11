// libFuzzer entry for the virtio-net header decoder and validator. The first byte picks
// the format and the negotiated offloads; the header comes next and the frame follows it.
// Compiled in one module with Sources/Wire/*.swift, so Wire's declarations (internal
// helpers too) are in scope without an import.

#if canImport(Glibc)
import Glibc
#endif

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzVirtio(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size >= 1 else { return 0 }
    let selector = data[0]
    let input = UnsafeRawBufferPointer(start: data + 1, count: size - 1)
    let format: VirtioNetHeader.Format = [.v1, .hash, .tunnel][Int(selector % 3)]
    let offloads = VirtioNetTunnelOffloads(rawValue: (selector >> 2) & 3)
    let receiving = selector & 0x10 != 0
    guard let header = try? VirtioNetHeader.decode(input, format: format) else { return 0 }
    let frame = UnsafeRawBufferPointer(rebasing: input[format.length...])
    _ = try? header.validate(offloads: offloads, frame: frame, receiving: receiving)

    // Encode/decode round trip must be exact whenever encoding is allowed.
    let out = UnsafeMutableRawBufferPointer.allocate(byteCount: format.length, alignment: 1)
    defer { out.deallocate() }
    if (try? header.encode(into: out, format: format)) != nil {
        let again = try! VirtioNetHeader.decode(UnsafeRawBufferPointer(out), format: format)
        if again != header {
            print("virtio-net header round trip differs")
            abort()
        }
    }
    if selector & 0x20 != 0, let draft = try? VirtioNetHeader.decodeDraft(input, frame: frame) {
        _ = try? draft.validate(offloads: [.udpTunnelGSO, .udpTunnelGSOChecksum], frame: frame)
    }
    return 0
}
