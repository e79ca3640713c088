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

    /// A name in text output: redacted, or escaped and bounded (``Printable``). JSON keeps names whole.
    func shown(_ text: String) -> String {
        redact ? name(text) : Printable.name(text)
    }

    func session(_ key: SessionKey) -> String {
        "\(shown(key.appName))/\(shown(key.userId))/\(shown(key.sessionId))"
    }

    func text(_ difference: SessionDifference) -> String {
        var lines = ["\(difference.kind.rawValue): \(session(difference.key))"]
        for change in difference.changes { lines.append("    " + text(change)) }
        return lines.joined(separator: "\n")
    }

    func text(_ change: SessionChange) -> String {
        switch change {
        case .stateKey(let scope, let key, let side):
            return "\(scope.rawValue) state key \(shown(key)): \(side.rawValue)"
        case .event(let id, let a, let b, let side, let fields):
            let positions = [a.map { "#\($0) in A" }, b.map { "#\($0) in B" }].compactMap { $0 }.joined(separator: ", ")
            return "event \(shown(id)) (\(positions)): \(side.rawValue)" + (fields.isEmpty ? "" : " [\(fields.joined(separator: ", "))]")
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
            "session": .object([
                "app": .string(name(difference.key.appName)), "user": .string(name(difference.key.userId)),
                "id": .string(name(difference.key.sessionId)),
            ]),
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
            + "(\(String(format: "%.2f", summary.seconds)) s\(summary.passes > 1 ? ", \(summary.passes) passes" : ""))"
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

extension DiffRenderer {
    /// `CONTAINED  1200 sessions of A in B (3 pending converge, the oldest changed 12 s ago; 40 expired; 7 only in B)`.
    static func containmentText(_ summary: ContainmentSummary, now: Double) -> String {
        var parts = ["\(summary.contained) of \(summary.sessionsInA) sessions of A contained in B"]
        if summary.pending.count > 0 {
            var pending = "\(summary.pending.count) pending converge"
            if let oldest = summary.oldestPendingUpdate { pending += String(format: " (the oldest changed %.0f s ago)", max(0, now - oldest)) }
            parts.append(pending)
        }
        if summary.expired > 0 { parts.append("\(summary.expired) not copied by the expiry policy") }
        if summary.onlyInB > 0 { parts.append("\(summary.onlyInB) only in B") }
        if summary.failures.count > 0 { parts.append("\(summary.failures.count) NOT in B") }
        let skipped = summary.skippedA.count + summary.skippedB.count
        if skipped > 0 { parts.append("\(skipped) skipped") }
        let verdict = summary.failures.count > 0 ? "NOT CONTAINED" : skipped > 0 ? "INCOMPLETE" : "CONTAINED"
        return verdict + "  " + parts.joined(separator: ", ") + String(format: " (%.2f s)", summary.seconds)
    }

    static func containmentJSON(_ summary: ContainmentSummary) -> JSONObject {
        func n(_ value: Int) -> JSONValue { .number(JSONNumber(value)) }
        return [
            "format": n(1), "mode": .string("contains"), "contained": .bool(summary.isContained),
            "sessions_in_a": n(summary.sessionsInA), "events_in_a": n(summary.eventsInA), "sessions_contained": n(summary.contained),
            "pending_converge": n(summary.pending.count), "pending": .array(summary.pending.items.map { .string($0.description) }),
            "oldest_pending_update": summary.oldestPendingUpdate.map { .number(JSONNumber($0)) } ?? .null,
            "expired": n(summary.expired), "only_in_b": n(summary.onlyInB),
            "failures": .array(summary.failures.items.map { .string($0.description) }), "failure_count": n(summary.failures.count),
            "skipped_a": .array(summary.skippedA.map { .object($0.json()) }), "skipped_b": .array(summary.skippedB.map { .object($0.json()) }),
            "seconds": .number(JSONNumber(summary.seconds)),
        ]
    }
}
