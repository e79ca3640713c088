import DriverCore
import Foundation
import SessionModel
import Testing

@testable import SessMigrate

/// Workers, shards, checkpoint files, `${shard}` and `verify --combine` through the built binary,
/// on SQLite files (the server stores: ``ShardedCopyServerTests``).
@Suite(.enabled(if: CLI.binary != nil, "the sessmigrate binary is built beside the test bundle"))
struct ScaleCommandLineTests {
    /// A DatabaseSessionService file with ``ScaleData/sessions(_:seed:)`` and the id of one event.
    static func source(_ directory: String, count: Int = 40) throws -> (path: String, badEvent: String) {
        let address = WorkerPoolTests.sqlite(directory, "source", .database)
        let sessions = try ScaleData.sessions(count)
        try write(sessions, to: address)
        return (directory + "/source.db", sessions[7].events[0].id)
    }

    /// `--workers 4` with a bad session in one worker's share: with `--skip-bad` the others complete
    /// and it is listed; without, the run stops naming it, keeping every worker's checkpoint, and
    /// once the data is fixed the same command resumes from them and completes.
    @Test func aBadSessionInOneWorkersShare() throws {
        try withTemporaryDirectory { directory in
            let (source, bad) = try Self.source(directory)
            try BadInput.sqlite3(
                WorkerPoolTests.sqlite(directory, "source", .database), "UPDATE events SET event_data = '{' || event_data WHERE id = '\(bad)'")
            let row = "events row id='\(bad)'"

            let skipped = try CLI.run(["copy", source, directory + "/skip.db", "--workers", "4", "--batch-size", "2", "--skip-bad"])
            #expect(skipped.status == 1, "\(skipped.stderr)")
            #expect(skipped.stdout.contains("skipped:  sqlite: \(row)") && skipped.stdout.contains("1 session(s) skipped"), "\(skipped.stdout)")
            #expect(try BadInput.sessionCount(WorkerPoolTests.sqlite(directory, "skip")) == 39)

            let target = directory + "/target.db"
            let checkpoint = directory + "/copy.checkpoint"
            let arguments = ["copy", source, target, "--workers", "4", "--batch-size", "2", "--checkpoint", checkpoint]
            let stopped = try CLI.run(arguments)
            #expect(stopped.status == 2 && stopped.stderr.contains(row), "\(stopped.stderr)")
            let saved = try JSONValue.parseObject(String(decoding: try #require(FileManager.default.contents(atPath: checkpoint)), as: UTF8.self))
            let workers = try #require(saved["checkpoint"]?.objectValue?["workers"]?.arrayValue)
            #expect(workers.count == 4)
            #expect(workers.contains { $0.objectValue?["finished"] == .bool(false) })
            try BadInput.sqlite3(
                WorkerPoolTests.sqlite(directory, "source", .database), "UPDATE events SET event_data = substr(event_data, 2) WHERE id = '\(bad)'")
            let resumed = try CLI.run(arguments)
            #expect(resumed.status == 0, "\(resumed.stderr)")
            #expect(resumed.stderr.contains("resuming from the checkpoint in \(checkpoint)"), "\(resumed.stderr)")
            #expect(!FileManager.default.fileExists(atPath: checkpoint), "removed once the copy completed")
            #expect(try CLI.run(["verify", source, target]).stdout.contains("verify: IDENTICAL"))
        }
    }

    /// A checkpoint file of another copy is refused, not silently replaced.
    @Test func aCheckpointFileOfAnotherCopyIsRefused() throws {
        try withTemporaryDirectory { directory in
            let (source, _) = try Self.source(directory, count: 12)
            let checkpoint = directory + "/ck.json"
            let killed = try CLI.run(
                ["copy", source, directory + "/a.db", "--shard", "0/2", "--batch-size", "1", "--workers", "1", "--checkpoint", checkpoint],
                environment: ["SESSMIGRATE_TEST_KILL_AFTER_BATCHES": "2"])
            #expect(killed.status == SIGKILL)
            let other = try CLI.run(["copy", source, directory + "/a.db", "--shard", "1/2", "--checkpoint", checkpoint])
            #expect(other.status == 2 && other.stderr.contains("belongs to another copy (it differs in scope)"), "\(other.stderr)")
            #expect(try CLI.run(["copy", source, directory + "/a.db", "--checkpoint", checkpoint, "--dry-run"]).status == 64)
            #expect(try CLI.run(["copy", source, directory + "/a.db", "--workers", "0"]).stderr.contains("--workers must be a whole number"))
        }
    }

    /// One command line for every task of a Cloud Run Job: `${shard}` in `--journal` and `--var`.
    /// Task 1 is killed in its copy step and resumed with the same command (its own journal); the
    /// three tasks' verify reports then combine into one verdict.
    @Test func aShardedRunbookKeepsOneJournalPerTask() throws {
        try withTemporaryDirectory { directory in
            let (source, _) = try Self.source(directory, count: 45)
            let runbook = directory + "/shard.yaml"
            try """
            name: sharded-copy
            variables:
              target: ""
              marker: ""
            steps:
              - id: mark
                kind: gate
                command: touch ${marker}
              - id: copy
                kind: copy
                source: \(source)
                target: ${target}
                shard: auto
                workers: "2"
                batch_size: "2"
            """.write(toFile: runbook, atomically: true, encoding: .utf8)
            let target = directory + "/target.db"
            for task in 0..<3 {
                let environment = ["CLOUD_RUN_TASK_INDEX": String(task), "CLOUD_RUN_TASK_COUNT": "3"]
                let variables = ["--var", "target=\(target)", "--var", "marker=\(directory)/ran-${shard}"]
                let command = ["run", runbook, "--journal", directory + "/task-${shard}.journal"] + variables
                if task == 1 {
                    let killed = try CLI.run(command, environment: environment.merging(["SESSMIGRATE_TEST_KILL_AFTER_BATCHES": "3"]) { $1 })
                    #expect(killed.status == SIGKILL, "\(killed.stderr)")
                    #expect(FileManager.default.fileExists(atPath: directory + "/task-1.journal"))
                    let resumed = try CLI.run(
                        ["resume", "--journal", directory + "/task-${shard}.journal"] + variables, environment: environment)
                    #expect(resumed.status == 0, "\(resumed.stderr)")
                    let log = try CLI.run(["log", "--journal", directory + "/task-1.journal", "--format", "json"])
                    #expect(log.stdout.contains("\"workers\":[{\"shard\":\"1/6\""), "the sub-shards of shard 1/3: 1/6 and 4/6")
                } else {
                    #expect(try CLI.run(command, environment: environment).status == 0)
                }
                #expect(FileManager.default.fileExists(atPath: "\(directory)/ran-\(task)"), "${shard} in --var")
                let report = try CLI.run(["verify", source, target, "--shard", "\(task)/3", "--format", "json"])
                try report.stdout.write(toFile: directory + "/verify-\(task).json", atomically: true, encoding: .utf8)
            }
            let reports = (0..<3).map { directory + "/verify-\($0).json" }
            let combined = try CLI.run(["verify", "--combine"] + reports)
            #expect(combined.status == 0 && combined.stdout.hasPrefix("verify: IDENTICAL  (3 shards of"), "\(combined.stdout)\(combined.stderr)")
            #expect(try CLI.run(["verify", source, target]).status == 0)
        }
    }

    /// `--mirror` sharded: each task deletes only the target's extra sessions of its own shard; once
    /// every shard ran, the target equals the source.
    @Test func mirrorDeletesOnlyInItsShard() throws {
        try withTemporaryDirectory { directory in
            let (source, _) = try Self.source(directory, count: 30)
            let target = WorkerPoolTests.sqlite(directory, "target", .database)
            let extra = try ScaleData.extraSessions(20, seed: 4)
            try write(extra, to: target)
            let shard = try Shard(index: 0, count: 3)
            let mirror = ["copy", source, directory + "/target.db", "--mirror", "--yes", "--workers", "2"]
            #expect(try CLI.run(mirror + ["--shard", "0/3"]).status == 0)
            let left = Set(try readAll(target).keys.filter { $0.sessionId.hasPrefix("extra-") })
            #expect(left == Set(extra.map(\.key).filter { !shard.contains($0) }))
            for index in [1, 2] { #expect(try CLI.run(mirror + ["--shard", "\(index)/3"]).status == 0) }
            #expect(try CLI.run(["verify", source, directory + "/target.db"]).status == 0)
        }
    }

    /// `verify --combine` checks that the reports are the shards of one comparison, each once.
    @Test func verifyCombineChecksTheShards() throws {
        try withTemporaryDirectory { directory in
            let (source, _) = try Self.source(directory, count: 30)
            let (copy, other) = (directory + "/copy.db", directory + "/other.db")
            #expect(try CLI.run(["copy", source, copy]).status == 0)
            #expect(try CLI.run(["copy", source, other, "--shard", "0/3"]).status == 0)
            func report(_ b: String, _ name: String, _ extra: [String]) throws -> String {
                let path = "\(directory)/\(name).json"
                try CLI.run(["verify", source, b, "--format", "json"] + extra).stdout.write(toFile: path, atomically: true, encoding: .utf8)
                return path
            }
            let shards = try (0..<3).map { try report(copy, "r\($0)", ["--shard", "\($0)/3"]) }
            #expect(try CLI.run(["verify", "--combine"] + shards).status == 0)
            let missing = try CLI.run(["verify", "--combine", shards[0], shards[2]])
            #expect(missing.status == 2 && missing.stderr.contains("1 of 3 shards have no report: 1/3"), "\(missing.stderr)")
            let twice = try CLI.run(["verify", "--combine", shards[0], shards[1], shards[1], shards[2]])
            #expect(twice.status == 2 && twice.stderr.contains("shard 1/3 is in two reports"), "\(twice.stderr)")
            let otherB = try report(other, "o1", ["--shard", "1/3"])
            let mixed = try CLI.run(["verify", "--combine", shards[0], otherB, shards[2]])
            #expect(mixed.status == 2 && mixed.stderr.contains("differ in b"), "\(mixed.stderr)")
            let different = try (0..<3).map { try report(other, "d\($0)", ["--shard", "\($0)/3"]) }
            let verdict = try CLI.run(["verify", "--combine"] + different)
            #expect(verdict.status == 1 && verdict.stdout.hasPrefix("verify: DIFFERENT"), "\(verdict.stdout)")
            let contains = try (0..<3).map { try report(other, "c\($0)", ["--shard", "\($0)/3", "--contains"]) }
            let notContained = try CLI.run(["verify", "--combine"] + contains)
            #expect(notContained.status == 1 && notContained.stdout.contains("verify: NOT CONTAINED"), "\(notContained.stdout)")
            let json = try CLI.run(["verify", "--format", "json", "--combine"] + shards)
            #expect(json.stdout.hasPrefix(#"{"format": 1, "a": "#) && json.stdout.contains(#""shards": 3"#), "\(json.stdout)")
        }
    }
}
