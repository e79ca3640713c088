import SessionModel

/// DatabaseSessionService schema v1 rows ↔ the session model, shared by the MySQL store and the
/// SQLite DatabaseSessionService store so both write identical bytes (docs/adk-data-model.md §3, §7, §8).
///
/// JSON columns hold Python `json.dumps` text; datetime columns hold naive UTC with microseconds.
public enum DatabaseV1Codec {
    /// How `event_data` is serialized: Python's `json.dumps`.
    public static let eventDataStyle = JSONStyle.python

    /// `sessions.state`, `app_states.state`, `user_states.state` text.
    public static func stateText(_ state: JSONObject) -> String {
        state.serialized(.python)
    }

    /// Parses a state column. NULL or empty text reads as `{}` (as ADK's `_get_state_dict`);
    /// anything that is not a JSON object is an error naming `location`.
    public static func state(fromText text: String?, store: String, location: @autoclosure () -> String) throws -> JSONObject {
        guard let text, !text.isEmpty else { return [:] }
        do {
            switch try JSONValue.parse(text) {
            case .object(let object): return object
            case .null: return [:]
            default: throw SessionDataError(store: store, location: location(), message: "state is not a JSON object")
            }
        } catch let error as JSONError {
            throw SessionDataError(store: store, location: location(), message: "state is not valid JSON (\(error))")
        }
    }

    /// `events.event_data` text (serialized ahead by a copy's reading thread: ``eventDataStyle``).
    public static func eventDataText(_ event: Event) -> String {
        event.serializedData(eventDataStyle)
    }

    /// Builds an event from an `events` row as ADK ≥ 2.7 does: `id`/`invocation_id` from the
    /// columns, `timestamp` from `event_data` when present, else the column read as UTC. (A copy's
    /// readers first try to carry the row's bytes as text: ``accepting(_:id:invocationId:timestampText:store:location:)``.)
    public static func event(
        id: String, invocationId: String, timestampText: String, eventData: String?, store: String, location: @autoclosure () -> String
    ) throws -> Event {
        guard let eventData else {
            throw SessionDataError(store: store, location: location(), message: "event_data is NULL")
        }
        let object: JSONObject
        do {
            guard case .object(let parsed) = try JSONValue.parse(eventData) else {
                throw SessionDataError(store: store, location: location(), message: "event_data is not a JSON object")
            }
            object = parsed
        } catch let error as JSONError {
            throw SessionDataError(store: store, location: location(), message: "event_data is not valid JSON (\(error))")
        }
        let columnTime = try epoch(fromDatetime: timestampText, store: store, location: location() + ", timestamp")
        do {
            return try Event(data: object, columnId: id, columnInvocationId: invocationId, columnTimestamp: columnTime)
        } catch {
            throw SessionDataError(store: store, location: location(), message: error.description)
        }
    }

    /// `carried` (transcoded from a row's `event_data`) where the row's columns agree with it, so
    /// that ``event(id:invocationId:timestampText:eventData:store:location:)`` would build the
    /// same event: the same `id`, the same non-empty `invocation_id` (the tree path would add an
    /// empty one); `nil` otherwise. The timestamp column is checked as there, though `event_data`'s wins.
    public static func accepting(
        _ carried: Event, id: String, invocationId: String, timestampText: String, store: String, location: @autoclosure () -> String
    ) throws -> Event? {
        guard carried.id.isExactly(id), !invocationId.isEmpty, carried.invocationId.isExactly(invocationId) else { return nil }
        _ = try epoch(fromDatetime: timestampText, store: store, location: location() + ", timestamp")
        return carried
    }

    /// A naive UTC `DATETIME(6)` text for an epoch time, rounded as Python rounds.
    public static func datetimeText(_ epoch: Double) -> String {
        PythonTime.naiveUTC(fromEpoch: epoch)
    }

    /// Reads a naive UTC datetime column.
    public static func epoch(fromDatetime text: String, store: String, location: @autoclosure () -> String) throws -> Double {
        do {
            return try PythonTime.epoch(fromNaiveUTC: text)
        } catch {
            throw SessionDataError(store: store, location: location(), message: error.description)
        }
    }

    /// `session` with its events in the order DatabaseSessionService reads them back: by timestamp
    /// at the column's microsecond precision, then by id (ADK ≥ 2.7's `ORDER BY timestamp, id`).
    /// Ids are compared by UTF-8 bytes, which is the database's order for ADK's uuid4 ids.
    /// Events already in that order (as every store of this schema reads them) are not copied.
    public static func ordered(_ session: Session) -> Session {
        func precedes(_ a: Event, _ b: Event) -> Bool? {
            let (x, y) = (PythonTime.microseconds(fromEpoch: a.timestamp), PythonTime.microseconds(fromEpoch: b.timestamp))
            if x != y { return x < y }
            if a.id != b.id { return a.id.utf8.lexicographicallyPrecedes(b.id.utf8) }
            return nil
        }
        let events = session.events
        if zip(events, events.dropFirst()).allSatisfy({ precedes($0, $1) ?? true }) { return session }
        var copy = session
        copy.events = events.enumerated().sorted { a, b in precedes(a.element, b.element) ?? (a.offset < b.offset) }.map(\.element)
        return copy
    }

    /// The creation time to write: the session's own, else the earliest of its first event and
    /// its last update (stores without a creation time, such as Redis, give `nil`).
    public static func createTime(of session: Session) -> Double {
        if let createTime = session.createTime { return createTime }
        return min(session.events.first?.timestamp ?? session.lastUpdateTime, session.lastUpdateTime)
    }
}

/// The DatabaseSessionService tables and how ADK detects their version (docs/adk-data-model.md §6).
public enum DatabaseSchema {
    /// Table names ADK's DatabaseSessionService owns.
    public static let tableNames = ["adk_internal_metadata", "sessions", "events", "app_states", "user_states"]

    /// The schema version ADK would detect from the tables present and the `events` columns.
    ///
    /// - Parameters:
    ///   - tables: table names in the database.
    ///   - eventColumns: column names of `events` (empty when the table is absent).
    ///   - metadataVersion: `adk_internal_metadata.value` for `schema_version`; only consulted when
    ///     that table exists (`nil` then means the row is missing).
    /// - Returns: `"1"`, `"0"`, another metadata value, or `nil` for an empty database.
    public static func detectVersion(tables: Set<String>, eventColumns: Set<String>, metadataVersion: String?) throws -> String? {
        if tables.contains("adk_internal_metadata") {
            guard let metadataVersion else {
                throw DatabaseSchemaError(message: "adk_internal_metadata has no schema_version row; the database might be malformed")
            }
            return metadataVersion
        }
        if tables.contains("events"), eventColumns.contains("actions"), !eventColumns.contains("event_data") { return "0" }
        if tables.isDisjoint(with: tableNames) { return nil }
        return "1"
    }
}

/// A DatabaseSessionService schema this tool cannot use.
public struct DatabaseSchemaError: DriverError {
    public var code: DriverErrorCode { .unsupported }
    public var message: String

    public init(message: String) { self.message = message }

    public var description: String { message }
    public var debugDescription: String { message }
}
