import Foundation
import Testing

/// The operator's view of a live run through the binary (issue 12): the sessions pending converge at
/// the flip gate (in the waiting line and in `status`), a line per converge pass, and the age of a
/// snapshot in the preflight. The "bot" is a hook that changes two source sessions (a state key, and
/// their update time a second after now) after the first converge, so that the pre-flip check finds
/// exactly them pending.
@Suite(.enabled(if: CLI.binary != nil))
struct LiveViewCommandLineTests {
    static func runbook(_ directory: String) -> String {
        """
        name: live-view
        variables:
          source: \(directory)/a.db
          target: \(directory)/b.db
          snapshot: \(directory)/snap.db
        hooks:
          on_step_done: >-
            if [ "$SESSMIGRATE_STEP" = converge-before-flip ]; then
            sqlite3 ${source} "UPDATE sessions SET state = json_set(state, '$.touched', 1),
            update_time = (julianday('now') - 2440587.5) * 86400.0 + 1
            WHERE rowid IN (SELECT rowid FROM sessions ORDER BY rowid LIMIT 2)"; fi
        steps:
          - id: safety-snapshot
            kind: snapshot
            source: ${source}
            file: ${snapshot}
          - id: preflight
            kind: preflight
            stores: ["${snapshot}", "${target}"]
          - id: t0
            kind: watermark
            store: ${source}
            margin_seconds: "0"
          - id: copy
            kind: copy
            source: ${source}
            target: ${target}
          - id: converge-before-flip
            kind: converge
            source: ${source}
            target: ${target}
            since: ${steps.t0.time}
            margin_seconds: "0"
            required: "false"
          - id: check
            kind: verify
            mode: contains
            a: ${source}
            b: ${target}
            pending_since: ${steps.converge-before-flip.watermark}
          - id: flip
            kind: gate
            command: ""
          - id: converge-after-flip
            kind: converge
            source: ${source}
            target: ${target}
            since: ${steps.converge-before-flip.watermark}
            margin_seconds: "0"
          - id: final-verify
            kind: verify
            mode: contains
            a: ${source}
            b: ${target}
        """
    }

    @Test func pendingSessionsConvergePassesAndSnapshotAgeAreShown() throws {
        try withTemporaryDirectory { directory in
            #expect(try CLI.run(["generate", directory + "/a.db", "--sessions", "30", "--events", "2"]).status == 0)
            let file = directory + "/live.yaml"
            try Self.runbook(directory).write(toFile: file, atomically: true, encoding: .utf8)
            let journal = directory + "/live.journal"

            let run = try CLI.run(["run", file, "--journal", journal, "--no-wait"])
            #expect(run.status == 3, "stops at the gate: \(run.stderr)")
            #expect(run.stderr.contains("a snapshot of sqlite:///") && run.stderr.contains("minutes ago"), "snapshot age: \(run.stderr)")
            #expect(run.stderr.contains("converge pass 1 since"), "a line per pass: \(run.stderr)")
            let waiting = try #require(run.stderr.split(separator: "\n").first { $0.contains("gate 'flip': waiting") })
            #expect(waiting.contains("; 2 session(s) pending converge, the oldest changed "), "\(waiting)")

            let status = try CLI.run(["status", "--journal", journal])
            #expect(status.status == 0 && status.stdout.contains("2 session(s) pending converge"), "\(status.stdout)")
            let json = try CLI.run(["status", "--journal", journal, "--format", "json"])
            #expect(json.stdout.contains("pending converge"), "\(json.stdout)")

            #expect(try CLI.run(["continue", "--journal", journal]).status == 0)
            let resumed = try CLI.run(["resume", "--journal", journal])
            #expect(resumed.status == 0, "\(resumed.stderr)")
            #expect(resumed.stderr.contains("converge pass 1 since") && resumed.stderr.contains("read 2"), "the two carried over: \(resumed.stderr)")
            #expect(try CLI.run(["verify", directory + "/a.db", directory + "/b.db"]).status == 0)
        }
    }
}
