import SessionModel

/// The times every store sessmigrate writes can hold, checked when a session is read.
///
/// MySQL's `DATETIME(6)` holds years 1000 to 9999 (DatabaseSessionService's `create_time`,
/// `update_time` and `events.timestamp`); Redis and SQLite store a float that could hold more, but a
/// session with a time outside that range could never be copied into MySQL (the write fails with
/// "Incorrect datetime value"), and Python's `datetime` refuses most of it too. Every reader
/// (Redis blobs of both layouts, SQLite files and snapshots, MySQL) therefore refuses such a time as
/// bad data of its session (``SessionDataError`` naming the key or row), so `--skip-bad` skips exactly
/// that session and nothing downstream ever meets it.
public enum StoredTime {
    /// 1000-01-01 00:00:00 UTC to 9999-12-31 23:59:59.999999 UTC, in microseconds since the epoch
    /// (rounded as Python's `datetime.fromtimestamp` rounds, which is what a DATETIME column gets).
    public static let microsecondRange: ClosedRange<Int64> = -30_610_224_000_000_000...253_402_300_799_999_999

    /// What every refusal says.
    public static let rangeText = "outside the years 1000 to 9999 that every store can hold (MySQL DATETIME(6))"

    /// True when `seconds` (epoch seconds) fits every store.
    public static func isStorable(_ seconds: Double) -> Bool {
        microsecondRange.contains(PythonTime.microseconds(fromEpoch: seconds))
    }

    /// Throws a ``SessionDataError`` naming `field`, `store` and `location` when `seconds` is not
    /// storable (NaN, infinite, or outside years 1000–9999). The names are only built for a refusal.
    public static func check(
        _ seconds: Double, field: @autoclosure () -> String, store: String, location: @autoclosure () -> String
    ) throws {
        guard !isStorable(seconds) else { return }
        throw SessionDataError(store: store, location: location(), message: "\(field()) \(PythonFloat.repr(seconds)) is \(rangeText)")
    }

    /// Checks a session row's creation and last update times.
    public static func check(createTime: Double?, lastUpdateTime: Double, store: String, location: @autoclosure () -> String) throws {
        if let createTime { try check(createTime, field: "create_time", store: store, location: location()) }
        try check(lastUpdateTime, field: "update_time", store: store, location: location())
    }

    /// Checks an event's `timestamp`.
    public static func check(_ event: Event, store: String, location: @autoclosure () -> String) throws {
        try check(event.timestamp, field: "timestamp", store: store, location: location())
    }
}
