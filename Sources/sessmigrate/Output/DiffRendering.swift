import Foundation
import SessMigrate
import SessionModel

/// Renders diff and verify results. `--redact` replaces every identifier (app, user, session and
/// event ids, state keys) with `#` and the first 12 hex digits of its SHA-256; values are never shown.
struct DiffRenderer {
    var redact: Bool

    func name(_ text: String) -> String {
        redact ? "#" + String(SHA256.hex(of: Array(text.utf8)).prefix(12)) : text
    }

    func session(_ key: SessionKey) -> String {
        "\(name(key.appName))/\(name(key.userId))/\(name(key.sessionId))"
    }

    func text(_ difference: SessionDifference) -> String {
        var lines = ["\(difference.kind.rawValue): \(session(difference.key))"]
        for change in difference.changes { lines.append("    " + text(change)) }
        return lines.joined(separator: "\n")
    }

    func text(_ change: SessionChange) -> String {
        switch change {
        case .stateKey(let scope, let key, let side):
            return "\(scope.rawValue) state key \(name(key)): \(side.rawValue)"
        case .event(let id, let a, let b, let side, let fields):
            let positions = [a.map { "#\($0) in A" }, b.map { "#\($0) in B" }].compactMap { $0 }.joined(separator: ", ")
            return "event \(name(id)) (\(positions)): \(side.rawValue)" + (fields.isEmpty ? "" : " [\(fields.joined(separator: ", "))]")
        case .eventOrder:
            return "events in a different order"
        case .lastUpdateTime(let a, let b):
            return "last update time: A \(Rendering.time(a)), B \(Rendering.time(b))"
        case .createTime(let a, let b):
            return "create time: A \(Rendering.time(a)), B \(Rendering.time(b))"
        }
    }

    func json(_ difference: SessionDifference) -> JSONValue {
        .object([
            "session": .object(["app": .string(name(difference.key.appName)), "user": .string(name(difference.key.userId)),
                                "id": .string(name(difference.key.sessionId))]),
            "kind": .string(difference.kind.rawValue.replacingOccurrences(of: " ", with: "_").lowercased()),
            "changes": .array(difference.changes.map(json)),
        ])
    }

    func json(_ change: SessionChange) -> JSONValue {
        func side(_ side: SessionChange.Side) -> JSONValue { .string(side.rawValue.replacingOccurrences(of: " ", with: "_").lowercased()) }
        switch change {
        case .stateKey(let scope, let key, let s):
            return .object(["type": .string("state_key"), "scope": .string(scope.rawValue), "key": .string(name(key)), "side": side(s)])
        case .event(let id, let a, let b, let s, let fields):
            return .object([
                "type": .string("event"), "id": .string(name(id)), "position_a": a.map { .number(JSONNumber($0)) } ?? .null,
                "position_b": b.map { .number(JSONNumber($0)) } ?? .null, "side": side(s), "fields": .array(fields.map(JSONValue.string)),
            ])
        case .eventOrder:
            return .object(["type": .string("event_order")])
        case .lastUpdateTime(let a, let b):
            return .object(["type": .string("last_update_time"), "a": .number(JSONNumber(a)), "b": .number(JSONNumber(b))])
        case .createTime(let a, let b):
            return .object(["type": .string("create_time"), "a": .number(JSONNumber(a)), "b": .number(JSONNumber(b))])
        }
    }

    static func summaryText(_ summary: DiffSummary) -> String {
        "A: \(summary.sessionsInA) sessions, \(summary.eventsInA) events; B: \(summary.sessionsInB) sessions, \(summary.eventsInB) events; "
            + "\(summary.identical) identical, \(summary.onlyInA) only in A, \(summary.onlyInB) only in B, \(summary.changed) changed "
            + "(\(String(format: "%.2f", summary.seconds)) s)"
    }

    static func summaryJSON(_ summary: DiffSummary) -> JSONValue {
        func n(_ value: Int) -> JSONValue { .number(JSONNumber(value)) }
        return .object([
            "identical": .bool(summary.isIdentical), "sessions_a": n(summary.sessionsInA), "sessions_b": n(summary.sessionsInB),
            "events_a": n(summary.eventsInA), "events_b": n(summary.eventsInB), "sessions_identical": n(summary.identical),
            "only_in_a": n(summary.onlyInA), "only_in_b": n(summary.onlyInB), "changed": n(summary.changed),
            "seconds": .number(JSONNumber(summary.seconds)),
            "skipped_a": .array(summary.skippedA.map { .object($0.json()) }),
            "skipped_b": .array(summary.skippedB.map { .object($0.json()) }),
        ])
    }

    /// One `skipped:` line per bad session passed over with `--skip-bad`, naming the side.
    static func skippedText(_ summary: DiffSummary) -> [String] {
        summary.skippedA.map { "skipped:  A \($0)" } + summary.skippedB.map { "skipped:  B \($0)" }
    }

    /// The verdict word: a comparison that skipped sessions is never IDENTICAL.
    static func verdict(_ summary: DiffSummary) -> String {
        if summary.isIdentical { return "IDENTICAL" }
        return summary.isIdenticalExceptSkipped ? "INCOMPLETE (\(summary.skippedA.count + summary.skippedB.count) skipped)" : "DIFFERENT"
    }
}
