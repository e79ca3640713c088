import DriverCore
import SessionModel
import Testing

@testable import MySQLDriver

/// Issue 13 item 1: an error the server raises about one row of a batched write ("… at row N" of a
/// multi-row `INSERT`, a bulk `INSERT`, or a one-row statement) names the session that row belongs
/// to, as a ``SessionRejectedError``, so the batch rolls back and `--skip-bad` can write it again
/// without that session.
@Suite(.enabled(if: MySQLTestServer.url != nil))
struct MySQLRowErrorTests {
    /// Five sessions of two events each; `change` alters the one at `index`.
    static func sessions(bad index: Int, _ change: (inout Session) throws -> Void) throws -> [Session] {
        var sessions = try (0..<5).map { number in
            try Fixture.session(
                "app", "u", "s\(number)", state: #"{"n": \#(number)}"#, app: #"{"theme": "dark"}"#,
                events: [try Fixture.event("s\(number)-e0", at: 1_700_000_000), try Fixture.event("s\(number)-e1", at: 1_700_000_001)])
        }
        try change(&sessions[index])
        return sessions
    }

    /// Writes `sessions` into a fresh database (after `ddl`) and returns the rejection; nothing may
    /// have been written.
    func rejection(_ name: String, ddl: [String] = [], _ sessions: [Session]) throws -> SessionRejectedError {
        try MySQLTestServer.withDatabase(name) { config, connection throws in
            try MySQLTestServer.withStore(config) { store throws in
                for statement in ddl { try connection.execute(statement) }
                let error = try #require(throws: SessionRejectedError.self) { try store.writeSessions(sessions) }
                #expect(try connection.query("SELECT COUNT(*) FROM sessions").collect() == [["0"]], "the batch was not rolled back")
                return error
            }
        }
    }

    @Test func sessionRowTimeOutOfRange() throws {
        let sessions = try Self.sessions(bad: 3) { $0.lastUpdateTime = 253_402_300_800 }
        let error = try rejection("rowtime", sessions)
        #expect(error.key == sessions[3].key, "\(error)")
        #expect(error.error.location == "sessions row app/u/s3" && error.description.contains("Incorrect datetime value"), "\(error)")
    }

    @Test func eventTimeOutOfRangeInTheBulkInsert() throws {
        let sessions = try Self.sessions(bad: 2) { session in
            session.events[1] = try Fixture.event("s2-e1", at: -1e15)
        }
        let error = try rejection("bulktime", sessions)
        #expect(error.key == sessions[2].key, "\(error)")
        #expect(error.error.location == "events row id='s2-e1' of app/u/s2", "\(error)")
    }

    /// A target whose columns are smaller than ADK's (created by another tool): errno 1406 at row N.
    @Test func valueTooLongForItsColumnInTheSessionsInsert() throws {
        let sessions = try Self.sessions(bad: 4) { $0.state = ["big": .string(String(repeating: "x", count: 100))] }
        let error = try rejection("rowlong", ddl: ["ALTER TABLE sessions MODIFY state VARCHAR(64) NOT NULL"], sessions)
        #expect(error.key == sessions[4].key && error.error.location == "sessions row app/u/s4", "\(error)")
        #expect(error.description.contains("Data too long"), "\(error)")
    }

    /// A column in a 3-byte character set cannot hold an emoji (errno 1366); the message quotes
    /// none of the row's bytes.
    @Test func stringTheColumnCannotHoldInTheBulkInsert() throws {
        let sessions = try Self.sessions(bad: 1) { session in
            session.events[0] = try Fixture.event("s1-e0-😀", at: 1_700_000_000)
        }
        let error = try rejection("bulktext", ddl: ["ALTER TABLE events MODIFY id VARCHAR(128) CHARACTER SET utf8mb3 NOT NULL"], sessions)
        #expect(error.key == sessions[1].key && error.error.location == "events row id='s1-e0-😀' of app/u/s1", "\(error)")
        #expect(error.description.contains("Incorrect string value") && !error.description.contains("\\xF0"), "\(error)")
    }

    /// App state rows are shared by the sessions of an app: the first session of the batch that
    /// updates the row is named.
    @Test func valueTooLongForItsColumnInTheAppStateInsert() throws {
        let sessions = try Self.sessions(bad: 2) { session in
            session.key.appName = "big"
            session.appState = ["big": .string(String(repeating: "x", count: 100))]
        }
        let error = try rejection("applong", ddl: ["ALTER TABLE app_states MODIFY state VARCHAR(64) NOT NULL"], sessions)
        #expect(error.key == sessions[2].key && error.error.location == "app_states row big", "\(error)")
    }

    /// An error that names no row (a CHECK constraint another tool added: errno 4025) of a multi-row
    /// statement: each row is run alone in the same transaction and the first that fails is named; the
    /// rejection rolls all of it back.
    @Test func errorWithoutARowNumberIsFoundByRunningEachRowAlone() throws {
        let sessions = try Self.sessions(bad: 3) { $0.state = ["big": .string(String(repeating: "x", count: 100))] }
        let error = try rejection("isolate", ddl: ["ALTER TABLE sessions ADD CONSTRAINT short_state CHECK (CHAR_LENGTH(state) < 50)"], sessions)
        #expect(error.key == sessions[3].key && error.error.location == "sessions row app/u/s3", "\(error)")
        #expect(error.description.contains("short_state") && error.description.contains("errno 4025"), "\(error)")
    }
}
