import ArgumentParser
import DriverCore
import Foundation
import Runbook
import SessMigrate
import SessionModel

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
    } catch let error as ExitCode {
        throw error
    } catch {
        ProgressReporter.current?.finish()  // the bar cleared and (JSON) the last counts written, then the error
        try reportFailure(error)
    }
}

/// The error's one line and exit status (64 usage, 2 run time).
private func reportFailure(_ error: any Error) throws {
    do {
        throw error
    } catch let error as UsageFailure {
        Terminal.error(error.message)
        throw ExitCode(64)
    } catch let error as AddressError {
        Terminal.error(error.message)
        throw ExitCode(64)
    } catch let error as RequestError {
        // An option refused once a store was open (`--shard-by slots` with a source that is not Redis).
        Terminal.error(error.message(spelling: .commandLine))
        throw ExitCode(64)
    } catch {
        // A runbook's failing step is named in the JSON line's `step` too.
        Terminal.error(String(describing: error), step: (error as? RunbookStepError)?.step)
        throw ExitCode(2)
    }
}

/// Writing to the terminal: results to stdout, progress and errors to stderr.
///
/// The last line of defence against names from stored data (issue 13 item 7): an error is one line
/// with every control character escaped and at most 4,000 characters (``Printable``); other output
/// keeps its newlines and tabs and has every other control character escaped. Libraries bound and
/// escape each name already; this catches whatever they missed.
///
/// With `--log-format json` (``LogSettings``) every stderr line is one JSON object whose `message` is
/// the line the text format prints (the bar's control sequences aside); stdout is the same in both.
///
/// Writes go straight to the file descriptors with SIGPIPE ignored, so `sessmigrate diff … | head`
/// ends quietly with status 141 (as if killed by SIGPIPE) instead of trapping on a closed pipe.
enum Terminal {
    private static let ignoreSIGPIPE: Void = { _ = signal(SIGPIPE, SIG_IGN) }()

    static let errorLimit = 4000

    static func error(_ message: String, step: String? = nil) {
        log(.error, "sessmigrate: error: \(Printable.name(message, limit: errorLimit))", event: "error", step: step)
    }

    /// A message on stderr (the argument parser's usage errors), control characters escaped.
    static func message(_ text: String) {
        let text = Printable.lines(text)
        if LogSettings.format == .json {
            log(.error, text.hasSuffix("\n") ? String(text.dropLast()) : text, event: "error")
        } else {
            write(text.hasSuffix("\n") ? text : text + "\n", to: 2)
        }
    }

    /// A risky but usable setting (a world-readable password file), or a fault about to be retried;
    /// never holds a secret.
    static func warning(_ message: String) {
        warning(message, event: "warning", step: nil, fields: [:])
    }

    /// A warning with its JSON fields (a retry's counters).
    static func warning(_ message: String, event: String, step: String?, fields: JSONObject) {
        log(.warning, "sessmigrate: warning: \(Printable.name(message, limit: errorLimit))", event: event, step: step, fields: fields)
    }

    /// A progress line or a note (text format); `transient` rewrites the terminal's last line.
    static func progress(_ line: String, transient: Bool) {
        let line = Printable.name(line, limit: errorLimit)
        write(transient ? "\r\u{1B}[K" + line : line + "\n", to: 2)
    }

    /// One line on stderr: as it is (text), or as a JSON object with these fields (json).
    static func log(_ severity: LogSeverity, _ line: String, event: String, step: String? = nil, fields: JSONObject = [:]) {
        if LogSettings.format == .json {
            write(LogSettings.jsonLine(severity, line, event: event, step: step, fields: fields) + "\n", to: 2)
        } else {
            write(line + "\n", to: 2)
        }
    }

    static var stderrIsTerminal: Bool { isatty(2) == 1 }

    static func output(_ text: String) {
        let text = Printable.lines(text)
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
