import Foundation
import Testing

/// The command line: exit statuses, `skipped:` lines on stdout, errors naming the row.
@Suite(.enabled(if: CLI.binary != nil, "the sessmigrate binary is built beside the test bundle"))
struct BadInputCommandLineTests {
    @Test func copyDiffVerifyAndRestoreWithAndWithoutSkipBad() throws {
        try withTemporaryDirectory { directory in
            let source = BadInput.sqlite(directory, "source")
            try write(try BadInput.goodSessions(count: 4), to: source)
            try BadInput.sqlite3(source, "UPDATE events SET event_data = '[\"\(BadInput.marker)\"]' WHERE id = 'good3-e1'")
            let row = "events row id='good3-e1' of app/u/good3"
            let (src, dst) = (directory + "/source.db", directory + "/target.db")

            let stopped = try CLI.run(["copy", src, dst])
            #expect(stopped.status == 2 && stopped.stderr.contains(row) && stopped.stderr.contains(src), "\(stopped.stderr)")
            #expect(!stopped.stderr.contains(BadInput.marker))

            let copied = try CLI.run(["copy", "--skip-bad", src, dst])
            #expect(copied.status == 1, "\(copied.stderr)")
            #expect(copied.stdout.contains("skipped:  sqlite: \(row)") && copied.stdout.contains("1 session(s) skipped"), "\(copied.stdout)")
            let json = try CLI.run(["copy", "--skip-bad", "--format", "json", src, dst])
            #expect(json.status == 1 && json.stdout.contains("\"skipped_count\": 1"), "\(json.stdout)")

            let verify = try CLI.run(["verify", "--skip-bad", src, dst])
            #expect(verify.status == 1 && verify.stdout.contains("verify: INCOMPLETE (1 skipped)"), "\(verify.stdout)")
            #expect(verify.stdout.contains("skipped:  A sqlite: \(row)"), "\(verify.stdout)")
            let verifyStopped = try CLI.run(["verify", src, dst])
            #expect(verifyStopped.status == 2 && verifyStopped.stderr.contains(row), "\(verifyStopped.stderr)")
            let diff = try CLI.run(["diff", "--skip-bad", src, dst])
            #expect(diff.status == 1 && diff.stdout.contains("skipped:  A"), "\(diff.stdout)")

            let snapshot = directory + "/snap.db"
            #expect(try CLI.run(["snapshot", dst, snapshot]).status == 0)
            let restored = try CLI.run(["restore", "--skip-bad", snapshot, dst])
            #expect(restored.status == 0, "\(restored.stderr)")
        }
    }
}

extension BadInputCommandLineTests {
    /// A runbook copy step with `skip_bad: true` finishes; the journal names the skipped row in a
    /// `sessions_skipped` event (names and reasons only) and counts it in the step's result; `status`
    /// counts it and says how to list it, and `log` shows it.
    @Test func runbookStepRecordsSkippedSessionsInTheJournal() throws {
        try withTemporaryDirectory { directory in
            let source = BadInput.sqlite(directory, "source")
            try write(try BadInput.goodSessions(count: 4), to: source)
            try BadInput.sqlite3(source, "UPDATE events SET event_data = '{\(BadInput.marker)' WHERE id = 'good3-e1'")
            let runbook = directory + "/skip.yaml"
            try """
            name: skip-bad
            steps:
              - id: copy
                kind: copy
                source: \(directory)/source.db
                target: \(directory)/target.db
                skip_bad: true
              - id: verify
                kind: verify
                a: \(directory)/source.db
                b: \(directory)/target.db
                skip_bad: true
            """.write(toFile: runbook, atomically: true, encoding: .utf8)
            let journal = directory + "/journal.db"
            let run = try CLI.run(["run", runbook, "--journal", journal])
            #expect(run.status == 0, "\(run.stderr)")
            let row = "events row id='good3-e1' of app/u/good3"
            let status = try CLI.run(["status", "--journal", journal])
            #expect(status.stdout.contains("1 session(s) skipped in step copy") && status.stdout.contains("--step copy"), "\(status.stdout)")
            let json = try CLI.run(["status", "--journal", journal, "--format", "json"])
            #expect(json.stdout.contains("\"skipped_count\": 1"), "\(json.stdout)")
            let log = try CLI.run(["log", "--journal", journal, "--step", "copy"])
            #expect(log.stdout.contains(row) && log.stdout.contains("sessions_skipped"), "\(log.stdout)")
            #expect(!log.stdout.contains(BadInput.marker) && !status.stdout.contains(BadInput.marker) && !json.stdout.contains(BadInput.marker))
        }
    }
}
