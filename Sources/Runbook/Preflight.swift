import DriverCore
import Foundation
import SessMigrate
import SessionModel
import Snapshot

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
            if let path = address.filePath, !FileManager.default.fileExists(atPath: path) {
                // A SQLite target that does not exist yet is created by the step that writes it, as `copy` does.
                detail["store_\(index)"] = .object(["address": .string(address.description), "layout": .string("new file"), "sessions": .number(JSONNumber(0))])
                context.note("preflight: \(address): does not exist yet; the step that writes it creates it")
                continue
            }
            let store = try context.opener.open(address, forWriting: false)
            defer { try? store.close() }
            let stats = try store.fetchStats()
            var entry: JSONObject = [
                "address": .string(address.description), "layout": .string(stats.layout.description),
                "sessions": .number(JSONNumber(stats.sessions)), "events": .number(JSONNumber(stats.events)),
            ]
            var line = "preflight: \(address): \(stats.layout), \(stats.sessions) sessions, \(stats.events) events"
            if let snapshot = store as? SnapshotStore {
                // What a restore brings back is the state as of this time: say how old it is.
                let age = max(0, context.now() - snapshot.manifest.createdAt)
                entry["snapshot_taken_at"] = .string(PythonTime.naiveUTC(fromEpoch: snapshot.manifest.createdAt))
                entry["snapshot_age_seconds"] = .number(JSONNumber(Int(age)))
                entry["snapshot_source"] = .string(snapshot.manifest.source)
                line += String(
                    format: "; a snapshot of %@ taken %@ UTC, %.0f minutes ago", snapshot.manifest.source,
                    String(PythonTime.naiveUTC(fromEpoch: snapshot.manifest.createdAt).prefix(19)), age / 60)
            }
            detail["store_\(index)"] = .object(entry)
            context.note(line)
        }
        if let from = try context.value("at_risk_from"), let to = try context.value("at_risk_to") {
            var request = CopyRequest()
            request.dryRun = true
            request.retry = .none
            request.ttl.origin = .now
            var run = CopyRun(source: try context.address(text: from), target: .store(try context.address(text: to)), request: request)
            run.operation = "preflight at-risk check"
            run.opener = context.opener
            run.clock = context.clock
            let total = try run.attempt(resume: nil, checkpoint: { _ in }, events: context.events).summary.total
            detail["only_in_source_sessions"] = .number(JSONNumber(total.inserted))
            detail["newer_in_source_sessions"] = .number(JSONNumber(total.updated))
            detail["events_in_those_sessions"] = .number(JSONNumber(total.eventsWritten))
            context.note(
                "preflight: a plain flip would lose \(total.inserted) sessions that exist only in the source and "
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
