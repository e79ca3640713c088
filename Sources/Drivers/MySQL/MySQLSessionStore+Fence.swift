import DriverCore
import SessionModel

// Fenced writes (docs/DESIGN.md "Fencing"): a session's version is its `sessions.update_time` text
// exactly as the server returns it, ADK's own stale-session marker (every `append_event` sets it).
// A write checks it twice: before anything is written (a plain read, so a session already changed
// has nothing written, not even its app and user state), and again in the sessions transaction
// after its row is locked `FOR UPDATE` (the check that counts: ADK's `append_event` locks the same
// row first, so nothing can change the session between the check and the commit). A session with
// no row is locked by nothing; its fenced write is a plain INSERT, which fails rather than
// overwrite a session created meanwhile (MySQLSessionStore+Insert.swift).

/// What a write checks before it writes a session.
enum MySQLWriteFence: Equatable {
    /// Written whatever is stored (``MySQLSessionStore/writeSessions(_:)``).
    case none
    /// Written only if the stored `update_time` text is this one; `nil`: only if no row exists.
    case expected(StoredVersion?)
}

/// One session of a write batch and what it is conditioned on.
struct MySQLSessionWrite {
    var session: Session
    var fence: MySQLWriteFence

    var isFenced: Bool { fence != .none }

    /// True when the store holds what this write expects: `stored` is the row's `update_time`
    /// text, `nil` when no row has exactly this key.
    func accepts(stored: String?) -> Bool {
        switch fence {
        case .none: true
        case .expected(nil): stored == nil
        case .expected(let version?): stored == version.token
        }
    }
}

/// A `sessions` row as locked by the write transaction (text columns, as stored).
struct MySQLStoredSessionRow {
    var state: String?
    var createTime: String?
    var updateTime: String
}

extension MySQLSessionStore {
    /// The sessions among `keys` that exist, each with its `update_time` text; each chunk of 500
    /// keys is read in one consistent snapshot.
    public func fetchVersionedSessions(_ keys: [SessionKey]) throws -> [SessionKey: VersionedSession] {
        guard schema != .empty, !keys.isEmpty else { return [:] }
        let wanted = Set(keys)
        var found: [SessionKey: VersionedSession] = [:]
        let unique = Array(wanted)
        for start in stride(from: 0, to: unique.count, by: 500) {
            let chunk = Array(unique[start..<min(start + 500, unique.count)])
            for (session, version) in try loadVersionedSessions(keys: chunk) where wanted.contains(session.key) {
                found[session.key] = VersionedSession(session: session, version: StoredVersion(version))
            }
        }
        return found
    }

    /// Writes each session only if its stored `update_time` is still the expected one (or, for
    /// `nil`, no row exists); returns the refused keys. Everything else as ``writeSessions(_:)``.
    public func writeSessions(fenced writes: [FencedWrite]) throws -> Set<SessionKey> {
        guard forWriting else {
            throw MySQLError(code: .unsupported, message: "the store was opened for reading", context: "write")
        }
        guard !writes.isEmpty else { return [] }
        return try write(writes.map { MySQLSessionWrite(session: $0.session, fence: .expected($0.expected)) })
    }

    /// The keys of the fenced writes whose session is not what they expect, given the stored
    /// versions by exact key.
    func refuseChanged(_ writes: [MySQLSessionWrite], stored: [SessionKey: String]) -> Set<SessionKey> {
        Set(writes.lazy.filter { !$0.accepts(stored: stored[$0.session.key]) }.map(\.session.key))
    }

    /// The `update_time` text of the rows with exactly these keys (a plain read, no lock).
    func fetchStoredVersions(_ keys: [SessionKey]) throws -> [SessionKey: String] {
        guard schema != .empty else { return [:] }
        var versions: [SessionKey: String] = [:]
        try selectSessionRows(keys, columns: "update_time", forUpdate: false) { key, row in
            versions[key] = row.string(at: 3) ?? ""
        }
        return versions
    }

    /// Locks the `sessions` rows of `keys` (`FOR UPDATE` on the primary key, in key order) and
    /// returns those with exactly these keys. Run under READ COMMITTED (the sessions transaction),
    /// a key with no row is not locked at all: such a session is inserted, never upserted, by a
    /// fenced write (MySQLSessionStore+Insert.swift).
    func lockSessionRows(_ keys: [SessionKey]) throws -> [SessionKey: MySQLStoredSessionRow] {
        var rows: [SessionKey: MySQLStoredSessionRow] = [:]
        try selectSessionRows(keys, columns: "update_time, state, create_time", forUpdate: true) { key, row in
            rows[key] = MySQLStoredSessionRow(state: row.string(at: 4), createTime: row.string(at: 5), updateTime: row.string(at: 3) ?? "")
        }
        return rows
    }

    /// Selects `app_name, user_id, id, columns…` of the rows of `keys`, 500 keys per statement
    /// in key order, through the primary key, and calls `body` for each row whose key is exactly
    /// one of `keys` (the collation may match others, e.g. another case).
    private func selectSessionRows(
        _ keys: [SessionKey], columns: String, forUpdate: Bool, _ body: (SessionKey, MySQLRawRow) throws -> Void
    ) throws {
        let sorted = Set(keys).sorted { ($0.appName, $0.userId, $0.sessionId) < ($1.appName, $1.userId, $1.sessionId) }
        let wanted = Set(keys)
        for start in stride(from: 0, to: sorted.count, by: 500) {
            let chunk = sorted[start..<min(start + 500, sorted.count)]
            var sql = MySQLStatementBuilder(connection, context: "SELECT … FROM sessions")
            // FORCE INDEX: a locking read must use the primary key's ranges even on a tiny table,
            // where a full scan would lock every row.
            sql.append("SELECT app_name, user_id, id, \(columns) FROM sessions FORCE INDEX (PRIMARY)")
            sql.append(" WHERE (app_name, user_id, id) IN (")
            try sql.appendKeyList(chunk)
            sql.append(") ORDER BY app_name, user_id, id")
            if forUpdate { sql.append(" FOR UPDATE") }
            let result = try sql.query(buffered: true)
            while try result.nextRaw({ row in
                guard let key = try? Self.key(from: row, table: "sessions"), wanted.contains(key) else { return }
                try body(key, row)
            }) != nil {}
        }
    }
}
