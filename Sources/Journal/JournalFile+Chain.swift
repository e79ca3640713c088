import DriverCore
import SQLiteDriver
import SessionModel

// The hash chain of a journal (issue 13 item 6). Every event stores SHA-256(previous hash, its own
// fields); the first event's previous hash is the genesis: SHA-256 over the journal's meta rows (format
// version, runbook name and text, creation time, host and tool version) and its variables. Reading the
// events recomputes every link, so an edited, inserted or removed event, runbook or variable is found
// and named by the seq where the chain breaks, and the journal is never obeyed.
//
// The chain is not a signature: it holds no secret, so someone who can write the file can rebuild a
// consistent chain. It catches damage and edits made with a SQLite shell; the file's 0600 mode and its
// directory's permissions keep other users out.
extension JournalFile {
    /// The `journal_meta` keys the genesis covers, in order.
    static let chainedMetaKeys = ["format_version", "runbook_name", "runbook_text", "created_at", "created_host", "created_by"]

    /// The first link: SHA-256 (hex) over the meta rows and the variables, each length-prefixed.
    static func chainGenesis(meta: [(key: String, value: String)], variables: [(name: String, value: String)]) -> String {
        var hasher = SHA256()
        feed(&hasher, "sessmigrate journal chain")
        for (key, value) in meta {
            feed(&hasher, key)
            feed(&hasher, value)
        }
        feed(&hasher, String(variables.count))
        for (name, value) in variables {
            feed(&hasher, name)
            feed(&hasher, value)
        }
        return SHA256.hexString(hasher.finalize())
    }

    /// The hash of `event` (whose `detail` is stored as `detailText`) after the link `previous`.
    static func chainLink(previous: String, event: JournalEvent, detailText: String) -> String {
        var hasher = SHA256()
        feed(&hasher, previous)
        feed(&hasher, String(event.seq))
        feed(&hasher, event.runId)
        feed(&hasher, String(event.time.bitPattern, radix: 16))
        feed(&hasher, event.host)
        feed(&hasher, String(event.pid))
        feed(&hasher, event.toolVersion)
        feed(&hasher, event.step.map { "step:" + $0 } ?? "no step")
        feed(&hasher, event.kind.rawValue)
        feed(&hasher, detailText)
        return SHA256.hexString(hasher.finalize())
    }

    /// `<UTF-8 length>:<text>`, so no two field lists hash alike.
    private static func feed(_ hasher: inout SHA256, _ text: String) {
        hasher.update("\(text.utf8.count):")
        hasher.update(text)
    }

    /// The seq and hash of the last event (0 and the genesis when there is none), in the caller's transaction.
    func lastLink(_ connection: SQLiteConnection) throws -> (seq: Int64, hash: String) {
        let statement = try connection.prepare("SELECT seq, hash FROM journal_events ORDER BY seq DESC LIMIT 1")
        guard try statement.step() else { return (0, chainGenesis) }
        return (statement.int64(at: 0), statement.text(at: 1))
    }

    /// Throws unless the journal still starts with this instance's genesis: a journal with no event
    /// may be replaced by another `run` (``create(path:runbookName:runbookText:variables:environment:)``)
    /// between its creation and its first event.
    func checkGenesisUnchanged(_ connection: SQLiteConnection) throws {
        let statement = try connection.prepare("SELECT value FROM journal_meta WHERE key = 'chain_genesis'")
        guard try statement.step(), statement.text(at: 0) == chainGenesis else {
            throw JournalError(
                code: .constraint,
                message: "journal \(path) was replaced by another `run` before this one recorded its first event; nothing was written")
        }
    }

    /// Throws unless the events after the last one read (`lastSeq`) are all there: SQLite's
    /// `sqlite_sequence` remembers the highest seq ever given, so removed last events are noticed.
    func checkNothingRemoved(_ connection: SQLiteConnection, lastSeq: Int64) throws {
        let statement = try connection.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'journal_events'")
        guard try statement.step() else { return }
        let highest = statement.int64(at: 0)
        if highest > lastSeq {
            throw JournalError.brokenChain(
                path, "event \(lastSeq + 1) was removed (the journal had recorded up to event \(highest))")
        }
    }
}
