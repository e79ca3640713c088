import ArgumentParser
import Foundation
import SessMigrate

/// Options every command that opens stores shares.
struct StoreOptions: ParsableArguments {
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

    /// Parses an address; a bad one is a usage error (exit 64) with one line.
    func address(_ text: String) throws -> StoreAddress {
        do {
            return try StoreAddress.parse(text, environment: try environment())
        } catch let error as AddressError {
            throw UsageFailure(message: error.message)
        }
    }
}

extension StoreOptions {
    /// A snapshot file given as a path or a `sqlite:///` address.
    func filePath(_ text: String) throws -> String {
        if !text.contains("://") { return text }
        guard case .sqlite(let sqlite) = try address(text) else { throw UsageFailure(message: "'\(text)' is not a file path or sqlite:/// address") }
        return sqlite.path
    }
}

/// `--format text|json`.
enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case text, json
}
