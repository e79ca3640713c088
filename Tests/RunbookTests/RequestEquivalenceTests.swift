import ArgumentParser
import CommandOptions
import DriverCore
import SessMigrate
import SessionModel
import Testing

@testable import Runbook

/// The command line and a runbook step read copy options through one parser: equivalent inputs give
/// the same ``CopyRequest``, and the same bad inputs the same error, shown in each front end's spelling.
@Suite struct RequestEquivalenceTests {
    /// A copy step of a one-step runbook with these extra YAML lines.
    func step(_ lines: String) throws -> StepContext {
        let text = """
            name: t
            steps:
              - id: copy
                kind: copy
                source: a.db
                target: b.db
            \(lines.split(separator: "\n").map { "    " + $0 }.joined(separator: "\n"))
            """
        let document = try RunbookDocument.parse(text)
        let variables = try RunbookVariables(document: document, overrides: [:], environment: BotEnvironment(variables: [:]))
        return StepContext(
            id: "copy", spec: document.steps[0], variables: variables, outputs: [:], resumeFrom: nil, dryRun: false,
            checkpoint: { _ in }, afterBatchWritten: {}, events: { _ in })
    }

    static let equivalents: [(commandLine: [String], runbook: String)] = [
        ([], ""),
        (["--app", "a", "--app", "b c", "--user", "u:1", "--session", "s"], "apps: [a, \"b c\"]\nusers: [\"u:1\"]\nsessions: [s]"),
        (["--updated-since", "2024-01-01"], "updated_since: 2024-01-01"),
        (
            ["--updated-since", "2024-01-01 10:00:00.5Z", "--updated-before", "1800000000"],
            "updated_since: \"2024-01-01 10:00:00.5Z\"\nupdated_before: \"1800000000\""
        ),
        (
            ["--on-conflict", "source", "--ttl", "864000", "--ttl-from", "now", "--include-expired"],
            "on_conflict: source\nttl: \"864000\"\nttl_from: now\ninclude_expired: \"true\""
        ),
        (
            ["--batch-size", "50", "--skip-bad", "--retries", "2", "--shard", "1/4"],
            "batch_size: \"50\"\nskip_bad: \"true\"\nretries: \"2\"\nshard: 1/4"
        ),
        (["--mirror", "--yes", "--dry-run"], "mirror: \"true\"\nyes: \"true\"\ndry_run: \"true\""),
        (["--workers", "3", "--max-rate", "5000", "--pause-file", "/run/pause"], "workers: \"3\"\nmax_rate: \"5000\"\npause_file: /run/pause"),
        (["--workers", "1", "--shard", "2/5"], "workers: \"1\"\nshard: 2/5"),
        (["--shard", "2/5", "--shard-by", "slots"], "shard: 2/5\nshard_by: slots"),
        (["--shard", "0/3", "--shard-by", "id"], "shard: 0/3\nshard_by: id"),
    ]

    @Test(arguments: 0..<equivalents.count)
    func equivalentInputsGiveTheSameRequest(index: Int) throws {
        let (arguments, yaml) = Self.equivalents[index]
        let commandLine = try CopyOptionGroup.parse(arguments)
        let context = try step(yaml)
        #expect(commandLine.input() == (try context.requestInput()))
        let fromCommandLine = try commandLine.request()
        var fromRunbook = try context.copyRequest()
        // A runbook's request never retries by itself: the runner retries steps and journals each fault.
        #expect(fromRunbook.retry == .none)
        fromRunbook.retry = fromCommandLine.retry
        #expect(fromCommandLine == fromRunbook)
    }

    /// `workers`, `max_rate` and `pause_file` reach the request; a snapshot step takes them too.
    @Test func scalingOptionsReachTheRequest() throws {
        let request = try step("workers: \"6\"\nmax_rate: \"250\"\npause_file: /tmp/p").copyRequest()
        #expect(request.workers == 6 && request.maxRate == 250 && request.pauseFile == "/tmp/p")
        #expect(try step("").copyRequest().workers == nil, "the default: one per core, or the checkpoint's count")
        let snapshot = try RunbookDocument.parse(
            "name: s\nsteps:\n  - id: snap\n    kind: snapshot\n    source: a.db\n    file: s.db\n    workers: \"2\"\n    max_rate: \"9\"\n    pause_file: p")
        #expect(snapshot.steps[0].values["workers"] == "2")
    }

    static let bad: [(commandLine: [String], runbook: String)] = [
        (["--batch-size", "0"], "batch_size: \"0\""),
        (["--batch-size", "many"], "batch_size: many"),
        (["--ttl=-5"], "ttl: \"-5\""),
        (["--ttl-from", "later"], "ttl_from: later"),
        (["--on-conflict", "mine"], "on_conflict: mine"),
        (["--updated-since", "yesterday"], "updated_since: yesterday"),
        (["--updated-since", "2024-02-01", "--updated-before", "2024-01-01"], "updated_since: 2024-02-01\nupdated_before: 2024-01-01"),
        (["--shard", "4/4"], "shard: 4/4"),
        (["--shard", "auto"], "shard: auto"),
        (["--retries", "1000"], "retries: \"1000\""),
        (["--mirror"], "mirror: \"true\""),
        (["--app", ""], "apps: [\"\"]"),
        ([], "skip_bad: maybe"),
        (["--workers", "0"], "workers: \"0\""),
        (["--workers", "257"], "workers: \"257\""),
        (["--workers", "4", "--shard", "3/500000"], "workers: \"4\"\nshard: 3/500000"),
        (["--max-rate", "0"], "max_rate: \"0\""),
        (["--max-rate", "fast"], "max_rate: fast"),
        (["--shard", "1/2", "--shard-by", "crc"], "shard: 1/2\nshard_by: crc"),
        (["--shard-by", "slots"], "shard_by: slots"),
    ]

    @Test(arguments: 0..<bad.count)
    func badInputsAreRefusedWithTheSameMessage(index: Int) throws {
        let (arguments, yaml) = Self.bad[index]
        let context = try step(yaml)
        let runbookError = try #require(throws: RequestError.self) { try CopyRequest.parse(try context.requestInput()) }
        let stepError = try #require(throws: RunbookError.self) { try context.copyRequest() }
        #expect(stepError.message == "step 'copy': " + runbookError.message(spelling: .runbook))
        if arguments.isEmpty { return }  // a runbook-only spelling (a flag takes no value on the command line)
        do {
            _ = try CopyOptionGroup.parse(arguments)
            Issue.record("the command line accepted \(arguments)")
        } catch {
            #expect(CopyOptionGroup.message(for: error) == runbookError.message(spelling: .commandLine))
        }
    }
}
