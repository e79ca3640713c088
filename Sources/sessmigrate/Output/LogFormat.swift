import ArgumentParser
import Foundation
import SessionModel

/// `--log-format text|json`: how everything sessmigrate writes to stderr looks.
enum LogFormat: String, ExpressibleByArgument, CaseIterable {
    /// Lines for a person: a progress bar on a terminal, plain lines otherwise (the default).
    case text
    /// One JSON object per line, for a log platform (Cloud Logging reads `severity`, `message`, `time`).
    case json
}

/// `--log-format`, on every subcommand. The value is read before the arguments are parsed
/// (``LogSettings/configure(arguments:environment:)``), so even a usage error is logged in it.
struct LogOptions: ParsableArguments {
    @Option(
        help: """
            How stderr is written: text (progress bar on a terminal, plain lines otherwise) or json (one JSON object \
            per line: severity, time, message, command, counters; for Cloud Logging or a Kubernetes log pipeline). \
            Default: $SESSMIGRATE_LOG_FORMAT, else text. Results on stdout are the same in both.
            """)
    var logFormat: LogFormat?
}

/// Severities, by Cloud Logging's `LogSeverity` names.
enum LogSeverity: String {
    case debug = "DEBUG", info = "INFO", notice = "NOTICE", warning = "WARNING", error = "ERROR", critical = "CRITICAL"
}

/// The process-wide settings of stderr output: the format and what every JSON line says about the run.
///
/// `nonisolated(unsafe)`: sessmigrate is a single-threaded command line; these are set once in
/// `main` (and the runbook's name when the runbook is read) and only read afterwards, on that thread.
enum LogSettings {
    nonisolated(unsafe) static var format = LogFormat.text
    /// The subcommand (`copy`, `run`, …): `command` in every JSON line.
    nonisolated(unsafe) static var command = "sessmigrate"
    /// The runbook's name, once a runbook command has read it: `runbook` in every JSON line.
    nonisolated(unsafe) static var runbook: String?
    /// Seconds between plain progress lines (text off a terminal, and json).
    nonisolated(unsafe) static var progressInterval = 5.0

    static let formatVariable = "SESSMIGRATE_LOG_FORMAT"
    /// A test knob: seconds between progress lines (`0`: every batch), instead of 5.
    static let intervalVariable = "SESSMIGRATE_PROGRESS_INTERVAL"

    /// Reads `--log-format` from the raw arguments (`--log-format json`, `--log-format=json`, before
    /// any `--`), else `SESSMIGRATE_LOG_FORMAT`, and the subcommand's name. An unknown `--log-format`
    /// value is left to the argument parser (which reports it); a bad environment value is a usage error.
    ///
    /// - Returns: the usage error's message, or `nil`.
    static func configure(arguments: [String], environment: [String: String]) -> String? {
        let names = SessMigrateCommand.configuration.subcommands.map { $0._commandName }
        if let first = arguments.first, names.contains(first) { command = first }
        var given: String?
        for (index, argument) in arguments.enumerated() {
            if argument == "--" { break }
            if argument == "--log-format", index + 1 < arguments.count { given = arguments[index + 1] }
            if argument.hasPrefix("--log-format=") { given = String(argument.dropFirst("--log-format=".count)) }
        }
        if let given {
            format = LogFormat(rawValue: given) ?? .text
        } else if let text = environment[formatVariable], !text.isEmpty {
            guard let value = LogFormat(rawValue: text) else { return "\(formatVariable) must be text or json, not '\(Printable.name(text))'" }
            format = value
        }
        if let text = environment[intervalVariable], !text.isEmpty {
            guard let seconds = Double(text), seconds >= 0, seconds.isFinite else {
                return "\(intervalVariable) must be a number of seconds, 0 or more, not '\(Printable.name(text))'"
            }
            progressInterval = seconds
        }
        return nil
    }

    /// One JSON log line (no newline): `severity`, `time` (RFC 3339, UTC, microseconds), `message`,
    /// `command`, then `runbook` and `step` when known, `event`, and `fields`. `message` is escaped
    /// like text output (``Printable``) and JSON-encoded, so a line never holds a raw control character.
    static func jsonLine(
        _ severity: LogSeverity, _ message: String, event: String, step: String?, fields: JSONObject = [:],
        now: Double = Date().timeIntervalSince1970
    ) -> String {
        var object: JSONObject = [
            "severity": .string(severity.rawValue), "time": .string(rfc3339(now)), "message": .string(message),
            "command": .string(command),
        ]
        if let runbook { object["runbook"] = .string(runbook) }
        if let step { object["step"] = .string(step) }
        object["event"] = .string(event)
        for (key, value) in fields { object[key] = value }
        return object.serialized(.compact)
    }

    /// `2026-01-02T03:04:05.123456Z`.
    static func rfc3339(_ epoch: Double) -> String {
        PythonTime.naiveUTC(fromEpoch: epoch).replacingOccurrences(of: " ", with: "T") + "Z"
    }
}
