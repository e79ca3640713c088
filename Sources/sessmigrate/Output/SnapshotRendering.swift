import Foundation
import SessMigrate
import SessionModel
import Snapshot

extension Rendering {
    static func snapshotText(_ manifest: SnapshotManifest, path: String, summary: CopySummary) -> String {
        """
        snapshot: \(path) (format \(manifest.formatVersion))
        source:   \(manifest.source) (\(manifest.sourceLayout))
        sessions: \(manifest.sessions), events: \(manifest.events), app states: \(manifest.appStates), user states: \(manifest.userStates)
        time:     \(String(format: "%.2f", summary.seconds)) s; expiry kept: \(manifest.sourceKeepsExpiry ? "yes" : "no (source has none)")
        """
    }

    static func manifestJSON(_ manifest: SnapshotManifest) -> JSONValue {
        func n(_ value: Int) -> JSONValue { .number(JSONNumber(value)) }
        return .object([
            "format_version": n(manifest.formatVersion), "tool_version": .string(manifest.toolVersion), "source": .string(manifest.source),
            "source_layout": .string(manifest.sourceLayout), "source_keeps_expiry": .bool(manifest.sourceKeepsExpiry),
            "created_at": .number(JSONNumber(manifest.createdAt)), "seconds": .number(JSONNumber(manifest.seconds)),
            "sessions": n(manifest.sessions), "events": n(manifest.events), "app_states": n(manifest.appStates), "user_states": n(manifest.userStates),
        ])
    }

    static func snapshotJSON(_ manifest: SnapshotManifest, path: String) -> String {
        JSONValue.object(["format": .number(JSONNumber(1)), "snapshot": .string(path), "manifest": manifestJSON(manifest)]).serialized(.python)
    }

    static func restoreText(_ outcome: RestoreRun.Outcome, path: String, target: String) -> String {
        var text = "checked:  \(path): integrity ok, format \(outcome.manifest.formatVersion), \(outcome.manifest.sessions) session digests match\n"
        text += copyText(outcome.copy, source: path, target: target)
        if !outcome.copy.dryRun {
            text +=
                outcome.isVerified
                ? "\nverify:   OK: the target holds every restored session (kept or skipped ones as reported)"
                : "\nverify:   DIFFERENT: \(outcome.verify.total.written) session(s) still differ from the snapshot"
        }
        return text
    }

    static func restoreJSON(_ outcome: RestoreRun.Outcome, path: String, target: String) -> String {
        JSONValue.object([
            "format": .number(JSONNumber(1)), "snapshot": .string(path), "manifest": manifestJSON(outcome.manifest),
            "copy": (try? JSONValue.parse(copyJSON(outcome.copy, source: path, target: target))) ?? .null,
            "verified": .bool(outcome.isVerified), "still_different": .number(JSONNumber(outcome.verify.total.written)),
        ]).serialized(.python)
    }
}
