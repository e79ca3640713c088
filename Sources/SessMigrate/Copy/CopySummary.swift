import DriverCore
import SessionModel

/// Counters of a copy for one app (or all apps).
public struct CopyCounts: Sendable, Hashable {
    public var read = 0
    public var inserted = 0
    public var updated = 0
    /// Of `updated`: sessions written as a two-sided merge (both sides held something the other lacked).
    public var merged = 0
    /// Sessions left alone because an event id holds different content on each side.
    public var conflicted = 0
    public var unchanged = 0
    public var keptNewerTarget = 0
    public var skippedExisting = 0
    public var skippedExpired = 0
    public var deleted = 0
    public var eventsRead = 0
    public var eventsWritten = 0

    public init() {}

    /// Sessions written (inserted or updated).
    public var written: Int { inserted + updated }

    mutating func add(_ other: CopyCounts) {
        read += other.read; inserted += other.inserted; updated += other.updated; unchanged += other.unchanged
        merged += other.merged; conflicted += other.conflicted
        keptNewerTarget += other.keptNewerTarget; skippedExisting += other.skippedExisting
        skippedExpired += other.skippedExpired; deleted += other.deleted
        eventsRead += other.eventsRead; eventsWritten += other.eventsWritten
    }
}

/// The first `limit` items of a list that may grow without bound, and how many there were in all:
/// memory (and a journal) stays flat whatever the number of sessions.
public struct BoundedList<Element: Sendable & Hashable>: Sendable, Hashable {
    public private(set) var items: [Element] = []
    /// Every item appended, including those not kept.
    public private(set) var count = 0
    public let limit: Int

    public init(limit: Int) { self.limit = limit }

    /// A list that counted `count` items whose names are not kept (a resumed copy's earlier batches).
    public init(limit: Int, omittedCount count: Int) {
        self.limit = limit
        self.count = max(0, count)
    }

    public mutating func append<Items: Collection>(contentsOf more: Items) where Items.Element == Element {
        count += more.count
        items += more.prefix(max(0, limit - items.count))
    }

    /// Items appended but not kept.
    public var omitted: Int { count - items.count }
}

/// The result of a copy (or of its dry run).
public struct CopySummary: Sendable, Hashable {
    /// Per app name.
    public var apps: [String: CopyCounts] = [:]
    /// Wall-clock seconds spent copying (over every run of a resumed copy).
    public var seconds = 0.0
    /// Fields the target cannot hold, dropped from written sessions: dotted name → occurrences.
    public var droppedFields: [String: Int] = [:]
    /// True when nothing was written because of `dryRun`.
    public var dryRun = false
    /// Sessions kept because the target's version is newer, by name (the first ``listLimit``).
    public var kept = BoundedList<SessionKey>(limit: listLimit)
    /// Sessions in conflict (an event id with different content on each side), by name.
    public var conflicts = BoundedList<SessionConflict>(limit: listLimit)
    /// Bad sessions passed over with ``CopyRequest/skipBad`` (source data that cannot be read, or
    /// sessions the target rejected as too large), in the order met (the first ``listLimit``).
    public var skipped = BoundedList<SkippedSession>(limit: listLimit)
    /// Sessions in scope in the source, when the source counts them cheaply: for progress.
    public var expectedSessions: Int?
    /// Times the copy started over because a store restarted and its position or its writes could not be
    /// trusted (a Redis source's SCAN cursor, a Redis target's unpersisted writes). The counters are then
    /// those of the last complete pass: each session counted once.
    public var restarts = 0
    /// Sessions the source listed whose data was gone when they were loaded (a Redis blob that
    /// expired or was deleted between the index or `SCAN` and the read): not copied, counted.
    public var vanished = 0

    /// How many kept or skipped sessions a summary names (the counts go on).
    public static let listLimit = 10_000

    public init() {}

    /// Totals over all apps.
    public var total: CopyCounts {
        var total = CopyCounts()
        for counts in apps.values { total.add(counts) }
        return total
    }

    /// Every bad session passed over.
    public var skippedCount: Int { skipped.count }

    /// Events read per second.
    public var eventsPerSecond: Double { seconds > 0 ? Double(total.eventsRead) / seconds : 0 }
}

/// A session left as the target has it because the same event id holds different content on each side.
public struct SessionConflict: Sendable, Hashable, CustomStringConvertible {
    public var key: SessionKey
    /// The differing event ids (at most 10 kept).
    public var eventIds: [String]

    public init(key: SessionKey, eventIds: [String]) {
        self.key = key
        self.eventIds = Array(eventIds.prefix(10))
    }

    public var description: String { "\(key): event \(eventIds.joined(separator: ", ")) differs between source and target" }
}
