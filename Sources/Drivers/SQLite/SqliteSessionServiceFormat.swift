import DriverCore
import SessionModel

/// ADK's SqliteSessionService layout (docs/adk-data-model.md §13; google-adk 2.13.0
/// `sessions/sqlite_session_service.py`), which is also sessmigrate's snapshot format.
///
/// Times are REAL epoch seconds. `events.event_data` is pydantic's
/// `model_dump_json(exclude_none=True)` (compact JSON, raw UTF-8); `state` columns hold Python
/// `json.dumps` text, as ADK writes them when it inserts a row. Events are read in
/// `(timestamp, rowid)` order: ADK reads `timestamp DESC, rowid DESC` and reverses.
public struct SqliteSessionServiceFormat: SQLiteSessionFormat {
    /// A format value; it has no options.
    public init() {}

    public var layout: StoreLayout { StoreLayout(kind: "sqlite", name: "sqlite-session-service") }

    public var eventOrder: String { "timestamp, rowid" }

    public var writesEmptyScopeRows: Bool { false }

    /// ADK's `CREATE_SCHEMA_SQL`, byte for byte, so `sqlite_master` matches a file ADK created.
    static let createSchemaSQL = [
        """

        CREATE TABLE IF NOT EXISTS app_states (
            app_name TEXT PRIMARY KEY,
            state TEXT NOT NULL,
            update_time REAL NOT NULL
        );

        """,
        """

        CREATE TABLE IF NOT EXISTS user_states (
            app_name TEXT NOT NULL,
            user_id TEXT NOT NULL,
            state TEXT NOT NULL,
            update_time REAL NOT NULL,
            PRIMARY KEY (app_name, user_id)
        );

        """,
        """

        CREATE TABLE IF NOT EXISTS sessions (
            app_name TEXT NOT NULL,
            user_id TEXT NOT NULL,
            id TEXT NOT NULL,
            state TEXT NOT NULL,
            create_time REAL NOT NULL,
            update_time REAL NOT NULL,
            PRIMARY KEY (app_name, user_id, id)
        );

        """,
        """

        CREATE TABLE IF NOT EXISTS events (
            id TEXT NOT NULL,
            app_name TEXT NOT NULL,
            user_id TEXT NOT NULL,
            session_id TEXT NOT NULL,
            invocation_id TEXT NOT NULL,
            timestamp REAL NOT NULL,
            event_data TEXT NOT NULL,
            PRIMARY KEY (app_name, user_id, session_id, id),
            FOREIGN KEY (app_name, user_id, session_id) REFERENCES sessions(app_name, user_id, id) ON DELETE CASCADE
        );

        """,
    ].joined(separator: "\n")

    /// Creates the four tables when missing (ADK runs this script on every connection).
    public func prepareTables(_ connection: SQLiteConnection) throws {
        try connection.execute(Self.createSchemaSQL)
    }

    public func timeValue(_ epoch: Double) -> SQLiteValue { .float(epoch) }

    public func epoch(from value: SQLiteValue, location: @autoclosure () -> String) throws -> Double {
        switch value {
        case .float(let seconds): return seconds
        case .integer(let seconds): return Double(seconds)
        default: throw SessionDataError(store: "sqlite", location: location(), message: "time is not a number")
        }
    }

    public func stateText(_ state: JSONObject) -> String { state.serialized(.python) }

    /// Reads a state column as ADK's `_decode_state` does: it must be a JSON object.
    public func state(from value: SQLiteValue, location: @autoclosure () -> String) throws -> JSONObject {
        guard case .text(let text) = value else {
            throw SessionDataError(store: "sqlite", location: location(), message: "state is not text")
        }
        do {
            return try JSONValue.parseObject(text)
        } catch {
            throw SessionDataError(store: "sqlite", location: location(), message: "state is not a JSON object (\(error))")
        }
    }

    /// pydantic's `model_dump_json`.
    public var eventDataStyle: JSONStyle? { .compact }

    public func eventText(_ event: Event) -> String { event.serializedData(.compact) }

    /// The event as its `event_data` says (as ``event(id:invocationId:timestamp:data:location:)``
    /// builds it when `event_data` has its own id and timestamp); `invocation_id` is checked as there.
    public func accepting(_ carried: Event, id: String, values: [SQLiteValue], location: @autoclosure () -> String) throws -> Event? {
        _ = try Self.invocationId(values[0], location: location())
        return carried
    }

    /// Builds an event from `event_data` alone, as ADK's `Event.model_validate_json` does; the
    /// `id` and `timestamp` columns only fill in fields the JSON lacks.
    public func event(id: String, invocationId: String, timestamp: SQLiteValue, data: SQLiteValue, location: @autoclosure () -> String) throws -> Event {
        guard case .text(let text) = data else {
            throw SessionDataError(store: "sqlite", location: location(), message: "event_data is not text")
        }
        var object: JSONObject
        do {
            object = try JSONValue.parseObject(text)
        } catch {
            throw SessionDataError(store: "sqlite", location: location(), message: "event_data is not a JSON object (\(error))")
        }
        if object["id"] == nil { object["id"] = .string(id) }
        if object["timestamp"] == nil {
            object["timestamp"] = .number(JSONNumber(try epoch(from: timestamp, location: location() + " timestamp")))
        }
        do {
            return try Event(data: object)
        } catch {
            throw SessionDataError(store: "sqlite", location: location(), message: error.description)
        }
    }
}
