import SessionModel

// Drivers are synchronous: every C call blocks the calling thread, and a store (with its
// connections) is used from one thread at a time. Commands run the engine on the main thread;
// parallel workers (later) each own their own stores. Nothing here is Sendable on purpose.

/// A place ADK sessions live: a MySQL database, a Redis database, or a SQLite file.
///
/// The unit of every read and write is one whole session (its row or blob, all its events,
/// and the app and user state it depends on). Writes are idempotent: writing the same
/// sessions twice leaves the store byte-identical to writing them once.
public protocol SessionStore: AnyObject {
    /// What was detected or chosen, e.g. `mysql database-v1`, `redis community`.
    var layout: StoreLayout { get }
    /// What this store can hold, for the engine and reports.
    var capabilities: StoreCapabilities { get }
    /// Counts and update-time range, computed by the store.
    func fetchStats() throws -> StoreStats
    /// Which life of the server holds the data: a value that changes when the server restarts and may
    /// have lost writes (Redis: its `run_id`; a Redis without persistence, or with `everysec`, loses what
    /// it held or its last second on a restart). `nil` for stores whose committed writes survive a
    /// restart (MySQL, SQLite). A copy that resumes into a store whose epoch changed starts over.
    func writeEpoch() throws -> String?
    /// How many sessions this store's scans listed (an index set member, a `SCAN` result, a given id)
    /// whose data was gone when it was loaded: expired or deleted meanwhile. Passed over, never an
    /// error; reported. 0 for stores that list and load in one read.
    var listedSessionsMissing: Int { get }
    /// The store's own clock (epoch seconds), for watermarks taken on the server whose data they
    /// bound; `nil` for stores without a server (files: the local clock is theirs).
    func serverTime() throws -> Double?
    /// How many sessions `scope` holds, when the store can count them cheaply (an index count);
    /// `nil` otherwise. For progress totals.
    func countSessions(_ scope: SessionScope) throws -> Int?
    /// Streams every session matching `query`, `query.batchSize` at a time; memory stays bounded
    /// by the batch size. Order is store-specific (see each store).
    func scanSessions(_ query: SessionQuery) throws -> any SessionCursor
    /// The current version of each of these sessions that exists in the store.
    func fetchSessions(_ keys: [SessionKey]) throws -> [SessionKey: Session]
    /// The current version of each of these sessions that exists, with the version a fenced write
    /// of it is conditioned on (see ``FencedWrite``).
    func fetchVersionedSessions(_ keys: [SessionKey]) throws -> [SessionKey: VersionedSession]
    /// Writes each session only if the store still holds the version it was planned against;
    /// returns the keys refused because the stored session changed meanwhile (see ``FencedWrite``).
    func writeSessions(fenced writes: [FencedWrite]) throws -> Set<SessionKey>
    /// Makes each session in the store equal to the given one (session row or blob, exactly these
    /// events) and merges its app and user state into the stored ones as ADK's `dict.update`
    /// does. One session is written atomically where the store has transactions.
    func writeSessions(_ sessions: [Session]) throws
    /// Deletes these sessions and their events (app and user state stay, as ADK's
    /// `delete_session` leaves them). Missing keys are ignored, so deleting is idempotent.
    func deleteSessions(_ keys: [SessionKey]) throws
    /// Releases connections. Must be called; `deinit` only asserts.
    func close() throws
    /// The fields of `session` this store cannot hold and would drop when writing it, as dotted
    /// names (`event.model_version`, `event.actions.route`), one entry per occurrence. The engine
    /// reports them; nothing is dropped silently. Most stores hold everything (the default).
    func unrepresentableFields(in session: Session) -> [String]
    /// What reading `session` back would return after writing it here: the session as this store
    /// can hold it (a v0 database adds ADK's read-time defaults and rounds timestamps to
    /// microseconds). Comparisons use it so a lossy store does not look different forever.
    /// Most stores hold sessions exactly (the default returns the session unchanged).
    func readBack(_ session: Session) throws -> Session
    /// Takes the store's advisory run lock (see the extension's documentation).
    func acquireRunLock(owner: String) throws
    /// Extends the run lock's lifetime.
    func refreshRunLock(owner: String) throws
    /// Releases the run lock if `owner` holds it.
    func releaseRunLock(owner: String)
    /// Which server and database (or file) this store is, asked of the server; `nil` when the
    /// store cannot tell (see ``StoreIdentity``). Used to refuse copying a store into itself.
    func fetchIdentity() throws -> StoreIdentity?
    /// How the connection is protected, for `inspect`: e.g. `TLS (TLS_AES_256_GCM_SHA384)` or
    /// `plaintext`; `nil` for local files.
    var connectionSecurity: String? { get }
    /// How the store keys sessions in Redis (its layout's key form, whether it is a cluster), for
    /// the `slots` shard function (``ShardChoice``); `nil` for stores that are not Redis (the default).
    var slotKeying: SlotKeying? { get }
    /// The style the store serializes an event's `data` in when it writes `event_data`, so that a copy
    /// can serialize a batch on the thread that reads the source (``SessionModel/Event/prepareSerialized(_:)``);
    /// `nil` when it writes events otherwise (Redis blobs, schema-v0 columns: the default).
    var eventDataStyle: JSONStyle? { get }
    /// From now on, keep a transaction open across write calls and commit it once it has been open
    /// `seconds` (``WriteGroupState``); stores whose commits are cheap ignore this (the default).
    func beginWriteGroups(seconds: Double)
    /// The open group holding writes not yet committed; `nil` when everything written is committed.
    var openWriteGroup: Int? { get }
    /// How many groups were lost (rolled back whole) so far.
    var writeGroupLosses: Int { get }
    /// What became of `group` (a value ``openWriteGroup`` returned).
    func state(ofWriteGroup group: Int) -> WriteGroupState
    /// Commits the open group now, if there is one.
    func commitWriteGroup() throws
}

/// Who holds a store's run lock, as recorded in the lock itself.
public struct RunLockHolder: Sendable, Hashable, CustomStringConvertible {
    /// Host, pid, start time and journal of the holder, as one line.
    public var text: String
    public init(text: String) { self.text = text }
    public var description: String { text }
}

/// A run lock is held by someone else.
public struct RunLockError: DriverError {
    public var code: DriverErrorCode { .constraint }
    public var store: String
    public var holder: RunLockHolder
    public var clearing: String
    public init(store: String, holder: RunLockHolder, clearing: String) {
        self.store = store
        self.holder = holder
        self.clearing = clearing
    }
    public var description: String { "\(store) is locked by another sessmigrate run (\(holder)); \(clearing)" }
    public var debugDescription: String { description }
}

extension SessionStore {
    /// Takes the store's advisory run lock for `owner` (a line naming host, pid, start time and
    /// journal), so two runbook runs never write the same target. Stores without a lock (SQLite
    /// files, whose writers are serialized by SQLite) do nothing.
    public func acquireRunLock(owner: String) throws {}
    /// Extends the lock's lifetime (Redis locks expire so a killed run's lock clears itself).
    public func refreshRunLock(owner: String) throws {}
    /// Releases the lock if `owner` holds it.
    public func releaseRunLock(owner: String) {}

    public func serverTime() throws -> Double? { nil }

    public var listedSessionsMissing: Int { 0 }

    public var slotKeying: SlotKeying? { nil }

    public var eventDataStyle: JSONStyle? { nil }

    public func writeEpoch() throws -> String? { nil }

    public func countSessions(_ scope: SessionScope) throws -> Int? {
        guard capabilities.countsCheaply, scope.isEmpty else { return nil }
        return try fetchStats().sessions
    }

    public func unrepresentableFields(in session: Session) -> [String] { [] }
    public func readBack(_ session: Session) throws -> Session { session }
}

/// A single-pass stream of sessions. Not Sendable: use it on the thread that made it.
public protocol SessionCursor: AnyObject {
    /// The next session, or `nil` at the end.
    func next() throws -> Session?
    /// Where a new scan must start so that it continues this one: every session this cursor has
    /// returned so far is covered, and a scan started with ``SessionQuery/resumeAfter`` set to
    /// this token returns every session not covered. It may return again some sessions of the
    /// page the last returned session came from (harmless: writes are idempotent), never skips one.
    ///
    /// Opaque, printable ASCII (safe in JSON and on a command line), stable across processes.
    /// `nil` before the first session of a scan started from the beginning; before the first
    /// session of a resumed scan, the token it was resumed from. Formats: ``ResumeToken``.
    var resumeToken: String? { get }
    /// The sessions passed over since the last call because their data is bad, when the scan was
    /// started with ``SessionQuery/skipBad`` (see ``SkippedSession``); empty otherwise. Sessions
    /// skipped before the last returned session are covered by ``resumeToken`` like returned
    /// ones, so a resumed scan does not meet them again.
    func takeSkipped() -> [SkippedSession]
}

/// Which sessions to read, and how.
public struct SessionQuery: Sendable, Hashable {
    /// The sessions wanted. Each store narrows its reads to them as far as it can (see
    /// ``SessionScope``) and never returns a session outside it.
    public var scope: SessionScope
    /// Sessions fetched per round trip.
    public var batchSize: Int
    /// A ``SessionCursor/resumeToken`` of an earlier scan of the same store with the same scope:
    /// the scan continues after the sessions that token covers. `nil` scans from the beginning. A
    /// token that is malformed or belongs to another kind of store makes `scanSessions` throw a
    /// ``ResumeTokenError``.
    public var resumeAfter: String?
    /// Pass over sessions whose data is bad (a ``SessionDataError``) instead of throwing: the
    /// cursor reports them through ``SessionCursor/takeSkipped()``. Other errors still throw.
    /// Bad sessions whose key is known to be out of scope are not reported.
    public var skipBad: Bool
    /// Carry events read as their text in this style (``SessionModel/Event/init(transcoding:from:style:)``):
    /// a copy asks for its target's style, so that the target's writer binds the text as it is, and
    /// `diff`/`verify` for compact text, which their digests stream. `nil` (readers that look inside
    /// events: merges, the replay check) builds each event's tree.
    public var eventStyle: JSONStyle?

    public init(scope: SessionScope = .all, batchSize: Int = 200, resumeAfter: String? = nil, skipBad: Bool = false, eventStyle: JSONStyle? = nil) {
        self.scope = scope
        self.batchSize = max(1, batchSize)
        self.resumeAfter = resumeAfter
        self.skipBad = skipBad
        self.eventStyle = eventStyle
    }
}

/// The kind of store and the layout detected or chosen in it.
public struct StoreLayout: Sendable, Hashable, CustomStringConvertible {
    /// `mysql`, `redis` or `sqlite`.
    public var kind: String
    /// `database-v1`, `database-v0`, `community`, `adk-redis`, `sqlite-session-service`.
    public var name: String
    /// Schema version where the layout has one (`1` for DatabaseSessionService v1).
    public var schemaVersion: String?

    public init(kind: String, name: String, schemaVersion: String? = nil) {
        self.kind = kind
        self.name = name
        self.schemaVersion = schemaVersion
    }

    public var description: String { "\(kind) \(name)" }
}

/// What a store can represent, so the engine never asks which backend it is talking to.
public struct StoreCapabilities: Sendable, Hashable {
    /// The store keeps a session's creation time.
    public var keepsCreateTime: Bool
    /// The store keeps a per-session expiry.
    public var keepsExpiry: Bool
    /// `fetchStats` is cheap (an index count, not a scan), so progress can show a total and ETA.
    public var countsCheaply: Bool

    public init(keepsCreateTime: Bool, keepsExpiry: Bool, countsCheaply: Bool = false) {
        self.keepsCreateTime = keepsCreateTime
        self.keepsExpiry = keepsExpiry
        self.countsCheaply = countsCheaply
    }
}

/// Counts and time range of a store, as `inspect` reports them.
public struct StoreStats: Sendable, Hashable {
    public var layout: StoreLayout
    public var sessions: Int
    public var events: Int
    public var appStates: Int
    public var userStates: Int
    /// Oldest and newest session `last_update_time`, epoch seconds; `nil` when empty.
    public var oldestUpdateTime: Double?
    public var newestUpdateTime: Double?

    public init(
        layout: StoreLayout, sessions: Int, events: Int, appStates: Int, userStates: Int,
        oldestUpdateTime: Double?, newestUpdateTime: Double?
    ) {
        self.layout = layout
        self.sessions = sessions
        self.events = events
        self.appStates = appStates
        self.userStates = userStates
        self.oldestUpdateTime = oldestUpdateTime
        self.newestUpdateTime = newestUpdateTime
    }
}
