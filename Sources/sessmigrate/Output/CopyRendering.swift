import Foundation
import SessMigrate
import SessionModel

extension Rendering {
    static func countsLine(_ c: CopyCounts, dryRun: Bool) -> String {
        "\(c.read) read, \(dryRun ? 0 : c.written) written (\(c.inserted) \(dryRun ? "to insert" : "inserted"), "
            + "\(c.updated) \(dryRun ? "to update" : "updated")), \(c.unchanged) unchanged, \(c.keptNewerTarget) kept (target newer), "
            + "\(c.skippedExisting) skipped (exists), \(c.skippedExpired) skipped (expired), \(c.deleted) \(dryRun ? "to delete" : "deleted")"
    }

    static func copyText(_ summary: CopySummary, source: String, target: String) -> String {
        let total = summary.total
        var lines = summary.droppedFields.sorted { $0.key < $1.key }.map { name, count in
            "warning:  target cannot hold \(name) exactly: affects \(count) written item(s)"
        }
        lines += summary.skipped.items.map { "skipped:  \($0)" }
        if summary.skipped.omitted > 0 { lines.append("skipped:  … and \(summary.skipped.omitted) more") }
        lines += summary.conflicts.items.prefix(100).map { "conflict: \($0); left as the target has it" }
        if summary.conflicts.count > 100 { lines.append("conflict: … and \(summary.conflicts.count - 100) more") }
        lines += summary.kept.items.prefix(20).map { "kept:     \($0) (the target's version is newer)" }
        if summary.kept.count > 20 { lines.append("kept:     … and \(summary.kept.count - 20) more") }
        lines.append((summary.dryRun ? "dry run:  " : "copied:   ") + "\(source) -> \(target)")
        if summary.dryRun || summary.apps.count > 1 {
            for (app, counts) in summary.apps.sorted(by: { $0.key < $1.key }) {
                lines.append("app \(app): \(countsLine(counts, dryRun: summary.dryRun))")
            }
        }
        lines.append("sessions: " + countsLine(total, dryRun: summary.dryRun))
        lines.append("events:   \(total.eventsRead) read, \(summary.dryRun ? 0 : total.eventsWritten) written")
        lines.append("time:     \(String(format: "%.2f", summary.seconds)) s (\(String(format: "%.0f", summary.eventsPerSecond)) events/s)")
        if summary.skippedCount > 0 { lines.append("bad:      \(summary.skippedCount) session(s) skipped (--skip-bad), listed above") }
        if summary.vanished > 0 {
            lines.append("vanished: \(summary.vanished) listed session(s) expired or were deleted before they could be read (not copied)")
        }
        if summary.restarts > 0 {
            lines.append(
                "restart:  a store restarted during the copy; it started over \(summary.restarts) time(s) and the counts are those of its last full pass")
        }
        if summary.conflicts.count > 0 {
            lines.append(
                "conflict: \(summary.conflicts.count) session(s) hold an event id with different content in source and target; listed above, not written")
        }
        if summary.dryRun { lines.append("dry run:  nothing was written") }
        return lines.joined(separator: "\n")
    }

    static func countsJSON(_ c: CopyCounts) -> JSONValue {
        func n(_ value: Int) -> JSONValue { .number(JSONNumber(value)) }
        return .object([
            "read": n(c.read), "inserted": n(c.inserted), "updated": n(c.updated), "unchanged": n(c.unchanged),
            "merged": n(c.merged), "conflicted": n(c.conflicted),
            "kept_newer_target": n(c.keptNewerTarget), "skipped_existing": n(c.skippedExisting),
            "skipped_expired": n(c.skippedExpired), "deleted": n(c.deleted), "events_read": n(c.eventsRead),
            "events_written": n(c.eventsWritten),
        ])
    }

    static func copyJSON(_ summary: CopySummary, source: String, target: String) -> String {
        let total = summary.total
        let object: JSONObject = [
            "format": .number(JSONNumber(1)), "source": .string(source), "target": .string(target), "dry_run": .bool(summary.dryRun),
            "sessions_read": .number(JSONNumber(total.read)), "sessions_written": .number(JSONNumber(summary.dryRun ? 0 : total.written)),
            "sessions_unchanged": .number(JSONNumber(total.unchanged)), "events_read": .number(JSONNumber(total.eventsRead)),
            "events_written": .number(JSONNumber(summary.dryRun ? 0 : total.eventsWritten)), "seconds": .number(JSONNumber(summary.seconds)),
            "total": countsJSON(total),
            "apps": .object(JSONObject(summary.apps.sorted { $0.key < $1.key }.map { (key: $0.key, value: countsJSON($0.value)) })),
            "kept_sessions": .array(summary.kept.items.map { .string($0.description) }), "kept_count": .number(JSONNumber(summary.kept.count)),
            "skipped": .array(summary.skipped.items.map { .object($0.json()) }), "skipped_count": .number(JSONNumber(summary.skippedCount)),
            "restarts": .number(JSONNumber(summary.restarts)), "vanished": .number(JSONNumber(summary.vanished)),
            "conflicts": .array(summary.conflicts.items.map { .string($0.description) }), "conflict_count": .number(JSONNumber(summary.conflicts.count)),
            "dropped_fields": .object(
                JSONObject(
                    summary.droppedFields.sorted { $0.key < $1.key }.map {
                        (key: $0.key, value: .number(JSONNumber($0.value)))
                    })),
        ]
        return object.serialized(.python)
    }
}
