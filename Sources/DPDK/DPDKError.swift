import CDPDK

/// A failed DPDK call: what was attempted and rte_errno's (or the return code's) text.
public struct DPDKError: Error, CustomStringConvertible, Equatable, Sendable {
    public let operation: String
    public let code: Int32

    public init(_ operation: String, code: Int32) {
        self.operation = operation
        self.code = code < 0 ? -code : code
    }

    /// For calls that report failure through rte_errno.
    public static func errno(_ operation: String) -> DPDKError {
        DPDKError(operation, code: cdpdk_errno())
    }

    public var message: String { String(cString: rte_strerror(code)) }
    public var description: String { "\(operation): \(message) (errno \(code))" }
}

/// Calls returning 0 on success and a negative errno on failure.
@inline(__always)
func check(_ result: Int32, _ operation: @autoclosure () -> String) throws(DPDKError) {
    if result < 0 { throw DPDKError(operation(), code: result) }
}
