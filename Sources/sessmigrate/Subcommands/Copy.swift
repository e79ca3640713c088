import ArgumentParser
import SessMigrate

extension SessMigrateCommand {
    struct Copy: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Copy sessions (with their app and user state) from SRC into DST.",
            discussion: """
                Whole sessions are the unit of work: each is read with all its events and written \
                atomically where the target has transactions. Copying is idempotent: sessions the \
                target already holds unchanged are not written, so a second identical copy writes nothing. \
                Conflicts (--on-conflict): newer (default) keeps and reports a target session updated \
                later than the source's and otherwise merges events by id; source overwrites; skip leaves \
                existing sessions; fail stops. Redis expiry: kept when copying Redis to Redis; otherwise \
                the target's TTL counted from each session's last update (--ttl-from update) or now; \
                sessions already expired are skipped and counted unless --include-expired. \
                A bad session in the source stops the copy before its batch is written; batches \
                written before it stay (every write is idempotent: fix the data and run again). \
                With --skip-bad, bad sessions (unreadable in the source, or larger than the target accepts) \
                are skipped and listed ("skipped:" lines, "skipped" in JSON) and the rest is copied. \
                Exit status: 0 success, 1 completed but sessions were skipped (--skip-bad), 2 runtime error \
                (including a bad session without --skip-bad), 64 usage error.
                """)

        @Argument(help: "The source store address.") var source: String
        @Argument(help: "The target store address.") var target: String
        @OptionGroup var storeOptions: StoreOptions
        @OptionGroup var copyOptions: CopyOptionGroup
        @OptionGroup var retryOptions: RetryOptionGroup
        @Option(help: "Output format: text or json.") var format: OutputFormat = .text

        func run() throws {
            try runReportingErrors {
                let addresses = try storeOptions.addresses([source, target])
                let (from, to) = (addresses[0], addresses[1])
                let reporter = ProgressReporter(render: Rendering.copyProgress)
                var job = CopyJob(source: from, target: to, options: try copyOptions.copyOptions())
                job.retry = retryOptions.policy
                let summary = try job.run(progress: reporter.update, onRetry: RetryOptionGroup.announce)
                reporter.finish()
                Terminal.output(format == .json
                    ? Rendering.copyJSON(summary, source: from.description, target: to.description)
                    : Rendering.copyText(summary, source: from.description, target: to.description))
                if summary.skippedCount > 0 { throw ExitCode(1) }
            }
        }
    }
}
