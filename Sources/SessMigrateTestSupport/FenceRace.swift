import DriverCore
import Foundation
import SessionModel
import Testing

/// The fenced-write race against the real ADK (docs/DESIGN.md "Fencing"): `Tests/Fencing/adk_bot.py`
/// appends events in a loop through a real ADK session service, recording every append ADK
/// returned from in a ledger, while this process reads the same store and writes fenced: each
/// round fetches the versions of the contended sessions, adds one event (and app and user state
/// keys) to each, and writes them with ``SessionStore/writeSessions(fenced:)``; every few rounds it
/// also creates a session with `expected == nil` and tries one against an existing session.
///
/// Afterwards every event of the ledger and every event of a write that was not refused must be
/// in the store, and the bot must have met nothing but ADK's own stale-session error (no deadlock,
/// no lock wait timeout). With ``checksReadConsistency`` each round also scans the store in pages
/// of two and fetches the sessions this process never writes: none may have an `update_time`
/// older than its newest event (what reading a row and its events at different moments shows).
public struct FenceRace {
    /// The ADK service the bot uses (and the venv it runs in).
    public enum Kind: String, Sendable {
        case mysql
        case sqliteDatabase = "sqlite-dss"
        case sqliteSessionService = "sqlite-sss"
        case redisCommunity = "redis-community"
        case redisADKRedis = "redis-adk-redis"

        var venv: String { self == .redisADKRedis ? "adkredis" : "community" }
    }

    /// What happened, for the test's expectations and for docs/RELIABILITY.md.
    public struct Figures: Sendable, CustomStringConvertible {
        public var botEvents = 0
        public var botStale = 0
        public var botCreated = 0
        public var rounds = 0
        public var written = 0
        public var refused = 0
        public var created = 0
        public var pagesChecked = 0
        public var description: String {
            "bot: \(botEvents) events appended, \(botStale) stale-session retries, \(botCreated) sessions created; "
                + "sessmigrate: \(rounds) rounds, \(written) fenced writes made, \(refused) refused, \(created) sessions created, "
                + "\(pagesChecked) pages checked"
        }
    }

    public var kind: Kind
    /// The address the bot's ADK service takes.
    public var adkURL: String
    public var app = "race"
    public var user = "u1"
    /// Sessions the bot appends to and this process writes.
    public var contended = ["c1", "c2", "c3", "c4"]
    /// Sessions the bot appends to and this process only reads.
    public var readOnly = ["r1", "r2", "r3", "r4"]
    public var seconds = 8.0
    public var checksReadConsistency = true
    /// False for google-adk-community, whose `append_event` overwrites the blob blindly: what this
    /// process wrote may be overwritten by the bot (never the other way round), so only the bot's
    /// events are checked.
    public var keepsFencedEvents = true

    public init(kind: Kind, adkURL: String) {
        self.kind = kind
        self.adkURL = adkURL
    }

    /// The bot's Python, when scripts/setup made its venv.
    public static func python(for kind: Kind) -> String? { RealADK.python(kind.venv) }

    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Tests/Fencing/adk_bot.py").path

    /// Starts the bot, waits until it created its sessions, opens the store with `open`, races,
    /// checks, closes the store. Failures are recorded as issues; the figures are returned.
    public func run(open: () throws -> any SessionStore) throws -> Figures {
        let python = try #require(Self.python(for: kind), "the venv-\(kind.venv) of scripts/setup is missing")
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("fence-race-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let ledger = directory.appendingPathComponent("ledger.jsonl").path
        let bot = try startBot(python: python, ledger: ledger, errors: directory.appendingPathComponent("bot.err").path)
        defer { if bot.isRunning { bot.terminate() } }
        try waitUntilReady(bot, ledger: ledger, errors: directory.appendingPathComponent("bot.err").path)
        let store = try open()
        defer { try? store.close() }
        var race = RaceState(race: self)
        while bot.isRunning {
            try race.round(store)
        }
        bot.waitUntilExit()
        #expect(bot.terminationStatus == 0, "adk_bot.py exited with \(bot.terminationStatus): \(tail(of: directory.appendingPathComponent("bot.err").path))")
        return try race.check(store, ledger: try BotLedger(path: ledger))
    }

    private func startBot(python: String, ledger: String, errors: String) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [
            Self.script, "--kind", kind.rawValue, "--url", adkURL, "--app", app, "--user", user,
            "--sessions", (contended + readOnly).joined(separator: ","), "--seconds", String(seconds), "--ledger", ledger,
            "--new-every", "25",
        ]
        process.environment = ProcessInfo.processInfo.environment.merging(["TZ": "UTC", "PYTHONWARNINGS": "ignore"]) { $1 }
        _ = FileManager.default.createFile(atPath: errors, contents: nil)
        _ = FileManager.default.createFile(atPath: ledger, contents: nil)
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: errors))
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        return process
    }

    private func waitUntilReady(_ bot: Process, ledger: String, errors: String) throws {
        let deadline = Date().addingTimeInterval(180)
        while Date() < deadline {
            if (try? BotLedger(path: ledger))?.isReady == true { return }
            guard bot.isRunning else { throw RealADK.Failure(description: "adk_bot.py stopped before it was ready: \(tail(of: errors))") }
            Thread.sleep(forTimeInterval: 0.1)
        }
        throw RealADK.Failure(description: "adk_bot.py was not ready after 180 s")
    }

    private func tail(of path: String) -> String {
        String(((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").suffix(2000))
    }
}

/// The lines of the bot's ledger.
struct BotLedger {
    var isReady = false
    var isDone = false
    /// Event ids by session id, for every append ADK returned from.
    var events: [String: [String]] = [:]
    var created: [String] = []
    var stale = 0
    var errors: [String] = []

    init(path: String) throws {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        for line in text.split(separator: "\n") {
            // The last line may be half-written while the bot runs.
            guard let object = try? JSONValue.parseObject(String(line)), let kind = object["kind"]?.stringValue else { continue }
            let session = object["session"]?.stringValue ?? ""
            switch kind {
            case "ready": isReady = true
            case "done": isDone = true
            case "create": created.append(session)
            case "event": events[session, default: []].append(object["event"]?.stringValue ?? "")
            case "stale": stale += 1
            case "error":
                errors.append("\(session): \(object["type"]?.stringValue ?? "?"): \(object["message"]?.stringValue ?? "")")
            default: break
            }
        }
    }
}
