import DriverCore

// InnoDB's persistent statistics of a table filled from empty stay those of the empty table until its
// background recalculation catches up (it starts once 10 % of the rows changed, asynchronously). Until
// then MariaDB may plan the lookups of a page of sessions, sessmigrate's and ADK's own, as scans:
// measured, reading 10,000 sessions (200,000 events) just copied into an empty database took 28.5 s,
// and 4.7 s after `ANALYZE TABLE`. So a store that filled empty tables refreshes their statistics when
// it closes. Tables that already held rows keep theirs (the server's recalculation is right for them,
// and ANALYZE is not free on a table the bot is using).
extension MySQLSessionStore {
    /// Rows written into tables that started empty from which on statistics are refreshed at close.
    static let analyzeAfterRows = 10_000

    /// Whether the `sessions` table holds no row (a database without ADK's tables counts as empty).
    func sessionsTableIsEmpty() throws -> Bool {
        guard schema != .empty else { return true }
        return try connection.query("SELECT 1 FROM sessions LIMIT 1", buffered: true).collect().isEmpty
    }

    /// `ANALYZE TABLE` of ADK's tables after this store wrote at least ``analyzeAfterRows`` rows into
    /// tables that started empty. Best effort: a failure (a user without the privilege) changes nothing.
    func refreshStatisticsAfterFillingEmptyTables() {
        guard forWriting, startedEmpty, rowsWritten >= Self.analyzeAfterRows, connection.isOpen else { return }
        _ = try? connection.query("ANALYZE TABLE sessions, events, app_states, user_states", buffered: true).collect()
    }
}
