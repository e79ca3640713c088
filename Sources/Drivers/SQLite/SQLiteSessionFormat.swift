import DriverCore
import SessionModel

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// How one ADK layout encodes sessions in the four tables every SQLite layout shares
/// (`sessions`, `events`, `app_states`, `user_states`, keyed the same way).
///
/// ``SQLiteSessionTables`` does the reading and writing; a format only says what the columns
/// hold. Decoding functions throw ``SessionDataError`` naming `location`.
public protocol SQLiteSessionFormat {
    /// The layout reported by stores using this format.
    var layout: StoreLayout { get }
    /// `ORDER BY` terms that list one session's events oldest first, as ADK reads them.
    var eventOrder: String { get }
    /// True when ADK creates `app_states`/`user_states` rows even for empty state
    /// (DatabaseSessionService's `create_session` does; SqliteSessionService does not).
    var writesEmptyScopeRows: Bool { get }
    /// Creates whatever tables, indexes and metadata rows are missing. Runs inside a transaction.
    func prepareTables(_ connection: SQLiteConnection) throws
    /// The value stored in a time column for an epoch time.
    func timeValue(_ epoch: Double) -> SQLiteValue
    /// Reads a time column.
    func epoch(from value: SQLiteValue, location: @autoclosure () -> String) throws -> Double
    /// The text stored in a `state` column.
    func stateText(_ state: JSONObject) -> String
    /// Reads a `state` column.
    func state(from value: SQLiteValue, location: @autoclosure () -> String) throws -> JSONObject
    /// The text stored in `events.event_data`.
    func eventText(_ event: Event) -> String
    /// The style ``eventText(_:)`` serializes `data` in (``SessionStore/eventDataStyle``); `nil` when the
    /// rows hold no `event_data` (v0's columns).
    var eventDataStyle: JSONStyle? { get }
    /// Builds an event from the columns of an `events` row.
    func event(id: String, invocationId: String, timestamp: SQLiteValue, data: SQLiteValue, location: @autoclosure () -> String) throws -> Event
    /// The `events` columns besides `app_name`, `user_id`, `session_id` and `id`, in the order of
    /// ``eventValues(_:location:)`` and ``event(id:values:location:)``. Must include `timestamp`.
    var eventColumns: [String] { get }
    /// The values of ``eventColumns`` for `event`.
    func eventValues(_ event: Event, location: @autoclosure () -> String) throws -> [SQLiteValue]
    /// Builds an event from the values of ``eventColumns``.
    func event(id: String, values: [SQLiteValue], location: @autoclosure () -> String) throws -> Event
    /// `carried` (an event transcoded from the row's `event_data`) if the row's other columns
    /// (`invocation_id`, `timestamp`) let it stand as it is; `nil` where ``event(id:values:location:)``
    /// must build the event. Bad columns throw as there.
    func accepting(_ carried: Event, id: String, values: [SQLiteValue], location: @autoclosure () -> String) throws -> Event?
}

/// The JSON layouts store an event in `invocation_id`, `timestamp` and `event_data`.
extension SQLiteSessionFormat {
    public var eventColumns: [String] { ["invocation_id", "timestamp", "event_data"] }

    public func eventValues(_ event: Event, location: @autoclosure () -> String) throws -> [SQLiteValue] {
        [.text(event.invocationId), timeValue(event.timestamp), .text(eventText(event))]
    }

    public func event(id: String, values: [SQLiteValue], location: @autoclosure () -> String) throws -> Event {
        guard values.count == 3 else {
            throw SessionDataError(store: "sqlite", location: location(), message: "expected 3 event columns")
        }
        let invocationId = try Self.invocationId(values[0], location: location())
        return try event(id: id, invocationId: invocationId, timestamp: values[1], data: values[2], location: location())
    }

    /// The `invocation_id` column's text: NULL reads as empty, an integer as its digits.
    static func invocationId(_ value: SQLiteValue, location: @autoclosure () -> String) throws -> String {
        switch value {
        case .text(let text): text
        case .null: ""
        case .integer(let number): String(number)
        default: throw SessionDataError(store: "sqlite", location: location(), message: "invocation_id is not text")
        }
    }
}

/// The wall clock, for `update_time` columns that record when this tool wrote a row.
enum WallClock {
    /// Seconds since the Unix epoch.
    static func now() -> Double {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
    }
}
