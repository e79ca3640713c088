import DriverCore
import SessionModel

// The sessions transaction (step 2 of a batch, docs/DESIGN.md "Fencing") runs under READ COMMITTED:
// its locking read of the `sessions` rows locks the rows it finds and no gaps. Under REPEATABLE READ
// a key with no row locked the gap where it would go, and the gaps of two `--workers` (whose keys
// interleave in the primary key: shares are by hash) then blocked each other's inserts, an InnoDB
// deadlock (errno 1213) whenever both had locked before either inserted. Nothing locks a missing
// key now, so a fenced write of a session that had no row inserts it with a plain INSERT, never an
// upsert: if someone else created the session meanwhile, the insert fails on the duplicate key
// (after waiting for that creation to commit) instead of overwriting it. The duplicate is either
// that session, and the transaction runs again (its fence now refuses the session, the rest of the
// batch is written), or a collation twin (another key equal under the column's collation), the same
// constraint error an upsert gets.
extension MySQLSessionStore {
    /// How many times a write transaction of a batch runs when other clients keep creating rows
    /// it inserts while it is written (each run sees the rows found created).
    static let transactionRuns = 3

    /// Step 2: writes the sessions and their events in one READ COMMITTED transaction, run again
    /// when a session was created by someone else between its lock and its insert. Returns the
    /// keys refused because their row is not what the write expects.
    func writeSessionRows(_ remaining: [MySQLPreparedSession]) throws -> Set<SessionKey> {
        try runningAgainIfRowCreated { try writeLockedSessionRows(remaining) }
    }

    /// Runs `body` in a READ COMMITTED transaction, again (up to ``transactionRuns`` times in all)
    /// when it throws ``RowCreatedMeanwhile``.
    func runningAgainIfRowCreated<R>(_ body: () throws -> R) throws -> R {
        var run = 1
        while true {
            do {
                return try connection.withTransaction(isolation: .readCommitted, body)
            } catch let created as RowCreatedMeanwhile {
                guard run < Self.transactionRuns else {
                    throw MySQLError(
                        code: .constraint, errorNumber: 1062, sqlState: "23000",
                        message: "\(created.location) was created by another client while this batch was written,"
                            + " \(run) times in a row; batch rolled back",
                        context: "INSERT INTO \(created.table)")
                }
                run += 1
            }
        }
    }

    /// Inserts the `sessions` rows of fenced writes whose key had no row when the rows were locked.
    /// A duplicate key throws ``RowCreatedMeanwhile`` or the collation twin error
    /// (``explainDuplicateSession(_:_:)``); other errors about a row reject its session.
    func insertSessionRows(_ rows: [MySQLPreparedSession]) throws {
        try executeChunked(
            rows, context: "INSERT INTO sessions",
            prefix: "INSERT INTO sessions (app_name, user_id, id, state, create_time, update_time) VALUES ",
            separator: ", ", suffix: "",
            owner: { RowOwner.session($0.write.session.key) },
            explain: explainDuplicateSession
        ) { sql, row in
            sql.append(bytes: row.sessionRow)
        }
    }

    /// Called for a row of ``insertSessionRows(_:)`` the server refused (alone): a duplicate key
    /// is a row with exactly this key (someone created the session after our lock, or created and
    /// deleted it: ``RowCreatedMeanwhile``, the transaction runs again) or one equal to it under
    /// the collation (``collationTwinError(_:)``). Returns for other errors (the row is rejected).
    private func explainDuplicateSession(_ row: MySQLPreparedSession, _ error: MySQLError) throws {
        guard error.errorNumber == 1062 else { return }
        let key = row.write.session.key
        let equal = try storedKeys(equalTo: [key])
        if equal.contains(where: { $0 != key }), !equal.contains(key) { throw Self.collationTwinError(key) }
        throw RowCreatedMeanwhile(table: "sessions", location: RowName.session(key))
    }

    /// The error of a session whose key MySQL's collation folds onto another session's row
    /// (often case- and trailing-space-insensitive; `utf8mb4_unicode_ci` even equates all emoji).
    static func collationTwinError(_ key: SessionKey) -> MySQLError {
        MySQLError(
            code: .constraint,
            message: "session \(key) equals another session's key under the database collation"
                + " (case, trailing spaces or emoji differ); MySQL cannot hold both, batch rolled back",
            context: "INSERT INTO sessions")
    }
}

/// An INSERT met a row with exactly its key, created by someone else after the key was found
/// missing (or a duplicate that is gone again): the transaction is rolled back and runs again.
struct RowCreatedMeanwhile: Error {
    var table: String
    /// The row's name (``RowName``).
    var location: String
}
