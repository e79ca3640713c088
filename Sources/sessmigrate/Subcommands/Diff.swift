import ArgumentParser
import CommandOptions
import SessMigrate
import SessionModel

extension SessMigrateCommand {
    struct Diff: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show every session that differs between two stores, and what differs in it.",
            discussion: """
                One pass over each store, symmetric: sessions only in A, only in B, and changed (state keys by \
                scope, events missing, extra or changed by id and position, last update time). Meaning is \
                compared, not bytes: the same session in MySQL, Redis and SQLite is equal. Fields a store \
                cannot hold are named in the header and not compared. Exit status: 0 identical, \
                1 differences found (or sessions skipped with --skip-bad), 2 runtime error (including a bad \
                session without --skip-bad), 64 usage error. With --skip-bad, sessions whose data cannot be \
                read are listed ("skipped: A|B …") instead of stopping the comparison. --format json prints one document \
                {"format": 1, "a", "b", "not_compared", "differences": [...], "summary": {...}}.
                """)

        @Argument(help: "Store A.") var a: String
        @Argument(help: "Store B.") var b: String
        @OptionGroup var storeOptions: StoreOptions
        @OptionGroup var scopeOptions: ScopeOptionGroup
        @OptionGroup var retryOptions: RetryOptionGroup
        @Flag(help: "Show hashes instead of ids and state keys.") var redact = false
        @Flag(help: "List sessions whose data cannot be read and compare the rest (exit status 1 if any).") var skipBad = false
        @Option(help: "Output format: text or json.") var format: OutputFormat = .text
        @OptionGroup var passOptions: PassSizeOptionGroup
        @OptionGroup var logOptions: LogOptions

        func run() throws {
            try runReportingErrors {
                let addresses = try storeOptions.addresses([a, b])
                let (addressA, addressB) = (addresses[0], addresses[1])
                let renderer = DiffRenderer(redact: redact)
                var collected: [JSONValue] = []
                let reporter = ProgressReporter()
                let engine = passOptions.applied(to: DiffEngine(detailed: true, skipBad: skipBad, scope: try scopeOptions.scope()))
                let (summary, layoutA, layoutB) = try retryOptions.diffJob(addressA, addressB, engine).run(events: reporter.handle) { difference in
                    reporter.finish()
                    if format == .json { collected.append(renderer.json(difference)) } else { Terminal.output(renderer.text(difference)) }
                }
                reporter.finish()
                if format == .json {
                    let document: JSONObject = [
                        "format": .number(JSONNumber(1)), "a": .string(addressA.description), "b": .string(addressB.description),
                        "a_layout": .string(layoutA.description), "b_layout": .string(layoutB.description),
                        "not_compared": .array(summary.notCompared.map(JSONValue.string)), "differences": .array(collected),
                        "summary": DiffRenderer.summaryJSON(summary),
                    ]
                    Terminal.output(document.serialized(.python))
                } else {
                    Terminal.output("A: \(addressA) (\(layoutA))\nB: \(addressB) (\(layoutB))\nnot compared: \(summary.notCompared.joined(separator: ", "))")
                    for line in DiffRenderer.skippedText(summary) { Terminal.output(line) }
                    Terminal.output(DiffRenderer.summaryText(summary))
                }
                if !summary.isIdentical { throw ExitCode(1) }
            }
        }
    }
}
