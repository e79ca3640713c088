import DriverCore

extension MySQLSessionStore {
    /// `GET_LOCK('sessmigrate:run', 0)` on this store's connection, held until `releaseRunLock` or until
    /// the connection ends: the server releases the lock of a killed run by itself, so it is never stale.
    /// The holder is named from the server's process list (client host, connection id, seconds held).
    public func acquireRunLock(owner: String) throws {
        let name = "CONCAT('sessmigrate:run:', DATABASE())"
        let result = try connection.query("SELECT GET_LOCK(\(name), 0)", buffered: true).collect()
        if result.first?.first ?? nil == "1" { return }
        let holder = try connection.query(
            "SELECT ID, HOST, TIME FROM information_schema.PROCESSLIST WHERE ID = IS_USED_LOCK(\(name))", buffered: true
        ).collect()
        let text =
            holder.first.map { row in "MySQL connection \(row[0] ?? "?") from \(row[1] ?? "?"), holding it for \(row[2] ?? "?") s" }
            ?? "another connection"
        throw RunLockError(
            store: "the mysql database", holder: RunLockHolder(text: text),
            clearing: "the server releases it when that connection ends (stop that run, or KILL its connection id)")
    }

    public func refreshRunLock(owner: String) throws {}

    public func releaseRunLock(owner: String) {
        _ = try? connection.query("SELECT RELEASE_LOCK(CONCAT('sessmigrate:run:', DATABASE()))", buffered: true).collect()
    }
}
