import DriverCore
import Foundation
import SessMigrateTestSupport
import SessionModel
import Testing

@testable import MySQLDriver

/// Resuming MySQL scans (schema v1 and v0) from `SessionCursor.resumeToken` on the dev server.
@Suite(.enabled(if: MySQLTestServer.url != nil))
struct MySQLResumeTests {
    /// 29 sessions whose keys sort differently under the database collation than byte-wise
    /// (`B app` sorts after `app` there, before it byte-wise), with accents, quotes and colons.
    /// No two app names are equal under the collation (`app_states` would merge them).
    static func sessions() throws -> [Session] {
        let apps = ["app", "B app", "app:2 'q'", "é app", "f app"]
        let users = ["u", "U:1", "u1 é"]
        let ids = ["s", "s x", "s:x/y", "S", "sé", "ss", "s\\"]
        return try (0..<29).map { index in
            let events = try (0..<index % 3).map { try Fixture.event("e\(index)-\($0)", at: 1_700_000_000 + Double(index * 10 + $0)) }
            return try Fixture.session(apps[index % 5], users[index / 5 % 3], "\(ids[index % 7])-\(index)", state: #"{"i": \#(index)}"#, events: events)
        }
    }

    static let stops = [0, 1, 2, 5, 6, 11, 17, 28, 29, 40]

    @Test(arguments: [1, 5, 8])
    func schemaV1ResumesAfterTheToken(batchSize: Int) throws {
        try MySQLTestServer.withDatabase("resume_v1_\(batchSize)") { config, _ in
            try MySQLTestServer.withStore(config) { store in
                try store.writeSessions(Self.sessions())
                #expect(store.layout.name == "database-v1")
                try ResumeCheck.expectResumes(store, batchSize: batchSize, stops: Self.stops, exact: true)
                try ResumeCheck.expectChainedResumes(store, batchSize: batchSize, every: [1, 3, 7], exact: true)
                let all = try ResumeCheck.scan(store, batchSize: batchSize)
                #expect(all.keys.count == 29)
                let (_, token) = try ResumeCheck.firstPart(store, batchSize: batchSize, count: 10)
                #expect(try ResumeCheck.scan(store, batchSize: batchSize, after: token).sessions == Array(all.sessions.dropFirst(10)))
            }
        }
    }

    @Test(arguments: [1, 6])
    func schemaV0ResumesAfterTheToken(batchSize: Int) throws {
        try MySQLDatabaseV0Tests.withV0Database("resume\(batchSize)", rows: false) { config, _ in
            try MySQLTestServer.withStore(config) { store in
                #expect(store.layout.name == "database-v0")
                try store.writeSessions(Self.sessions())
                try ResumeCheck.expectResumes(store, batchSize: batchSize, stops: Self.stops, exact: true)
                try ResumeCheck.expectChainedResumes(store, batchSize: batchSize, every: [2, 5], exact: true)
            }
        }
    }

    @Test func malformedTokensAreRefused() throws {
        try MySQLTestServer.withDatabase("resume_bad") { config, _ in
            try MySQLTestServer.withStore(config) { store in
                try store.writeSessions(Array(Self.sessions().prefix(3)))
                for token in ResumeCheck.malformedKeysetTokens {
                    let error = #expect(throws: ResumeTokenError.self, "\(token)") {
                        _ = try store.scanSessions(SessionQuery(batchSize: 2, resumeAfter: token))
                    }
                    #expect(error?.code == .unsupported)
                }
            }
        }
    }
}
