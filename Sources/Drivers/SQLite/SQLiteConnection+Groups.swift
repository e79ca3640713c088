internal import CSQLite
import DriverCore

/// Group commits on one connection (``DriverCore/WriteGroupState``): once ``SQLiteConnection/beginGroups(seconds:)``
/// is called, an immediate transaction joins the open group (`BEGIN IMMEDIATE` when there is none)
/// as a savepoint, which is released when its body returns and rolled back alone when it throws;
/// the group commits once it has been open `seconds`, on ``SQLiteConnection/commitGroup()`` and
/// on close. A commit syncs the file and its journal (about 15 ms on this project's machine, a
/// third of a 200-session batch's write), so a copy into a file pays it once per group.
struct WriteGroupLedger {
    var seconds: Double?
    /// The open group's number and when it began.
    var open: (number: Int, began: ContinuousClock.Instant)?
    var next = 1
    /// The groups lost so far (rolled back whole).
    var rolledBack: Set<Int> = []
}

extension SQLiteConnection {
    /// Starts group commits (see ``WriteGroupLedger``); a later call changes the duration only.
    public func beginGroups(seconds: Double) { groups.seconds = max(0, seconds) }

    /// The open group's number, or `nil` when everything written is committed.
    public var openGroup: Int? { groups.open?.number }

    /// How many groups were rolled back so far.
    public var groupLosses: Int { groups.rolledBack.count }

    /// What became of group `number`.
    public func state(ofGroup number: Int) -> WriteGroupState {
        if groups.open?.number == number { return .pending }
        return groups.rolledBack.contains(number) ? .rolledBack : .committed
    }

    /// Commits the open group, if any; a group whose commit fails is rolled back and lost.
    public func commitGroup() throws(SQLiteError) {
        guard groups.open != nil else { return }
        do {
            try execute("COMMIT")
            groups.open = nil
        } catch {
            try? execute("ROLLBACK")
            loseGroup()
            throw error
        }
    }

    /// `body` as a savepoint of the open group (one is begun when none is open); the group commits
    /// afterwards when its time is up.
    func groupedTransaction<R>(seconds: Double, _ body: () throws -> R) throws -> R {
        if groups.open == nil {
            try execute("BEGIN IMMEDIATE")
            groups.open = (groups.next, ContinuousClock.now)
            groups.next += 1
        }
        let result: R
        do {
            try execute("SAVEPOINT sessmigrate_write")
            result = try body()
            try execute("RELEASE sessmigrate_write")
        } catch {
            undoWrite()
            throw error
        }
        if let began = groups.open?.began, ContinuousClock.now - began >= .seconds(seconds) { try commitGroup() }
        return result
    }

    /// Rolls back the failed call's savepoint; when the fault ended the whole transaction (SQLite
    /// rolls back on its own after some errors) or the savepoint cannot be undone, the group is lost.
    private func undoWrite() {
        guard let handle, sqlite3_get_autocommit(handle) == 0 else { return loseGroup() }
        do {
            try execute("ROLLBACK TO sessmigrate_write")
            try execute("RELEASE sessmigrate_write")
        } catch {
            try? execute("ROLLBACK")
            loseGroup()
        }
    }

    private func loseGroup() {
        guard let open = groups.open else { return }
        groups.rolledBack.insert(open.number)
        groups.open = nil
    }
}
