#if canImport(Glibc)
import Glibc
#endif
import SQLiteDriver
import Snapshot

// Snapshot files, value level: the input is a list of edits made with SQL to a valid snapshot
// (set a cell of any table to any value, splice bytes into a text cell, delete or copy rows, add
// manifest entries), so the file stays a sound SQLite database and the checks behind the SQLite
// layer are reached: manifest parsing, digests, state and event JSON, times. Then everything
// `FuzzSnapshots.exercise` does; `check` must refuse with a SnapshotError only.

/// Every column of every table of a snapshot.
private let columns: [(table: String, column: String)] = [
    ("sessmigrate_manifest", "key"), ("sessmigrate_manifest", "value"),
    ("sessmigrate_sessions", "app_name"), ("sessmigrate_sessions", "user_id"), ("sessmigrate_sessions", "session_id"),
    ("sessmigrate_sessions", "digest"), ("sessmigrate_sessions", "expires_at"),
    ("sessions", "app_name"), ("sessions", "user_id"), ("sessions", "id"), ("sessions", "state"),
    ("sessions", "create_time"), ("sessions", "update_time"),
    ("events", "id"), ("events", "app_name"), ("events", "user_id"), ("events", "session_id"),
    ("events", "invocation_id"), ("events", "timestamp"), ("events", "event_data"),
    ("app_states", "app_name"), ("app_states", "state"), ("app_states", "update_time"),
    ("user_states", "app_name"), ("user_states", "user_id"), ("user_states", "state"), ("user_states", "update_time"),
]

private let manifestKeys = [
    "format_version", "tool_version", "source", "source_layout", "source_keeps_expiry", "created_at", "seconds",
    "sessions", "events", "app_states", "user_states",
]

/// A value of any storage class, with a bias to the numbers that break time conversions.
private func value(_ input: inout FuzzInput) -> SQLiteValue {
    switch input.byte() % 8 {
    case 0: return .null
    case 1: return .integer(Int64(bitPattern: input.uint64()))
    case 2: return .float(Double(bitPattern: input.uint64()))
    case 3:
        let specials: [Double] = [1e13, -1e13, 9.3e12, 1e300, -1e300, 253_402_300_800, -62_135_596_801, 0, -0.0, .leastNonzeroMagnitude]
        return .float(specials[Int(input.byte()) % specials.count])
    case 4: return .blob(input.chunk())
    case 5:
        let numbers = ["0", "1", "-1", "2", "9223372036854775807", "99999999999999999999", "1e400", "NaN", " 1", "1.5"]
        return .text(numbers[Int(input.byte()) % numbers.count])
    default: return .text(String(decoding: input.chunk(), as: UTF8.self))
    }
}

/// Applies the edits of `input` to the snapshot at `path`; SQL errors (constraints) are ignored.
private func edit(_ path: String, _ input: inout FuzzInput) {
    guard let connection = try? SQLiteConnection.open(path: path, mode: .readWrite) else { return }
    defer { try? connection.close() }
    try? connection.execute("PRAGMA foreign_keys=OFF; PRAGMA journal_mode=MEMORY; PRAGMA synchronous=OFF; BEGIN")
    var edits = 0
    while !input.isAtEnd, edits < 32 {
        edits += 1
        let (table, column) = columns[Int(input.byte()) % columns.count]
        let row = "(SELECT rowid FROM \(table) ORDER BY rowid LIMIT 1 OFFSET \(input.byte() % 8))"
        switch input.byte() % 6 {
        case 0, 1:
            let update = try? connection.prepare("UPDATE \(table) SET \(column) = ?1 WHERE rowid = \(row)")
            try? update?.run([value(&input)])
        case 2:
            // Replace `cut` bytes at `offset` of a text cell with a chunk: small edits inside JSON.
            let (offset, cut, insert) = (input.uint16(), Int(input.byte() % 16), input.chunk())
            let update = try? connection.prepare(
                "UPDATE \(table) SET \(column) = substr(CAST(\(column) AS TEXT), 1, ?1) || CAST(?2 AS TEXT)"
                    + " || substr(CAST(\(column) AS TEXT), ?1 + ?3 + 1) WHERE rowid = \(row)")
            try? update?.run([.integer(Int64(offset)), .blob(insert), .integer(Int64(cut))])
        case 3:
            try? connection.execute("DELETE FROM \(table) WHERE rowid = \(row)")
        case 4:
            try? connection.execute("INSERT INTO \(table) SELECT * FROM \(table) WHERE rowid = \(row)")
        default:
            let insert = try? connection.prepare("INSERT OR REPLACE INTO sessmigrate_manifest (key, value) VALUES (?, ?)")
            try? insert?.run([.text(manifestKeys[Int(input.byte()) % manifestKeys.count]), value(&input)])
        }
    }
    try? connection.execute("COMMIT")
}

@_cdecl("LLVMFuzzerInitialize")
public func fuzzInitialize(_ argc: UnsafeMutablePointer<CInt>?, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>?) -> CInt {
    emitSeedsIfAsked {
        // The empty program, and per column: set it to 1e13, or splice a "9" into it.
        // Batch size byte, then edits: column, row, operation, operands.
        [[0]] + (0..<columns.count).flatMap { index in
            [[0, UInt8(index), 0, 0, 3, 0], [1, UInt8(index), 1, 2, 0, 2, 1, 1, UInt8(ascii: "9")]]
        }
    }
    _ = FuzzSnapshots.template
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    var input = FuzzInput(fuzzBytes(data, size))
    let path = fuzzScratchDirectory + "/input.db"
    writeFile(path, FuzzSnapshots.template)
    defer { unlink(path) }
    let batchSize = 1 + Int(input.byte() % 3)
    edit(path, &input)
    let error = FuzzSnapshots.exercise(path: path, batchSize: batchSize)
    checkErrorKind(error)
    return 0
}
