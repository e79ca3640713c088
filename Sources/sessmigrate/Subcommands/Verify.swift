import ArgumentParser
import SessMigrate
import SessionModel

extension SessMigrateCommand {
    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check that two stores hold the same sessions: one verdict line and counts.",
            discussion: """
                Per-session digests compared in one pass over each store (meaning, not bytes). Exit status: \
                0 identical, 1 differences found, 2 runtime error, 64 usage error.
                """)

        @Argument(help: "Store A.") var a: String
        @Argument(help: "Store B.") var b: String
        @OptionGroup var storeOptions: StoreOptions
        @Option(help: "Output format: text or json.") var format: OutputFormat = .text

        func run() throws {
            try runReportingErrors {
                let (addressA, addressB) = (try storeOptions.address(a), try storeOptions.address(b))
                let (summary, _, _) = try DiffJob(a: addressA, b: addressB, engine: DiffEngine(detailed: false)).run { _ in }
                if format == .json {
                    let document: JSONObject = ["format": .number(JSONNumber(1)), "summary": DiffRenderer.summaryJSON(summary)]
                    Terminal.output(document.serialized(.python))
                } else {
                    Terminal.output((summary.isIdentical ? "verify: IDENTICAL  " : "verify: DIFFERENT  ") + DiffRenderer.summaryText(summary))
                }
                if !summary.isIdentical { throw ExitCode(1) }
            }
        }
    }
}
