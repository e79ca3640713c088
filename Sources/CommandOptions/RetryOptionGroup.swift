import ArgumentParser
import Foundation
import SessMigrate

/// `--retries`: how many transient faults in a row (a server restarting, a killed connection,
/// `LOADING`/`BUSY`, a deadlock) are waited out before giving up.
public struct RetryOptionGroup: ParsableArguments {
    public init() {}

    @Option(
        help:
            "Retries after transient faults in a row (server restart, killed connection, LOADING/BUSY, deadlock), waiting 0.5 s, 1 s, 2 s … up to 8 s; 0 fails at the first (default 6)."
    )
    public var retries: String?

    public func validate() throws { _ = try policy() }

    /// The policy, validated by the request parser's rules.
    public func policy() throws -> RetryPolicy {
        var input = RequestInput()
        input.values[.retries] = retries
        do {
            return try CopyRequest.parse(input).retry
        } catch {
            throw ValidationError(error.message(spelling: .commandLine))
        }
    }
}

extension RetryOptionGroup {
    /// A diff job of A and B with these retries.
    public func diffJob(_ a: StoreAddress, _ b: StoreAddress, _ engine: DiffEngine) throws -> DiffJob {
        var job = DiffJob(a: a, b: b, engine: engine)
        job.retry = try policy()
        return job
    }
}
