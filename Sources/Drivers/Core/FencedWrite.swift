import SessionModel

/// The version of a stored session that a write is conditioned on: opaque, produced by the store
/// that holds the session and only compared by that store, inside its write.
///
/// - MySQL and SQLite: the `sessions` row's `update_time` exactly as stored (ADK's own stale-session
///   marker: every `append_event` changes it);
/// - Redis: the SHA-1 of the session blob's bytes (the blob is the whole session).
public struct StoredVersion: Sendable, Hashable, CustomStringConvertible {
    public var token: String

    public init(_ token: String) { self.token = token }

    public var description: String { token }
}

/// A session as read from a store, with the version a later write of it is conditioned on.
public struct VersionedSession: Sendable, Hashable {
    public var session: Session
    public var version: StoredVersion

    public init(session: Session, version: StoredVersion) {
        self.session = session
        self.version = version
    }
}

/// A write that happens only if the store still holds what the writer read (compare-and-set), so a
/// write into a store the bot is using never overwrites what the bot wrote in the meantime.
public struct FencedWrite: Sendable, Hashable {
    /// What the session becomes (its row or blob and exactly these events). Its `appState` and
    /// `userState` hold only the keys to set (merged as ADK's `dict.update`, never deleting).
    public var session: Session
    /// The version the write was planned against; `nil`: the session must not exist.
    public var expected: StoredVersion?

    public init(session: Session, expected: StoredVersion?) {
        self.session = session
        self.expected = expected
    }
}

extension SessionStore {
    /// The current version of each of these sessions that exists, with its ``StoredVersion``.
    ///
    /// The default serves stores no one else writes (snapshot files being written, a dry run's
    /// empty target): the version is the session's digest, and ``writeSessions(fenced:)`` does not
    /// check it.
    public func fetchVersionedSessions(_ keys: [SessionKey]) throws -> [SessionKey: VersionedSession] {
        try fetchSessions(keys).mapValues { VersionedSession(session: $0, version: StoredVersion(SHA256.hexString(Array($0.digest().prefix(16))))) }
    }

    /// Writes each session of `writes` only if the store still holds the version it was planned
    /// against; returns the keys that were refused because the stored session changed (nothing of
    /// those was written: the caller reads them again and plans again). The rest is written as
    /// ``writeSessions(_:)`` writes.
    ///
    /// The default writes unconditionally (see ``fetchVersionedSessions(_:)``).
    public func writeSessions(fenced writes: [FencedWrite]) throws -> Set<SessionKey> {
        try writeSessions(writes.map(\.session))
        return []
    }
}
