import DriverCore
import SessionModel

/// DatabaseSessionService schema v0 on SQLite (docs/adk-data-model.md §4): the `sessions`,
/// `app_states` and `user_states` tables are those of v1 (``SQLiteDatabaseFormat``); an `events`
/// row holds one column per event field and the pickled `actions` (`BLOB`, protocol 5 as
/// SQLAlchemy's `PickleType` writes it), mapped by ``DatabaseV0Codec``, the mapping the MySQL
/// store shares.
///
/// SQLite does not enforce `VARCHAR(1024)`, and ADK 1.21 stores longer `error_message` values in
/// full there, so nothing is truncated. This format never creates tables: a new file gets v1.
public struct SQLiteDatabaseV0Format: SQLiteSessionFormat {
    /// `sessions`, `app_states`, `user_states`: identical to v1.
    private let shared = SQLiteDatabaseFormat(schemaVersion: "0")
    /// The `events` row mapping for the columns this file has.
    public let codec: DatabaseV0Codec

    /// A format for an `events` table with `eventColumns` (from `PRAGMA table_info`).
    ///
    /// - Throws: ``DatabaseSchemaError`` when a column every v0 table has is missing.
    public init(eventColumns: [String]) throws {
        codec = try DatabaseV0Codec(store: "sqlite", eventColumns: eventColumns, pickleProtocol: 5, errorMessageLimit: nil)
    }

    public var layout: StoreLayout { shared.layout }

    /// ADK 2.13 reads v0 events `timestamp DESC, id DESC` and reverses them.
    public var eventOrder: String { "timestamp, id" }

    public var writesEmptyScopeRows: Bool { true }

    public func prepareTables(_ connection: SQLiteConnection) throws {
        throw SQLiteError(code: .unsupported, message: "sessmigrate never creates schema v0 tables; new files get schema v1")
    }

    public func timeValue(_ epoch: Double) -> SQLiteValue { shared.timeValue(epoch) }

    public func epoch(from value: SQLiteValue, location: @autoclosure () -> String) throws -> Double {
        try shared.epoch(from: value, location: location())
    }

    public func stateText(_ state: JSONObject) -> String { shared.stateText(state) }

    public func state(from value: SQLiteValue, location: @autoclosure () -> String) throws -> JSONObject {
        try shared.state(from: value, location: location())
    }

    /// Not used by v0 rows (they have no `event_data`); the v1 text, for completeness.
    public func eventText(_ event: Event) -> String { shared.eventText(event) }

    public var eventDataStyle: JSONStyle? { nil }

    /// v0 rows hold no `event_data` to carry.
    public func accepting(_ carried: Event, id: String, values: [SQLiteValue], location: @autoclosure () -> String) throws -> Event? { nil }

    /// Not used by v0 rows (see ``event(id:values:location:)``).
    public func event(id: String, invocationId: String, timestamp: SQLiteValue, data: SQLiteValue, location: @autoclosure () -> String) throws -> Event {
        throw SessionDataError(store: "sqlite", location: location(), message: "schema v0 events have no event_data column")
    }

    public var eventColumns: [String] { codec.valueColumns }

    public func eventValues(_ event: Event, location: @autoclosure () -> String) throws -> [SQLiteValue] {
        try codec.values(for: event, location: location()).map { value in
            switch value {
            case .null: .null
            case .integer(let number): .integer(number)
            case .text(let text): .text(text)
            case .bytes(let bytes): .blob(bytes)
            }
        }
    }

    public func event(id: String, values: [SQLiteValue], location: @autoclosure () -> String) throws -> Event {
        let converted = values.map { value -> DatabaseV0Value in
            switch value {
            case .null: .null
            case .integer(let number): .integer(number)
            // SQLite's dynamic typing lets a REAL into any column; Python would print it with repr.
            case .float(let number): .text(PythonFloat.repr(number))
            case .text(let text): .text(text)
            case .blob(let bytes): .bytes(bytes)
            }
        }
        return try codec.event(id: id, values: converted, location: location())
    }

    /// The event fields this file's `events` table cannot hold.
    public func unrepresentableFields(in session: Session) -> [String] {
        codec.unrepresentableFields(in: session)
    }
}
