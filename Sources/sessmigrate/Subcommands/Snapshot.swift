import ArgumentParser
import CommandOptions
import Foundation
import SessMigrate

extension SessMigrateCommand {
    struct Snapshot: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write every session of SRC into a SQLite snapshot file ADK can open with sqlite:///FILE.",
            discussion: """
                The file is ADK's SqliteSessionService layout plus a manifest (format version, redacted source \
                address, time taken, tool version, counts) and per-session digests; Redis expiries are kept. \
                It is written under a temporary name, synced, then renamed, so a crash never leaves a file \
                that looks complete. An existing FILE is refused without --force.
                """)

        @Argument(help: "The source store address.") var source: String
        @Argument(help: "The snapshot file to write.") var file: String
        @OptionGroup var storeOptions: StoreOptions
        @Flag(help: "Replace FILE if it exists.") var force = false
        @OptionGroup var scopeOptions: ScopeOptionGroup
        @Option(help: "Sessions per batch, 1 to 100000 (default 200).") var batchSize: String?
        @OptionGroup var retryOptions: RetryOptionGroup
        @OptionGroup var scalingOptions: ScalingOptionGroup
        @Option(help: "Output format: text or json.") var format: OutputFormat = .text
        @OptionGroup var logOptions: LogOptions

        func run() throws {
            try runReportingErrors {
                let from = try storeOptions.address(source)
                let path = try storeOptions.filePath(file)
                var input = scopeOptions.input()
                input.values[.batchSize] = batchSize
                input.values[.retries] = retryOptions.retries
                scalingOptions.add(to: &input)
                let request: CopyRequest
                do {
                    request = try CopyRequest.parse(input, environment: ProcessInfo.processInfo.environment)
                } catch let error as RequestError {
                    throw UsageFailure(message: error.message(spelling: .commandLine))
                }
                let reporter = ProgressReporter()
                let outcome = try CopyRun(source: from, target: .snapshot(path: path, force: force), request: request).run(events: reporter.handle)
                reporter.finish()
                guard let manifest = outcome.manifest else { throw UsageFailure(message: "internal error: the snapshot wrote no manifest") }
                let summary = outcome.summary
                Terminal.output(format == .json ? Rendering.snapshotJSON(manifest, path: path) : Rendering.snapshotText(manifest, path: path, summary: summary))
            }
        }
    }

    struct Restore: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check a snapshot, copy it into DST with the copy options, then verify.",
            discussion: """
                The snapshot is checked first (SQLite integrity check, manifest format version, every session's \
                digest); a damaged, truncated or newer-format file is refused before anything is written. \
                Conflicts default to --on-conflict newer: target sessions updated after the snapshot are kept. \
                The restore is verified by planning the same copy again, which must find nothing to write. \
                With --skip-bad, bad sessions in the snapshot (or too large for the target) are skipped and \
                listed, and the rest is restored. Exit status: 0 restored and verified, 1 verification found \
                differences or sessions were skipped (--skip-bad), 2 runtime error (including a refused snapshot \
                or a bad session without --skip-bad), 64 usage error.
                """)

        @Argument(help: "The snapshot file.") var file: String
        @Argument(help: "The target store address.") var target: String
        @OptionGroup var storeOptions: StoreOptions
        @OptionGroup var copyOptions: CopyOptionGroup
        @Option(help: "Output format: text or json.") var format: OutputFormat = .text
        @OptionGroup var logOptions: LogOptions

        func run() throws {
            try runReportingErrors {
                let path = try storeOptions.filePath(file)
                let to = try storeOptions.address(target)
                let reporter = ProgressReporter()
                let outcome = try RestoreRun(path: path, target: to, request: try copyOptions.request()).run(events: reporter.handle)
                reporter.finish()
                Terminal.output(
                    format == .json
                        ? Rendering.restoreJSON(outcome, path: path, target: to.description)
                        : Rendering.restoreText(outcome, path: path, target: to.description))
                if !outcome.isVerified || outcome.copy.skippedCount > 0 { throw ExitCode(1) }
            }
        }
    }
}
