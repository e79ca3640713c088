import ArgumentParser
import SessMigrate

@main
struct SessMigrateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sessmigrate",
        abstract: "Move ADK sessions between CloudSQL (MySQL), Redis and SQLite files.",
        discussion: """
            Store addresses: mysql://USER:PASS@HOST:PORT/DB (alias cloudsql://, ?socket=PATH), \
            redis://[USER:PASS@]HOST:PORT/DB?layout=community|adk-redis&ttl=SECONDS, \
            sqlite:///relative.db, sqlite:////abs/path.db (?layout=database), a path ending in .db, \
            or the words cloudsql and redis for the store the bot is configured with \
            (CLOUDSQL_* and REDIS_URL / REDIS_SESSION_TTL, from the environment or --env-file).

            Exit status: 0 success (diff/verify: identical), 1 differences found (diff/verify), 2 runtime error (connection, authentication, bad data), \
            64 usage error (bad option or address).
            """,
        version: SessMigrateVersion.current,
        subcommands: [Inspect.self, Copy.self, Diff.self, Verify.self, Snapshot.self, Restore.self, Generate.self, Run.self, Resume.self, Status.self, Log.self, Continue.self, Unlock.self]
    )
}
