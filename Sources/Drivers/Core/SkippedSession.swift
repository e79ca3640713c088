import SessionModel

/// A session a scan passed over because its data is bad (``SessionQuery/skipBad``), named by the
/// store, the key or row and what is wrong with it: never its contents.
public struct SkippedSession: Sendable, Hashable, CustomStringConvertible {
    /// The store kind, e.g. `redis`, `mysql`, `sqlite`.
    public var store: String
    /// The key or row, e.g. `session:app:u:s` or `events row id='e1' of app/u/s`.
    public var location: String
    /// What is wrong with it.
    public var reason: String
    /// The session's key when the store could tell it (not for a blob that is not JSON).
    public var key: SessionKey?

    public init(store: String, location: String, reason: String, key: SessionKey?) {
        self.store = store
        self.location = location
        self.reason = reason
        self.key = key
    }

    /// The skipped session of `error`.
    public init(_ error: SessionDataError, key: SessionKey?) {
        self.init(store: error.store, location: error.location, reason: error.message, key: key)
    }

    /// Location, key and reason through ``Printable`` (escaped, bounded).
    public var description: String {
        let limit = Printable.messageLimit
        return "\(store): \(Printable.name(location, limit: limit))" + (key.map { " (session \($0))" } ?? "")
            + ": \(Printable.name(reason, limit: limit))"
    }
}

/// The bad sessions met while one page of sessions is decoded.
///
/// With `skipBad` off, ``record(_:for:)`` rethrows, so a page stops at its first bad session as
/// before; with it on, the first ``SessionDataError`` of each session is kept and decoding goes on.
/// Errors that are not about the data (connection, query) are always rethrown.
public struct BadSessionLog {
    public let skipBad: Bool
    /// The first error of each bad session.
    public private(set) var errors: [SessionKey: SessionDataError] = [:]

    public init(skipBad: Bool) { self.skipBad = skipBad }

    /// Records `error` against `key`, or rethrows it (see the type's documentation).
    public mutating func record(_ error: any Error, for key: SessionKey) throws {
        guard skipBad, let data = error as? SessionDataError else { throw error }
        if errors[key] == nil { errors[key] = data }
    }

    /// True when `key` had an error.
    public func isBad(_ key: SessionKey) -> Bool { errors[key] != nil }

    /// The skipped session of `key`, if it was bad.
    public func skipped(_ key: SessionKey) -> SkippedSession? { errors[key].map { SkippedSession($0, key: key) } }
}

extension SessionCursor {
    /// Cursors that never skip return nothing.
    public func takeSkipped() -> [SkippedSession] { [] }
}

/// UTF-8 validation of column bytes: stores hand out text unchecked, and a lossy decoding would
/// silently turn bad bytes into U+FFFD.
public enum UTF8Text {
    /// `bytes` as a string, or `nil` when they are not valid UTF-8.
    public static func decode(_ bytes: UnsafeRawBufferPointer) -> String? {
        String(validatingUTF8: bytes)
    }

    /// `bytes` as a string; throws a ``SessionDataError`` naming `location` and `column` when
    /// they are not valid UTF-8.
    public static func decode(
        _ bytes: UnsafeRawBufferPointer, store: String, location: @autoclosure () -> String, column: String
    ) throws -> String {
        guard let text = decode(bytes) else {
            throw SessionDataError(store: store, location: location(), message: "\(column) holds bytes that are not valid UTF-8")
        }
        return text
    }
}

/// A session the target cannot take as it is (a value larger than the server accepts, an id
/// longer than its column), found by `writeSessions` before anything of the batch was written.
/// The engine treats it as bad input of that session: it stops, or with `--skip-bad` writes the
/// batch again without it.
public struct SessionRejectedError: DriverError {
    public var code: DriverErrorCode { .constraint }
    /// The rejected session.
    public var key: SessionKey
    /// The target store, the row or key it would have been written to, and why it cannot be.
    public var error: SessionDataError

    public init(key: SessionKey, error: SessionDataError) {
        self.key = key
        self.error = error
    }

    /// The rejection as a skipped session of the target.
    public var skipped: SkippedSession { SkippedSession(error, key: key) }

    public var description: String {
        let limit = Printable.messageLimit
        return "\(error.store): cannot write session \(key): \(Printable.name(error.location, limit: limit)): "
            + Printable.name(error.message, limit: limit)
    }
    public var debugDescription: String { description }
}
