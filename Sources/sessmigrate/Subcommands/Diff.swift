import ArgumentParser
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
                1 differences found, 2 runtime error, 64 usage error. --format json prints one document \
                {"format": 1, "a", "b", "not_compared", "differences": [...], "summary": {...}}.
                """)

        @Argument(help: "Store A.") var a: String
        @Argument(help: "Store B.") var b: String
        @OptionGroup var storeOptions: StoreOptions
        @Flag(help: "Show hashes instead of ids and state keys.") var redact = false
        @Option(help: "Output format: text or json.") var format: OutputFormat = .text

        func run() throws {
            try runReportingErrors {
                let (addressA, addressB) = (try storeOptions.address(a), try storeOptions.address(b))
                let renderer = DiffRenderer(redact: redact)
                var collected: [JSONValue] = []
                let (summary, layoutA, layoutB) = try DiffJob(a: addressA, b: addressB, engine: DiffEngine(detailed: true)).run { difference in
                    if format == .json { collected.append(renderer.json(difference)) } else { Terminal.output(renderer.text(difference)) }
                }
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
                    Terminal.output(DiffRenderer.summaryText(summary))
                }
                if !summary.isIdentical { throw ExitCode(1) }
            }
        }
    }
}
