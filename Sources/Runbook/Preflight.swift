import DriverCore
import Foundation
import SessMigrate
import SessionModel

/// `preflight`: every store answers and has a layout this tool knows; counts; free space for a
/// snapshot; and, for a rollback, what a plain flag flip would lose.
///
/// Parameters: `stores` (list of addresses), `at_risk_from` / `at_risk_to` (sessions and events
/// that exist only in the first store or are newer there: a dry-run copy with `newer`),
/// `free_space_for` (a file path) with `space_for_store` (the store whose snapshot it will hold).
enum Preflight {
    static func run(_ context: StepContext) throws -> JSONObject {
        var detail = JSONObject()
        for (index, text) in try context.list("stores").enumerated() {
            let address = try context.address(text: text)
            let store = try context.opener.open(address, forWriting: false)
            defer { try? store.close() }
            let stats = try store.fetchStats()
            detail["store_\(index)"] = .object([
                "address": .string(address.description), "layout": .string(stats.layout.description),
                "sessions": .number(JSONNumber(stats.sessions)), "events": .number(JSONNumber(stats.events)),
            ])
            context.progress("preflight: \(address): \(stats.layout), \(stats.sessions) sessions, \(stats.events) events")
        }
        if let from = try context.value("at_risk_from"), let to = try context.value("at_risk_to") {
            var options = CopyOptions()
            options.dryRun = true
            options.ttlOrigin = .now
            let plan = try CopyJob(source: try context.address(text: from), target: try context.address(text: to), options: options).run()
            let total = plan.total
            detail["only_in_source_sessions"] = .number(JSONNumber(total.inserted))
            detail["newer_in_source_sessions"] = .number(JSONNumber(total.updated))
            detail["events_in_those_sessions"] = .number(JSONNumber(total.eventsWritten))
            context.progress("preflight: a plain flip would lose \(total.inserted) sessions that exist only in the source and "
                + "\(total.updated) that are newer there (\(total.eventsWritten) events in them)")
        }
        if let path = try context.value("free_space_for") {
            try checkFreeSpace(context, path: path, detail: &detail)
        }
        return detail
    }

    static func checkFreeSpace(_ context: StepContext, path: String, detail: inout JSONObject) throws {
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        var info = statvfs()
        guard statvfs(directory.isEmpty ? "." : directory, &info) == 0 else {
            throw StepFailure("preflight: cannot check free space in \(directory) (errno \(errno)); does the directory exist?")
        }
        let free = Double(info.f_bavail) * Double(info.f_frsize)
        var needed = 0.0
        if let text = try context.value("space_for_store") {
            let store = try context.opener.open(try context.address(text: text), forWriting: false)
            defer { try? store.close() }
            // About 700 bytes an event in a snapshot, twice over for the temporary file and slack.
            needed = Double(try store.fetchStats().events) * 700 * 2
        }
        detail["free_bytes"] = .number(JSONNumber(Int(free)))
        detail["needed_bytes"] = .number(JSONNumber(Int(needed)))
        guard free >= needed else {
            throw StepFailure("preflight: \(directory) has \(Int(free / 1e6)) MB free; the snapshot needs about \(Int(needed / 1e6)) MB")
        }
    }
}
