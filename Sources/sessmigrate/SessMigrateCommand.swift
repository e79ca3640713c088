import ArgumentParser
import SessMigrate

@main
struct SessMigrateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sessmigrate",
        abstract: "Move ADK sessions between CloudSQL (MySQL), Redis and SQLite files.",
        version: SessMigrateVersion.current
    )
}
