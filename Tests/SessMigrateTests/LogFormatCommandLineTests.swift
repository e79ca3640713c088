import Foundation
import Testing

/// `--log-format json` through the binary: every stderr line of a copy (progress forced) and of a
/// failing runbook run is one JSON object with the documented fields; stdout is unchanged; no secret.
@Suite(.enabled(if: CLI.binary != nil))
struct LogFormatCommandLineTests {
    static let severities: Set<String> = ["DEBUG", "INFO", "NOTICE", "WARNING", "ERROR", "CRITICAL"]
    static let subcommands = [
        "inspect", "copy", "diff", "verify", "snapshot", "restore", "generate", "run", "resume", "status", "log",
        "continue", "unlock",
    ]

    /// Every stderr line as a JSON object, each checked for the fields every line has.
    static func lines(_ stderr: String, command: String) throws -> [[String: Any]] {
        try stderr.split(separator: "\n").map { line in
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "not a JSON object: \(line)")
            #expect(severities.contains(object["severity"] as? String ?? ""), "\(line)")
            let time = try #require(object["time"] as? String, "\(line)")
            #expect(time.wholeMatch(of: /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z/) != nil, "\(line)")
            #expect(object["message"] is String, "\(line)")
            #expect(object["command"] as? String == command, "\(line)")
            #expect(object["event"] is String, "\(line)")
            return object
        }
    }

    @Test func aCopyLogsOneObjectPerLineWithItsCounters() throws {
        try withTemporaryDirectory { directory in
            let source = directory + "/a.db"
            #expect(try CLI.run(["generate", source, "--sessions", "60", "--events", "3"]).status == 0)
            // One worker: a line per batch (with more, the workers' lines merge as they come).
            let copy = try CLI.run(
                ["copy", source, directory + "/b.db", "--batch-size", "5", "--log-format", "json", "--workers", "1"],
                environment: ["SESSMIGRATE_PROGRESS_INTERVAL": "0"])
            #expect(copy.status == 0, "\(copy.stderr)")
            let progress = try Self.lines(copy.stderr, command: "copy").filter { $0["event"] as? String == "progress" }
            #expect(progress.count >= 12, "a line per batch of 5: \(progress.count)")
            var previous = 0
            for line in progress {
                let sessions = try #require(line["sessions"] as? Int)
                #expect(sessions >= previous)
                previous = sessions
                #expect(line["severity"] as? String == "INFO" && line["operation"] as? String == "copy")
                #expect(line["total"] as? Int == 60 && line["events"] is Int && line["written"] is Int)
                #expect(line["seconds"] is NSNumber && (line["eta_seconds"] == nil || line["eta_seconds"] is Int))
                #expect((line["message"] as? String)?.hasPrefix("copy: [") == true)
            }
            #expect(progress.contains { $0["eta_seconds"] is Int })
            let last = try #require(progress.last)
            #expect(last["sessions"] as? Int == 60 && last["written"] as? Int == 60 && last["events"] as? Int == 180)
            #expect(copy.stdout.hasPrefix("copied:   sqlite:///"), "results stay on stdout: \(copy.stdout)")

            // The default interval (5 s): a copy this short prints no line while it runs, but its last counts at the end.
            let quick = try CLI.run(["copy", source, directory + "/c.db", "--batch-size", "5", "--log-format", "json"])
            let lines = try Self.lines(quick.stderr, command: "copy")
            #expect(lines.count == 1 && lines[0]["sessions"] as? Int == 60 && lines[0]["event"] as? String == "progress", "\(quick.stderr)")
        }
    }

    /// A copy that stops on a bad session: its last counts are logged before the error.
    @Test func aFailedCopyLogsItsLastCountsBeforeTheError() throws {
        try withTemporaryDirectory { directory in
            let source = directory + "/a.db"
            #expect(try CLI.run(["generate", source, "--sessions", "30", "--events", "2"]).status == 0)
            let sqlite = Process()
            sqlite.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
            sqlite.arguments = [
                source,
                "UPDATE sessions SET state = '{not json' WHERE rowid = "
                    + "(SELECT rowid FROM sessions ORDER BY app_name DESC, user_id DESC, id DESC LIMIT 1)",
            ]
            try sqlite.run()
            sqlite.waitUntilExit()
            // One worker stops right before the bad (last) session: 25 of 30 in batches of 5.
            let copy = try CLI.run(["copy", source, directory + "/b.db", "--batch-size", "5", "--log-format", "json", "--workers", "1"])
            #expect(copy.status == 2, "\(copy.stderr)")
            let lines = try Self.lines(copy.stderr, command: "copy")
            try #require(lines.count == 2, "\(copy.stderr)")
            #expect(lines[0]["event"] as? String == "progress" && lines[0]["sessions"] as? Int == 25 && lines[0]["written"] as? Int == 25)
            #expect(lines[1]["severity"] as? String == "ERROR" && (lines[1]["message"] as? String)?.contains("bad data at sessions row") == true)

            // Two workers: the last counts are the merged counts of both, short of the whole store.
            let parallel = try CLI.run(["copy", source, directory + "/c.db", "--batch-size", "5", "--log-format", "json", "--workers", "2"])
            #expect(parallel.status == 2, "\(parallel.stderr)")
            let merged = try Self.lines(parallel.stderr, command: "copy")
            try #require(merged.count == 2, "\(parallel.stderr)")
            let sessions = try #require(merged[0]["sessions"] as? Int)
            #expect(merged[0]["event"] as? String == "progress" && merged[0]["written"] as? Int == sessions && (1..<30).contains(sessions))
            let copied = try CLI.run(["inspect", directory + "/c.db"])
            let stored = copied.stdout.split(separator: "\n").first { $0.hasPrefix("sessions:") }
            #expect(stored?.split(separator: " ").last.map(String.init) == String(sessions), "the target holds what the last line counts: \(copied.stdout)")
            #expect(merged[1]["severity"] as? String == "ERROR")
        }
    }

    @Test func textIsTheDefaultAndTheEnvironmentChoosesJSON() throws {
        try withTemporaryDirectory { directory in
            let source = directory + "/a.db"
            #expect(try CLI.run(["generate", source, "--sessions", "20", "--events", "2"]).status == 0)
            let json = try CLI.run(
                ["copy", source, directory + "/b.db", "--batch-size", "5"],
                environment: ["SESSMIGRATE_LOG_FORMAT": "json", "SESSMIGRATE_PROGRESS_INTERVAL": "0"])
            #expect(try Self.lines(json.stderr, command: "copy").count >= 4)
            let text = try CLI.run(
                ["copy", source, directory + "/c.db", "--batch-size", "5", "--log-format", "text"],
                environment: ["SESSMIGRATE_LOG_FORMAT": "json", "SESSMIGRATE_PROGRESS_INTERVAL": "0"])
            #expect(!text.stderr.isEmpty && !text.stderr.contains("{"), "the option wins over the environment: \(text.stderr)")
            // stdout is the same in both formats (but for the target's name and the time taken).
            func results(_ stdout: String) -> [String] {
                stdout.split(separator: "\n").filter { !$0.hasPrefix("time:") && !$0.hasPrefix("copied:") }.map(String.init)
            }
            #expect(results(json.stdout) == results(text.stdout) && !results(json.stdout).isEmpty)

            let bad = try CLI.run(["inspect", source], environment: ["SESSMIGRATE_LOG_FORMAT": "xml"])
            #expect(bad.status == 64 && bad.stderr == "sessmigrate: error: SESSMIGRATE_LOG_FORMAT must be text or json, not 'xml'\n")
            let interval = try CLI.run(["inspect", source], environment: ["SESSMIGRATE_PROGRESS_INTERVAL": "-1"])
            #expect(interval.status == 64 && interval.stderr.contains("SESSMIGRATE_PROGRESS_INTERVAL must be a number of seconds"))
        }
    }

    /// Every subcommand takes `--log-format`; a usage error is one JSON line too.
    @Test(arguments: subcommands)
    func everySubcommandTakesTheOption(subcommand: String) throws {
        let result = try CLI.run([subcommand, "--log-format", "json"])
        #expect(result.status == 64)
        let lines = try Self.lines(result.stderr, command: subcommand)
        #expect(lines.count == 1)
        #expect(lines.first?["severity"] as? String == "ERROR")
        let message = lines.first?["message"] as? String ?? ""
        #expect(message.contains("Missing expected argument") || message.contains("needs two stores"), "\(message)")
        #expect(!message.contains("Unknown option"))
    }

    @Test func aFailingRunbookLogsItsStepRetriesHooksAndError() throws {
        let password = "Pw-9d2e-SECRET"
        let runbook = """
            name: failing-run
            variables:
              source: mysql://bot:\(password)@127.0.0.1:1/app
              target: ./target.db
            hooks:
              on_failure: echo "paging on-call"; exit 3
            steps:
              - id: mark
                kind: watermark
              - id: copy
                kind: copy
                source: ${source}
                target: ${target}
            """
        var errorLines: [String: String] = [:]
        for format in ["json", "text"] {
            try withTemporaryDirectory { directory in
                try runbook.write(toFile: directory + "/failing.yaml", atomically: true, encoding: .utf8)
                let run = try CLI.run(
                    ["run", "failing.yaml", "--journal", "run.journal", "--retries", "1", "--log-format", format],
                    environment: [:], directory: directory)
                #expect(run.status == 2, "\(run.stderr)")
                #expect(!run.stderr.contains(password) && !run.stdout.contains(password) && !run.stderr.contains("9d2e-SECRET"))
                errorLines[format] = run.stderr.split(separator: "\n").last.map(String.init)
                guard format == "json" else { return }
                let lines = try Self.lines(run.stderr, command: "run")
                #expect(lines.allSatisfy { $0["runbook"] as? String == "failing-run" })
                let retry = try #require(lines.first { $0["event"] as? String == "retry" })
                #expect(retry["severity"] as? String == "WARNING" && retry["step"] as? String == "copy")
                #expect(retry["retry"] as? Int == 1 && retry["of"] as? Int == 1 && retry["delay"] as? Double == 0.5)
                #expect(lines.contains { $0["message"] as? String == "[copy] hook on_failure: paging on-call" && $0["severity"] as? String == "INFO" })
                let hook = lines.filter { ($0["message"] as? String)?.contains("warning: hook on_failure (step 'copy') failed: exited with status 3") == true }
                #expect(hook.count == 2 && hook.allSatisfy { $0["severity"] as? String == "WARNING" }, "before the retry and at the end")
                #expect(lines.contains { $0["message"] as? String == "[mark] step 'mark' (watermark) done" && $0["severity"] as? String == "NOTICE" })
                let error = try #require(lines.last)
                #expect(error["severity"] as? String == "ERROR" && error["event"] as? String == "error" && error["step"] as? String == "copy")
                #expect((error["message"] as? String)?.hasPrefix("sessmigrate: error: step 'copy' failed: ") == true)
                errorLines["json"] = error["message"] as? String
            }
        }
        // The JSON message is the line the text format prints.
        #expect(errorLines["json"] != nil && errorLines["json"] == errorLines["text"])
    }

    /// A run waiting at a gate polls it every second; the log says so once (at most once a minute).
    @Test func aWaitingGateIsLoggedOnceNotEverySecond() throws {
        try withTemporaryDirectory { directory in
            let journal = directory + "/gated.journal"
            try "name: gated\nsteps:\n  - id: flip\n    kind: gate\n  - id: after\n    kind: watermark\n"
                .write(toFile: directory + "/gated.yaml", atomically: true, encoding: .utf8)
            let process = Process()
            process.executableURL = try #require(CLI.binary)
            process.arguments = ["run", directory + "/gated.yaml", "--journal", journal, "--log-format", "json"]
            let stderr = Pipe()
            process.standardOutput = FileHandle.nullDevice
            process.standardError = stderr
            try process.run()
            defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
            var waiting = false
            for _ in 0..<300 where !waiting {
                waiting = (try? CLI.run(["status", "--journal", journal]))?.stdout.contains("waiting at gate flip") == true
                if !waiting { usleep(100_000) }
            }
            try #require(waiting)
            sleep(4)  // four more polls of the gate
            #expect(try CLI.run(["continue", "--journal", journal]).status == 0)
            let output = String(decoding: stderr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            #expect(process.terminationStatus == 0)
            let notes = try Self.lines(output, command: "run").filter { ($0["message"] as? String)?.hasPrefix("[flip] gate 'flip': waiting") == true }
            #expect(notes.count == 1 && notes.first?["severity"] as? String == "NOTICE", "\(output)")
        }
    }

    @Test func aResumeRunsTheHooksTheJournalRecorded() throws {
        try withTemporaryDirectory { directory in
            let runbook = { (marker: String) in
                "name: gated\nhooks:\n  on_done: touch \(marker)\nsteps:\n  - id: flip\n    kind: gate\n"
            }
            try runbook("from-journal").write(toFile: directory + "/gated.yaml", atomically: true, encoding: .utf8)
            let dry = try CLI.run(["run", "gated.yaml", "--journal", "run.journal", "--dry-run"], environment: [:], directory: directory)
            #expect(dry.stdout.contains("hook on_done (timeout 30 s): would run when the run finishes (not in a dry run): touch from-journal"))
            #expect(try CLI.run(["run", "gated.yaml", "--journal", "run.journal", "--no-wait"], environment: [:], directory: directory).status == 3)
            try runbook("from-file").write(toFile: directory + "/gated.yaml", atomically: true, encoding: .utf8)
            #expect(try CLI.run(["continue", "--journal", "run.journal"], environment: [:], directory: directory).status == 0)
            let resume = try CLI.run(["resume", "--journal", "run.journal"], environment: [:], directory: directory)
            #expect(resume.status == 0, "\(resume.stderr)")
            #expect(FileManager.default.fileExists(atPath: directory + "/from-journal"))
            #expect(!FileManager.default.fileExists(atPath: directory + "/from-file"))
        }
    }
}

extension CLI {
    /// Runs the binary with more environment variables, in `directory` when given.
    static func run(_ arguments: [String], environment: [String: String], directory: String? = nil) throws -> Result {
        let process = Process()
        guard let binary else { throw CLIError.notBuilt }
        process.executableURL = binary
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        let (out, err) = (Pipe(), Pipe())
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self), stderr: String(decoding: stderr, as: UTF8.self))
    }
}
