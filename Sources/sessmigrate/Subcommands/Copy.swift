import ArgumentParser
import CommandOptions
import Foundation
import SessMigrate

extension SessMigrateCommand {
    struct Copy: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Copy sessions (with their app and user state) from SRC into DST.",
            discussion: """
                Whole sessions are the unit of work: each is read with all its events and written \
                atomically where the target has transactions. Copying is idempotent: sessions the \
                target already holds unchanged are not written, so a second identical copy writes nothing. \
                Conflicts (--on-conflict): merge (default) writes the union of both sides' events by id with \
                the state ADK's fold gives, never dropping an event of either side (an event id with different \
                content on each side is a conflict: listed, left as the target has it); newer keeps a target \
                session updated later than the source's whole; source overwrites; skip leaves existing \
                sessions; fail stops. Every write is conditioned on what was read (a session the bot changed \
                meanwhile is read again and merged again, never overwritten). Redis expiry: kept when copying Redis to Redis; otherwise \
                the target's TTL counted from each session's last update (--ttl-from update) or now; \
                sessions already expired are skipped and counted unless --include-expired. \
                A bad session in the source stops the copy before its batch is written; batches \
                written before it stay (every write is idempotent: fix the data and run again). \
                With --skip-bad, bad sessions (unreadable in the source, or larger than the target accepts) \
                are skipped and listed ("skipped:" lines, "skipped" in JSON) and the rest is copied. \
                --workers N runs N pipelines side by side (default: one per core; one with --updated-since or \
                --updated-before, which read the whole source to find what changed), each with its own connections \
                and its own share of the sessions; --shard i/N copies one shard (one task of a Cloud Run Job or a \
                Kubernetes Indexed Job), split by --shard-by (from a Redis Cluster, by default, contiguous hash slot \
                ranges: each task reads only its own slots; otherwise the session id's CRC-32); --checkpoint FILE lets a task run again continue where it stopped; \
                --max-rate and --pause-file brake a copy that reads a production database. \
                Exit status: 0 success, 1 completed but sessions were skipped (--skip-bad) or left in conflict, 2 runtime error \
                (including a bad session without --skip-bad), 64 usage error.
                """)

        @Argument(help: "The source store address.") var source: String
        @Argument(help: "The target store address.") var target: String
        @OptionGroup var storeOptions: StoreOptions
        @OptionGroup var copyOptions: CopyOptionGroup
        @Option(help: "Output format: text or json.") var format: OutputFormat = .text
        @OptionGroup var logOptions: LogOptions
        @Option(
            help:
                "Keep the copy's position in this file (replaced atomically after every batch) and resume from it when it exists; removed when the copy completes. ${shard} in the name is the shard index (--shard, CLOUD_RUN_TASK_INDEX or JOB_COMPLETION_INDEX)."
        )
        var checkpoint: String?

        func validate() throws {
            guard let checkpoint else { return }
            if copyOptions.dryRun { throw ValidationError("--checkpoint records the position of a real copy; a dry run writes nothing") }
            do {
                _ = try ShardSubstitution.expand(checkpoint, index: try copyOptions.request().scope.shard?.index)
            } catch let error as AddressError {
                throw ValidationError(error.message)
            }
        }

        func run() throws {
            try runReportingErrors {
                let addresses = try storeOptions.addresses([source, target])
                let (from, to) = (addresses[0], addresses[1])
                let reporter = ProgressReporter()
                let request = try copyOptions.request()
                var copy = CopyRun(source: from, target: .store(to), request: request)
                copy.afterBatchWritten = CopyTestHooks.afterBatchWritten(environment: ProcessInfo.processInfo.environment)
                // Without a checkpoint file nothing of the copy's position outlives it: batches may commit together.
                if checkpoint == nil { copy.commitGroupSeconds = CopyRun.defaultCommitGroupSeconds }
                let summary =
                    try checkpoint.map { path in
                        try copy.run(checkpointFile: ShardSubstitution.expand(path, index: request.scope.shard?.index), events: reporter.handle)
                    }?.summary ?? copy.run(events: reporter.handle).summary
                reporter.finish()
                // The address as written: with --ttl, the TTL the sessions got, not the address's own.
                let shown = request.ttl.seconds.map { to.withTTL($0) } ?? to
                Terminal.output(
                    format == .json
                        ? Rendering.copyJSON(summary, source: from.description, target: shown.description)
                        : Rendering.copyText(summary, source: from.description, target: shown.description))
                if summary.skippedCount > 0 || summary.conflicts.count > 0 { throw ExitCode(1) }
            }
        }
    }
}
