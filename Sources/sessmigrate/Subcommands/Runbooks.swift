import ArgumentParser
import Foundation
import Journal
import Runbook
import SessMigrate
import SessionModel

/// `--journal PATH`, shared by the runbook commands.
struct JournalOptions: ParsableArguments {
    @Option(help: "The run's journal file (SQLite).") var journal: String
}

/// What `run` and `resume` both take to drive a runbook: variables, the bot's environment, gates, retries.
struct RunnerOptions: ParsableArguments {
    @Option(name: .customLong("var"), help: "A variable, NAME=VALUE (repeatable).") var vars: [String] = []
    @OptionGroup var environmentOptions: EnvironmentOptions
    @Flag(help: "Stop at a waiting gate instead of waiting for `sessmigrate continue`.") var noWait = false
    @OptionGroup var retryOptions: RetryOptionGroup

    /// A runner of `document` against the journal at `journal`, with these options.
    func runner(journal: String, document: RunbookDocument) throws -> RunbookRunner {
        var runner = RunbookRunner(
            journalPath: journal, document: document,
            variables: RunbookVariables(document: document, overrides: try parseVars(vars), environment: try environmentOptions.environment()))
        runner.waitAtGates = !noWait
        runner.progress = stepProgress()
        runner.retry = retryOptions.policy
        return runner
    }
}

extension SessMigrateCommand {
    struct Run: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run a runbook, recording every step in a journal so it can be resumed.",
            discussion: """
                Steps run in order; each records step_started, checkpoints after every batch it commits, and \
                step_done in the journal. Interrupted at any point (Ctrl-C, a killed pod, a lost connection), \
                `sessmigrate resume --journal J` continues from the last checkpoint. --dry-run writes nothing: \
                no store, no journal. Exit status: 0 finished, 3 waiting at a gate (with --no-wait), 2 a step \
                failed (see `status`), 64 usage error.
                """)

        @Argument(help: "The runbook file (YAML), e.g. runbooks/backfill.yaml.") var runbook: String
        @OptionGroup var journalOptions: JournalOptions
        @OptionGroup var runnerOptions: RunnerOptions
        @Flag(help: "Show what each step would do; write nothing.") var dryRun = false

        func run() throws {
            try runReportingErrors {
                guard let text = try? String(contentsOfFile: runbook, encoding: .utf8) else { throw UsageFailure(message: "cannot read runbook \(runbook)") }
                let runner = try runnerOptions.runner(journal: journalOptions.journal, document: try RunbookDocument.parse(text))
                if dryRun {
                    for line in try runner.dryRun() { Terminal.output(line) }
                    Terminal.output("dry run: nothing was written (no store, no journal)")
                    return
                }
                try report(runner.start(runbookText: text), journal: journalOptions.journal)
            }
        }
    }

    struct Resume: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Continue the run recorded in a journal from its last checkpoint.",
            discussion: "Pass the same --var and --env-file as the first run: secrets are not stored in the journal.")

        @OptionGroup var journalOptions: JournalOptions
        @OptionGroup var runnerOptions: RunnerOptions

        func run() throws {
            try runReportingErrors {
                let journal = try JournalFile.open(path: journalOptions.journal)
                defer { journal.close() }
                let runner = try runnerOptions.runner(journal: journalOptions.journal, document: try RunbookDocument.parse(journal.runbookText))
                try report(runner.resume(journal), journal: journalOptions.journal)
            }
        }
    }

    struct Continue: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Pass the gate a run is waiting at.")
        @OptionGroup var journalOptions: JournalOptions

        func run() throws {
            try runReportingErrors {
                let gate = try RunbookStatus.requestContinue(journalPath: journalOptions.journal)
                Terminal.output("gate '\(gate)': continue recorded; the waiting run proceeds (or run `sessmigrate resume --journal \(journalOptions.journal)`)")
            }
        }
    }
}

/// Step messages go to stderr at once; per-batch counts ("copy: …") at most every few seconds.
func stepProgress() -> (String) -> Void {
    let counts = ProgressReporter<String> { $0 }
    return { line in
        if ["copy:", "snapshot:", "restore:"].contains(where: { line.hasPrefix($0) }) {
            counts.update(line)
        } else {
            Terminal.progress(line, transient: false)
        }
    }
}

func parseVars(_ vars: [String]) throws -> [String: String] {
    var result: [String: String] = [:]
    for item in vars {
        guard let equals = item.firstIndex(of: "="), equals != item.startIndex else { throw UsageFailure(message: "--var '\(item)' is not NAME=VALUE") }
        result[String(item[..<equals])] = String(item[item.index(after: equals)...])
    }
    return result
}

func report(_ outcome: RunOutcome, journal: String) throws {
    switch outcome {
    case .finished:
        Terminal.output("run finished; `sessmigrate status --journal \(journal)` shows every step")
    case .waitingAtGate(let gate):
        Terminal.output("waiting at gate '\(gate)': `sessmigrate continue --journal \(journal)` then `sessmigrate resume --journal \(journal)`")
        throw ExitCode(3)
    }
}

extension SessMigrateCommand {
    struct Status: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show each step's state, counts and checkpoint, and what happens next.")
        @OptionGroup var journalOptions: JournalOptions

        func run() throws {
            try runReportingErrors {
                for line in try RunbookStatus.describe(journalPath: journalOptions.journal) { Terminal.output(line) }
            }
        }
    }

    struct Log: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the journal's events, oldest first.")
        @OptionGroup var journalOptions: JournalOptions
        @Option(help: "text or jsonl.") var format: LogFormat = .text

        enum LogFormat: String, ExpressibleByArgument { case text, jsonl }

        func run() throws {
            try runReportingErrors {
                for event in try RunbookStatus.events(journalPath: journalOptions.journal) {
                    let detail = event.detail.serialized(.compact)
                    if format == .jsonl {
                        let object: JSONObject = [
                            "seq": .number(JSONNumber(Int(event.seq))), "run_id": .string(event.runId), "time": .number(JSONNumber(event.time)),
                            "host": .string(event.host), "pid": .number(JSONNumber(Int(event.pid))), "tool_version": .string(event.toolVersion),
                            "step": event.step.map(JSONValue.string) ?? .null, "kind": .string(event.kind.rawValue), "detail": .object(event.detail),
                        ]
                        Terminal.output(object.serialized(.compact))
                    } else {
                        Terminal.output("\(event.seq) \(Rendering.time(event.time)) \(event.host):\(event.pid) \(event.step ?? "-") \(event.kind.rawValue) \(detail)")
                    }
                }
            }
        }
    }

    struct Unlock: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Clear a stale journal lock (the process that held it is gone).",
            discussion: "Refuses while the holder is alive on this host unless --force; records lock_broken in the journal.")
        @OptionGroup var journalOptions: JournalOptions
        @Flag(help: "Clear the lock even if its holder looks alive or is on another host.") var force = false

        func run() throws {
            try runReportingErrors {
                let journal = try JournalFile.open(path: journalOptions.journal)
                defer { journal.close() }
                if let holder = try journal.breakLock(force: force) {
                    Terminal.output("cleared the lock held by \(holder.host) pid \(holder.pid) since \(Rendering.time(holder.startedAt))")
                } else {
                    Terminal.output("the journal was not locked")
                }
            }
        }
    }
}
