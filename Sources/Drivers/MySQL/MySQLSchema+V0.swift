import DriverCore

extension MySQLSchema {
    /// The `events` columns of a schema-v0 database (pre-1.19 tables lack some) and the declared
    /// size of `error_message` (`VARCHAR(1024)` when ADK ≤ 1.21 created it, `TEXT` later), from
    /// `information_schema`.
    static func v0Codec(_ connection: MySQLConnection) throws -> DatabaseV0Codec {
        let rows = try connection.query(
            "SELECT COLUMN_NAME, CHARACTER_MAXIMUM_LENGTH, CHARACTER_OCTET_LENGTH FROM information_schema.COLUMNS"
                + " WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'events'",
            buffered: true
        ).collect()
        var columns: [String] = []
        var errorMessageLimit: DatabaseTextLimit?
        for row in rows {
            guard let name = row.first.flatMap({ $0 })?.lowercased() else { continue }
            columns.append(name)
            if name == "error_message", let characters = row[1].flatMap({ Int($0) }),
                let bytes = row[2].flatMap({ Int($0) })
            {
                errorMessageLimit = DatabaseTextLimit(characters: characters, bytes: bytes)
            }
        }
        // DynamicPickleType on MySQL: `pickle.dumps(value)`, Python's DEFAULT_PROTOCOL (4 on 3.8–3.13).
        return try DatabaseV0Codec(
            store: MySQLSessionStore.storeName, eventColumns: columns, pickleProtocol: 4,
            errorMessageLimit: errorMessageLimit)
    }
}
