import ArgumentParser
import Foundation
import SessMigrate

extension SessMigrateCommand {
    struct Generate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write realistic synthetic ADK sessions into a store (for demos and benchmarks).",
            discussion: """
                Sessions have user and model turns of varied length, tool calls and responses, inline binary \
                parts and state deltas in the session, user and app scopes (the stored state is their fold). \
                The same --seed gives the same sessions.
                """)

        @Argument(help: "The target store address.") var store: String
        @OptionGroup var storeOptions: StoreOptions
        @Option(help: "Number of sessions.") var sessions: Int = 100
        @Option(help: "Events per session.") var events: Int = 20
        @Option(help: "Random seed.") var seed: UInt64 = 1
        @Option(help: "Sessions per batch.") var batchSize: Int = 200
        @OptionGroup var logOptions: LogOptions

        func validate() throws {
            guard sessions >= 0, events >= 0, batchSize > 0 else { throw ValidationError("--sessions and --events must be >= 0, --batch-size > 0") }
        }

        func run() throws {
            try runReportingErrors {
                let target = try storeOptions.address(store)
                let reporter = ProgressReporter()
                let started = Date()
                reporter.handle(.began(operation: "generate", total: sessions))
                let result = try GenerateJob(target: target, sessions: sessions, eventsPerSession: events, seed: seed, batchSize: batchSize)
                    .run { count in
                        reporter.handle(
                            .advanced(ProgressCounts(sessions: count, events: count * events, total: sessions, seconds: Date().timeIntervalSince(started))))
                    }
                reporter.finish()
                Terminal.output("generated: \(result.sessions) sessions, \(result.events) events into \(target) in \(String(format: "%.2f", result.seconds)) s")
            }
        }
    }
}
