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
///
/// Writes go straight to the file descriptors with SIGPIPE ignored, so `sessmigrate diff … | head`
/// ends quietly with status 141 (as if killed by SIGPIPE) instead of trapping on a closed pipe.
enum Terminal {
    private static let ignoreSIGPIPE: Void = { _ = signal(SIGPIPE, SIG_IGN) }()

    static func error(_ message: String) {
        write("sessmigrate: error: \(message)\n", to: 2)
    }

    /// A message as it is, on stderr.
    static func message(_ text: String) {
        write(text.hasSuffix("\n") ? text : text + "\n", to: 2)
    }

    /// A risky but usable setting (a world-readable password file); never holds a secret.
    static func warning(_ message: String) {
        write("sessmigrate: warning: \(message)\n", to: 2)
    }

    static func progress(_ line: String, transient: Bool) {
        write(transient ? "\r\u{1B}[K" + line : line + "\n", to: 2)
    }

    static var stderrIsTerminal: Bool { isatty(2) == 1 }

    static func output(_ text: String) {
        write(text.hasSuffix("\n") ? text : text + "\n", to: 1)
    }

    private static func write(_ text: String, to descriptor: Int32) {
        _ = ignoreSIGPIPE
        var bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeMutableBytes { buffer -> Int in
                guard let base = buffer.baseAddress else { return 0 }
                return Glibc.write(descriptor, base + offset, buffer.count - offset)
            }
            if written < 0 {
                if errno == EINTR { continue }
                if errno == EPIPE { exit(141) }
                return
            }
            offset += written
        }
    }
}
