// Errors a handler throws to report a failure to the user without ending the loop.

/// An error whose message the console prints as `<command>: <message>`.
/// Errors not conforming are printed with `String(describing:)`.
public protocol ConsoleError: Error {
    var message: String { get }
}

/// A plain message, for handlers that have nothing more structured to throw.
public struct CommandFailure: ConsoleError, Equatable {
    public let message: String

    public init(_ message: String) {
        self.message = message
    }
}
