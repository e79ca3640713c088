import ArgumentParser
import CommandOptions
import Foundation
import SessMigrate
import SessionModel

extension SessMigrateCommand {
    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check that two stores hold the same sessions: one verdict line and counts.",
            discussion: """
                Per-session digests compared in one pass over each store (meaning, not bytes). With --replay, \
                one store is checked against itself: each session's events replayed from its initial state \
                must give its stored state, and every app or user key an event sets must be in the stored \
                app or user state; initial-state values and app/user values (also written by create_session \
                and by sessions no longer stored) cannot be checked and are counted. Exit status: \
                0 identical, 1 differences found (or, with --skip-bad, sessions skipped: verdict INCOMPLETE), \
                2 runtime error (including a bad session without --skip-bad), 64 usage error. \
                --combine R… makes one verdict of the --format json reports of every shard of one comparison \
                (verify A B --shard i/N in each task): they must compare the same stores in the same mode and \
                scope, split by the same shard function (--shard-by), and cover each shard exactly once (exit 2 otherwise).
                """)

        @Argument(help: "Store A.") var a: String?
        @Argument(help: "Store B (not with --replay).") var b: String?
        @Flag(
            help: "Check store A against itself: replaying each session's state deltas must give its stored state; app and user keys they set must be stored.")
        var replay = false
        @Flag(help: "List sessions whose data cannot be read and compare the rest (never IDENTICAL if any).") var skipBad = false
        @Flag(
            help: "Containment instead of equality: every session and event of A must be in B with the same content; B may hold more (a live bot writes there)."
        )
        var contains = false
        @Option(help: "With --contains: sessions of A updated at or after this time that B lacks are pending converge, not failures.")
        var pendingSince: String?
        @Option(help: "With --contains: the copy's Redis TTL in seconds (sessions of A it would not copy as expired are counted, not failures).")
        var ttl: String?
        @Option(help: "With --contains: where the copy counts a TTL from (update or now).") var ttlFrom: String?
        @OptionGroup var storeOptions: StoreOptions
        @OptionGroup var scopeOptions: ScopeOptionGroup
        @OptionGroup var retryOptions: RetryOptionGroup
        @Option(help: "Output format: text or json.") var format: OutputFormat = .text
        @OptionGroup var logOptions: LogOptions
        @Option(parsing: .upToNextOption, help: "Combine these --format json reports of the shards of one comparison into one verdict (instead of A and B).")
        var combine: [String] = []
        @OptionGroup var passOptions: PassSizeOptionGroup

        func validate() throws {
            if !combine.isEmpty {
                guard a == nil, b == nil, !replay, !contains, scopeOptions.input() == RequestInput() else {
                    throw ValidationError("--combine takes only the reports (and --format): the stores and the scope are in them")
                }
                return
            }
            if a == nil { throw ValidationError("verify needs two stores, one with --replay, or --combine REPORT…") }
            if replay, b != nil { throw ValidationError("--replay checks one store; give only STORE") }
            if !replay, b == nil { throw ValidationError("verify needs two stores, or one with --replay") }
            if !contains, pendingSince != nil || ttl != nil || ttlFrom != nil {
                throw ValidationError("--pending-since, --ttl and --ttl-from go with --contains")
            }
        }

        func run() throws {
            try runReportingErrors {
                if !combine.isEmpty { return try runCombine() }
                if replay { return try runReplay() }
                let addresses = try storeOptions.addresses([a ?? "", b ?? ""])
                let (addressA, addressB) = (addresses[0], addresses[1])
                if contains { return try runContainment(addressA, addressB) }
                let reporter = ProgressReporter()
                var engine = DiffEngine(detailed: false, skipBad: skipBad, scope: try scopeOptions.scope())
                engine.afterSessionRead = CopyTestHooks.verifyPause(environment: ProcessInfo.processInfo.environment)
                engine = passOptions.applied(to: engine)
                var job = try retryOptions.diffJob(addressA, addressB, engine)
                try job.settleShard(&engine.scope)  // the report names the shard function A settled
                job.engine.scope = engine.scope
                let (summary, _, _) = try job.run(events: reporter.handle) { _ in }
                reporter.finish()
                if format == .json {
                    // a, b, mode and scope let `verify --combine` check that shards' reports belong together.
                    let document: JSONObject = [
                        "format": .number(JSONNumber(1)), "a": .string(addressA.description), "b": .string(addressB.description),
                        "mode": .string("equal"), "scope": .object(ScopeJSON.json(engine.scope)), "summary": DiffRenderer.summaryJSON(summary),
                    ]
                    Terminal.output(document.serialized(.python))
                } else {
                    for line in DiffRenderer.skippedText(summary) { Terminal.output(line) }
                    Terminal.output("verify: \(DiffRenderer.verdict(summary))  " + DiffRenderer.summaryText(summary))
                }
                if !summary.isIdentical { throw ExitCode(1) }
            }
        }

        func runContainment(_ addressA: StoreAddress, _ addressB: StoreAddress) throws {
            var input = scopeOptions.input()
            input.values[.ttl] = ttl
            input.values[.ttlFrom] = ttlFrom
            input.values[.updatedBefore] = pendingSince  // parsed with the same rules as every time option
            let parsed: CopyRequest
            switch Result(catching: { () throws(RequestError) -> CopyRequest in try CopyRequest.parse(input, environment: ProcessInfo.processInfo.environment) }
            ) {
            case .success(let request): parsed = request
            case .failure(let error):
                throw UsageFailure(message: error.message(spelling: .commandLine).replacingOccurrences(of: "--updated-before", with: "--pending-since"))
            }
            var engine = ContainmentEngine()
            engine.skipBad = skipBad
            engine.scope = parsed.scope
            engine.scope.updatedBefore = nil
            engine.pendingSince = parsed.scope.updatedBefore
            engine.expiry = parsed.ttl
            engine.targetTTLSeconds = addressB.ttlSeconds
            engine = passOptions.applied(to: engine)
            let reporter = ProgressReporter()
            var job = try retryOptions.diffJob(addressA, addressB, DiffEngine(detailed: false))
            try job.settleShard(&engine.scope)  // the report names the shard function A settled
            let summary = try job.contains(engine, events: reporter.handle)
            reporter.finish()
            // --format json prints one document (the lists are in it), so `verify --combine` can read it.
            if format != .json {
                for failure in summary.failures.items { Terminal.output("not in B: \(failure)") }
                if summary.failures.omitted > 0 { Terminal.output("not in B: … and \(summary.failures.omitted) more") }
                for key in summary.pending.items.prefix(20) { Terminal.output("pending:  \(key) (changed in A since \(pendingSince ?? ""), not yet in B)") }
                for skip in summary.skippedA { Terminal.output("skipped:  A \(skip)") }
                for skip in summary.skippedB { Terminal.output("skipped:  B \(skip)") }
            }
            if format == .json {
                var document = DiffRenderer.containmentJSON(summary)
                document["a"] = .string(addressA.description)
                document["b"] = .string(addressB.description)
                document["scope"] = .object(ScopeJSON.json(engine.scope))
                document["options"] = .object([
                    "pending_since": engine.pendingSince.map { .number(JSONNumber($0)) } ?? .null,
                    "ttl": parsed.ttl.seconds.map { .number(JSONNumber($0)) } ?? .null, "ttl_from": .string(parsed.ttl.origin.rawValue),
                ])
                Terminal.output(document.serialized(.python))
            } else {
                Terminal.output("verify: " + DiffRenderer.containmentText(summary, now: Date().timeIntervalSince1970))
            }
            if !summary.isContained || !summary.skippedA.isEmpty || !summary.skippedB.isEmpty { throw ExitCode(1) }
        }

        func runReplay() throws {
            let address = try storeOptions.address(a ?? "")
            let store = try StoreOpener().open(address, forWriting: false)
            defer { try? store.close() }
            let summary = try ReplayCheck().run(store)
            for mismatch in summary.mismatches {
                Terminal.output("replay mismatch: \(mismatch.scope): \(mismatch.keys.joined(separator: ", ")) (\(mismatch.reason))")
            }
            Terminal.output(
                (summary.isConsistent ? "verify --replay: CONSISTENT  " : "verify --replay: INCONSISTENT  ")
                    + "\(summary.sessions) sessions, \(summary.events) events, \(summary.mismatches.count) mismatches; not checkable: "
                    + "\(summary.initialKeys) initial-state session keys, \(summary.sharedKeysNotFromEvents) app/user keys no stored event sets, "
                    + "\(summary.sharedValuesNotFromLatestEvent) app/user values not from the latest event (\(String(format: "%.2f", summary.seconds)) s)")
            if !summary.isConsistent { throw ExitCode(1) }
        }
    }
}
