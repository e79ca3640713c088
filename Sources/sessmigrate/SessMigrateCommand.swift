import ArgumentParser
import Foundation
import SessMigrate

@main
struct SessMigrateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sessmigrate",
        abstract: "Move ADK sessions between CloudSQL (MySQL), Redis and SQLite files.",
        discussion: """
            Store addresses: mysql://USER:PASS@HOST:PORT/DB (alias cloudsql://, ?socket=PATH, \
            ?ssl-mode=disabled|preferred|required|verify-ca|verify-identity&ssl-ca=PATH), \
            redis://[USER:PASS@]HOST:PORT/DB?layout=community|adk-redis&ttl=SECONDS \
            (either with ?password-file=PATH instead of PASS), \
            sqlite:///relative.db, sqlite:////abs/path.db (?layout=database), a path ending in .db, \
            or the words cloudsql and redis for the store the bot is configured with \
            (CLOUDSQL_* and REDIS_URL / REDIS_SESSION_TTL, from the environment or --env-file).

            Exit status: 0 success (diff/verify: identical), 1 differences found (diff/verify) or sessions skipped or in conflict, 2 runtime error (connection, authentication, bad data; a runbook step failed), 3 a runbook waits at a gate (run/resume --no-wait), \
            64 usage error (bad option or address).
            """,
        version: SessMigrateVersion.current,
        subcommands: [
            Inspect.self, Copy.self, Diff.self, Verify.self, Snapshot.self, Restore.self, Generate.self, Run.self, Resume.self, Status.self, Log.self,
            Continue.self, Unlock.self,
        ]
    )

    /// ArgumentParser's `main()`, except that passwords in its messages are shown as `***` (it quotes
    /// unexpected and invalid arguments, and an argument may be an address with a password).
    static func main() {
        // The log format first, so that even a usage error is written in it.
        if let problem = LogSettings.configure(arguments: Array(CommandLine.arguments.dropFirst()), environment: ProcessInfo.processInfo.environment) {
            Terminal.error(problem)
            Glibc.exit(64)
        }
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            let code = exitCode(for: error)
            let message = StoreAddress.redactingAddresses(in: fullMessage(for: error))
            if !message.isEmpty {
                if code == .success { Terminal.output(message) } else { Terminal.message(message) }
            }
            Glibc.exit(code.rawValue)
        }
    }
}
