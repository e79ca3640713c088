import DriverCore
import Foundation
import SessionModel
import Testing

@testable import MySQLDriver

/// Issue 13 item 3: MySQL DDL commits implicitly, so the v1 schema (six DDL statements, then the
/// `schema_version` row) is not created atomically. A creator killed between two statements, or two
/// creators at once, used to leave "adk_internal_metadata has no schema_version row" (refused forever)
/// or "Table 'adk_internal_metadata' already exists". Creation now takes a named lock, uses
/// `IF NOT EXISTS`, and completes a half-made schema whose tables are all empty.
@Suite(.serialized, .enabled(if: MySQLTestServer.url != nil))
struct MySQLSchemaCreationTests {
    static let session = Session(
        key: SessionKey(appName: "a", userId: "u", sessionId: "s"), state: ["k": .string("v")], createTime: 1_700_000_000,
        lastUpdateTime: 1_700_000_001)

    /// The state a creator killed after `count` statements leaves, for every boundary: a writer
    /// completes it, a reader sees an empty store.
    @Test(arguments: 1..<7)
    func halfMadeSchemaIsCompleted(count: Int) throws {
        try MySQLTestServer.withDatabase("half\(count)") { config, connection throws in
            for statement in MySQLSchema.v1Statements.prefix(count) { try connection.execute(statement) }
            try MySQLTestServer.withStore(config, forWriting: false) { #expect($0.layout.name == "empty") }
            try MySQLTestServer.withStore(config) { store throws in
                #expect(store.layout.name == "database-v1")
                try store.writeSessions([Self.session])
            }
            try MySQLTestServer.withStore(config, forWriting: false) { store throws in
                #expect(try MySQLTestServer.all(store) == [Self.session])
            }
            #expect(try connection.query("SELECT * FROM adk_internal_metadata").collect() == [["schema_version", "1"]])
            let index =
                "SELECT COUNT(DISTINCT INDEX_NAME) FROM information_schema.STATISTICS"
                + " WHERE TABLE_SCHEMA = DATABASE() AND INDEX_NAME = 'idx_events_app_user_session_ts_id'"
            #expect(try connection.query(index).collect() == [["1"]])
        }
    }

    /// A half-made schema that already holds rows is not ours to complete: refused, untouched.
    @Test func halfMadeSchemaHoldingRowsIsRefused() throws {
        try MySQLTestServer.withDatabase("halfrows") { config, connection throws in
            for statement in MySQLSchema.v1Statements.prefix(3) { try connection.execute(statement) }
            try connection.execute("INSERT INTO sessions VALUES ('a', 'u', 's', '{}', '2024-01-01 00:00:00', '2024-01-01 00:00:00')")
            for forWriting in [false, true] {
                let error = try #require(throws: DatabaseSchemaError.self) { try MySQLSessionStore.open(config, forWriting: forWriting) }
                #expect(error.message.contains("no schema_version row") && error.message.contains("'sessions' holds rows"), "\(error)")
            }
            #expect(try connection.query("SHOW TABLES").collect().count == 3)
        }
    }

    /// Two creators at once on one empty database (repeated): both open it as v1.
    @Test func concurrentCreatorsBothSucceed() throws {
        for round in 0..<8 {
            try MySQLTestServer.withDatabase("race\(round)") { config, _ throws in
                let results = Results()
                let group = DispatchGroup()
                for _ in 0..<2 {
                    DispatchQueue.global().async(group: group) {
                        do {
                            let store = try MySQLSessionStore.open(config, forWriting: true)
                            results.add(store.layout.name)
                            try? store.close()
                        } catch {
                            results.add("\(error)")
                        }
                    }
                }
                group.wait()
                #expect(results.all == ["database-v1", "database-v1"], "round \(round): \(results.all)")
            }
        }
    }

    final class Results: @unchecked Sendable {
        // Guarded by `lock`: the two creators report from their own threads.
        private let lock = NSLock()
        private var items: [String] = []
        func add(_ item: String) {
            lock.lock()
            items.append(item)
            lock.unlock()
        }
        var all: [String] {
            lock.lock()
            defer { lock.unlock() }
            return items
        }
    }
}
