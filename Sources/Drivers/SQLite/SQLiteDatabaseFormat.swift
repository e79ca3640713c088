import DriverCore
import SessionModel

/// DatabaseSessionService schema v1 on SQLite (docs/adk-data-model.md §3, SQLite variant): `TEXT`
/// state and event_data holding Python `json.dumps` text, `DATETIME` columns holding naive UTC
/// text `YYYY-MM-DD HH:MM:SS.ffffff`, events read in `(timestamp, id)` order (ADK ≥ 2.7).
///
/// Every row ↔ session mapping goes through ``DatabaseV1Codec`` so the MySQL store and this
/// one write identical bytes.
public struct SQLiteDatabaseFormat: SQLiteSessionFormat {
    /// The schema version: `"1"`, or `"0"` for the shared tables of a v0 file (``SQLiteDatabaseV0Format``).
    public let schemaVersion: String

    /// A format for schema `version` (`"1"` unless describing a v0 file).
    public init(schemaVersion: String = "1") { self.schemaVersion = schemaVersion }

    public var layout: StoreLayout {
        StoreLayout(kind: "sqlite", name: schemaVersion == "1" ? "database-v1" : "database-v0", schemaVersion: schemaVersion)
    }

    public var eventOrder: String { "timestamp, id" }

    public var writesEmptyScopeRows: Bool { true }

    /// The DDL SQLAlchemy emits for ADK 2.13.0's v1 tables on SQLite, byte for byte, so
    /// `sqlite_master` matches a file ADK created (SQLite drops `IF NOT EXISTS` when storing it).
    static let createStatements = [
        table(
            "adk_internal_metadata",
            [
                "\"key\" VARCHAR(128) NOT NULL", "value VARCHAR(256) NOT NULL", "PRIMARY KEY (\"key\")",
            ]),
        table(
            "sessions",
            [
                "app_name VARCHAR(128) NOT NULL", "user_id VARCHAR(128) NOT NULL", "id VARCHAR(128) NOT NULL",
                "state TEXT NOT NULL", "create_time DATETIME NOT NULL", "update_time DATETIME NOT NULL",
                "PRIMARY KEY (app_name, user_id, id)",
            ]),
        table(
            "app_states",
            [
                "app_name VARCHAR(128) NOT NULL", "state TEXT NOT NULL", "update_time DATETIME NOT NULL",
                "PRIMARY KEY (app_name)",
            ]),
        table(
            "user_states",
            [
                "app_name VARCHAR(128) NOT NULL", "user_id VARCHAR(128) NOT NULL", "state TEXT NOT NULL",
                "update_time DATETIME NOT NULL", "PRIMARY KEY (app_name, user_id)",
            ]),
        table(
            "events",
            [
                "id VARCHAR(128) NOT NULL", "app_name VARCHAR(128) NOT NULL", "user_id VARCHAR(128) NOT NULL",
                "session_id VARCHAR(128) NOT NULL", "invocation_id VARCHAR(256) NOT NULL", "timestamp DATETIME NOT NULL",
                "event_data TEXT", "PRIMARY KEY (id, app_name, user_id, session_id)",
                "FOREIGN KEY(app_name, user_id, session_id) REFERENCES sessions (app_name, user_id, id) ON DELETE CASCADE",
            ]),
        "CREATE INDEX IF NOT EXISTS idx_events_app_user_session_ts_id"
            + " ON events (app_name, user_id, session_id, timestamp DESC, id DESC)",
    ]

    /// `CREATE TABLE` laid out as SQLAlchemy's SQLite compiler lays it out.
    private static func table(_ name: String, _ elements: [String]) -> String {
        "CREATE TABLE IF NOT EXISTS \(name) (\n\t" + elements.joined(separator: ", \n\t") + "\n)"
    }

    /// Creates the v1 tables and index when missing and adds the `schema_version` row, as ADK's
    /// `prepare_tables` does for a v1 database that lacks it.
    public func prepareTables(_ connection: SQLiteConnection) throws {
        guard schemaVersion == "1" else {
            throw SQLiteError(code: .unsupported, message: "sessmigrate never creates schema v0 tables; new files get schema v1")
        }
        for statement in Self.createStatements { try connection.execute(statement) }
        try connection.execute(
            "INSERT INTO adk_internal_metadata (\"key\", value) VALUES ('schema_version', '1') ON CONFLICT (\"key\") DO NOTHING")
    }

    public func timeValue(_ epoch: Double) -> SQLiteValue {
        .text(DatabaseV1Codec.datetimeText(epoch))
    }

    public func epoch(from value: SQLiteValue, location: @autoclosure () -> String) throws -> Double {
        guard case .text(let text) = value else {
            throw SessionDataError(store: "sqlite", location: location(), message: "datetime is not text")
        }
        return try DatabaseV1Codec.epoch(fromDatetime: text, store: "sqlite", location: location())
    }

    public func stateText(_ state: JSONObject) -> String {
        DatabaseV1Codec.stateText(state)
    }

    public func state(from value: SQLiteValue, location: @autoclosure () -> String) throws -> JSONObject {
        switch value {
        case .null: return try DatabaseV1Codec.state(fromText: nil, store: "sqlite", location: location())
        case .text(let text): return try DatabaseV1Codec.state(fromText: text, store: "sqlite", location: location())
        default: throw SessionDataError(store: "sqlite", location: location(), message: "state is not text")
        }
    }

    public func eventText(_ event: Event) -> String {
        DatabaseV1Codec.eventDataText(event)
    }

    public var eventDataStyle: JSONStyle? { DatabaseV1Codec.eventDataStyle }

    public func accepting(_ carried: Event, id: String, values: [SQLiteValue], location: @autoclosure () -> String) throws -> Event? {
        let invocationId = try Self.invocationId(values[0], location: location())
        return try DatabaseV1Codec.accepting(
            carried, id: id, invocationId: invocationId, timestampText: try Self.timestampText(values[1], location: location()), store: "sqlite",
            location: location())
    }

    public func event(id: String, invocationId: String, timestamp: SQLiteValue, data: SQLiteValue, location: @autoclosure () -> String) throws -> Event {
        let timestampText = try Self.timestampText(timestamp, location: location())
        let eventData: String?
        switch data {
        case .null: eventData = nil
        case .text(let text): eventData = text
        default: throw SessionDataError(store: "sqlite", location: location(), message: "event_data is not text")
        }
        return try DatabaseV1Codec.event(
            id: id, invocationId: invocationId, timestampText: timestampText, eventData: eventData, store: "sqlite", location: location())
    }

    /// An events row's `timestamp` column, which this layout keeps as text (a `DATETIME`).
    private static func timestampText(_ value: SQLiteValue, location: @autoclosure () -> String) throws -> String {
        guard case .text(let text) = value else { throw SessionDataError(store: "sqlite", location: location(), message: "timestamp is not text") }
        return text
    }
}
