/// Memory a header view can sit on. Views are generic over it so one definition serves
/// both read-only parsing (`UnsafeRawBufferPointer`) and in-place edits
/// (`UnsafeMutableRawBufferPointer`); both specialise away at compile time.
public protocol WireStorage {
    var wireBytes: UnsafeRawBufferPointer { get }
}

public protocol MutableWireStorage: WireStorage {
    var wireMutableBytes: UnsafeMutableRawBufferPointer { get }
}

extension UnsafeRawBufferPointer: WireStorage {
    @inlinable public var wireBytes: UnsafeRawBufferPointer { self }
}

extension UnsafeMutableRawBufferPointer: MutableWireStorage {
    @inlinable public var wireBytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(self) }
    @inlinable public var wireMutableBytes: UnsafeMutableRawBufferPointer { self }
}

// Big-endian field access. Callers have checked the length once (at view construction),
// so these use unchecked loads; debug builds still trap on a bad offset.
extension UnsafeRawBufferPointer {
    @inlinable func u8(_ offset: Int) -> UInt8 {
        load(fromByteOffset: offset, as: UInt8.self)
    }
    @inlinable func be16(_ offset: Int) -> UInt16 {
        UInt16(bigEndian: loadUnaligned(fromByteOffset: offset, as: UInt16.self))
    }
    @inlinable func be32(_ offset: Int) -> UInt32 {
        UInt32(bigEndian: loadUnaligned(fromByteOffset: offset, as: UInt32.self))
    }
    @inlinable func be64(_ offset: Int) -> UInt64 {
        UInt64(bigEndian: loadUnaligned(fromByteOffset: offset, as: UInt64.self))
    }
    @inlinable func le16(_ offset: Int) -> UInt16 {
        UInt16(littleEndian: loadUnaligned(fromByteOffset: offset, as: UInt16.self))
    }
    @inlinable func le32(_ offset: Int) -> UInt32 {
        UInt32(littleEndian: loadUnaligned(fromByteOffset: offset, as: UInt32.self))
    }
    /// The bytes `[offset, offset + count)`; caller guarantees the range is inside.
    @inlinable @inline(__always) func slice(_ offset: Int, _ count: Int) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: self[offset ..< offset + count])
    }
    /// The bytes from `offset` to the end; caller guarantees `offset <= count`.
    @inlinable @inline(__always) func tail(_ offset: Int) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: self[offset...])
    }
}

extension UnsafeMutableRawBufferPointer {
    @inlinable func setU8(_ offset: Int, _ value: UInt8) {
        storeBytes(of: value, toByteOffset: offset, as: UInt8.self)
    }
    @inlinable func setBE16(_ offset: Int, _ value: UInt16) {
        storeBytes(of: value.bigEndian, toByteOffset: offset, as: UInt16.self)
    }
    @inlinable func setBE32(_ offset: Int, _ value: UInt32) {
        storeBytes(of: value.bigEndian, toByteOffset: offset, as: UInt32.self)
    }
    @inlinable func setBE64(_ offset: Int, _ value: UInt64) {
        storeBytes(of: value.bigEndian, toByteOffset: offset, as: UInt64.self)
    }
    @inlinable func setLE16(_ offset: Int, _ value: UInt16) {
        storeBytes(of: value.littleEndian, toByteOffset: offset, as: UInt16.self)
    }
    @inlinable func setLE32(_ offset: Int, _ value: UInt32) {
        storeBytes(of: value.littleEndian, toByteOffset: offset, as: UInt32.self)
    }
    @inlinable func mutableSlice(_ offset: Int, _ count: Int) -> UnsafeMutableRawBufferPointer {
        UnsafeMutableRawBufferPointer(rebasing: self[offset ..< offset + count])
    }
    /// Copies `source` to `offset`; caller guarantees it fits.
    @inlinable func copy(_ source: UnsafeRawBufferPointer, to offset: Int) {
        guard source.count > 0 else { return }
        (baseAddress! + offset).copyMemory(from: source.baseAddress!, byteCount: source.count)
    }
}

/// Builders check their output buffer with this before writing anything.
@inlinable
func requireSpace(_ buffer: UnsafeMutableRawBufferPointer, _ needed: Int, _ layer: WireError.Layer)
    throws(WireError)
{
    guard buffer.count >= needed else {
        throw WireError(layer, .bufferTooSmall, needed: needed, available: buffer.count)
    }
}

/// Views check their input with this once, in their initialiser.
@inlinable @inline(__always)
func requireBytes(_ buffer: UnsafeRawBufferPointer, _ needed: Int, _ layer: WireError.Layer)
    throws(WireError)
{
    guard buffer.count >= needed else {
        throw WireError(layer, .truncated, needed: needed, available: buffer.count)
    }
}
