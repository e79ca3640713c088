import DriverCore
import Foundation
import SessionModel
import Testing

@testable import MySQLDriver

/// A store that filled empty tables refreshes their InnoDB statistics when it closes: until then the
/// optimizer sees the empty tables' statistics (measured: reading 10,000 sessions just copied into an
/// empty database took 28.5 s, 4.7 s after ANALYZE). The server's own recalculation is switched off
/// for the tables here, so only the store's ANALYZE can change what `mysql.innodb_table_stats` says.
@Suite(.serialized, .enabled(if: MySQLTestServer.url != nil))
struct MySQLStatisticsTests {
    static func sessions(_ count: Int, events: Int, prefix: String) throws -> [Session] {
        try (0..<count).map { index in
            let id = "\(prefix)-\(index)"
            let list = try (0..<events).map { try Fixture.event("\(id)-e\($0)", at: 1_700_000_000 + Double($0)) }
            return try Fixture.session("app", "u\(index % 7)", id, events: list)
        }
    }

    static func estimatedRows(_ connection: MySQLConnection, _ table: String) throws -> Int {
        let rows = try connection.query(
            "SELECT n_rows FROM mysql.innodb_table_stats WHERE database_name = DATABASE() AND table_name = '\(table)'"
        ).collect()
        return rows.first.flatMap { $0.first ?? nil }.flatMap { Int($0) } ?? -1
    }

    static func switchOffRecalculation(_ connection: MySQLConnection) throws {
        for table in ["sessions", "events"] { try connection.execute("ALTER TABLE \(table) STATS_AUTO_RECALC = 0") }
    }

    @Test func fillingEmptyTablesRefreshesTheirStatistics() throws {
        try MySQLTestServer.withDatabase("refresh_stats") { config, connection throws in
            try MySQLTestServer.withStore(config) { store throws in
                try Self.switchOffRecalculation(connection)
                #expect(store.startedEmpty)
                for start in stride(from: 0, to: 200, by: 50) {
                    try store.writeSessions(try Self.sessions(50, events: 50, prefix: "s\(start)"))
                }
                #expect(try Self.estimatedRows(connection, "events") == 0, "nothing refreshed before close")
            }
            #expect(try Self.estimatedRows(connection, "events") > 5_000, "10,000 events rows, estimated")
            #expect(try Self.estimatedRows(connection, "sessions") > 100)
        }
    }

    /// Fewer rows than the threshold, or tables that already held rows: statistics are left to the server.
    @Test func smallCopiesAndFilledTablesAreLeftAlone() throws {
        try MySQLTestServer.withDatabase("stats_small") { config, connection throws in
            try MySQLTestServer.withStore(config) { store throws in
                try Self.switchOffRecalculation(connection)
                try store.writeSessions(try Self.sessions(10, events: 5, prefix: "few"))
            }
            #expect(try Self.estimatedRows(connection, "events") == 0)
            try MySQLTestServer.withStore(config) { store throws in
                #expect(!store.startedEmpty)
                for start in stride(from: 0, to: 200, by: 50) {
                    try store.writeSessions(try Self.sessions(50, events: 50, prefix: "more\(start)"))
                }
            }
            #expect(try Self.estimatedRows(connection, "events") == 0)
        }
    }
}
