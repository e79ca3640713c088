import ArgumentParser
import SessMigrate
import SessionModel

extension SessMigrateCommand {
    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check that two stores hold the same sessions: one verdict line and counts.",
            discussion: """
                Per-session digests compared in one pass over each store (meaning, not bytes). With --replay, \
                one store is checked against itself and the sessions, apps and users whose state does not \
                match the fold of their events' state deltas are listed. Exit status: \
                0 identical, 1 differences found (or, with --skip-bad, sessions skipped: verdict INCOMPLETE), \
                2 runtime error (including a bad session without --skip-bad), 64 usage error.
                """)

        @Argument(help: "Store A.") var a: String
        @Argument(help: "Store B (not with --replay).") var b: String?
        @Flag(help: "Check store A against itself: replaying each session's state deltas must give its stored session, user and app state.")
        var replay = false
        @Flag(help: "List sessions whose data cannot be read and compare the rest (never IDENTICAL if any).") var skipBad = false
        @OptionGroup var storeOptions: StoreOptions
        @OptionGroup var retryOptions: RetryOptionGroup
        @Option(help: "Output format: text or json.") var format: OutputFormat = .text

        func validate() throws {
            if replay, b != nil { throw ValidationError("--replay checks one store; give only STORE") }
            if !replay, b == nil { throw ValidationError("verify needs two stores, or one with --replay") }
        }

        func run() throws {
            try runReportingErrors {
                if replay { return try runReplay() }
                let addresses = try storeOptions.addresses([a, b ?? ""])
                let (addressA, addressB) = (addresses[0], addresses[1])
                let (summary, _, _) = try retryOptions.diffJob(addressA, addressB, DiffEngine(detailed: false, skipBad: skipBad)).run(onRetry: RetryOptionGroup.announce) { _ in }
                if format == .json {
                    let document: JSONObject = ["format": .number(JSONNumber(1)), "summary": DiffRenderer.summaryJSON(summary)]
                    Terminal.output(document.serialized(.python))
                } else {
                    for line in DiffRenderer.skippedText(summary) { Terminal.output(line) }
                    Terminal.output("verify: \(DiffRenderer.verdict(summary))  " + DiffRenderer.summaryText(summary))
                }
                if !summary.isIdentical { throw ExitCode(1) }
            }
        }

        func runReplay() throws {
            let address = try storeOptions.address(a)
            let store = try StoreOpener().open(address, forWriting: false)
            defer { try? store.close() }
            let summary = try ReplayCheck().run(store)
            for mismatch in summary.mismatches { Terminal.output("replay mismatch: \(mismatch.scope): \(mismatch.keys.joined(separator: ", "))") }
            Terminal.output((summary.isConsistent ? "verify --replay: CONSISTENT  " : "verify --replay: INCONSISTENT  ")
                + "\(summary.sessions) sessions, \(summary.events) events, \(summary.mismatches.count) mismatches, "
                + "\(summary.underivedKeys) session keys set by no event (\(String(format: "%.2f", summary.seconds)) s)")
            if !summary.isConsistent { throw ExitCode(1) }
        }
    }
}
