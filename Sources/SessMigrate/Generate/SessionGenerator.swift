import SessionModel

/// SplitMix64: a small, fast, seedable generator, so generated data is the same on every machine.
public struct SeededRandom: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Realistic synthetic ADK sessions for demos and benchmarks: user and model turns of varied length,
/// tool calls with their responses, inline binary parts, and state deltas in all three scopes whose
/// fold is the stored state (so `verify --replay` holds). Deterministic for a seed.
///
/// Every value is what google-adk 2.13 itself writes (docs/adk-data-model.md §7.1): events as
/// `model_dump(mode="json", exclude_none=True)` in pydantic's field order with `node_info`, bytes as
/// the URL-safe base64 of real bytes, ids in `uuid4` form. Tests/Interop/generate_replay.py loads
/// thousands of generated sessions through the real ADK and compares them with what ADK writes.
public struct SessionGenerator {
    public var apps: Int
    public var usersPerApp: Int
    public var eventsPerSession: Int
    /// Epoch seconds of the first event of the first session.
    public var startTime: Double
    private var random: SeededRandom

    public init(seed: UInt64, apps: Int = 3, usersPerApp: Int = 50, eventsPerSession: Int, startTime: Double = 1_760_000_000) {
        self.apps = max(1, apps)
        self.usersPerApp = max(1, usersPerApp)
        self.eventsPerSession = max(0, eventsPerSession)
        self.startTime = startTime
        random = SeededRandom(seed: seed)
    }

    static let words = [
        "order", "refund", "delivery", "invoice", "password", "account", "flight", "hotel", "Paris", "Zoë", "naïve", "東京",
        "🦆", "price", "tomorrow", "status", "reset", "thanks", "please", "help", "weather", "booking", "café", "größe",
    ]

    mutating func text(_ count: Int) -> String {
        (0..<count).map { _ in Self.words[Int(random.next() % UInt64(Self.words.count))] }.joined(separator: " ")
    }

    /// `count` bytes of a PNG file (its signature, then random bytes) as pydantic's json mode writes
    /// `bytes`: URL-safe base64 with padding. Only the encoding of real bytes is valid base64 to
    /// pydantic (random base64 text can have non-zero padding bits, which ADK refuses to load).
    mutating func pngBase64(_ count: Int) -> String {
        let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        let bytes = (0..<max(0, count - signature.count)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
        return Base64.urlSafe(signature + bytes)
    }

    /// A random UUID in `str(uuid.uuid4())` form, as ADK makes session and event ids: version 4,
    /// RFC 4122 variant.
    mutating func identifier() -> String {
        let hex = Array("0123456789abcdef".utf8)
        var raw = (0..<32).map { _ in hex[Int(random.next() % 16)] }
        raw[12] = UInt8(ascii: "4")
        raw[16] = hex[8 + Int(random.next() % 4)]
        let parts = [raw[0..<8], raw[8..<12], raw[12..<16], raw[16..<20], raw[20..<32]].map { String(decoding: $0, as: UTF8.self) }
        return parts.joined(separator: "-")
    }

    /// The session with this index (0-based).
    public mutating func session(_ index: Int) -> Session {
        let app = "app_\(index % apps)"
        let user = "user_\((index / apps) % usersPerApp)"
        let key = SessionKey(appName: app, userId: user, sessionId: identifier())
        // Sessions never overlap in time, so the last write of a shared app or user key is also the
        // latest by time, as a replay of the events expects.
        let spacing = Double(eventsPerSession) * 5 + 10
        var time = startTime + Double(index) * spacing
        var events: [Event] = []
        var state = JSONObject()
        var appState = JSONObject()
        var userState = JSONObject()
        for turn in 0..<eventsPerSession {
            // At least 1 ms apart: events never tie, even at DATETIME(6)'s microsecond precision.
            time += Double(random.next() % 5000) / 1000 + 0.001
            let delta = stateDelta(turn)
            let scoped = StateScopes.split(delta)
            state.update(with: scoped.session)
            appState.update(with: scoped.app)
            userState.update(with: scoped.user)
            // Generated data is well-formed by construction; `try?` never drops an event here.
            if let event = try? Event(data: eventData(turn: turn, time: time, delta: delta)) { events.append(event) }
        }
        return Session(
            key: key, state: state, appState: appState, userState: userState, events: events,
            createTime: startTime + Double(index) * spacing, lastUpdateTime: events.last?.timestamp ?? time)
    }

    mutating func stateDelta(_ turn: Int) -> JSONObject {
        switch random.next() % 6 {
        case 0: return ["turns": .number(JSONNumber(turn)), "topic": .string(text(2))]
        case 1:
            return ["user:language": .string(["en", "fr", "de", "ja"][turn % 4]), "last_price": .number(JSONNumber(Double(random.next() % 100_000) / 100))]
        case 2: return ["app:model": .string("gemini-2.5-flash"), "cart": .object(["items": .array([.string(text(1)), .number(JSONNumber(turn))])])]
        default: return [:]
        }
    }

    mutating func eventData(turn: Int, time: Double, delta: JSONObject) -> JSONObject {
        let invocation = "e-" + identifier()
        var parts: [JSONValue]
        let author: String
        let role: String
        switch turn % 4 {
        case 0:
            (author, role) = ("user", "user")
            parts = [.object(["text": .string(text(5 + Int(random.next() % 40)))])]
            if random.next() % 5 == 0 {
                parts.append(.object(["inline_data": .object(["data": .string(pngBase64(64 + Int(random.next() % 512))), "mime_type": .string("image/png")])]))
            }
        case 1:
            (author, role) = ("support_agent", "model")
            parts = [
                .object([
                    "function_call": .object(["id": .string("call-\(turn)"), "args": .object(["query": .string(text(3))]), "name": .string("lookup_order")])
                ])
            ]
        case 2:
            (author, role) = ("support_agent", "user")
            parts = [
                .object([
                    "function_response": .object([
                        "id": .string("call-\(turn - 1)"), "name": .string("lookup_order"),
                        "response": .object(["status": .string("shipped"), "eta_days": .number(JSONNumber(Int(random.next() % 9)))]),
                    ])
                ])
            ]
        default:
            (author, role) = ("support_agent", "model")
            parts = [.object(["text": .string(text(20 + Int(random.next() % 120)))])]
        }
        return [
            "content": .object(["parts": .array(parts), "role": .string(role)]),
            "invocation_id": .string(invocation), "author": .string(author),
            "actions": .object([
                "state_delta": .object(delta), "artifact_delta": .object([:]), "requested_auth_configs": .object([:]),
                "requested_tool_confirmations": .object([:]),
            ]),
            "node_info": .object(["path": .string("")]),
            "id": .string(identifier()), "timestamp": .number(JSONNumber(time)),
        ]
    }
}
