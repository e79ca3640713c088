import DriverCore
import Foundation
import SessionModel
import Testing

@testable import RedisDriver

/// `SCAN` steps fetched ahead on a connection and thread of their own (``RedisScanAhead``), as a
/// time-bounded scan of a standalone server does. Databases 25 and 26 belong to these tests.
@Suite(.serialized, .enabled(if: TestRedis.isAvailable))
struct RedisScanAheadTests {
    static let database = 25

    /// 3,000 session-like keys and 300 `app:` keys, the hash table settled.
    static func fill(_ connection: RedisConnection) throws {
        for start in stride(from: 0, to: 3_300, by: 1_100) {
            let commands = (start..<start + 1_100).map { n in
                [Array("SET".utf8), Array((n < 3_000 ? "session:k\(n)" : "app:a\(n)").utf8), Array("v".utf8)]
            }
            _ = try connection.pipeline(commands)
        }
        try TestRedis.finishRehashing(connection)
    }

    static func keyspace() throws -> RedisStandaloneKeyspace {
        let config = try TestRedis.config(database: database)
        return RedisStandaloneKeyspace(connection: try RedisConnection.open(config.endpoint, options: config.connectionOptions))
    }

    /// Clients connected to the test database (`CLIENT LIST` says `db=25`), `connection` included.
    static func clients(_ connection: RedisConnection) throws -> Int {
        let list = try connection.run(["CLIENT", "LIST"]).text ?? ""
        return list.split(separator: "\n").filter { $0.contains(" db=\(database) ") }.count
    }

    /// Waits up to 10 s for `condition`.
    static func eventually(_ condition: () throws -> Bool) throws -> Bool {
        for _ in 0..<200 {
            if try condition() { return true }
            Thread.sleep(forTimeInterval: 0.05)
        }
        return false
    }

    @Test func theStepsAreThoseOfOneConnection() throws {
        try TestRedis.withEmptyDatabase(Self.database) { connection in
            try Self.fill(connection)
            let patterns = ["session:*", "app:*"]
            let own = try Self.keyspace()
            defer { own.close() }
            // From the start, and from the middle of the first pattern's scan.
            let probe = RedisKeyScan(keyspace: own, patterns: patterns, count: 200)
            for _ in 0..<3 { _ = try probe.next() }
            let middle = try #require(probe.position)
            for (start, capacity) in [(RedisScanPosition.start, 1), (middle, 3)] {
                let plain = RedisKeyScan(keyspace: own, patterns: patterns, count: 200, from: start)
                let ahead = RedisScanAhead(keyspace: try Self.keyspace(), patterns: patterns, count: 200, from: start, capacity: capacity)
                let scan = RedisKeyScan(keyspace: own, patterns: patterns, count: 200, from: start, ahead: ahead)
                var steps = 0
                var keys = 0
                while true {
                    let expected = try plain.next()
                    let found = try scan.next()
                    #expect(found == expected, "step \(steps) from \(start)")
                    #expect(scan.stepPosition == plain.stepPosition && scan.position == plain.position, "step \(steps) from \(start)")
                    guard let expected else { break }
                    steps += 1
                    keys += expected.count
                }
                #expect(steps > 10 && keys >= (start == .start ? 3_300 : 300))
                #expect(try scan.next() == nil && scan.position == nil)
            }
        }
    }

    @Test func theScanningConnectionIsClosedAtTheEndAndWhenLetGo() throws {
        try TestRedis.withEmptyDatabase(Self.database) { connection in
            try Self.fill(connection)
            let alone = try Self.clients(connection)
            do {
                let ahead = RedisScanAhead(keyspace: try Self.keyspace(), patterns: ["session:*"], count: 100, from: .start, capacity: 1)
                _ = try ahead.take()
                #expect(try Self.clients(connection) == alone + 1)
            }  // released mid-scan
            #expect(try Self.eventually { try Self.clients(connection) == alone })
            let ahead = RedisScanAhead(keyspace: try Self.keyspace(), patterns: ["session:*"], count: 1_000, from: .start)
            while try ahead.take() != nil {}
            #expect(try Self.eventually { try Self.clients(connection) == alone })
            #expect(try ahead.take() == nil)
        }
    }

    @Test func aLostScanningConnectionIsTheReadersError() throws {
        try TestRedis.withEmptyDatabase(Self.database) { connection in
            try Self.fill(connection)
            let ahead = RedisScanAhead(keyspace: try Self.keyspace(), patterns: ["session:*"], count: 100, from: .start, capacity: 1)
            _ = try ahead.take()
            let mine = try connection.run(["CLIENT", "ID"]).integer ?? -1
            let list = try connection.run(["CLIENT", "LIST"]).text ?? ""
            let others = list.split(separator: "\n").filter { $0.contains(" db=\(Self.database) ") && !$0.hasPrefix("id=\(mine) ") }
            #expect(others.count == 1)
            for line in others {
                let id = line.split(separator: " ").first?.dropFirst(3) ?? ""
                try connection.run(["CLIENT", "KILL", "ID", String(id)])
            }
            // The steps fetched before still come out; then the failure, every time it is asked.
            var failure: (any Error)?
            for _ in 0..<100 {
                do { guard try ahead.take() != nil else { break } } catch {
                    failure = error
                    break
                }
            }
            let error = try #require(failure as? RedisError)
            #expect(error.code == .io || error.code == .connectionFailed, "\(error)")
            #expect(throws: RedisError.self) { try ahead.take() }
        }
    }

    @Test func aTimeBoundedScanOfTheStoreReadsWhatOneConnectionReads() throws {
        try TestRedis.withEmptyDatabase(26) { connection in
            try TestRedis.withStore(26, layout: .community) { store in
                let base = 1_800_000_000.0
                let sessions = try (0..<1_500).map { n in
                    let event = try Event(data: ["id": .string("e\(n)"), "timestamp": .number(JSONNumber(base + Double(n))), "author": .string("user")])
                    return Session(
                        key: SessionKey(appName: "app", userId: "u\(n % 5)", sessionId: "s\(n)"), events: [event], lastUpdateTime: base + Double(n))
                }
                try store.writeSessions(sessions)
                try TestRedis.finishRehashing(connection)
                let scope = SessionScope(updatedSince: base + 1_000)
                let cursor = try store.scanSessions(SessionQuery(scope: scope, batchSize: 50))
                var read: [SessionKey] = []
                while let session = try cursor.next() { read.append(session.key) }
                #expect(read.count == 500 && Set(read) == Set(sessions.filter(scope.matches).map(\.key)))
            }
        }
    }
}
