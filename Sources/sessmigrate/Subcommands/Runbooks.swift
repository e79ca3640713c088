import ArgumentParser
import CommandOptions
import Foundation
import Journal
import Runbook
import SessMigrate
import SessionModel

/// `--journal PATH`, shared by the runbook commands.
struct JournalOptions: ParsableArguments {
    @Option(
        help:
            "The run's journal file (SQLite). ${shard} in the name is this task's index (CLOUD_RUN_TASK_INDEX or JOB_COMPLETION_INDEX): one journal per shard.",
        transform: { try ShardSubstitution.expand($0) })
    var journal: String
}

/// What `run` and `resume` both take to drive a runbook: variables, the bot's environment, gates, retries.
struct RunnerOptions: ParsableArguments {
    @Option(name: .customLong("var"), help: "A variable, NAME=VALUE (repeatable); ${shard} in VALUE is this task's index.") var vars: [String] = []
    @OptionGroup var environmentOptions: EnvironmentOptions
    @Flag(help: "Stop at a waiting gate instead of waiting for `sessmigrate continue`.") var noWait = false
    @OptionGroup var retryOptions: RetryOptionGroup

    /// A runner of `document` against the journal at `journal`, with these options.
    func runner(journal: String, document: RunbookDocument) throws -> RunbookRunner {
        LogSettings.runbook = document.name  // `runbook` in every JSON log line from here on
        var runner = RunbookRunner(
            journalPath: journal, document: document,
            variables: try RunbookVariables(
                document: document, overrides: try parseVars(vars).mapValues { try ShardSubstitution.expand($0) },
                environment: try environmentOptions.environment()))
        runner.waitAtGates = !noWait
        let reporter = ProgressReporter()
        runner.events = reporter.handle
        runner.retry = try retryOptions.policy()
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
        @OptionGroup var logOptions: LogOptions

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
        @OptionGroup var logOptions: LogOptions

        func run() throws {
            try runReportingErrors {
                let journal = try JournalFile.open(path: journalOptions.journal, environment: .live(toolVersion: SessMigrateVersion.current))
                defer { journal.close() }
                let runner = try runnerOptions.runner(journal: journalOptions.journal, document: try RunbookDocument.parse(journal.runbookText))
                try report(runner.resume(journal), journal: journalOptions.journal)
            }
        }
    }

    struct Continue: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Pass the gate a run is waiting at.")
        @OptionGroup var journalOptions: JournalOptions
        @OptionGroup var logOptions: LogOptions

        func run() throws {
            try runReportingErrors {
                let gate = try RunbookStatus.requestContinue(journalPath: journalOptions.journal)
                Terminal.output("gate '\(gate)': continue recorded; the waiting run proceeds (or run `sessmigrate resume --journal \(journalOptions.journal)`)")
            }
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
        static let configuration = CommandConfiguration(
            abstract: "Show each step's state, attempts, counts with % and ETA, the lock holder, and what to do next.",
            discussion:
                "--format json prints the same report as one versioned JSON document, raw checkpoints included. Exit status: 0, 2 runtime error (an unreadable journal), 64 usage error."
        )
        @OptionGroup var journalOptions: JournalOptions
        @Option(help: "Output format: text or json.") var format: OutputFormat = .text
        @OptionGroup var logOptions: LogOptions

        func run() throws {
            try runReportingErrors {
                do {
                    let report = try RunbookStatusReport.make(journalPath: journalOptions.journal)
                    if format == .json {
                        Terminal.output(report.json.serialized(.python))
                    } else {
                        for line in report.lines { Terminal.output(line) }
                    }
                } catch let error as JournalError where error.notStarted {
                    Terminal.output("journal: \(journalOptions.journal)")
                    Terminal.output(
                        "next: not started: the file holds no runbook and no event; `sessmigrate run RUNBOOK --journal \(journalOptions.journal)` starts it.")
                }
            }
        }
    }

    struct Log: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the journal's events, oldest first.",
            discussion: "--format json prints one JSON object per line (seq, run_id, time, host, pid, tool_version, step, kind, detail).")
        @OptionGroup var journalOptions: JournalOptions
        @Option(help: "Only the events of this step.") var step: String?
        @Option(help: "Only the last N events.") var tail: Int?
        @Option(help: "Output format: text or json.") var format: LogFormat = .text
        @OptionGroup var logOptions: LogOptions

        enum LogFormat: String, ExpressibleByArgument {
            case text, json
            /// The earlier name of json, still accepted.
            case jsonl
        }

        func validate() throws {
            if let tail, tail < 1 { throw ValidationError("--tail must be 1 or more") }
        }

        func run() throws {
            try runReportingErrors {
                for event in try RunbookStatus.events(journalPath: journalOptions.journal, step: step, tail: tail) {
                    let detail = event.detail.serialized(.compact)
                    if format != .text {
                        let object: JSONObject = [
                            "seq": .number(JSONNumber(Int(event.seq))), "run_id": .string(event.runId), "time": .number(JSONNumber(event.time)),
                            "host": .string(event.host), "pid": .number(JSONNumber(Int(event.pid))), "tool_version": .string(event.toolVersion),
                            "step": event.step.map(JSONValue.string) ?? .null, "kind": .string(event.kind.rawValue), "detail": .object(event.detail),
                        ]
                        Terminal.output(object.serialized(.compact))
                    } else {
                        Terminal.output(
                            "\(event.seq) \(Rendering.time(event.time)) \(event.host):\(event.pid) \(event.step ?? "-") \(event.kind.rawValue) \(detail)")
                    }
                }
            }
        }
    }

    struct Unlock: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Clear a stale journal lock (the process that held it is gone).",
            discussion: """
                Records lock_broken in the journal. Never clears the lock of a run that is provably alive on this host                 (its pid runs the process that took the lock). A holder on another host is cleared without --force (you                 assert it is gone); --force also clears a live pid on this host when the lock does not record its process.
                """)
        @OptionGroup var journalOptions: JournalOptions
        @Flag(help: "Also clear a lock whose pid is alive on this host but not provably its holder.") var force = false
        @OptionGroup var logOptions: LogOptions

        func run() throws {
            try runReportingErrors {
                let journal: JournalFile
                do {
                    journal = try JournalFile.open(path: journalOptions.journal, environment: .live(toolVersion: SessMigrateVersion.current))
                } catch let error as JournalError where error.notStarted {
                    Terminal.output("the journal was not locked (it was never started)")
                    return
                }
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
