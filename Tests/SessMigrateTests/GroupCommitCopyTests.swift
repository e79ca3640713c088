import DriverCore
import Foundation
import SessionModel
import Testing

@testable import SessMigrate

/// A copy into a SQLite file that commits batches in groups (``CopyRun/commitGroupSeconds``): every
/// checkpoint it reports names only sessions already committed, as another connection (what a crash
/// would leave) sees them, and the copy is the same as one committing every batch.
@Suite struct GroupCommitCopyTests {
    @Test(arguments: [1, 3]) func checkpointsNameOnlyCommittedSessions(workers: Int) throws {
        try withTemporaryDirectory { directory in
            let sessions = try ScaleData.sessions(90)
            let source = WorkerPoolTests.sqlite(directory, "source")
            try write(sessions, to: source)
            let single = WorkerPoolTests.sqlite(directory, "single")
            _ = try CopyRun(source: source, target: .store(single), request: WorkerPoolTests.request(workers: 1)).run()
            let target = WorkerPoolTests.sqlite(directory, "grouped")
            var run = CopyRun(source: source, target: .store(target), request: WorkerPoolTests.request(workers: workers, batchSize: 2))
            run.commitGroupSeconds = 3600  // one group unless the source keeps the writer waiting
            var checkpoints = 0
            var lagged = false
            let outcome = try run.attempt(
                resume: nil,
                checkpoint: { point in
                    checkpoints += 1
                    let committed = FileManager.default.fileExists(atPath: "\(directory)/grouped.db") ? try WorkerPoolTests.count(target) : 0
                    #expect(committed >= point.summary.total.written, "a checkpoint names \(point.summary.total.written) written, \(committed) committed")
                    lagged = lagged || committed > point.summary.total.written
                })
            #expect(outcome.summary.total.inserted == sessions.count)
            #expect(checkpoints >= 1)
            #expect(try ScaleData.dump(target) == (try ScaleData.dump(single)))
            _ = lagged  // commits may run ahead of checkpoints (another worker's group), never behind
        }
    }

    /// A group stays open across batches: with a group longer than the copy, nothing is committed
    /// before the end, and the one checkpoint comes after the commit.
    @Test func batchesCommitTogether() throws {
        try withTemporaryDirectory { directory in
            let source = WorkerPoolTests.sqlite(directory, "source")
            try write(try ScaleData.sessions(40), to: source)
            let target = WorkerPoolTests.sqlite(directory, "grouped")
            var run = CopyRun(source: source, target: .store(target), request: WorkerPoolTests.request(workers: 1, batchSize: 2))
            run.commitGroupSeconds = 3600
            var committedAtBatches: [Int] = []
            run.afterBatchWritten = { committedAtBatches.append(try WorkerPoolTests.count(target)) }
            var written: [Int] = []
            _ = try run.attempt(resume: nil, checkpoint: { written.append($0.summary.total.written) })
            #expect(committedAtBatches.count == 20)
            // The prefetcher is two batches ahead at most: the first group holds several batches.
            #expect(committedAtBatches.filter { $0 == 0 }.count >= 2, "\(committedAtBatches)")
            #expect(written.last == 40 && written.count < 20, "\(written)")
        }
    }
}
