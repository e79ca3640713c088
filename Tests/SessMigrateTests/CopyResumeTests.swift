import DriverCore
import Foundation
import SessionModel
import Snapshot
import Testing

@testable import SessMigrate

/// A copy interrupted after every batch, between the write and its checkpoint, and resumed from
/// the last checkpoint each time (kept as JSON text, as a journal keeps it).
enum CrashingCopy {
    struct Crash: Error {}

    struct Outcome {
        var summary: CopySummary
        var crashes: Int
        var runs: Int
    }

    /// Runs the copy as a series of processes: each opens both stores, resumes from the saved
    /// checkpoint, and crashes in `onBatchWritten` of its second batch (the first process: of its
    /// first), so that every batch is interrupted once after being written.
    static func run(
        options: CopyRequest, source openSource: () throws -> any SessionStore, target openTarget: () throws -> any SessionStore
    ) throws -> Outcome {
        var journal: String?
        var crashes = 0
        for run in 0..<500 {
            let source = try openSource()
            defer { try? source.close() }
            let target = try openTarget()
            defer { try? target.close() }
            let resume = try journal.map { try CopyCheckpoint(json: JSONValue.parseObject($0)) }
            var written = 0
            do {
                let summary = try CopyEngine(request: options).run(
                    from: source, to: target, resume: resume,
                    checkpoint: { journal = $0.json().serialized(.compact) },
                    onBatchWritten: {
                        written += 1
                        if written == (run == 0 ? 1 : 2) { throw Crash() }
                    })
                return Outcome(summary: summary, crashes: crashes, runs: run + 1)
            } catch is Crash {
                crashes += 1
            }
        }
        throw Crash()
    }

    /// Differences between two stores (none when the target equals the source).
    static func differences(_ a: any SessionStore, _ b: any SessionStore) throws -> (DiffSummary, [SessionDifference]) {
        var found: [SessionDifference] = []
        let summary = try DiffEngine(batchSize: 4, detailed: true).run(a, b) { found.append($0) }
        return (summary, found)
    }
}

@Suite struct CopyResumeTests {
    /// The sample sessions plus 20 small ones over two more apps.
    static func sessions() throws -> [Session] {
        var sessions = try sampleSessions()
        for index in 0..<20 {
            sessions.append(
                Session(
                    key: SessionKey(appName: "app \(index % 2 == 0 ? "three" : "four")", userId: "u\(index % 3)", sessionId: "r\(index)"),
                    state: ["i": .number(JSONNumber(index))], userState: ["n": .number(JSONNumber(index % 3))],
                    lastUpdateTime: 1_700_000_000 + Double(index)))
        }
        return sessions
    }

    enum Source: String, CaseIterable, CustomStringConvertible {
        case sqliteSessionService, database, snapshot
        var description: String { rawValue }
    }

    @Test(arguments: Source.allCases, [false, true])
    func crashAfterEveryBatchEndsWithTheTargetEqualToTheSource(source kind: Source, mirror: Bool) throws {
        try withTemporaryDirectory { directory in
            let sessions = try Self.sessions()
            let layout: SQLiteLayoutName = kind == .database ? .database : .sqliteSessionService
            let sqlite = StoreAddress.sqlite(SQLiteAddress(path: directory + "/src.db", newFileLayout: layout))
            try write(sessions, to: sqlite)
            let snapshot = directory + "/snap.db"
            if kind == .snapshot { _ = try SnapshotJob(source: sqlite, path: snapshot, force: false).run() }
            let target = StoreAddress.sqlite(SQLiteAddress(path: directory + "/dst.db", newFileLayout: kind == .database ? .sqliteSessionService : .database))
            // With mirror, the target starts with sessions the source lacks and one it has, changed.
            var extra = try Self.sessions().suffix(3).map { session in
                var session = session
                session.key.sessionId += "-extra"
                return session
            }
            var changed = sessions[5]
            changed.state["changed"] = .bool(true)
            extra.append(changed)
            if mirror { try write(extra, to: target) }

            var options = CopyRequest(batchSize: 3)
            options.mirror = mirror
            options.onConflict = .source
            let openSource: () throws -> any SessionStore = {
                kind == .snapshot ? try SnapshotStore(path: snapshot) : try StoreOpener().open(sqlite, forWriting: false)
            }
            let outcome = try CrashingCopy.run(options: options, source: openSource) { try StoreOpener().open(target, forWriting: true) }

            let batches = (sessions.count + 2) / 3
            #expect(outcome.crashes == batches)
            #expect(outcome.runs == batches + 1)
            let total = outcome.summary.total
            #expect(total.read == sessions.count)
            #expect(total.inserted + total.updated + total.unchanged == sessions.count)
            #expect(total.deleted == (mirror ? 3 : 0))
            #expect(total.eventsRead == sessions.reduce(0) { $0 + $1.events.count })

            let source = try openSource()
            defer { try? source.close() }
            let copied = try StoreOpener().open(target, forWriting: false)
            defer { try? copied.close() }
            let (diff, found) = try CrashingCopy.differences(source, copied)
            #expect(diff.isIdentical, "\(found.prefix(3))")
            #expect(diff.sessionsInA == sessions.count)
        }
    }

    @Test func checkpointsFollowEveryBatchWithTheCursorAfterIt() throws {
        try withTemporaryDirectory { directory in
            let sessions = try Self.sessions()
            let source = StoreAddress.sqlite(SQLiteAddress(path: directory + "/src.db", newFileLayout: .sqliteSessionService))
            let target = StoreAddress.sqlite(SQLiteAddress(path: directory + "/dst.db", newFileLayout: .database))
            try write(sessions, to: source)
            let from = try StoreOpener().open(source, forWriting: false)
            defer { try? from.close() }
            let to = try StoreOpener().open(target, forWriting: true)
            defer { try? to.close() }
            var events: [String] = []
            var checkpoints: [CopyCheckpoint] = []
            let summary = try CopyEngine(request: CopyRequest(batchSize: 4)).run(
                from: from, to: to,
                checkpoint: {
                    checkpoints.append($0); events.append("checkpoint")
                },
                onBatchWritten: { events.append("written") },
                events: { if case .advanced = $0 { events.append("progress") } })
            let batches = (sessions.count + 3) / 4
            #expect(checkpoints.count == batches)
            #expect(events.prefix(3) == ["written", "checkpoint", "progress"])
            let order = sessions.map(\.key).sorted()
            for (index, checkpoint) in checkpoints.enumerated() {
                let last = order[min(order.count, (index + 1) * 4) - 1]
                #expect(checkpoint.cursor == ResumeToken.keyset(after: last))
                #expect(checkpoint.summary.total.read == min(order.count, (index + 1) * 4))
            }
            #expect(checkpoints.last?.summary.total == summary.total)
            // Resuming from the last checkpoint finds nothing left and keeps the counts.
            let again = try CopyEngine(request: CopyRequest(batchSize: 4)).run(from: from, to: to, resume: checkpoints.last)
            #expect(again.total == summary.total)
        }
    }

    @Test func dryRunCheckpointsCannotResumeARealCopy() throws {
        try withTemporaryDirectory { directory in
            let source = StoreAddress.sqlite(SQLiteAddress(path: directory + "/src.db", newFileLayout: .sqliteSessionService))
            let count = try Self.sessions().count
            try write(try Self.sessions(), to: source)
            let from = try StoreOpener().open(source, forWriting: false)
            defer { try? from.close() }
            let empty = EmptySessionStore(layout: StoreLayout(kind: "sqlite", name: "new file"))
            var dry = CopyRequest(batchSize: 5)
            dry.dryRun = true
            dry.mirror = true
            var checkpoints: [CopyCheckpoint] = []
            let summary = try CopyEngine(request: dry).run(from: from, to: empty, checkpoint: { checkpoints.append($0) })
            #expect(checkpoints.count == (count + 4) / 5)
            #expect(checkpoints.allSatisfy { $0.summary.dryRun })
            #expect(summary.total.inserted == count)
            // The empty dry-run target forwards the token it was started from.
            #expect(try empty.scanSessions(SessionQuery(resumeAfter: "k1:abc")).resumeToken == "k1:abc")

            let resumedDry = try CopyEngine(request: dry).run(from: from, to: empty, resume: checkpoints[1])
            #expect(resumedDry.total.read == count)
            let error = #expect(throws: CopyResumeError.self) {
                _ = try CopyEngine(request: CopyRequest(batchSize: 5)).run(from: from, to: empty, resume: checkpoints[1])
            }
            #expect(error?.checkpointIsDryRun == true)
        }
    }
}
