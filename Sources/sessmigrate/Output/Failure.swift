import ArgumentParser
import DriverCore
import Foundation
import SessMigrate

/// A usage problem found after parsing (bad address, unreadable env file): exit 64.
struct UsageFailure: Error {
    var message: String
}

/// Runs a command body, turning library errors into one line on stderr and an exit status:
/// 64 for usage errors, 2 for everything else at run time. Never prints a password: every
/// library error's description is built from redacted addresses.
func runReportingErrors(_ body: () throws -> Void) throws {
    do {
        try body()
    } catch let error as UsageFailure {
        Terminal.error(error.message)
        throw ExitCode(64)
    } catch let error as AddressError {
        Terminal.error(error.message)
        throw ExitCode(64)
    } catch let error as ExitCode {
        throw error
    } catch {
        Terminal.error(String(describing: error))
        throw ExitCode(2)
    }
}

/// Writing to the terminal: results to stdout, progress and errors to stderr.
enum Terminal {
    static func error(_ message: String) {
        FileHandle.standardError.write(Data("sessmigrate: error: \(message)\n".utf8))
    }

    static func progress(_ line: String, transient: Bool) {
        FileHandle.standardError.write(Data((transient ? "\r\u{1B}[K" + line : line + "\n").utf8))
    }

    static var stderrIsTerminal: Bool { isatty(2) == 1 }

    static func output(_ text: String) {
        FileHandle.standardOutput.write(Data((text.hasSuffix("\n") ? text : text + "\n").utf8))
    }
}
