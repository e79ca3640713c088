import Foundation
import Runbook
import SessMigrate
import SessionModel

/// Draws ``ProgressEvent``s on stderr: on a terminal, a bar rewritten in place (percentage and ETA
/// when the total is known); otherwise (logs, CI) a plain line every few seconds. Notes and retries
/// are printed as lines at once (a milestone repeated word for word, as a waiting gate's every second,
/// at most once a minute). Results go to stdout, never here.
///
/// With `--log-format json` each line is a JSON object (``LogSettings/jsonLine(_:_:event:step:fields:now:)``):
/// progress throttled like plain lines, with its counters as numbers, and the last counts of an
/// operation always written when it ends.
final class ProgressReporter {
    private let json = LogSettings.format == .json
    private let interactive = LogSettings.format == .text && Terminal.stderrIsTerminal
    private var lastPrinted = Date()  // The first line comes after one interval: quick runs print none.
    private var barShown = false
    private var operation = ""
    /// A prefix for every line (a runbook step's id).
    private var prefix = ""
    private var step: String?
    /// JSON: the latest counts not written yet, with the operation and step they belong to.
    private var unwritten: (counts: ProgressCounts, operation: String, step: String?)?
    /// The last milestone note written and when (see `.note`).
    private var lastNote: (text: String, at: Date)?
    static let repeatedNoteInterval: TimeInterval = 60
    /// The reporter of the running command (kept after its command body threw), so that the error
    /// handler ends its output first (``finish()``). `nonisolated(unsafe)`: the command line is single-threaded.
    nonisolated(unsafe) private(set) static var current: ProgressReporter?

    init() {
        Self.current = self
    }

    /// Handles one event of the operation.
    func handle(_ event: ProgressEvent) {
        switch event {
        case .began(let name, _):
            writeUnwritten()
            operation = name
        case .advanced(let counts):
            unwritten = (counts, operation, step)
            let interval: TimeInterval = interactive ? 0.2 : LogSettings.progressInterval
            guard Date().timeIntervalSince(lastPrinted) >= interval else { return }
            lastPrinted = Date()
            if json {
                writeUnwritten()
            } else {
                Terminal.progress(prefix + Self.line(operation, counts), transient: interactive)
                barShown = interactive
            }
        case .retrying(let notice):
            clearBar()
            let fields: JSONObject = [
                "retry": .number(JSONNumber(notice.retry)), "of": .number(JSONNumber(notice.of)), "delay": .number(JSONNumber(notice.delay)),
            ]
            Terminal.warning(prefix + notice.description, event: "retry", step: step, fields: fields)
        case .note(let text):
            // A milestone said again word for word (a waiting gate's, every second): at most once a minute.
            if Self.severity(ofNote: text) == .notice {
                if let last = lastNote, last.text == prefix + text, Date().timeIntervalSince(last.at) < Self.repeatedNoteInterval { return }
                lastNote = (prefix + text, Date())
            }
            clearBar()
            if json {
                Terminal.log(Self.severity(ofNote: text), Printable.name(prefix + text, limit: Terminal.errorLimit), event: "note", step: step)
            } else {
                Terminal.progress(prefix + text, transient: false)
            }
        case .kept, .skipped, .conflicted:
            break  // listed in the summary
        case .ended:
            clearBar()
            writeUnwritten()
        }
    }

    /// Handles a runbook runner's event (lines carry the step's id).
    func handle(_ event: RunnerEvent) {
        prefix = event.step.map { "[\($0)] " } ?? ""
        step = event.step
        handle(event.event)
    }

    /// Clears the bar (JSON: writes the last counts); call when the operation's output begins. The
    /// command's error handler calls it too, so a failed operation's last counts are logged before the error.
    func finish() {
        clearBar()
        writeUnwritten()
    }

    private func clearBar() {
        if barShown { Terminal.progress("", transient: true) }
        barShown = false
    }

    /// JSON: the latest counts as a progress line, unless written already.
    private func writeUnwritten() {
        guard json, let (counts, operation, step) = unwritten else { return }
        unwritten = nil
        var fields: JSONObject = ["operation": .string(operation), "sessions": .number(JSONNumber(counts.sessions))]
        if let total = counts.total { fields["total"] = .number(JSONNumber(total)) }
        fields["events"] = .number(JSONNumber(counts.events))
        fields["written"] = .number(JSONNumber(counts.written))
        fields["seconds"] = .number(JSONNumber((counts.seconds * 1000).rounded() / 1000))
        if let left = counts.secondsLeft { fields["eta_seconds"] = .number(JSONNumber(Int(left.rounded()))) }
        let line = (step.map { "[\($0)] " } ?? "") + Self.line(operation, counts)
        Terminal.log(.info, Printable.name(line, limit: Terminal.errorLimit), event: "progress", step: step, fields: fields)
    }

    /// A note's severity: WARNING when it says `warning:` (an address warning of a step, a failed
    /// hook), NOTICE for the run's milestones (a step done, a gate waiting, a lock taken over), else INFO.
    static func severity(ofNote text: String) -> LogSeverity {
        if text.hasPrefix("warning:") || text.contains(": warning:") { return .warning }
        if text.hasPrefix("step '"), text.hasSuffix(") done") { return .notice }
        if text.hasPrefix("gate '"), text.contains("': waiting") { return .notice }
        if text.hasPrefix("took over the lock") { return .notice }
        return .info
    }

    /// `copy [#########...........]  45% 4500/10000 sessions, 90000 events, 1200 sessions/s, ETA 0:05`
    static func line(_ operation: String, _ counts: ProgressCounts) -> String {
        let rate = counts.seconds > 0 ? Double(counts.sessions) / counts.seconds : 0
        var text = "\(operation): "
        if let fraction = counts.fraction, let total = counts.total {
            let filled = Int(fraction * 20)
            text +=
                "[" + String(repeating: "#", count: filled) + String(repeating: ".", count: 20 - filled) + "] "
                + String(format: "%3.0f%% ", fraction * 100) + "\(counts.sessions)/\(total) sessions"
        } else {
            text += "\(counts.sessions) sessions"
        }
        if counts.written > 0 { text += " (\(counts.written) written)" }
        text += ", \(counts.events) events, " + String(format: "%.0f", rate) + " sessions/s"
        if let left = counts.secondsLeft { text += String(format: ", ETA %d:%02d", Int(left) / 60, Int(left) % 60) }
        return text
    }
}
