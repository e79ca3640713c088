import SessionModel

/// What kind of failure a driver met; the engine and the CLI match on this, never on a backend.
///
/// An extensible struct over a private enum (as postgres-nio's `PSQLError.Code`), so new codes
/// do not break callers' `switch`es.
public struct DriverErrorCode: Sendable, Hashable, CustomStringConvertible {
    private enum Base: String, Sendable {
        case connectionFailed = "connection failed"
        case authentication = "authentication failed"
        case notFound = "not found"
        case constraint = "constraint violated"
        case timeout = "timed out"
        case serverNotReady = "server not ready"
        case corrupt = "bad data"
        case unsupported = "unsupported"
        case query = "query failed"
        case io = "I/O error"
    }

    private let base: Base

    public static let connectionFailed = Self(base: .connectionFailed)
    public static let authentication = Self(base: .authentication)
    public static let notFound = Self(base: .notFound)
    public static let constraint = Self(base: .constraint)
    public static let timeout = Self(base: .timeout)
    /// The server is there but not ready (loading its data, busy, shutting down, failing over, a
    /// lock wait or deadlock broken): worth waiting for even before a first connection succeeded.
    public static let serverNotReady = Self(base: .serverNotReady)
    /// Data in the store that cannot be read as ADK data (names the key or row).
    public static let corrupt = Self(base: .corrupt)
    /// A schema, layout or feature this tool does not handle.
    public static let unsupported = Self(base: .unsupported)
    public static let query = Self(base: .query)
    public static let io = Self(base: .io)

    public var description: String { base.rawValue }
}

/// An error from a backend. `description` and `errorDescription` never hold passwords or
/// session payloads; they may name keys and rows.
public protocol DriverError: Error, CustomStringConvertible, CustomDebugStringConvertible {
    /// The kind of failure.
    var code: DriverErrorCode { get }
    /// True when the same work may succeed if tried again after a pause: the connection was lost
    /// or refused (a server restarting), the server is busy or still loading, a lock wait timed
    /// out or a deadlock was broken. Authentication, data and usage errors are never transient.
    var isTransient: Bool { get }
    /// True when the server answered but is not ready yet (see ``DriverErrorCode/serverNotReady``):
    /// a fault to wait out even at the start, unlike a refused connection, which at the start is
    /// usually a wrong address. Each driver decides from its own error numbers or replies.
    var isServerNotReady: Bool { get }
}

extension DriverError {
    /// Connection failures, timeouts, and servers not ready.
    public var isTransient: Bool { code == .connectionFailed || code == .timeout || isServerNotReady }
    /// Errors whose code is ``DriverErrorCode/serverNotReady``.
    public var isServerNotReady: Bool { code == .serverNotReady }
}

/// Data found in a store that is not valid ADK data, naming where it was found.
public struct SessionDataError: DriverError {
    public var code: DriverErrorCode { .corrupt }
    /// The store, e.g. `redis` or `mysql`.
    public var store: String
    /// The key or row, e.g. `session:abc` or `events(id='e1', session app1/u1/s1)`.
    public var location: String
    /// What is wrong with it.
    public var message: String

    public init(store: String, location: String, message: String) {
        self.store = store
        self.location = location
        self.message = message
    }

    /// The location and message through ``Printable`` (escaped, bounded): they hold stored names.
    public var description: String {
        "\(store): bad data at \(Printable.name(location, limit: Printable.messageLimit)): \(Printable.name(message, limit: Printable.messageLimit))"
    }
    public var debugDescription: String { description }
}
