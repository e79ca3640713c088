import DriverCore
import Foundation
import SessMigrate
import SessionModel

/// Text and JSON renderings of command results. JSON documents carry `"format": 1`.
enum Rendering {
    static func time(_ epoch: Double?) -> String {
        epoch.map { PythonTime.naiveUTC(fromEpoch: $0) + " UTC" } ?? "-"
    }

    static func inspectText(_ report: InspectReport) -> String {
        let stats = report.stats
        let version = stats.layout.schemaVersion.map { " (schema version \($0))" } ?? ""
        return """
            store:         \(report.address)
            layout:        \(stats.layout)\(version)
            sessions:      \(stats.sessions)
            events:        \(stats.events)
            app states:    \(stats.appStates)
            user states:   \(stats.userStates)
            oldest update: \(time(stats.oldestUpdateTime))
            newest update: \(time(stats.newestUpdateTime))
            """
    }

    static func inspectJSON(_ report: InspectReport) -> String {
        let stats = report.stats
        let object: JSONObject = [
            "format": .number(JSONNumber(1)),
            "store": .string(report.address),
            "kind": .string(stats.layout.kind),
            "layout": .string(stats.layout.name),
            "schema_version": stats.layout.schemaVersion.map(JSONValue.string) ?? .null,
            "sessions": .number(JSONNumber(stats.sessions)),
            "events": .number(JSONNumber(stats.events)),
            "app_states": .number(JSONNumber(stats.appStates)),
            "user_states": .number(JSONNumber(stats.userStates)),
            "oldest_update_time": stats.oldestUpdateTime.map { .number(JSONNumber($0)) } ?? .null,
            "newest_update_time": stats.newestUpdateTime.map { .number(JSONNumber($0)) } ?? .null,
        ]
        return object.serialized(.python)
    }

    static func copyText(_ summary: CopySummary, source: String, target: String) -> String {
        droppedFieldsText(summary) + """
        copied:   \(source) -> \(target)
        sessions: \(summary.sessionsRead) read, \(summary.sessionsWritten) written, \(summary.sessionsUnchanged) unchanged
        events:   \(summary.eventsRead) read, \(summary.eventsWritten) written, \(summary.eventsUnchanged) unchanged
        time:     \(String(format: "%.2f", summary.seconds)) s (\(String(format: "%.0f", summary.eventsPerSecond)) events/s)
        """
    }

    /// One warning line per field the target could not hold, before the summary.
    static func droppedFieldsText(_ summary: CopySummary) -> String {
        summary.droppedFields.sorted { $0.key < $1.key }.map { name, count in
            "warning:  target cannot hold \(name); dropped from \(count) written item(s)\n"
        }.joined()
    }

    static func copyJSON(_ summary: CopySummary, source: String, target: String) -> String {
        let object: JSONObject = [
            "format": .number(JSONNumber(1)),
            "source": .string(source),
            "target": .string(target),
            "sessions_read": .number(JSONNumber(summary.sessionsRead)),
            "sessions_written": .number(JSONNumber(summary.sessionsWritten)),
            "sessions_unchanged": .number(JSONNumber(summary.sessionsUnchanged)),
            "events_read": .number(JSONNumber(summary.eventsRead)),
            "events_written": .number(JSONNumber(summary.eventsWritten)),
            "events_unchanged": .number(JSONNumber(summary.eventsUnchanged)),
            "seconds": .number(JSONNumber(summary.seconds)),
            "dropped_fields": .object(JSONObject(summary.droppedFields.sorted { $0.key < $1.key }.map {
                (key: $0.key, value: .number(JSONNumber($0.value)))
            })),
        ]
        return object.serialized(.python)
    }

    static func copyProgress(_ summary: CopySummary) -> String {
        let rate = summary.seconds > 0 ? Double(summary.sessionsRead) / summary.seconds : 0
        return "copy: \(summary.sessionsRead) sessions (\(summary.sessionsWritten) written, \(summary.sessionsUnchanged) unchanged), "
            + "\(summary.eventsRead) events, \(String(format: "%.0f", rate)) sessions/s"
    }
}
