import DriverCore
import Foundation
import SessionModel
import Testing

@testable import SessMigrate

/// Faults in one worker of a pool: a transient one is waited out by that worker alone (the command
/// line) or fails the attempt only after the others finished (a runbook step, whose runner retries
/// it); a fatal one stops the others after their current batch.
@Suite struct WorkerFaultTests {
    /// A connection lost, as a driver reports it.
    struct LostConnection: DriverError {
        var code: DriverErrorCode { .connectionFailed }
        var description: String { "connection lost (test)" }
        var debugDescription: String { description }
    }

    static func source(_ directory: String, count: Int) throws -> (StoreAddress, [Session]) {
        let sessions = try ScaleData.sessions(count)
        let source = WorkerPoolTests.sqlite(directory, "source", .database)
        try write(sessions, to: source)
        return (source, sessions)
    }

    /// The command line: the worker that met the fault retries from its own last batch, announced
    /// with its name; the copy completes.
    @Test func aTransientFaultIsRetriedByItsWorkerAlone() throws {
        try withTemporaryDirectory { directory in
            let (source, sessions) = try Self.source(directory, count: 60)
            let target = WorkerPoolTests.sqlite(directory, "target")
            let batches = Counter()
            let clock = TestClock()
            var run = CopyRun(source: source, target: .store(target), request: WorkerPoolTests.request(workers: 3, batchSize: 2))
            run.clock = clock.clock
            run.afterBatchWritten = { if batches.increment() == 4 { throw LostConnection() } }
            var retries: [RetryNotice] = []
            let summary = try run.run(events: { if case .retrying(let notice) = $0 { retries.append(notice) } }).summary
            #expect(retries.count == 1 && retries[0].error.hasPrefix("worker "), "\(retries)")
            #expect(clock.sleeps == [0.5])
            #expect(summary.total.read >= sessions.count && summary.total.read <= sessions.count + 2)
            #expect(try WorkerPoolTests.compare(source, target).0.isIdentical)
        }
    }

    /// A runbook step: the other workers finish their shares, then the attempt fails with the fault;
    /// the next attempt runs only the unfinished worker, from its checkpoint.
    @Test func aTransientFaultInAStepFailsTheAttemptAfterTheOthersFinish() throws {
        try withTemporaryDirectory { directory in
            let (source, sessions) = try Self.source(directory, count: 60)
            let target = WorkerPoolTests.sqlite(directory, "target")
            // The fault strikes the first worker to write its second batch, after its first is committed
            // (counting per worker, so how the threads happen to interleave cannot move it).
            let batches = ThreadCounter()
            var run = CopyRun(source: source, target: .store(target), request: WorkerPoolTests.request(workers: 3, batchSize: 2))
            run.afterBatchWritten = { if batches.incrementFirstTo(2) { throw LostConnection() } }
            var last: CopyCheckpoint?
            #expect(throws: CopyError.self) { try run.attempt(resume: nil, checkpoint: { last = $0 }) }
            let workers = try #require(last?.workers)
            #expect(workers.filter(\.finished).count == 2, "the other two finished: \(workers.map(\.finished))")
            let unfinished = try #require(workers.first { !$0.finished })
            run.afterBatchWritten = {}
            var began = 0
            let summary = try run.attempt(resume: last, checkpoint: { _ in }, events: { if case .began = $0 { began += 1 } }).summary
            #expect(began == 1)
            #expect(summary.total.read >= sessions.count && summary.total.read <= sessions.count + 2)
            #expect((unfinished.checkpoint?.summary.total.read ?? 0) > 0, "it resumed from its own checkpoint")
            #expect(try WorkerPoolTests.compare(source, target).0.isIdentical)
        }
    }

    /// A bad session first in one worker's share, without `skipBad`: the copy stops naming it, and
    /// the other workers stop after their current batch instead of copying all of their shares.
    @Test func aFatalErrorStopsTheOtherWorkers() throws {
        try withTemporaryDirectory { directory in
            let (source, sessions) = try Self.source(directory, count: 400)
            let shares = try Shard(index: 0, count: 1).split(into: 4)
            let store = try StoreOpener().open(source, forWriting: false)
            let first = try #require(try ScopePushdownTests.scan(store, SessionScope(shard: shares[2]), batchSize: 1).keys.first)
            let others = try [0, 1, 3].reduce(0) { $0 + (try #require(try store.countSessions(SessionScope(shard: shares[$1])))) }
            try store.close()
            let bad = try #require(sessions.first { $0.key == first }?.events.first?.id)
            try BadInput.sqlite3(source, "UPDATE events SET event_data = '[' WHERE id = '\(bad)'")
            var last: CopyCheckpoint?
            let target = WorkerPoolTests.sqlite(directory, "target")
            var run = CopyRun(source: source, target: .store(target), request: WorkerPoolTests.request(workers: 4, batchSize: 1))
            // Batches are slowed (5 ms each, one at a time), so the others cannot copy their shares
            // before the bad worker reads its first session, however the threads are scheduled.
            run.afterBatchWritten = { Thread.sleep(forTimeInterval: 0.005) }
            do {
                _ = try run.attempt(resume: nil, checkpoint: { last = $0 })
                Issue.record("the copy did not stop at the bad session")
            } catch {
                #expect("\(error)".contains("events row id='\(bad)'"), "\(error)")
            }
            // No checkpoint at all when the stop came before any worker committed a batch.
            if let workers = last?.workers {
                #expect(workers[2].checkpoint == nil && !workers[2].finished)
                #expect(workers.filter(\.finished).count < 3, "the others stopped with their shares unfinished")
            }
            let copied = try WorkerPoolTests.count(target)
            #expect(copied < others, "the others stopped before copying their shares: \(copied) of \(others) sessions")
        }
    }
}

/// Batches counted per worker thread; `incrementFirstTo(n)` is true once, for the first thread to reach `n`.
final class ThreadCounter: @unchecked Sendable {
    // @unchecked: `counts` and `fired` are guarded by `lock`.
    private let lock = NSLock()
    private var counts: [String: Int] = [:]  // by pthread_self() (Foundation's thread names are not reliable here)
    private var fired = false
    func incrementFirstTo(_ limit: Int) -> Bool {
        let name = "\(pthread_self())"
        return lock.withLock {
            counts[name, default: 0] += 1
            guard !fired, counts[name] == limit else { return false }
            fired = true
            return true
        }
    }
}
