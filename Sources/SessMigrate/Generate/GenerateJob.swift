import DriverCore

/// `generate STORE --sessions N --events M`: writes synthetic sessions (see ``SessionGenerator``).
public struct GenerateJob {
    public var target: StoreAddress
    public var sessions: Int
    public var eventsPerSession: Int
    public var seed: UInt64
    public var batchSize: Int
    public var opener = StoreOpener()

    public init(target: StoreAddress, sessions: Int, eventsPerSession: Int, seed: UInt64, batchSize: Int = 200) {
        self.target = target
        self.sessions = sessions
        self.eventsPerSession = eventsPerSession
        self.seed = seed
        self.batchSize = max(1, batchSize)
    }

    /// Writes the sessions; `progress` gets the number written so far after each batch.
    public func run(progress: (Int) -> Void = { _ in }) throws -> (sessions: Int, events: Int, seconds: Double) {
        let store = try opener.open(target, forWriting: true)
        defer { try? store.close() }
        let started = Clock.epochSeconds()
        var generator = SessionGenerator(seed: seed, eventsPerSession: eventsPerSession)
        var events = 0
        var written = 0
        while written < sessions {
            let count = min(batchSize, sessions - written)
            let batch = (written..<written + count).map { generator.session($0) }
            events += batch.reduce(0) { $0 + $1.events.count }
            try store.writeSessions(batch)
            written += count
            progress(written)
        }
        return (written, events, Clock.epochSeconds() - started)
    }
}
