import ArgumentParser
import DriverCore
import Foundation
import SessMigrate
import SessionModel

/// Which sessions (`copy`, `snapshot`, `restore`, `diff`, `verify`). Values are read as typed and
/// validated by the library's request parser, the one runbooks use too.
public struct ScopeOptionGroup: ParsableArguments {
    public init() {}

    @Option(name: .customLong("app"), help: "Only this app (repeatable).") public var apps: [String] = []
    @Option(name: .customLong("user"), help: "Only this user id (repeatable).") public var users: [String] = []
    @Option(name: .customLong("session"), help: "Only this session id (repeatable).") public var sessions: [String] = []
    @Option(help: "Only sessions updated at or after this UTC time (YYYY-MM-DD[ HH:MM:SS[.ffffff]], optional Z, or epoch seconds).")
    public var updatedSince: String?
    @Option(help: "Only sessions updated before this UTC time.") public var updatedBefore: String?
    @Option(help: "Only shard i of N (i/N, 0-based; auto: CLOUD_RUN_TASK_INDEX of CLOUD_RUN_TASK_COUNT; auto/N: JOB_COMPLETION_INDEX of N).")
    public var shard: String?
    @Option(
        help:
            "How --shard splits the sessions: id (CRC-32 of the session id), slots (Redis Cluster hash slot ranges of the source's keys; needs a Redis source, A for diff and verify) or auto (default: slots when the source is a Redis Cluster, else id)."
    )
    public var shardBy: String?

    public func input() -> RequestInput {
        var input = RequestInput()
        input.lists = [.app: apps, .user: users, .session: sessions].filter { !$0.value.isEmpty }
        input.values[.updatedSince] = updatedSince
        input.values[.updatedBefore] = updatedBefore
        input.values[.shard] = shard
        input.values[.shardBy] = shardBy
        return input
    }

    public func validate() throws { _ = try scope() }

    public func scope() throws -> SessionScope {
        do {
            return try SessionScope.parse(input(), environment: ProcessInfo.processInfo.environment)
        } catch {
            throw ValidationError(error.message(spelling: .commandLine))
        }
    }
}

/// The options of `copy` (also used by `restore`).
public struct CopyOptionGroup: ParsableArguments {
    public init() {}

    @OptionGroup public var scopeOptions: ScopeOptionGroup
    @Option(
        help:
            "When the target already has a session: merge (default: the union of both sides, never dropping an event), newer (keep a target updated later whole), source, skip, fail."
    )
    public var onConflict: String?
    @Flag(help: "Also delete target sessions in the selected scope that the source lacks (needs --yes).") public var mirror = false
    @Flag(help: "Confirm --mirror.") public var yes = false
    @Flag(help: "Read everything and report what would be inserted, updated, kept or skipped per app; write nothing.") public var dryRun = false
    @Option(help: "Redis expiry in seconds for written sessions (default: the target's ?ttl=, REDIS_SESSION_TTL or 3600).") public var ttl: String?
    @Option(help: "Count a Redis expiry from the session's last update (update, the default) or from now (now).") public var ttlFrom: String?
    @Flag(help: "Also write sessions whose expiry has already passed (they get the TTL from now).") public var includeExpired = false
    @Option(help: "Sessions per batch (read and write round trips), 1 to 100000 (default 200).") public var batchSize: String?
    @Flag(help: "Skip bad sessions (unreadable in the source, or too large for the target), list them, and go on; exit status 1 if any was skipped.")
    public var skipBad = false
    @OptionGroup public var retryOptions: RetryOptionGroup
    @OptionGroup public var scalingOptions: ScalingOptionGroup

    public func input() -> RequestInput {
        var input = scopeOptions.input()
        scalingOptions.add(to: &input)
        input.values[.onConflict] = onConflict
        input.values[.ttl] = ttl
        input.values[.ttlFrom] = ttlFrom
        input.values[.batchSize] = batchSize
        input.values[.retries] = retryOptions.retries
        for (option, flag) in [(RequestOption.mirror, mirror), (.yes, yes), (.dryRun, dryRun), (.includeExpired, includeExpired), (.skipBad, skipBad)]
        where flag {
            input.values[option] = "true"
        }
        return input
    }

    public func validate() throws { _ = try request() }

    /// The request, validated by the rules runbooks use too.
    public func request() throws -> CopyRequest {
        do {
            return try CopyRequest.parse(input(), environment: ProcessInfo.processInfo.environment)
        } catch {
            throw ValidationError(error.message(spelling: .commandLine))
        }
    }
}
