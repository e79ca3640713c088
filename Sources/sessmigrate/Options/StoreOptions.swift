import ArgumentParser
import Foundation
import SessMigrate

/// `--env-file`: where the bot's settings come from (runbook commands and store commands).
struct EnvironmentOptions: ParsableArguments {
    @Option(name: .long, help: "Read the bot's settings (REDIS_URL, CLOUDSQL_*, …) from this .env file.")
    var envFile: String?

    /// The bot environment: process variables over the `.env` file.
    func environment() throws -> BotEnvironment {
        var dotenv: String?
        if let envFile {
            guard let text = try? String(contentsOfFile: envFile, encoding: .utf8) else {
                throw UsageFailure(message: "cannot read --env-file \(envFile)")
            }
            dotenv = text
        }
        do {
            return try BotEnvironment(process: ProcessInfo.processInfo.environment, dotenv: dotenv)
        } catch {
            throw UsageFailure(message: error.message)
        }
    }
}

/// Options every command that opens stores shares.
struct StoreOptions: ParsableArguments {
    @OptionGroup var environmentOptions: EnvironmentOptions
    @Option(
        name: .long,
        help: """
            Read the password from this file (the password alone; a trailing newline is removed) for the one \
            address that names a user without a password (or else the one Redis address without one).
            """)
    var passwordFile: String?
    @Option(
        name: .long,
        help: ArgumentHelp(
            """
            Run this command (through /bin/sh) for the password at every new connection, reconnects included, \
            e.g. 'gcloud auth print-access-token' for IAM authentication; for the address --password-file would go to.
            """, valueName: "command"))
    var passwordCommand: String?

    func environment() throws -> BotEnvironment { try environmentOptions.environment() }

    /// Parses an address; a bad one is a usage error (exit 64) with one line.
    func address(_ text: String) throws -> StoreAddress {
        try addresses([text])[0]
    }

    /// Parses the addresses of one command and gives `--password-file` or `--password-command` to
    /// the one that takes it (never both options: which address each is meant for would be a guess).
    func addresses(_ texts: [String]) throws -> [StoreAddress] {
        let environment = try environment()
        do throws(AddressError) {
            let parsed = try texts.map { text throws(AddressError) in try StoreAddress.parse(text, environment: environment, warn: Terminal.warning) }
            if let passwordCommand {
                guard passwordFile == nil else {
                    throw AddressError("give --password-file or --password-command, not both; put ?password-file= or ?password-command= on an address instead")
                }
                guard !passwordCommand.trimmingCharacters(in: .whitespaces).isEmpty else { throw AddressError("--password-command is empty") }
                return try PasswordCommand.apply(PasswordCommand(passwordCommand), to: parsed)
            }
            guard let passwordFile else { return parsed }
            return try PasswordFile.apply(try PasswordFile.read(passwordFile, warn: Terminal.warning), file: passwordFile, to: parsed)
        } catch {
            throw UsageFailure(message: error.message)
        }
    }
}

extension StoreOptions {
    /// A snapshot file given as a path or a `sqlite:///` address.
    func filePath(_ text: String) throws -> String {
        if !text.contains("://") { return text }
        do {
            guard case .sqlite(let sqlite) = try StoreAddress.parse(text, environment: BotEnvironment(variables: [:])) else {
                throw AddressError("'\(StoreAddress.redacted(text))' is not a file path or sqlite:/// address")
            }
            return sqlite.path
        } catch let error as AddressError {
            throw UsageFailure(message: error.message)
        }
    }
}

/// `--format text|json`.
enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case text, json
}
