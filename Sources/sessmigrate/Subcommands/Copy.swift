import ArgumentParser
import SessMigrate

extension SessMigrateCommand {
    struct Copy: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Copy every session (with its app and user state) from SRC into DST.",
            discussion: """
                Whole sessions are the unit of work: each is read with all its events and written \
                atomically where the target has transactions. Copying is idempotent: sessions the \
                target already holds unchanged are not written, so running a copy twice writes \
                nothing the second time. Redis expiry is kept when copying Redis to Redis; \
                otherwise sessions get the target's ttl (?ttl= or REDIS_SESSION_TTL, default 3600 s).
                """)

        @Argument(help: "The source store address.")
        var source: String

        @Argument(help: "The target store address.")
        var target: String

        @OptionGroup var storeOptions: StoreOptions

        @Option(help: "Sessions per batch (read and write round trips).")
        var batchSize: Int = 200

        @Option(help: "Output format: text or json.")
        var format: OutputFormat = .text

        func validate() throws {
            guard batchSize > 0 else { throw ValidationError("--batch-size must be positive") }
        }

        func run() throws {
            try runReportingErrors {
                let (from, to) = (try storeOptions.address(source), try storeOptions.address(target))
                let reporter = ProgressReporter(render: Rendering.copyProgress)
                let summary = try CopyJob(source: from, target: to, options: CopyOptions(batchSize: batchSize))
                    .run(progress: reporter.update)
                reporter.finish()
                let text = format == .json
                    ? Rendering.copyJSON(summary, source: from.description, target: to.description)
                    : Rendering.copyText(summary, source: from.description, target: to.description)
                Terminal.output(text)
            }
        }
    }
}
