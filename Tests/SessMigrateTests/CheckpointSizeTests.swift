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
            let summary = try run.attempt(resume: nil, checkpoint: { sizes.append(JSONValue.object($0.json()).serialized(.compact).utf8.count) })
                .summary
            #expect(summary.skipped.count >= 20, "skipped: \(summary.skipped.count)")
            #expect(sizes.count >= 150, "a checkpoint per batch: \(sizes.count)")
            // Once every app has its counters (the data has 2 apps, met in key order), a checkpoint differs
            // only in the counters' digits and the cursor's key length: it does not grow with the sessions.
            let settled = sizes[(sizes.count * 3 / 4)...]
            #expect(settled.max()! - settled.min()! < 60 * workers, "\(settled.min()!) to \(settled.max()!) bytes over \(settled.count) batches")
            #expect(sizes.max()! < 2_000 * workers, "largest \(sizes.max()!) bytes")
        }
    }
}
