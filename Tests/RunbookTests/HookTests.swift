import Foundation
import Journal
import SessMigrate
import SessionModel
import Testing

@testable import Runbook

/// Runbook hooks run in process against SQLite stores: the variables of every moment, failing,
/// required, hanging and backgrounding hooks, dry runs.
@Suite struct HookTests {
    static func everyHook(_ command: String) -> String {
        """
        hooks:
          on_step_start: \(command)
          on_step_done: \(command)
          on_gate: \(command)
          on_failure: \(command)
          on_done: \(command)
        """
    }

    @Test func everyMomentGetsItsVariables() throws {
        let bench = try HookBench()
        let (source, target) = (try bench.store("a.db", sessions: 30), bench.directory + "/b.db")
        let text = """
            name: hooked
            \(Self.everyHook(bench.record))
            steps:
              - id: copy
                kind: copy
                source: \(source)
                target: \(target)
                batch_size: "7"
              - id: flip
                kind: gate
              - id: check
                kind: gate
                command: "true"
              - id: verify
                kind: verify
                a: \(source)
                b: \(target)
                pass_size: "7"
            """
        #expect(try bench.start(text) == .waitingAtGate("flip"))
        _ = try RunbookStatus.requestContinue(journalPath: bench.directory + "/run.journal")
        #expect(try bench.resume() == .finished)

        let names = try bench.recorded().map { $0.name.split(separator: ".").prefix(3).joined(separator: ".") }
        #expect(
            names == [
                "on_step_start.started.copy", "on_step_done.done.copy", "on_gate.waiting.flip",  // the first run stops at the gate
                "on_step_done.done.flip", "on_step_start.started.check", "on_gate.started.check", "on_step_done.done.check",
                "on_step_start.started.verify", "on_step_done.done.verify", "on_done.finished.run",
            ])
        let all = try bench.recorded().map(\.variables)
        let journal = URL(fileURLWithPath: bench.directory + "/run.journal").standardizedFileURL.path
        for variables in all {
            #expect(variables["SESSMIGRATE_RUNBOOK"] == "hooked")
            #expect(variables["SESSMIGRATE_JOURNAL"] == journal)
            #expect(variables["SESSMIGRATE_RUN_ID"]?.isEmpty == false)
            #expect(variables["SESSMIGRATE_TIME"]?.wholeMatch(of: /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z/) != nil)
            #expect(variables["SESSMIGRATE_MESSAGE"]?.contains("runbook hooked: ") == true)
            #expect(variables["SESSMIGRATE_MESSAGE"]?.contains("\n") == false)
            #expect(variables["SESSMIGRATE_ERROR"] == nil)
        }
        // The run that stopped at the gate and the resumed run are two runs.
        #expect(all[0]["SESSMIGRATE_RUN_ID"] == all[2]["SESSMIGRATE_RUN_ID"])
        #expect(all[0]["SESSMIGRATE_RUN_ID"] != all[3]["SESSMIGRATE_RUN_ID"])

        let start = try #require(try bench.recorded("on_step_start", "started", "copy").first)
        #expect(start["SESSMIGRATE_STEP"] == "copy" && start["SESSMIGRATE_STEP_KIND"] == "copy" && start["SESSMIGRATE_ATTEMPT"] == "1")
        #expect(start["SESSMIGRATE_SESSIONS_READ"] == nil, "nothing is recorded before the first batch")
        let done = try #require(try bench.recorded("on_step_done", "done", "copy").first)
        #expect(done["SESSMIGRATE_STATUS"] == "done")
        #expect(done["SESSMIGRATE_SESSIONS_READ"] == "30" && done["SESSMIGRATE_SESSIONS_WRITTEN"] == "30")
        #expect(done["SESSMIGRATE_EVENTS_READ"] == "60" && done["SESSMIGRATE_EVENTS_WRITTEN"] == "60")
        #expect(done["SESSMIGRATE_MESSAGE"] == "runbook hooked: step 'copy' (copy) done: 30 sessions read, 30 written, 60 events")
        let waiting = try #require(try bench.recorded("on_gate", "waiting", "flip").first)
        #expect(waiting["SESSMIGRATE_STEP_KIND"] == "gate")
        #expect(waiting["SESSMIGRATE_MESSAGE"]?.contains("`sessmigrate continue --journal \(bench.directory)/run.journal`") == true)
        let gate = try #require(try bench.recorded("on_gate", "started", "check").first)
        #expect(gate["SESSMIGRATE_MESSAGE"] == "runbook hooked: gate 'check' runs its command")
        let verify = try #require(try bench.recorded("on_step_done", "done", "verify").first)
        // In passes of about 7 sessions of each store (`pass_size`), each session is still read once.
        #expect(verify["SESSMIGRATE_SESSIONS_READ"] == "30" && verify["SESSMIGRATE_EVENTS_READ"] == "60")
        let finished = try #require(try bench.recorded("on_done", "finished", "run").first)
        #expect(finished["SESSMIGRATE_STEP"] == nil && finished["SESSMIGRATE_ATTEMPT"] == nil)
        #expect(finished["SESSMIGRATE_MESSAGE"] == "runbook hooked: the run finished (4 steps)")
        // Each hook's output reached the operator, and nothing failed.
        #expect(bench.notes.filter { $0 == "hook on_step_done: recorded on_step_done" }.count == 4)
        #expect(try bench.events().allSatisfy { $0.kind != .hookFailed })
    }

    @Test func failuresSayWhetherTheStepIsRetried() throws {
        let bench = try HookBench()
        // Nothing listens on port 1: a transient fault (connection refused), retried once, then the step stops.
        let text = """
            name: failing
            \(Self.everyHook(bench.record))
            steps:
              - id: copy
                kind: copy
                source: redis://127.0.0.1:1/0?layout=community
                target: \(bench.directory)/b.db
            """
        #expect(throws: RunbookStepError.self) { try bench.start(text) }
        let failures = try bench.recorded("on_failure", "failed", "copy")
        try #require(failures.count == 2)
        #expect(failures[0]["SESSMIGRATE_ATTEMPT"] == "1" && failures[1]["SESSMIGRATE_ATTEMPT"] == "2")
        #expect(failures[0]["SESSMIGRATE_WILL_RETRY"] == "true" && failures[0]["SESSMIGRATE_RETRY"] == "1")
        #expect(failures[0]["SESSMIGRATE_RETRIES"] == "1" && failures[0]["SESSMIGRATE_RETRY_IN_SECONDS"] == "0.01")
        #expect(failures[1]["SESSMIGRATE_WILL_RETRY"] == "false" && failures[1]["SESSMIGRATE_RETRY"] == nil)
        for failure in failures {
            #expect(failure["SESSMIGRATE_TRANSIENT"] == "true")
            #expect(failure["SESSMIGRATE_ERROR"]?.contains("connection failed") == true)
            #expect(failure["SESSMIGRATE_MESSAGE"]?.hasPrefix("runbook failing: step 'copy' (copy) failed (attempt") == true)
        }
        #expect(failures[0]["SESSMIGRATE_MESSAGE"]?.hasSuffix("; retry 1 of 1 in 0.01 s") == true)
        #expect(failures[1]["SESSMIGRATE_MESSAGE"]?.contains("; the run stops: fix the cause, then `sessmigrate resume --journal") == true)
        #expect(try bench.recorded("on_done", "finished", "run").isEmpty)

        // A failure that is not transient: the gate's command fails once, and the run stops.
        let gate = try HookBench()
        #expect(throws: RunbookStepError.self) {
            try gate.start("name: gated\n\(Self.everyHook(gate.record))\nsteps:\n  - id: g\n    kind: gate\n    command: exit 4\n")
        }
        let failure = try #require(try gate.recorded("on_failure", "failed", "g").first)
        #expect(failure["SESSMIGRATE_TRANSIENT"] == "false" && failure["SESSMIGRATE_WILL_RETRY"] == "false")
        #expect(failure["SESSMIGRATE_ERROR"] == "gate 'g': the command exited with status 4")
        #expect(
            try gate.recorded().map { $0.name.split(separator: ".").prefix(3).joined(separator: ".") }
                == ["on_step_start.started.g", "on_gate.started.g", "on_failure.failed.g"])
    }

    @Test func aFailingHookIsReportedAndTheRunGoesOn() throws {
        let bench = try HookBench()
        let text = """
            name: notify
            hooks:
              on_step_done: echo "cannot reach the chat"; exit 7
            steps:
              - id: one
                kind: watermark
              - id: two
                kind: watermark
            """
        #expect(try bench.start(text) == .finished)
        let failed = try bench.events().filter { $0.kind == .hookFailed }
        #expect(failed.count == 2)
        #expect(failed.map { $0.step } == [nil, nil])
        #expect(failed.map { $0.detail["step"] } == [.string("one"), .string("two")])
        #expect(failed[0].detail["hook"] == .string("on_step_done") && failed[0].detail["required"] == .bool(false))
        #expect(failed[0].detail["exit_status"] == .number(JSONNumber(7)) && failed[0].detail["status"] == .string("done"))
        #expect(bench.notes.contains("hook on_step_done: cannot reach the chat"))
        #expect(bench.notes.contains("warning: hook on_step_done (step 'one') failed: exited with status 7; not required: the run goes on"))
        #expect(try bench.events().filter { $0.kind == .runFinished }.count == 1)
    }

    @Test func aFailingRequiredHookFailsTheRun() throws {
        // on_step_start: the step fails (recorded), and the run stops there.
        let start = try HookBench()
        let text = { (moment: String, command: String) in
            "name: strict\nhooks:\n  \(moment):\n    command: \(command)\n    required: true\nsteps:\n"
                + "  - id: one\n    kind: watermark\n  - id: two\n    kind: watermark\n"
        }
        let error = #expect(throws: RunbookStepError.self) { try start.start(text("on_step_start", "exit 1")) }
        #expect(error?.step == "one" && error?.underlying is HookFailure)
        #expect(error?.description.hasPrefix("step 'one' failed: required hook on_step_start failed: exited with status 1.") == true)
        let kinds = try start.events().map(\.kind)
        #expect(kinds == [.runStarted, .stepStarted, .hookFailed, .stepFailed])
        #expect(try start.events()[2].detail["required"] == .bool(true))

        // on_step_done: the step is done; the run stops before the next one, and resume goes on from there.
        let done = try HookBench()
        let once = "test -e '\(done.directory)/failed-once' || { touch '\(done.directory)/failed-once'; exit 5; }"
        #expect(throws: HookFailure.self) { try done.start(text("on_step_done", "\"\(once)\"")) }
        #expect(try done.events().map(\.kind) == [.runStarted, .stepStarted, .stepDone, .hookFailed])
        #expect(try done.resume() == .finished)
        #expect(try done.events().filter { $0.kind == .stepStarted }.map(\.step) == ["one", "two"])

        // on_done: the run is finished (recorded), and the command fails.
        let end = try HookBench()
        #expect(throws: HookFailure.self) { try end.start(text("on_done", "exit 9")) }
        #expect(try end.events().suffix(2).map(\.kind) == [.runFinished, .hookFailed])
    }

    @Test func aHookThatHangsIsKilledAtItsTimeout() throws {
        let bench = try HookBench()
        // The first ignores SIGTERM (so SIGKILL, 2 s later, ends it); the second dies of SIGTERM.
        let text = """
            name: slow
            hooks:
              on_step_start:
                command: trap '' TERM; sleep 300 & echo $! > '\(bench.directory)/stubborn'; wait
                timeout_seconds: 1
              on_step_done:
                command: sleep 300 & echo $! > '\(bench.directory)/plain'; wait
                timeout_seconds: 1
            steps:
              - id: one
                kind: watermark
            """
        let started = Date()
        #expect(try bench.start(text) == .finished)
        let seconds = Date().timeIntervalSince(started)
        #expect(seconds >= 2 && seconds < 20, "1 s + 2 s grace, then 1 s: \(seconds) s")
        for name in ["stubborn", "plain"] {
            let sleeper = try pid(in: bench.directory + "/" + name)
            #expect(!isRunning(sleeper), "\(name): the hook's process group was killed")
        }
        let failed = try bench.events().filter { $0.kind == .hookFailed }
        #expect(failed.map { $0.detail["hook"] } == [.string("on_step_start"), .string("on_step_done")])
        #expect(failed.allSatisfy { $0.detail["timed_out"] == .bool(true) })
        #expect(bench.notes.contains { $0.contains("failed: timed out after 1 s") })
    }

    @Test func aHookThatLeavesABackgroundProcessDoesNotHoldTheRun() throws {
        let bench = try HookBench()
        // The background process keeps the hook's output pipe open; only the shell's exit counts.
        let text = """
            name: background
            hooks:
              on_step_done: sleep 300 & echo $! > '\(bench.directory)/background'; echo started
            steps:
              - id: one
                kind: watermark
            """
        let started = Date()
        #expect(try bench.start(text) == .finished)
        #expect(Date().timeIntervalSince(started) < 10)
        let sleeper = try pid(in: bench.directory + "/background")
        defer { kill(sleeper, SIGKILL) }
        #expect(isRunning(sleeper), "a background process is left alone")
        #expect(bench.notes.contains("hook on_step_done: started"))
        #expect(try bench.events().allSatisfy { $0.kind != .hookFailed })
    }

    @Test func commandsAreSubstitutedLikeStepValues() throws {
        let bench = try HookBench()
        let text = """
            name: substituted
            variables:
              greeting: hello
            hooks:
              on_step_done: echo "${greeting} from ${env:HOME} after ${steps.one.margin_seconds}"
              on_done: echo ${env:SESSMIGRATE_TEST_NEVER_SET}
            steps:
              - id: one
                kind: watermark
            """
        #expect(try bench.start(text) == .finished)
        let home = ProcessInfo.processInfo.environment["HOME"] ?? ""
        #expect(bench.notes.contains("hook on_step_done: hello from \(home) after 60.0"), "\(bench.notes)")
        // A reference that cannot be resolved fails the hook (reported; not required, so the run is finished).
        let failed = try #require(try bench.events().first { $0.kind == .hookFailed })
        #expect(failed.detail["hook"] == .string("on_done"))
        #expect(failed.detail["error"]?.stringValue?.hasPrefix("could not run: ${env:SESSMIGRATE_TEST_NEVER_SET} is not set") == true)
    }

    @Test func aDryRunListsTheHooksAndRunsNone() throws {
        let bench = try HookBench()
        let source = try bench.store("a.db", sessions: 3)
        let text = """
            name: dry
            hooks:
              on_step_done: \(bench.record) ${env:HOOK_TOKEN}
              on_failure:
                command: \(bench.record)
                required: true
                timeout_seconds: 5
            steps:
              - id: copy
                kind: copy
                source: \(source)
                target: \(bench.directory)/b.db
            """
        let lines = try bench.runner(text).dryRun()
        #expect(lines.contains("hook on_step_done (timeout 30 s): would run when each step is done (not in a dry run): \(bench.record) ${env:HOOK_TOKEN}"))
        #expect(
            lines.contains("hook on_failure (required, timeout 5 s): would run when a step fails (also before a retry) (not in a dry run): \(bench.record)"))
        #expect(try bench.recorded().isEmpty)
        #expect(!FileManager.default.fileExists(atPath: bench.directory + "/run.journal"))
    }

    @Test(arguments: [
        ("hooks:\n  on_start: x", "hooks: unknown hook 'on_start'; the hooks are: on_step_start, on_step_done, on_gate, on_failure, on_done"),
        ("hooks:\n  on_done:\n    command: x\n    retries: 2", "hooks: on_done has no key 'retries'; it takes: command, required, timeout_seconds"),
        ("hooks:\n  on_done:\n    command: x\n    required: yes", "hooks: on_done: required must be true or false, not 'yes'"),
        ("hooks:\n  on_done:\n    command: x\n    timeout_seconds: 0", "hooks: on_done: timeout_seconds must be a whole number from 1 to 86400, not '0'"),
        ("hooks:\n  on_done:\n    command: x\n    timeout_seconds: 2.5", "hooks: on_done: timeout_seconds must be a whole number from 1 to 86400, not '2.5'"),
        ("hooks:\n  on_done:\n    required: true", "hooks: on_done needs a command"),
        ("hooks:\n  on_done: ''", "hooks: on_done has an empty command"),
        ("hooks:\n  on_done: [a, b]", "hooks: on_done must be a command or a mapping with command, required, timeout_seconds"),
        ("hooks:\n  - on_done", "hooks must be a mapping of moment: command (moments: on_step_start, on_step_done, on_gate, on_failure, on_done)"),
    ])
    func badHooksAreRefusedWhenTheRunbookIsRead(hooks: String, message: String) {
        let text = "name: t\n\(hooks)\nsteps:\n  - id: w\n    kind: watermark\n"
        #expect(throws: RunbookError(message)) { try RunbookDocument.parse(text) }
    }

    @Test func bothFormsParse() throws {
        let document = try RunbookDocument.parse(
            """
            name: t
            hooks:
              on_step_done: ./notify.sh
              on_failure:
                command: ./page.sh
                required: true
                timeout_seconds: 5
            steps:
              - id: w
                kind: watermark
            """)
        #expect(document.hooks[.onStepDone] == HookSpec(command: "./notify.sh"))
        #expect(document.hooks[.onFailure] == HookSpec(command: "./page.sh", required: true, timeoutSeconds: 5))
        #expect(document.hooks[.onDone] == nil)
        #expect(try RunbookDocument.parse("name: t\nsteps:\n  - id: w\n    kind: watermark\n").hooks.isEmpty)
    }
}
