import DriverCore
import Foundation
import SessionModel
import Testing

/// The real google-adk, run through Tests/Interop/v0_adk.py in the virtualenvs of scripts/setup
/// (`$SESSMIGRATE_CACHE`, default `~/.cache/sessmigrate`). Tests using it are skipped without them.
public enum RealADK {
    public static let cache =
        ProcessInfo.processInfo.environment["SESSMIGRATE_CACHE"]
        ?? (ProcessInfo.processInfo.environment["HOME"] ?? "/root") + "/.cache/sessmigrate"

    /// google-adk 1.21.0: the schema-v0 era.
    public static let adk121 = python("adk121")
    /// google-adk 2.13.0.
    public static let adk213 = python("community")

    public static func python(_ venv: String) -> String? {
        let path = "\(cache)/venv-\(venv)/bin/python"
        return FileManager.default.isExecutableFile(atPath: path) ? path : nil
    }

    public static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Tests/Interop/v0_adk.py").path

    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// Runs `v0_adk.py arguments…` and returns its standard output.
    public static func run(_ python: String, _ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [script] + arguments
        process.environment = ProcessInfo.processInfo.environment.merging(["TZ": "UTC", "PYTHONWARNINGS": "ignore"]) { $1 }
        let errorPath = FileManager.default.temporaryDirectory.appendingPathComponent("v0adk-\(UUID().uuidString).err")
        _ = FileManager.default.createFile(atPath: errorPath.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: errorPath) }
        let output = Pipe()
        process.standardOutput = output
        process.standardError = try FileHandle(forWritingTo: errorPath)
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            let stderr = (try? String(contentsOf: errorPath, encoding: .utf8)) ?? ""
            throw Failure(description: "v0_adk.py \(arguments.first ?? "") failed: \(stderr.suffix(2000))")
        }
        return String(decoding: data, as: UTF8.self)
    }

    /// What this ADK's `get_session` returns for every session at `url`.
    public static func read(_ python: String, url: String) throws -> [ADKRead] {
        let text = try run(python, ["read", "--url", url])
        guard case .array(let sessions)? = try JSONValue.parseObject(text)["sessions"] else {
            throw Failure(description: "v0_adk.py read printed no sessions")
        }
        return try ADKRead.list(.array(sessions))
    }
}

/// One session as ADK's `get_session` returned it (Tests/Interop format).
public struct ADKRead {
    public var key: SessionKey
    /// The merged state.
    public var state: JSONObject
    /// `model_dump(mode="json", exclude_none=True)` of each event.
    public var events: [JSONObject]
    public var lastUpdateTime: Double

    public static func list(_ json: String) throws -> [ADKRead] {
        try list(try JSONValue.parse(json))
    }

    public static func list(_ value: JSONValue) throws -> [ADKRead] {
        guard case .array(let items) = value else { throw RealADK.Failure(description: "not a list of sessions") }
        return try items.map { item in
            let object = try #require(item.objectValue)
            let events = try #require({ if case .array(let list)? = object["events"] { list } else { nil } }())
            return ADKRead(
                key: SessionKey(
                    appName: try #require(object["app"]?.stringValue), userId: try #require(object["user"]?.stringValue),
                    sessionId: try #require(object["id"]?.stringValue)),
                state: try #require(object["state"]?.objectValue),
                events: try events.map { try #require($0.objectValue) },
                lastUpdateTime: try #require(object["last_update_time"]?.doubleValue))
        }
    }

    /// The session to write so that ADK reads this back: state split into its scopes.
    public func session() throws -> Session {
        let scopes = StateScopes.split(state)
        return Session(
            key: key, state: scopes.session, appState: scopes.app, userState: scopes.user,
            events: try events.map { try Event(data: $0) }, lastUpdateTime: lastUpdateTime)
    }

    /// Removing `keys` from every event (fields a narrower table cannot hold).
    public func dropping(_ keys: Set<String>) -> ADKRead {
        var copy = self
        copy.events = events.map { JSONObject($0.members.filter { !keys.contains($0.key) }) }
        return copy
    }
}

/// Checks a session read by sessmigrate against ADK's read of it: same key, state, last update,
/// and events identical member for member (key order and number literals included).
public func expectSame(_ sessions: [Session], _ reads: [ADKRead], sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(sessions.map(\.key) == reads.map(\.key), sourceLocation: sourceLocation)
    for (session, read) in zip(sessions, reads) {
        #expect(session.mergedState.isEquivalent(to: read.state), "\(session.key) state", sourceLocation: sourceLocation)
        #expect(session.lastUpdateTime == read.lastUpdateTime, "\(session.key) last_update_time", sourceLocation: sourceLocation)
        #expect(session.events.count == read.events.count, "\(session.key) events", sourceLocation: sourceLocation)
        for (event, expected) in zip(session.events, read.events) where event.data != expected {
            Issue.record(
                "\(session.key) event \(event.id):\n  read     \(event.data.serialized(.python))\n  expected \(expected.serialized(.python))",
                sourceLocation: sourceLocation)
        }
    }
}

/// ADK 1.21 reads v0 events without `node_info`, keeps `long_running_tool_ids` in set order and
/// rebuilds nested action models as dicts full of nulls (docs/adk-data-model.md §18): compare it with
/// a 2.13-style read after removing exactly those differences.
public func normalizedADK121(_ event: JSONObject) -> JSONValue {
    func withoutNulls(_ value: JSONValue) -> JSONValue {
        switch value {
        case .object(let object):
            .object(JSONObject(object.members.compactMap { $0.value == .null ? nil : ($0.key, withoutNulls($0.value)) }))
        case .array(let items): .array(items.map(withoutNulls))
        default: value
        }
    }
    var event = event
    event["node_info"] = nil
    if case .array(let ids)? = event["long_running_tool_ids"] {
        event["long_running_tool_ids"] = .array(ids.sorted { ($0.stringValue ?? "").utf8.lexicographicallyPrecedes(($1.stringValue ?? "").utf8) })
    }
    return withoutNulls(.object(event))
}

/// Checks ADK 1.21's reads against the 2.13-style reads `expected` (see ``normalizedADK121(_:)``).
public func expectSameIgnoringADK121Quirks(_ reads: [ADKRead], _ expected: [ADKRead], sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(reads.map(\.key) == expected.map(\.key), sourceLocation: sourceLocation)
    for (read, want) in zip(reads, expected) {
        #expect(read.state.isEquivalent(to: want.state), "\(read.key) state", sourceLocation: sourceLocation)
        #expect(read.events.count == want.events.count, "\(read.key) events", sourceLocation: sourceLocation)
        for (got, wanted) in zip(read.events, want.events)
        where !normalizedADK121(got).isEquivalent(to: normalizedADK121(wanted)) {
            Issue.record(
                "\(read.key): ADK 1.21 read\n  \(got.serialized(.python))\nexpected\n  \(wanted.serialized(.python))",
                sourceLocation: sourceLocation)
        }
    }
}

/// Pickles that must not load: garbage, a disallowed global (`os.system`), nothing at all.
public enum BadPickles {
    public static let all: [(name: String, bytes: [UInt8])] = [
        ("random bytes", [0x13, 0x37, 0xde, 0xad, 0xbe, 0xef, 0x00, 0xff, 0x42]),
        (
            "os.system",
            Array(
                "\u{80}\u{04}\u{95}\u{15}\u{00}\u{00}\u{00}\u{00}\u{00}\u{00}\u{00}\u{8c}\u{02}os\u{94}\u{8c}\u{06}system\u{94}\u{93}\u{94}.".unicodeScalars.map
                { UInt8($0.value) })
        ),
        ("empty", []),
    ]

    public static func hex(_ bytes: [UInt8]) -> String {
        "X'" + bytes.map { String(format: "%02X", $0) }.joined() + "'"
    }
}
