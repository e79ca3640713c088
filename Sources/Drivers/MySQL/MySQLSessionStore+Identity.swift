import DriverCore

extension MySQLSessionStore {
    /// The server and database, as the server names them (see ``StoreIdentity``).
    ///
    /// MySQL (and CloudSQL for MySQL) has a unique `@@server_uuid`; MariaDB has none, so the
    /// server's host name, port, `server_id` and data directory stand in for it.
    public func fetchIdentity() throws -> StoreIdentity? {
        try connection.fetchIdentity()
    }

    /// `TLS (cipher, version)` or `plaintext`.
    public var connectionSecurity: String? { connection.securityDescription }
}

extension MySQLConnection {
    /// See ``MySQLSessionStore/fetchIdentity()``.
    public func fetchIdentity() throws -> StoreIdentity? {
        let rows = try query("SELECT DATABASE(), @@hostname, @@port, @@server_id, @@datadir, VERSION()", buffered: true).collect()
        guard let row = rows.first, row.count == 6, let database = row[0] else { return nil }
        let (host, port, serverID, dataDirectory, version) = (row[1] ?? "?", row[2] ?? "?", row[3] ?? "?", row[4] ?? "?", row[5] ?? "")
        let product = version.lowercased().contains("mariadb") ? "MariaDB" : "MySQL"
        var uuid: String?
        if product == "MySQL" {
            // Absent on MariaDB (error 1193); MySQL servers and CloudSQL instances each have their own.
            uuid = try? query("SELECT @@server_uuid", buffered: true).collect().first.flatMap { $0.first ?? nil }
        }
        let server = uuid.map { "uuid \($0)" } ?? "\(host):\(port) (server_id \(serverID), datadir \(dataDirectory))"
        let key = "mysql:" + (uuid ?? "\(host)|\(port)|\(serverID)|\(dataDirectory)") + "/" + database
        return StoreIdentity(keys: [key], description: "\(product) server \(server), database \(database)")
    }
}
