import DriverCore
import Foundation
import MySQLDriver
import RedisDriver
import SessionModel
import Testing

@testable import SessMigrate

/// Issue 13 items 1 and 8: a time no target can hold (outside MySQL DATETIME(6)'s years 1000–9999:
/// year 10000, `1e999`, `-1e15`) and a MySQL zero date are bad data of their session, refused when
/// read, in every store's reader, naming the key or row; `--skip-bad` skips exactly that session.
/// Redis databases 60 and 61 and MySQL databases `bad_time*`/`bad_zero*` belong to these tests.
@Suite(.serialized, .enabled(if: ProcessInfo.processInfo.environment["SESSMIGRATE_REDIS_URL"] != nil))
struct RedisTimeRangeTests {
    static let times = ["253402300800", "1e999", "-1e15"]
    static let reason = "outside the years 1000 to 9999"

    func source(_ blob: String, layout: RedisLayoutName) throws -> StoreAddress {
        let (address, connection) = try BadInput.redis(layout == .community ? 60 : 61, layout: layout)
        defer { connection.close() }
        try write(try BadInput.goodSessions(), to: address)
        let key = layout == .community ? "session:bad" : "session:app:u:bad"
        _ = try connection.command([Array("SET".utf8), Array(key.utf8), Array(blob.utf8)])
        return address
    }

    @Test(arguments: times, [RedisLayoutName.community, .adkRedis])
    func lastUpdateTimeOutOfRange(time: String, layout: RedisLayoutName) throws {
        try withTemporaryDirectory { directory in
            let blob = #"{"id": "bad", "app_name": "app", "user_id": "u", "state": {"m": "\#(BadInput.marker)"}, "events": [], "last_update_time": \#(time)}"#
            let address = try source(blob, layout: layout)
            try BadInput.expectStopAndSkip(address, location: "session:", reason: Self.reason, good: 3, directory: directory)
        }
    }

    @Test(arguments: times, [RedisLayoutName.community, .adkRedis])
    func eventTimestampOutOfRange(time: String, layout: RedisLayoutName) throws {
        try withTemporaryDirectory { directory in
            let events = #"[{"id": "e1", "invocation_id": "i", "author": "user", "timestamp": \#(time), "custom_metadata": {"m": "\#(BadInput.marker)"}}]"#
            let blob = #"{"id": "bad", "app_name": "app", "user_id": "u", "state": {}, "events": \#(events), "last_update_time": 1700000000.5}"#
            let address = try source(blob, layout: layout)
            try BadInput.expectStopAndSkip(address, location: "session:", reason: Self.reason, good: 3, directory: directory)
        }
    }

    /// `snapshot` used to accept such a session and write it into the snapshot file.
    @Test func snapshotRefusesAnOutOfRangeTime() throws {
        try withTemporaryDirectory { directory in
            let blob = #"{"id": "bad", "app_name": "app", "user_id": "u", "state": {}, "events": [], "last_update_time": 253402300800}"#
            let address = try source(blob, layout: .community)
            let copyError = try #require(throws: CopyError.self) {
                _ = try SnapshotJob(source: address, path: directory + "/snap.db", force: false).run()
            }
            let error = try #require(copyError.underlying as? SessionDataError)
            #expect(error.location == "session:bad" && error.message.contains(Self.reason), "\(error)")
            #expect(!FileManager.default.fileExists(atPath: directory + "/snap.db"))
        }
    }
}

struct SQLiteTimeRangeTests {
    /// Four good sessions in a new SQLite file of `layout`, then `sql` run on it.
    func withSource(_ layout: SQLiteLayoutName, _ sql: String, _ body: (StoreAddress, String) throws -> Void) throws {
        try withTemporaryDirectory { directory in
            let address = StoreAddress.sqlite(SQLiteAddress(path: directory + "/source.db", newFileLayout: layout))
            try write(try BadInput.goodSessions(count: 4), to: address)
            try BadInput.sqlite3(address, sql)
            try body(address, directory)
        }
    }

    @Test(arguments: ["253402300800", "-1e15", "9e999"])
    func sqliteSessionServiceUpdateTime(time: String) throws {
        try withSource(.sqliteSessionService, "UPDATE sessions SET update_time = \(time) WHERE id = 'good3'") { address, directory in
            try BadInput.expectStopAndSkip(
                address, location: "sessions row app/u/good3", reason: RedisTimeRangeTests.reason, good: 3, directory: directory)
        }
    }

    @Test func sqliteSessionServiceEventTimestamp() throws {
        let sql = "UPDATE events SET event_data = json_set(event_data, '$.timestamp', 253402300800.0) WHERE id = 'good3-e1'"
        try withSource(.sqliteSessionService, sql) { address, directory in
            try BadInput.expectStopAndSkip(
                address, location: "events row id='good3-e1' of app/u/good3", reason: RedisTimeRangeTests.reason, good: 3, directory: directory)
        }
    }

    @Test func databaseLayoutDatetimeBeforeYear1000() throws {
        try withSource(.database, "UPDATE sessions SET create_time = '0999-12-31 23:59:59.000000' WHERE id = 'good3'") { address, directory in
            try BadInput.expectStopAndSkip(
                address, location: "sessions row app/u/good3", reason: RedisTimeRangeTests.reason, good: 3, directory: directory)
        }
    }

    @Test func databaseLayoutEventTimestamp() throws {
        let sql = "UPDATE events SET event_data = json_set(event_data, '$.timestamp', -1e15) WHERE id = 'good3-e1'"
        try withSource(.database, sql) { address, directory in
            try BadInput.expectStopAndSkip(
                address, location: "events row id='good3-e1' of app/u/good3", reason: RedisTimeRangeTests.reason, good: 3, directory: directory)
        }
    }
}

@Suite(.serialized, .enabled(if: ProcessInfo.processInfo.environment["SESSMIGRATE_MYSQL_URL"] != nil))
struct MySQLTimeRangeTests {
    /// A v1 database `bad_<name>` with four good sessions, then `sql` run in it with a non-strict,
    /// zero-date-accepting `sql_mode` (as a server configured that way would have stored them).
    func withSource(_ name: String, _ sql: [String], _ body: (StoreAddress, String) throws -> Void) throws {
        let (address, admin) = try BadInput.mysql(name)
        defer { BadInput.dropMySQL(address, admin) }
        try write(try BadInput.goodSessions(count: 4), to: address)
        _ = try admin.execute("SET SESSION sql_mode = ''")
        for statement in sql { _ = try admin.execute(statement) }
        try withTemporaryDirectory { try body(address, $0) }
    }

    @Test(arguments: ["253402300800", "1e999", "-1e15"])
    func eventDataTimestampOutOfRange(time: String) throws {
        let sql = #"UPDATE events SET event_data = REGEXP_REPLACE(event_data, '"timestamp": [-0-9.e+]+', '"timestamp": \#(time)') WHERE id = 'good3-e1'"#
        try withSource("time", [sql]) { address, directory in
            try BadInput.expectStopAndSkip(
                address, location: "events row id='good3-e1' of app/u/good3", reason: RedisTimeRangeTests.reason, good: 3, directory: directory)
        }
    }

    /// Item 8: `'0000-00-00 00:00:00'` used to copy with exit 0 and read back as year -1.
    @Test(arguments: [
        ("sessions", "update_time", "WHERE id = 'good3'", "sessions row app/u/good3"),
        ("sessions", "create_time", "WHERE id = 'good3'", "sessions row app/u/good3"),
        ("events", "timestamp", "WHERE id = 'good3-e1'", "events row id='good3-e1' of app/u/good3"),
    ])
    func zeroDate(table: String, column: String, row: String, location: String) throws {
        try withSource("zero", ["UPDATE \(table) SET \(column) = '0000-00-00 00:00:00' \(row)"]) { address, directory in
            try BadInput.expectStopAndSkip(address, location: location, reason: "is MySQL's zero date", good: 3, directory: directory)
        }
    }

    /// An error the MySQL target raises about one row of a batch (here a target whose `state`
    /// column is smaller than ADK's) names the session; `--skip-bad` writes the batch again without it.
    @Test func targetRowErrorNamesTheSessionAndIsSkipped() throws {
        let (target, admin) = try BadInput.mysql("row")
        defer { BadInput.dropMySQL(target, admin) }
        try withTemporaryDirectory { directory in
            let source = BadInput.sqlite(directory, "source")
            var sessions = try BadInput.goodSessions(count: 4)
            sessions[2].state = ["big": .string(String(repeating: "x", count: 100))]
            try write(sessions, to: source)
            try write([], to: target)
            _ = try admin.execute("ALTER TABLE sessions MODIFY state VARCHAR(64) NOT NULL")
            let error = try #require(throws: SessionRejectedError.self) { try BadInput.copy(source, target, skipBad: false) }
            #expect(error.key == sessions[2].key && error.description.contains("sessions row app/u/good2"), "\(error)")
            #expect(try BadInput.sessionCount(target) == 0)
            let summary = try BadInput.copy(source, target, skipBad: true)
            #expect(summary.skippedCount == 1 && summary.skipped.items.first?.key == sessions[2].key && summary.total.written == 3, "\(summary.skipped)")
        }
    }
}
