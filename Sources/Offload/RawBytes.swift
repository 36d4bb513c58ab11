import Wire

/// Copies a header block (tens to a few hundred bytes) inline: for such sizes a call to
/// memcpy costs more than the copy.
@inline(__always) func copyHeaders(_ destination: UnsafeMutableRawPointer, _ source: UnsafeRawPointer, _ count: Int) {
    var offset = 0
    while offset &+ 16 <= count {
        let chunk = source.loadUnaligned(fromByteOffset: offset, as: SIMD16<UInt8>.self)
        destination.storeBytes(of: chunk, toByteOffset: offset, as: SIMD16<UInt8>.self)
        offset &+= 16
    }
    while offset &+ 4 <= count {
        destination.storeBytes(of: source.loadUnaligned(fromByteOffset: offset, as: UInt32.self), toByteOffset: offset, as: UInt32.self)
        offset &+= 4
    }
    while offset < count {
        destination.storeBytes(of: source.load(fromByteOffset: offset, as: UInt8.self), toByteOffset: offset, as: UInt8.self)
        offset &+= 1
    }
}
