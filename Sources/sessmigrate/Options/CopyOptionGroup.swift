import ArgumentParser
import SessMigrate
import SessionModel

extension ConflictPolicy: ExpressibleByArgument {}
extension TTLOrigin: ExpressibleByArgument {}

/// The options of `copy` (also used by `restore`).
struct CopyOptionGroup: ParsableArguments {
    @Option(name: .customLong("app"), help: "Only this app (repeatable).") var apps: [String] = []
    @Option(name: .customLong("user"), help: "Only this user id (repeatable).") var users: [String] = []
    @Option(name: .customLong("session"), help: "Only this session id (repeatable).") var sessions: [String] = []
    @Option(help: "Only sessions updated at or after this UTC time (YYYY-MM-DD[ HH:MM:SS[.ffffff]], optional Z, or epoch seconds).")
    var updatedSince: String?
    @Option(help: "Only sessions updated before this UTC time.") var updatedBefore: String?
    @Option(help: "When the target already has a session: newer (keep a target updated later, else merge events by id), source, skip, fail.")
    var onConflict: ConflictPolicy = .newer
    @Flag(help: "Also delete target sessions in the selected scope that the source lacks (needs --yes).") var mirror = false
    @Flag(help: "Confirm --mirror.") var yes = false
    @Flag(help: "Read everything and report what would be inserted, updated, kept or skipped per app; write nothing.") var dryRun = false
    @Option(help: "Redis expiry in seconds for written sessions (default: the target's ?ttl=, REDIS_SESSION_TTL or 3600).") var ttl: Int?
    @Option(help: "Count a Redis expiry from the session's last update (update) or from now (now).") var ttlFrom: TTLOrigin = .update
    @Flag(help: "Also write sessions whose expiry has already passed (they get the TTL from now).") var includeExpired = false
    @Option(help: "Sessions per batch (read and write round trips).") var batchSize: Int = 200
    @Flag(help: "Skip bad sessions (unreadable in the source, or too large for the target), list them, and go on; exit status 1 if any was skipped.")
    var skipBad = false

    func validate() throws {
        guard batchSize > 0 else { throw ValidationError("--batch-size must be positive") }
        if mirror, !yes { throw ValidationError("--mirror deletes target sessions the source lacks; add --yes to confirm (try --dry-run first)") }
        if let ttl, ttl <= 0 { throw ValidationError("--ttl must be a positive number of seconds") }
        _ = try time(updatedSince, "--updated-since")
        _ = try time(updatedBefore, "--updated-before")
    }

    func copyOptions() throws -> CopyOptions {
        var options = CopyOptions(batchSize: batchSize)
        options.filter.apps = Set(apps)
        options.filter.users = Set(users)
        options.filter.sessionIds = Set(sessions)
        options.filter.updatedSince = try time(updatedSince, "--updated-since")
        options.filter.updatedBefore = try time(updatedBefore, "--updated-before")
        options.onConflict = onConflict
        options.mirror = mirror
        options.dryRun = dryRun
        options.ttlSeconds = ttl
        options.ttlOrigin = ttlFrom
        options.includeExpired = includeExpired
        options.skipBad = skipBad
        return options
    }

    private func time(_ text: String?, _ name: String) throws -> Double? {
        guard var text else { return nil }
        if let epoch = Double(text) { return epoch }
        if text.hasSuffix("Z") { text.removeLast() }
        if text.count == 10 { text += " 00:00:00" }
        do {
            return try PythonTime.epoch(fromNaiveUTC: text)
        } catch {
            throw ValidationError("\(name) '\(text)' is not a UTC time (YYYY-MM-DD[ HH:MM:SS[.ffffff]] or epoch seconds)")
        }
    }
}
