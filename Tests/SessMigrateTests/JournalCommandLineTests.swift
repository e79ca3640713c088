import Foundation
import Testing

/// Issue 13 items 4–6 through the binary: journals created atomically (a kill at any write, fsync,
/// link or rename of `run`, injected with strace, leaves no journal or a usable one), a live runner's
/// lock that `unlock --force` refuses to break, a runner that stops once its lock is gone, and a
/// forged journal that is named and never obeyed.
@Suite(.serialized, .enabled(if: CLI.binary != nil))
struct JournalCommandLineTests {
    static let strace = "/usr/bin/strace"
    static let tiny = "name: tiny\nsteps:\n  - id: mark\n    kind: watermark\n"
    static let gated = "name: gated\nsteps:\n  - id: mark\n    kind: watermark\n  - id: flip\n    kind: gate\n  - id: after\n    kind: watermark\n"

    static func runbook(_ directory: String, _ text: String) throws -> String {
        let path = directory + "/runbook-\(UUID().uuidString).yaml"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// Runs `sessmigrate run` under strace, killed (SIGKILL) at the `count`-th call of `syscall`.
    static func runKilled(at syscall: String, _ count: Int, runbook: String, journal: String) throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: strace)
        process.arguments = [
            "-f", "-qq", "-o", "/dev/null", "-e", "trace=\(syscall)", "-e", "inject=\(syscall):signal=SIGKILL:when=\(count)",
            try #require(CLI.binary).path, "run", runbook, "--journal", journal,
        ]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        return process.terminationStatus
    }

    /// Item 5: 8 of 32 kills in the first ~40 ms of `run` left a 0-byte journal that `run` called
    /// existing and `resume`, `status` and `unlock --force` called damaged.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: strace)))
    func killedWhileCreatingTheJournalLeavesNoneOrAUsableOne() throws {
        let points = [("fdatasync", 1...6), ("fsync", 1...3), ("pwrite64", 1...14), ("link", 1...1), ("rename", 1...2), ("unlink", 1...2)]
        try withTemporaryDirectory { directory in
            let runbook = try Self.runbook(directory, Self.tiny)
            for (syscall, counts) in points {
                for count in counts {
                    let journal = directory + "/\(syscall)-\(count).journal"
                    _ = try Self.runKilled(at: syscall, count, runbook: runbook, journal: journal)
                    if FileManager.default.fileExists(atPath: journal) {
                        let status = try CLI.run(["status", "--journal", journal])
                        #expect(status.status == 0 && !status.stderr.contains("damaged"), "\(syscall) #\(count): \(status.stderr)")
                    }
                    var finish = try CLI.run(["run", runbook, "--journal", journal])
                    if finish.status != 0, finish.stderr.contains("already exists") {
                        finish = try CLI.run(["resume", "--journal", journal])
                    }
                    #expect(finish.status == 0, "\(syscall) #\(count): \(finish.stderr)")
                    let status = try CLI.run(["status", "--journal", journal])
                    #expect(status.stdout.contains("The run is finished"), "\(syscall) #\(count): \(status.stdout) \(status.stderr)")
                    var info = stat()
                    #expect(stat(journal, &info) == 0 && info.st_mode & 0o777 == 0o600, "\(syscall) #\(count)")
                }
            }
        }
    }

    /// A journal with no committed event (here an empty file, as a kill left before) is not started.
    @Test func anEmptyJournalFileIsNotStarted() throws {
        try withTemporaryDirectory { directory in
            let journal = directory + "/empty.journal"
            FileManager.default.createFile(atPath: journal, contents: nil)
            let status = try CLI.run(["status", "--journal", journal])
            #expect(status.status == 0 && status.stdout.contains("not started"), "\(status.stdout) \(status.stderr)")
            let unlock = try CLI.run(["unlock", "--force", "--journal", journal])
            #expect(!unlock.stderr.contains("damaged"), "\(unlock.stderr)")
            let run = try CLI.run(["run", try Self.runbook(directory, Self.tiny), "--journal", journal])
            #expect(run.status == 0, "\(run.stderr)")
        }
    }

    /// Starts `run` of the gated runbook and waits (polling `status`) until it waits at its gate.
    static func runnerAtGate(_ directory: String, journal: String) throws -> Process {
        let process = Process()
        process.executableURL = try #require(CLI.binary)
        process.arguments = ["run", try runbook(directory, gated), "--journal", journal]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try process.run()
        for _ in 0..<300 {
            if (try? CLI.run(["status", "--journal", journal]))?.stdout.contains("waiting at gate flip") == true { return process }
            usleep(100_000)
        }
        process.terminate()
        throw CLIError.notBuilt
    }

    /// Item 4: `unlock --force` on a live local runner is refused; the runner then finishes normally.
    @Test func forceDoesNotBreakALiveRunnersLock() throws {
        try withTemporaryDirectory { directory in
            let journal = directory + "/gated.journal"
            let runner = try Self.runnerAtGate(directory, journal: journal)
            defer { if runner.isRunning { kill(runner.processIdentifier, SIGKILL) } }
            let unlock = try CLI.run(["unlock", "--force", "--journal", journal])
            #expect(unlock.status == 2 && unlock.stderr.contains("pid \(runner.processIdentifier)"), "\(unlock.stderr)")
            let plain = try CLI.run(["unlock", "--journal", journal])
            #expect(plain.status == 2 && !plain.stderr.contains("--force"), "\(plain.stderr)")
            #expect(try CLI.run(["continue", "--journal", journal]).status == 0)
            runner.waitUntilExit()
            #expect(runner.terminationStatus == 0)
            #expect(try CLI.run(["status", "--journal", journal]).stdout.contains("The run is finished"))
        }
    }

    /// Item 4: a runner whose lock was replaced (as an `unlock --force` on another host and a second
    /// runner would) stops with a clear error at its next journal write, writing nothing.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/sqlite3")))
    func aRunnerThatLostItsLockStops() throws {
        try withTemporaryDirectory { directory in
            let journal = directory + "/gated.journal"
            let runner = try Self.runnerAtGate(directory, journal: journal)
            defer { if runner.isRunning { kill(runner.processIdentifier, SIGKILL) } }
            let steal = Process()
            steal.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
            steal.arguments = [journal, "UPDATE journal_lock SET host = 'pod-2', pid = 1, run_id = 'pod-2-1-0'"]
            try steal.run()
            steal.waitUntilExit()
            #expect(try CLI.run(["continue", "--journal", journal]).status == 0)
            runner.waitUntilExit()
            #expect(runner.terminationStatus == 2)
            let log = try CLI.run(["log", "--journal", journal])
            #expect(!log.stdout.contains("gate_passed"), "\(log.stdout)")
        }
    }

    /// Item 6: an edited `step_done` is named by its seq and never obeyed.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/sqlite3")))
    func aForgedJournalIsRefused() throws {
        try withTemporaryDirectory { directory in
            let journal = directory + "/forged.journal"
            #expect(try CLI.run(["run", try Self.runbook(directory, Self.gated), "--journal", journal, "--no-wait"]).status == 3)
            let forge = Process()
            forge.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
            forge.arguments = [journal, "DROP TRIGGER journal_events_no_update; UPDATE journal_events SET kind = 'gate_passed' WHERE kind = 'gate_waiting'"]
            try forge.run()
            forge.waitUntilExit()
            for command in [["status"], ["resume"], ["log"]] {
                let result = try CLI.run(command + ["--journal", journal])
                #expect(result.status == 2 && result.stderr.contains("event 4"), "\(command): \(result.stderr)")
            }
        }
    }
}
