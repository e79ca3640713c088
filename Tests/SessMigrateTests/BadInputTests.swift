import DriverCore
import Foundation
import MySQLDriver
import RedisDriver
import SessionModel
import Testing

@testable import SessMigrate

/// Issue 6 item 2: every kind of bad input, in each store that can hold it, stops the copy before
/// the batch holding it is written, or with `--skip-bad` is listed while the rest is copied.
/// Snapshots that are truncated, corrupt or from a newer format are covered by
/// `SnapshotTests.damagedSnapshotsAreRefusedBeforeWriting`.
@Suite(.serialized, .enabled(if: ProcessInfo.processInfo.environment["SESSMIGRATE_REDIS_URL"] != nil))
struct RedisBadInputTests {
    /// Good sessions written through the store, then `value` stored raw under `key`.
    func source(_ number: Int, key: String, value: [UInt8], layout: RedisLayoutName = .community) throws -> StoreAddress {
        let (address, connection) = try BadInput.redis(number, layout: layout)
        defer { connection.close() }
        try write(try BadInput.goodSessions(), to: address)
        _ = try connection.command([Array("SET".utf8), Array(key.utf8), value])
        return address
    }

    func blob(id: String = "bad", state: String = "{}", events: String = "[]") -> [UInt8] {
        Array(#"{"id": "\#(id)", "app_name": "app", "user_id": "u", "state": \#(state), "events": \#(events), "last_update_time": 1.0}"#.utf8)
    }

    func event(_ id: String, _ time: Double) -> String {
        #"{"id": "\#(id)", "invocation_id": "i", "author": "user", "timestamp": \#(time), "custom_metadata": {"m": "\#(BadInput.marker)"}}"#
    }

    @Test func invalidJSONBlob() throws {
        try withTemporaryDirectory { directory in
            let address = try source(50, key: "session:bad", value: Array("{\"id\": \"\(BadInput.marker)".utf8))
            try BadInput.expectStopAndSkip(address, location: "session:bad", reason: "not JSON", good: 3, directory: directory)
        }
    }

    @Test func wrongShapeBlob() throws {
        try withTemporaryDirectory { directory in
            let address = try source(51, key: "session:bad", value: blob(state: "\"\(BadInput.marker)\""))
            try BadInput.expectStopAndSkip(address, location: "session:bad", reason: "\"state\"", good: 3, directory: directory)
        }
    }

    /// Events out of time order are ADK's own data (google-adk-redis appends each event where it
    /// finds the blob, stamped when the bot made it): copied, not refused; a database target reads
    /// them back in time order, as ADK's DatabaseSessionService would.
    @Test func eventsOutOfOrderAreCopied() throws {
        try withTemporaryDirectory { directory in
            let address = try source(52, key: "session:bad", value: blob(events: "[\(event("e1", 2.0)), \(event("e2", 1.0))]"))
            let target = BadInput.sqlite(directory, "target")
            let summary = try BadInput.copy(address, target, skipBad: false)
            #expect(summary.skippedCount == 0 && summary.total.written == 4)
            let copied = try #require(try readAll(target).values.first { $0.key.sessionId == "bad" })
            #expect(copied.events.map(\.id) == ["e2", "e1"])
        }
    }

    @Test func repeatedEventId() throws {
        try withTemporaryDirectory { directory in
            let address = try source(53, key: "session:bad", value: blob(events: "[\(event("e1", 1.0)), \(event("e1", 2.0))]"))
            try BadInput.expectStopAndSkip(address, location: "session:bad", reason: "repeats the id 'e1'", good: 3, directory: directory)
        }
    }

    @Test func nonUTF8Bytes() throws {
        try withTemporaryDirectory { directory in
            let bytes = blob(state: "{\"k\": \"\(BadInput.marker)\u{1}\"}").map { $0 == 1 ? 0xFF : $0 }
            let address = try source(54, key: "session:bad", value: bytes)
            try BadInput.expectStopAndSkip(address, location: "session:bad", reason: "not valid UTF-8", good: 3, directory: directory)
        }
    }

    /// A state hash value that is not JSON makes every session of its app bad.
    @Test func badStateHashValue() throws {
        try withTemporaryDirectory { directory in
            let (address, connection) = try BadInput.redis(55)
            defer { connection.close() }
            try write(try BadInput.goodSessions() + BadInput.goodSessions(app: "other", count: 1), to: address)
            _ = try connection.command(["HSET", "app:other", "theme", "{\(BadInput.marker)"])
            try BadInput.expectStopAndSkip(address, location: "app:other field \"theme\"", reason: "not JSON", good: 3, directory: directory)
        }
    }

    /// No blob of a known layout: the store cannot be read at all (no `--skip-bad` either).
    @Test func unknownLayoutIsRefused() throws {
        let (address, connection) = try BadInput.redis(56)
        defer { connection.close() }
        _ = try connection.command(["SET", "session:x", #"{"id": "y", "app_name": "a", "user_id": "u", "state": {}, "events": [], "last_update_time": 1.0}"#])
        guard case .redis(var detect) = address else { return }
        detect.layout = nil
        let error = try #require(throws: (any Error).self) { try StoreOpener().open(.redis(detect), forWriting: false) }
        #expect(String(describing: error).contains("session:x") && String(describing: error).contains("unknown layout"), "\(error)")
    }

    /// A blob larger than `proto-max-bulk-len` (lowered to 1 MB here, then restored) is rejected
    /// before its batch is sent: never half-written.
    @Test func valueLargerThanProtoMaxBulkLen() throws {
        try withTemporaryDirectory { directory in
            let source = BadInput.sqlite(directory, "big-source")
            let big = try BadInput.goodSessions(app: "big", count: 1, bigEvent: 1_500_000)
            try write(try BadInput.goodSessions() + big, to: source)
            let (target, connection) = try BadInput.redis(57)
            defer { connection.close() }
            let original = try connection.command(["CONFIG", "GET", "proto-max-bulk-len"]).elements?.last?.bytes.map { String(decoding: $0, as: UTF8.self) }
            _ = try connection.command(["CONFIG", "SET", "proto-max-bulk-len", "1mb"])
            defer { _ = try? connection.command(["CONFIG", "SET", "proto-max-bulk-len", original ?? "536870912"]) }

            let error = try #require(throws: SessionRejectedError.self) { try BadInput.copy(source, target, skipBad: false) }
            #expect(error.key == big[0].key && error.error.location == "session:big0" && error.description.contains("proto-max-bulk-len"), "\(error)")
            _ = try connection.command(["FLUSHDB"])
            let summary = try BadInput.copy(source, target, skipBad: true)
            #expect(summary.skippedCount == 1 && summary.skipped.items.first?.key == big[0].key && summary.total.written == 3)
            let diff = try BadInput.compare(source, target)
            #expect(diff.identical == 3 && diff.onlyInA == 1 && diff.changed == 0 && diff.onlyInB == 0)
            #expect(try connection.command(["EXISTS", "session:big0"]) == .integer(0))
        }
    }
}

@Suite(.serialized, .enabled(if: ProcessInfo.processInfo.environment["SESSMIGRATE_MYSQL_URL"] != nil))
struct MySQLBadInputTests {
    /// A v1 database `bad_<name>` with three good sessions, then `sql` run in it.
    func withSource(_ name: String, _ sql: [String], _ body: (StoreAddress, String) throws -> Void) throws {
        let (address, admin) = try BadInput.mysql(name)
        defer { BadInput.dropMySQL(address, admin) }
        try write(try BadInput.goodSessions(count: 4), to: address)
        for statement in sql { _ = try admin.execute(statement) }
        try withTemporaryDirectory { try body(address, $0) }
    }

    static let row = "events row id='good3-e1' of app/u/good3"
    static let event = "WHERE id = 'good3-e1'"

    @Test func invalidJSONInEventData() throws {
        try withSource("json", ["UPDATE events SET event_data = '{\(BadInput.marker)' \(Self.event)"]) { address, directory in
            try BadInput.expectStopAndSkip(address, location: Self.row, reason: "event_data is not valid JSON", good: 3, directory: directory)
        }
    }

    @Test func eventDataOfTheWrongShape() throws {
        try withSource("shape", ["UPDATE events SET event_data = '[\"\(BadInput.marker)\"]' \(Self.event)"]) { address, directory in
            try BadInput.expectStopAndSkip(address, location: Self.row, reason: "event_data is not a JSON object", good: 3, directory: directory)
        }
    }

    @Test func stateOfTheWrongShape() throws {
        try withSource("state", ["UPDATE sessions SET state = '\"\(BadInput.marker)\"' WHERE id = 'good3'"]) { address, directory in
            try BadInput.expectStopAndSkip(address, location: "sessions row app/u/good3", reason: "state is not a JSON object", good: 3, directory: directory)
        }
    }

    /// A column that is not utf8mb4 (here a LONGBLOB) can hand out any bytes.
    @Test func nonUTF8Bytes() throws {
        try withSource(
            "utf8",
            [
                "ALTER TABLE events MODIFY event_data LONGBLOB",
                "UPDATE events SET event_data = X'7B226964223A2022FF227D' \(Self.event)",
            ]
        ) { address, directory in
            try BadInput.expectStopAndSkip(address, location: Self.row, reason: "not valid UTF-8", good: 3, directory: directory)
        }
    }

    @Test func unknownSchemaVersionIsRefused() throws {
        try withSource("version", ["UPDATE adk_internal_metadata SET value = '99' WHERE `key` = 'schema_version'"]) { address, directory in
            for skipBad in [false, true] {
                let error = try #require(throws: (any Error).self) {
                    try BadInput.copy(address, BadInput.sqlite(directory, "t\(skipBad)"), skipBad: skipBad)
                }
                #expect(String(describing: error).contains("'99'"), "\(error)")
            }
        }
    }

    /// A row larger than the target's `max_allowed_packet` (lowered to 1 MB for one connection:
    /// the global value is restored right after the store connects) is rejected inside the
    /// batch's transaction before it is sent: the batch rolls back whole.
    @Test func valueLargerThanMaxAllowedPacket() throws {
        let (target, admin) = try BadInput.mysql("packet")
        defer { BadInput.dropMySQL(target, admin) }
        try withTemporaryDirectory { directory in
            let source = BadInput.sqlite(directory, "big-source")
            let big = try BadInput.goodSessions(app: "big", count: 1, bigEvent: 1_500_000)
            try write(try BadInput.goodSessions() + big, to: source)
            func openLowered() throws -> any SessionStore {
                let original = try admin.query("SELECT @@GLOBAL.max_allowed_packet", buffered: true).collect().first?.first ?? nil
                _ = try admin.execute("SET GLOBAL max_allowed_packet = 1048576")
                defer { _ = try? admin.execute("SET GLOBAL max_allowed_packet = \(original ?? "16777216")") }
                return try StoreOpener().open(target, forWriting: true)
            }
            let store = try openLowered()
            defer { try? store.close() }
            let error = try #require(throws: SessionRejectedError.self) { try BadInput.copy(source, target, skipBad: false, targetStore: store) }
            #expect(error.key == big[0].key && error.error.location == "events row id='big0-e0' of big/u/big0", "\(error)")
            #expect(error.description.contains("max_allowed_packet"))
            #expect(try BadInput.sessionCount(target) == 0)
            let summary = try BadInput.copy(source, target, skipBad: true, targetStore: store)
            #expect(summary.skippedCount == 1 && summary.skipped.items.first?.key == big[0].key && summary.total.written == 3)
            let diff = try BadInput.compare(source, target)
            #expect(diff.identical == 3 && diff.onlyInA == 1 && diff.changed == 0 && diff.onlyInB == 0)
        }
    }
}

struct SQLiteBadInputTests {
    func withSource(_ sql: String, _ body: (StoreAddress, String) throws -> Void) throws {
        try withTemporaryDirectory { directory in
            let address = BadInput.sqlite(directory, "source")
            try write(try BadInput.goodSessions(count: 4), to: address)
            try BadInput.sqlite3(address, sql)
            try body(address, directory)
        }
    }

    @Test func invalidJSONInEventData() throws {
        try withSource("UPDATE events SET event_data = '{\(BadInput.marker)' WHERE id = 'good3-e1'") { address, directory in
            try BadInput.expectStopAndSkip(
                address, location: "events row id='good3-e1' of app/u/good3", reason: "event_data is not valid JSON", good: 3, directory: directory)
        }
    }

    @Test func nonUTF8Bytes() throws {
        try withSource("UPDATE sessions SET state = CAST(X'7B226B223A2022FF227D' AS TEXT) WHERE id = 'good3'") { address, directory in
            try BadInput.expectStopAndSkip(address, location: "sessions row app/u/good3", reason: "not valid UTF-8", good: 3, directory: directory)
        }
    }

    /// A bad user state row makes every session of that user bad.
    @Test func badUserStateRow() throws {
        try withSource("UPDATE user_states SET state = '[1]'") { address, directory in
            try BadInput.expectStopAndSkip(address, location: "user_states row app/u", reason: "not a JSON object", good: 0, skipped: 4, directory: directory)
        }
    }

    @Test func unknownSchemaVersionIsRefused() throws {
        try withSource("UPDATE adk_internal_metadata SET value = '99' WHERE key = 'schema_version'") { address, directory in
            for skipBad in [false, true] {
                let error = try #require(throws: (any Error).self) { try BadInput.copy(address, BadInput.sqlite(directory, "t\(skipBad)"), skipBad: skipBad) }
                #expect(String(describing: error).contains("'99'"))
            }
        }
    }

    /// A skipped session is listed in the run that met it (its name goes out as an event; the
    /// checkpoints carry only the count, so they stay small), and a run resumed past it does not meet
    /// it again.
    @Test func resumeNeverReportsASkipTwice() throws {
        try withSource("UPDATE events SET event_data = 'x' WHERE id = 'good1-e0'") { address, directory in
            var checkpoints: [CopyCheckpoint] = []
            let target = BadInput.sqlite(directory, "target")
            let summary = try BadInput.copy(address, target, skipBad: true, batchSize: 1) { checkpoints.append($0) }
            #expect(summary.skippedCount == 1)
            // Resumed after the batch that listed the skip: carried over, not met again.
            let after = try #require(checkpoints.first { $0.summary.skippedCount == 1 })
            let resumed = try BadInput.copy(address, target, skipBad: true, batchSize: 1, resume: CopyCheckpoint(json: after.json()))
            #expect(resumed.skippedCount == 1 && resumed.skipped.items.isEmpty && summary.skipped.items.count == 1)
            // Resumed before it: met (and listed) in the resumed run.
            let before = try #require(checkpoints.first)
            #expect(before.summary.skippedCount == 0)
            let again = try BadInput.copy(address, target, skipBad: true, batchSize: 1, resume: before)
            #expect(again.skippedCount == 1)
        }
    }

    /// A copy that stops keeps the batches committed before the bad one.
    @Test func stopKeepsEarlierBatches() throws {
        try withSource("UPDATE events SET event_data = 'x' WHERE id = 'good2-e0'") { address, directory in
            let target = BadInput.sqlite(directory, "target")
            #expect(throws: SessionDataError.self) { try BadInput.copy(address, target, skipBad: false, batchSize: 1) }
            // good0 and good1 were committed in earlier batches; good2 (bad) and good3 were not.
            let count = try BadInput.sessionCount(target)
            #expect(count == 2)
        }
    }
}
