import ArgumentParser
import SessMigrate

/// `--retries`: how many transient faults in a row (a server restarting, a killed connection,
/// `LOADING`/`BUSY`, a deadlock) are waited out before giving up.
struct RetryOptionGroup: ParsableArguments {
    @Option(help: "Retries after transient faults in a row (server restart, killed connection, LOADING/BUSY, deadlock), waiting 0.5 s, 1 s, 2 s … up to 8 s; 0 fails at the first.")
    var retries: Int = RetryPolicy().retries

    func validate() throws {
        guard retries >= 0 else { throw ValidationError("--retries must be 0 or more") }
    }

    var policy: RetryPolicy { RetryPolicy(retries: retries) }

    /// Shows a retry on stderr (results stay on stdout).
    static func announce(_ notice: RetryNotice) {
        Terminal.warning(notice.description)
    }
}

extension RetryOptionGroup {
    /// A diff job of A and B with these retries.
    func diffJob(_ a: StoreAddress, _ b: StoreAddress, _ engine: DiffEngine) -> DiffJob {
        var job = DiffJob(a: a, b: b, engine: engine)
        job.retry = policy
        return job
    }
}
