import DriverCore
import Foundation
import SessMigrateTestSupport
import SessionModel
import Testing

@testable import RedisDriver

/// Resuming Redis scans (both layouts) from `SessionCursor.resumeToken`: `SCAN` positions.
/// Databases 62, 63 and 19 belong to these tests (docs/TESTING.md lists every suite's).
@Suite(.serialized, .enabled(if: TestRedis.isAvailable))
struct RedisResumeTests {
    static func sessions(_ count: Int) throws -> [Session] {
        try (0..<count).map { index in
            try Samples.richSession(id: "s\(index):x é", app: "app\(index % 3)", user: "u\(index % 4)", expiry: .never)
        }
    }

    @Test(arguments: [(RedisLayout.community, 62), (.adkRedis, 63)])
    func resumedScanSkipsNoSession(layout: RedisLayout, database: Int) throws {
        try TestRedis.withEmptyDatabase(database) { connection in
            try TestRedis.withStore(database, layout: layout) { store in
                try store.writeSessions(Self.sessions(61))
                try TestRedis.finishRehashing(connection)
                for batchSize in [1, 4, 7, 50] {
                    // A step holds about `batchSize` keys (app and user hashes included), sometimes a few more.
                    try ResumeCheck.expectResumes(
                        store, batchSize: batchSize, stops: [0, 1, 2, 3, 6, 7, 8, 20, 33, 60, 61, 70], exact: false,
                        maxRepeats: 2 * batchSize + 8)
                    // Resuming after every session still moves forward inside a step (the digest skip).
                    try ResumeCheck.expectChainedResumes(store, batchSize: batchSize, every: [1, 3, 10], exact: false)
                }
            }
        }
    }

    @Test(arguments: [(RedisLayout.community, 62), (.adkRedis, 63)])
    func tokensMarkStepsAndTheEnd(layout: RedisLayout, database: Int) throws {
        try TestRedis.withEmptyDatabase(database) { connection in
            try TestRedis.withStore(database, layout: layout) { store in
                try store.writeSessions(Self.sessions(30))
                try TestRedis.finishRehashing(connection)
                let cursor = try store.scanSessions(SessionQuery(batchSize: 5))
                #expect(cursor.resumeToken == nil)
                var tokens: [String] = []
                while try cursor.next() != nil { tokens.append(try #require(cursor.resumeToken)) }
                #expect(tokens.count == 30)
                // Tokens carry the server's epoch (16 hex digits of its run_id): s2:<epoch>:<node>:<cursor>…
                let epoch = try #require(try RedisResumePoint(token: tokens[0], nodeCount: 1).epoch)
                #expect(cursor.resumeToken == "s2:\(epoch):1:0")
                for token in tokens {
                    #expect(ResumeCheck.isPrintableASCII(token) && (token.hasPrefix("s2:\(epoch):0:") || token == "s2:\(epoch):1:0"))
                    #expect(try RedisResumePoint(token: token, nodeCount: 1).token == token)
                }
                // A token inside a step: the resumed scan starts with the rest of that step.
                let inside = try #require(tokens.firstIndex { $0.split(separator: ":").count == 6 })
                let (first, token) = try ResumeCheck.firstPart(store, batchSize: 5, count: inside + 1)
                #expect(token == tokens[inside])
                let rest = try ResumeCheck.scan(store, batchSize: 5, after: token).keys
                #expect(Set(first).isDisjoint(with: rest))
                #expect(first.count + rest.count == 30)
                let resumed = try store.scanSessions(SessionQuery(batchSize: 5, resumeAfter: token))
                #expect(resumed.resumeToken == token)
                // At the end, nothing is left.
                #expect(try ResumeCheck.scan(store, batchSize: 5, after: "s1:1:0").keys.isEmpty)
            }
        }
    }

    /// Redis reseeds its key hashing at every start, so a SCAN cursor of another server process
    /// would skip keys: a token of another epoch starts the scan over (and says so: no token yet).
    @Test func aTokenOfAnotherServerProcessStartsOver() throws {
        try TestRedis.withEmptyDatabase(19) { connection in
            try TestRedis.withStore(19, layout: .community) { store in
                try store.writeSessions(Self.sessions(30))
                try TestRedis.finishRehashing(connection)
                let (first, token) = try ResumeCheck.firstPart(store, batchSize: 5, count: 12)
                let parts = try #require(token).split(separator: ":", omittingEmptySubsequences: false)
                #expect(parts[0] == "s2" && first.count == 12)
                let stale = (["s2", "0000000000000000"] + parts.dropFirst(2)).joined(separator: ":")
                let resumed = try store.scanSessions(SessionQuery(batchSize: 5, resumeAfter: stale))
                #expect(resumed.resumeToken == nil)
                #expect(try ResumeCheck.scan(store, batchSize: 5, after: stale).keys.count == 30)
                // A legacy token without an epoch is trusted as before.
                let legacy = (["s1"] + parts.dropFirst(2)).joined(separator: ":")
                let rest = try ResumeCheck.scan(store, batchSize: 5, after: legacy).keys
                #expect(Set(first).isDisjoint(with: rest) && Set(first).union(rest).count == 30)
            }
        }
    }

    @Test func aChangedStepIsReadAgainWhole() throws {
        try TestRedis.withEmptyDatabase(19) { connection in
            try TestRedis.withStore(19, layout: .community) { store in
                try store.writeSessions(Self.sessions(40))
                try TestRedis.finishRehashing(connection)
                var found: ([SessionKey], String)?
                for count in 2..<40 {
                    let (first, token) = try ResumeCheck.firstPart(store, batchSize: 10, count: count)
                    if let token, token.split(separator: ":").count == 6, Int(token.split(separator: ":")[4]) ?? 0 >= 2 {
                        found = (first, token)
                        break
                    }
                }
                let (first, token) = try #require(found)
                let skip = try RedisResumePoint(token: token, nodeCount: 1).skip
                // Deleting a covered key changes the step's start: its digest no longer matches.
                try store.deleteSessions([first[first.count - skip]])
                let rest = Set(try ResumeCheck.scan(store, batchSize: 10, after: token).keys)
                #expect(rest.isSuperset(of: first.suffix(skip - 1)))
                let all = Set(try ResumeCheck.scan(store, batchSize: 10).keys)
                #expect(Set(first).union(rest).isSuperset(of: all))
            }
        }
    }

    static let malformed = [
        "", "garbage", "s1", "s1:0", "s2:0:0", "s1:x:0", "s1:-1:0", "s1:2:0", "s1:1:5", "s1:0:-1", "s1:0: 1", "s1:0:1.5",
        "s1:0:18446744073709551616", "s1:0:12:0:0123456789abcdef", "s1:0:12:3:0123456789ABCDEF", "s1:0:12:3:0123",
        "s1:0:12:3:0123456789abcdeg", "s1:1:0:3:0123456789abcdef", "s1:0:12:3", "s1:0:12:3:0123456789abcdef:x",
        "k1:WyJhIiwidSIsInMiXQ", "s1:٣:0", "s2:0123456789abcdef", "s2:0123456789ABCDEF:0:0", "s2:0123456789abcde:0:0",
    ]

    @Test func malformedTokensAreRefused() throws {
        try TestRedis.withEmptyDatabase(19) { _ in
            for layout in [RedisLayout.community, nil] {
                try TestRedis.withStore(19, layout: layout) { store in
                    for token in Self.malformed {
                        let error = #expect(throws: ResumeTokenError.self, "\(token)") {
                            _ = try store.scanSessions(SessionQuery(batchSize: 3, resumeAfter: token))
                        }
                        #expect(error?.code == .unsupported)
                        #expect(error?.description.hasPrefix("redis: cannot resume") == true)
                    }
                    // A resumed scan that returns nothing keeps the token it was resumed from.
                    let cursor = try store.scanSessions(SessionQuery(batchSize: 3, resumeAfter: "s1:0:17"))
                    #expect(try cursor.next() == nil)
                    #expect(cursor.resumeToken == "s1:0:17")
                }
            }
        }
    }
}
