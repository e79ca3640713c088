import DriverCore
import Foundation
import SessionModel
import Testing

@testable import SessMigrate

/// Issue 11 item 3: a checkpoint is the cursor plus counters, so its size does not grow with the
/// sessions copied (a journal holds one per batch: it grows linearly, never quadratically).
@Suite struct CheckpointSizeTests {
    @Test(arguments: [1, 2])
    func checkpointsStayTheSameSize(workers: Int) throws {
        try withTemporaryDirectory { directory in
            let sessions = try ScaleData.sessions(600)
            let source = WorkerPoolTests.sqlite(directory, "source", .database)
            try write(sessions, to: source)
            // One session in ten is bad and skipped: the skipped sessions are journaled as their own
            // events, not carried from checkpoint to checkpoint.
            try BadInput.sqlite3(source, "UPDATE events SET event_data = '[' WHERE rowid % 25 = 0")
            var request = WorkerPoolTests.request(workers: workers, batchSize: 3)
            request.skipBad = true
            let run = CopyRun(source: source, target: .store(WorkerPoolTests.sqlite(directory, "target\(workers)")), request: request)
            var sizes: [Int] = []
            var settled: [Int] = []
            let summary = try run.attempt(
                resume: nil,
                checkpoint: {
                    let text = JSONValue.object($0.json()).serialized(.compact)
                    sizes.append(text.utf8.count)
                    // Once every worker has met both apps (key order; each worker meets the second at its own
                    // time) and carries their counters, a checkpoint differs only in the counters' digits and
                    // the cursor's key length: it does not grow with the sessions. A pool's checkpoint holds
                    // the merged counters and each worker's: the second app once more than there are workers.
                    let blocks = workers == 1 ? 1 : workers + 1
                    if text.components(separatedBy: #""app{two}":{"#).count - 1 == blocks { settled.append(text.utf8.count) }
                }
            ).summary
            #expect(summary.skipped.count >= 20, "skipped: \(summary.skipped.count)")
            #expect(sizes.count >= 150, "a checkpoint per batch: \(sizes.count)")
            #expect(settled.count >= 5, "\(settled.count) checkpoints after both apps")
            #expect(settled.max()! - settled.min()! < 60 * workers, "\(settled.min()!) to \(settled.max()!) bytes over \(settled.count) batches")
            #expect(sizes.max()! < 2_000 * workers, "largest \(sizes.max()!) bytes")
        }
    }
}
