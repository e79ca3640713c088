import ArgumentParser
import Foundation
import SessMigrate

/// `--workers`, `--max-rate` and `--pause-file` (copy, restore, snapshot): how many pipelines run side
/// by side, and the brake for a copy that reads a production database. Validated by the request
/// parser, as the runbook keys `workers`, `max_rate` and `pause_file` are.
public struct ScalingOptionGroup: ParsableArguments {
    public init() {}

    @Option(
        help:
            "Pipelines run side by side, each with its own connections and its own share of the sessions (a sub-shard), 1 to 256 (default: one per core; 1: a single pipeline)."
    )
    public var workers: String?
    @Option(help: "At most this many events read per second, all workers together (a brake for a production source).")
    public var maxRate: String?
    @Option(help: "While this file exists the copy pauses between batches (every batch so far checkpointed) and goes on when it is removed.")
    public var pauseFile: String?

    /// Adds these options to `input`.
    public func add(to input: inout RequestInput) {
        input.values[.workers] = workers
        input.values[.maxRate] = maxRate
        input.values[.pauseFile] = pauseFile
    }
}

/// `${shard}` in a file name given on the command line (`--journal`, `--checkpoint`, `--var`): this
/// task's shard index, so one command line serves every task of a Cloud Run Job or a Kubernetes
/// Indexed Job, each with a file of its own: `--journal /mnt/journals/backfill-${shard}.journal`.
public enum ShardSubstitution {
    public static let token = "${shard}"

    /// `text` with every `${shard}` replaced by `index`, or else by this task's index
    /// (`CLOUD_RUN_TASK_INDEX`, else `JOB_COMPLETION_INDEX`).
    ///
    /// - Throws: ``AddressError`` (a usage error, exit 64) when `text` holds `${shard}` and no index
    ///   is known.
    public static func expand(_ text: String, index: Int? = nil, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> String {
        guard text.contains(token) else { return text }
        let task = environment["CLOUD_RUN_TASK_INDEX"].flatMap { Int($0) } ?? environment["JOB_COMPLETION_INDEX"].flatMap { Int($0) }
        guard let value = index ?? task else {
            throw AddressError(
                "\(token) in '\(text)' needs the shard index: CLOUD_RUN_TASK_INDEX (a Cloud Run Job task), JOB_COMPLETION_INDEX (a Kubernetes Indexed Job pod) or --shard i/N"
            )
        }
        return text.replacingOccurrences(of: token, with: String(value))
    }
}
