import DriverCore
import Foundation
import Snapshot

@testable import SessMigrate

// Short forms of the one copy path (``CopyRun``) for tests: a copy, a snapshot and a restore as the
// command line runs them (with its retry loop).

struct CopyJob {
    var source: StoreAddress
    var target: StoreAddress
    var options: CopyRequest

    func run(events: ProgressSink = { _ in }) throws -> CopySummary {
        try CopyRun(source: source, target: .store(target), request: options).run(events: events).summary
    }
}

struct SnapshotJob {
    var source: StoreAddress
    var path: String
    var force: Bool
    var batchSize = 200

    func run(onBatchWritten: @escaping () throws -> Void = {}) throws -> (CopySummary, SnapshotManifest) {
        var run = CopyRun(source: source, target: .snapshot(path: path, force: force), request: CopyRequest(batchSize: batchSize))
        run.afterBatchWritten = onBatchWritten
        let outcome = try run.run()
        guard let manifest = outcome.manifest else { throw AddressError("no manifest") }
        return (outcome.summary, manifest)
    }
}

struct RestoreJob {
    var path: String
    var target: StoreAddress
    var options: CopyRequest

    func run() throws -> RestoreRun.Outcome {
        try RestoreRun(path: path, target: target, request: options).run()
    }
}
