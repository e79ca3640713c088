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
        let connection = report.connection.map { "\nconnection:    \($0)" } ?? ""
        return """
            store:         \(report.address)\(connection)
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
            "connection": report.connection.map(JSONValue.string) ?? .null,
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
}
