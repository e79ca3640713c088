import DriverCore
import Foundation
import SessionModel
import Snapshot
import Testing

@testable import SessMigrate

/// `--workers N`: N pipelines in one process, each with its own share (a sub-shard), its own
/// connections and its own checkpoint; SQLite files, so no server is needed.
@Suite struct WorkerPoolTests {
    static func sqlite(_ directory: String, _ name: String, _ layout: SQLiteLayoutName = .sqliteSessionService) -> StoreAddress {
        .sqlite(SQLiteAddress(path: "\(directory)/\(name).db", newFileLayout: layout))
    }

    /// The differences between two stores.
    static func compare(_ a: StoreAddress, _ b: StoreAddress) throws -> (DiffSummary, [SessionDifference]) {
        let storeA = try StoreOpener().open(a, forWriting: false)
        defer { try? storeA.close() }
        let storeB = try StoreOpener().open(b, forWriting: false)
        defer { try? storeB.close() }
        return try CrashingCopy.differences(storeA, storeB)
    }

    /// The sessions a SQLite store holds (its own `count(*)`).
    static func count(_ address: StoreAddress) throws -> Int {
        let store = try StoreOpener().open(address, forWriting: false)
        defer { try? store.close() }
        return try #require(try store.countSessions(SessionScope()))
    }

    static func request(workers: Int, batchSize: Int = 3) -> CopyRequest {
        var request = CopyRequest(batchSize: batchSize)
        request.workers = workers
        return request
    }

    /// A worker pool's shares partition the shard it was given: every id of shard j of M is in
    /// exactly one sub-shard, whose `crc mod M` is still j; an id of another shard is in none.
    @Test func subShardsPartitionTheirShard() throws {
        let ids = ScaleData.ids(3000, seed: 7) + ["", ":", "{}", "ü", "🦆{x}:y"]
        for (index, count) in [(0, 1), (2, 5), (6, 7), (0, 3), (999, 1000)] {
            let shard = try Shard(index: index, count: count)
            for parts in [1, 2, 3, 4, 7] {
                let subShards = try shard.split(into: parts)
                #expect(subShards.map(\.count) == Array(repeating: count * parts, count: parts))
                for id in ids {
                    let holders = subShards.filter { $0.contains(sessionId: id) == true }
                    #expect(holders.count == (shard.contains(sessionId: id) == true ? 1 : 0), "\(id) in \(shard) split into \(parts)")
                    for holder in holders { #expect(Int(CRC32.checksum(id.utf8) % UInt32(count)) == index && holder.index % count == index) }
                }
            }
        }
        #expect(throws: ShardError.self) { try Shard(index: 1, count: 500_000).split(into: 3) }
    }

    /// N workers write exactly what one pipeline writes; each checkpoint holds every worker's own.
    @Test(arguments: [2, 3, 7]) func aPoolCopiesWhatOnePipelineCopies(workers: Int) throws {
        try withTemporaryDirectory { directory in
            let sessions = try ScaleData.sessions(80)
            let source = Self.sqlite(directory, "source")
            try write(sessions, to: source)
            let single = Self.sqlite(directory, "single", .database)
            _ = try CopyRun(source: source, target: .store(single), request: Self.request(workers: 1)).run()
            let target = Self.sqlite(directory, "pool", .database)
            var checkpoints: [CopyCheckpoint] = []
            var began = 0
            var ended = 0
            let outcome = try CopyRun(source: source, target: .store(target), request: Self.request(workers: workers)).attempt(
                resume: nil, checkpoint: { checkpoints.append($0) },
                events: { event in
                    if case .began = event { began += 1 }
                    if case .ended = event { ended += 1 }
                })
            #expect(began == 1 && ended == 1, "one operation for the caller")
            #expect(outcome.summary.total.read == sessions.count && outcome.summary.total.inserted == sessions.count)
            #expect(try ScaleData.dump(target) == (try ScaleData.dump(single)))
            let shards = try Shard(index: 0, count: 1).split(into: workers)
            #expect(!checkpoints.isEmpty && checkpoints.allSatisfy { $0.workers?.map(\.shard) == shards })
            let last = try #require(checkpoints.last)
            #expect(last.workers?.allSatisfy(\.finished) == true)
            for (shard, worker) in zip(shards, last.workers ?? []) {
                #expect(worker.checkpoint?.summary.total.read == sessions.filter { shard.contains($0.key) }.count)
            }
            // As a journal keeps it: JSON text, read back the same.
            let text = last.json().serialized(.compact)
            #expect(try CopyCheckpoint(json: JSONValue.parseObject(text)) == last)
            #expect(text.contains("\"version\":3"))
        }
    }

    /// Killed after any batch (the hook throws between a write and its checkpoint, in whichever
    /// worker wrote it) and resumed from the journal's last pool checkpoint, again and again: the
    /// target ends equal to the source, and each resume repeats at most one batch per worker.
    @Test func aPoolInterruptedAnywhereResumesEachWorkerFromItsOwnCheckpoint() throws {
        struct Crash: Error {}
        try withTemporaryDirectory { directory in
            let sessions = try ScaleData.sessions(60)
            let source = Self.sqlite(directory, "source")
            try write(sessions, to: source)
            let target = Self.sqlite(directory, "target", .database)
            var journal: String?
            var crashes = 0
            var summary: CopySummary?
            for run in 0..<200 where summary == nil {
                let resume = try journal.map { try CopyCheckpoint(json: JSONValue.parseObject($0)) }
                let written = Counter()
                var copy = CopyRun(source: source, target: .store(target), request: Self.request(workers: 3, batchSize: 2))
                copy.afterBatchWritten = { if written.increment() == (run == 0 ? 1 : 3) { throw Crash() } }
                do {
                    summary = try copy.attempt(resume: resume, checkpoint: { journal = $0.json().serialized(.compact) }).summary
                } catch is Crash {
                    crashes += 1
                }
            }
            let total = try #require(summary).total
            #expect(crashes >= 5)
            #expect(total.read >= sessions.count && total.read <= sessions.count + crashes * 3 * 2, "\(total.read) read, \(crashes) crashes")
            let (diff, found) = try Self.compare(source, target)
            #expect(diff.isIdentical && diff.sessionsInB == sessions.count, "\(found.prefix(3))")
        }
    }

    /// `--mirror` with workers: each worker deletes only in its own share, so every extra target
    /// session is deleted exactly once and no session of the source is.
    @Test func mirrorWithWorkersDeletesEachExtraSessionOnce() throws {
        try withTemporaryDirectory { directory in
            let sessions = try ScaleData.sessions(50)
            let source = Self.sqlite(directory, "source")
            try write(sessions, to: source)
            let target = Self.sqlite(directory, "target")
            let extra = try ScaleData.sessions(12, seed: 99).map { session in
                var session = session
                session.key.sessionId = "extra-" + session.key.sessionId
                return session
            }
            try write(extra + sessions.prefix(5), to: target)
            var request = Self.request(workers: 4)
            request.mirror = true
            let summary = try CopyRun(source: source, target: .store(target), request: request).run().summary
            #expect(summary.total.deleted == extra.count)
            #expect(Set(try readAll(target).keys) == Set(sessions.map(\.key)))
        }
    }

    /// A worker count other than the checkpoint's starts over (a note says so); without a count the
    /// checkpoint's is kept.
    @Test func theWorkerCountOfAResume() throws {
        try withTemporaryDirectory { directory in
            let source = Self.sqlite(directory, "source")
            try write(try ScaleData.sessions(30), to: source)
            let target = Self.sqlite(directory, "target")
            var points: [CopyCheckpoint] = []
            _ = try CopyRun(source: source, target: .store(target), request: Self.request(workers: 3)).attempt(resume: nil, checkpoint: { points.append($0) })
            let middle = points[points.count / 2]
            #expect(CopyRequest().workerCount(resuming: middle) == 3)
            #expect(CopyRequest().workerCount(resuming: CopyCheckpoint(cursor: "x", summary: CopySummary())) == 1)
            var notes: [String] = []
            let again = try CopyRun(source: source, target: .store(target), request: Self.request(workers: 2)).attempt(
                resume: middle, checkpoint: { _ in }, events: { if case .note(let text) = $0 { notes.append(text) } })
            #expect(notes.contains { $0.contains("made by 3 worker(s) and this run has 2: starting over") }, "\(notes)")
            #expect(again.summary.total.read == 30 && again.summary.total.unchanged == 30)
        }
    }

    /// Named sessions that fit in one batch take one worker unless told otherwise: more would only
    /// open more connections and read the same keys or rows to find nothing.
    @Test func namedSessionsThatFitInOneBatchTakeOneWorker() {
        var request = CopyRequest(batchSize: 2)
        #expect(request.workerCount(resuming: nil) == CopyRequest.defaultWorkers)
        request.scope.sessionIds = ["a", "b"]
        #expect(request.workerCount(resuming: nil) == 1)
        request.scope.sessionIds.insert("c")
        #expect(request.workerCount(resuming: nil) == CopyRequest.defaultWorkers)
        request.workers = 3
        request.scope.sessionIds = ["a"]
        #expect(request.workerCount(resuming: nil) == 3)
    }

    /// A converge pass (a time-bounded scope) reads every session of the source to find the changed
    /// ones: one worker reads them once; `--workers` still decides when given.
    @Test func timeBoundedScopesTakeOneWorker() {
        var request = CopyRequest()
        request.scope.updatedSince = 1_700_000_000
        #expect(request.workerCount(resuming: nil) == 1)
        request.scope = SessionScope(updatedBefore: 1_700_000_000)
        #expect(request.workerCount(resuming: nil) == 1)
        request.workers = 2
        #expect(request.workerCount(resuming: nil) == 2)
    }

    /// A snapshot written by several workers (one writer, taking turns) holds every session.
    @Test func aSnapshotWithWorkers() throws {
        try withTemporaryDirectory { directory in
            let sessions = try ScaleData.sessions(40)
            let source = Self.sqlite(directory, "source")
            try write(sessions, to: source)
            let path = directory + "/snap.db"
            let outcome = try CopyRun(source: source, target: .snapshot(path: path, force: false), request: Self.request(workers: 3)).run()
            #expect(outcome.manifest?.sessions == sessions.count)
            #expect(!FileManager.default.fileExists(atPath: SnapshotWriter.partialPath(for: path)))
            let (diff, _) = try Self.compare(source, .sqlite(SQLiteAddress(path: path, newFileLayout: .sqliteSessionService)))
            #expect(diff.isIdentical && diff.sessionsInB == sessions.count)
        }
    }
}

/// A counter safe to share with hooks that run on workers' threads.
final class Counter: @unchecked Sendable {
    // @unchecked: `value` is guarded by `lock`.
    private let lock = NSLock()
    private var value = 0
    func increment() -> Int {
        lock.withLock {
            value += 1; return value
        }
    }
    var count: Int { lock.withLock { value } }
}
