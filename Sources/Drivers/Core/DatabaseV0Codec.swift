internal import ADKPickle
import SessionModel

/// One `events` column value as the drivers hand it to and take it from ``DatabaseV0Codec``.
public enum DatabaseV0Value: Sendable, Hashable {
    case null
    /// An integer (the v0 `BOOL` columns hold 0 or 1).
    case integer(Int64)
    /// Text: JSON columns, strings, `DATETIME` text, or a boolean as MySQL's text protocol sends it.
    case text(String)
    /// Raw bytes: the pickled `actions`.
    case bytes([UInt8])
}

/// How much a text column holds. MySQL's `VARCHAR(n)` counts characters; `TEXT` counts bytes.
public struct DatabaseTextLimit: Sendable, Hashable {
    /// Most characters (Unicode scalars, as Python's `len` and MySQL count them).
    public var characters: Int
    /// Most UTF-8 bytes.
    public var bytes: Int

    public init(characters: Int, bytes: Int) {
        self.characters = characters
        self.bytes = bytes
    }
}

/// DatabaseSessionService schema v0 `events` rows ↔ canonical events, shared by the MySQL store and
/// the SQLite DatabaseSessionService store so both map identically (docs/adk-data-model.md §2, §4, §8).
///
/// Reading builds what ADK 2.13's `get_session` returns for a v0 database (`schemas/v0.py`
/// `to_event`, then `model_dump(mode="json", exclude_none=True)`): `node_info` `{"path": ""}`,
/// `long_running_tool_ids` sorted and `[]` when the column is NULL, the `actions` pickle decoded by
/// ADKPickle, JSON columns that hold no object dropped. Keys inside the JSON columns stay in their
/// stored order.
///
/// Writing produces the columns exactly as ADK 1.21's `StorageEvent.from_event` does: JSON text as
/// Python's `json.dumps`, booleans as 0/1, NULL for `None`, `custom_metadata` NULL when empty,
/// `long_running_tool_ids_json` NULL only when the field is absent, and only the columns the
/// table has (pre-1.19 tables lack some). Event fields without a column are reported by
/// ``unrepresentableFields(in:)``, never dropped silently.
///
/// Times: the `timestamp` column is a naive datetime. ADK before 2.7 wrote it in the ADK host's
/// local time; this codec reads and writes it as UTC, which is what every ADK version means when
/// it runs with `TZ=UTC` (databases written by a non-UTC ADK ≤ 2.6 read shifted by the offset).
public struct DatabaseV0Codec: Sendable, Hashable {
    /// The 22 `events` columns of schema v0, in ADK's DDL order.
    public static let allEventColumns = [
        "id", "app_name", "user_id", "session_id", "invocation_id", "author", "actions",
        "long_running_tool_ids_json", "branch", "timestamp", "content", "grounding_metadata", "custom_metadata",
        "usage_metadata", "citation_metadata", "partial", "turn_complete", "error_code", "error_message",
        "interrupted", "input_transcription", "output_transcription",
    ]

    /// Columns every v0 (and pre-v0) `events` table has; the others arrived over ADK 1.x.
    public static let requiredEventColumns = [
        "id", "app_name", "user_id", "session_id", "invocation_id", "author", "actions", "timestamp",
    ]

    /// The columns the drivers handle themselves (the key).
    static let keyColumns: Set<String> = ["id", "app_name", "user_id", "session_id"]

    /// Event fields a v0 table can hold, with their column.
    static let columnOfField: [String: String] = [
        "content": "content", "grounding_metadata": "grounding_metadata", "partial": "partial",
        "turn_complete": "turn_complete", "error_code": "error_code", "error_message": "error_message",
        "interrupted": "interrupted", "custom_metadata": "custom_metadata", "usage_metadata": "usage_metadata",
        "input_transcription": "input_transcription", "output_transcription": "output_transcription",
        "citation_metadata": "citation_metadata", "invocation_id": "invocation_id", "author": "author",
        "actions": "actions", "long_running_tool_ids": "long_running_tool_ids_json", "branch": "branch",
        "id": "id", "timestamp": "timestamp",
    ]

    /// JSON columns that ADK reads back through a genai model (`decode_model`: non-objects read as `None`).
    static let modelColumns: Set<String> = [
        "content", "grounding_metadata", "usage_metadata", "citation_metadata", "input_transcription",
        "output_transcription",
    ]

    /// The `node_info` ADK 2.x gives every event it reads from a v0 table.
    static let defaultNodeInfo: JSONValue = .object(["path": .string("")])

    /// The store name errors show (`mysql`, `sqlite`).
    public let store: String
    /// The table's columns besides `id` and the session key, in DDL order: the order of the values
    /// ``event(id:values:location:)`` takes and ``values(for:location:)`` returns.
    public let valueColumns: [String]
    /// Pickle protocol of written `actions`: 4 on MySQL (`pickle.dumps` default), 5 elsewhere
    /// (SQLAlchemy `PickleType`'s `HIGHEST_PROTOCOL`).
    public let pickleProtocol: Int
    /// What `error_message` holds, when the database enforces it (MySQL); `nil` for no limit.
    public let errorMessageLimit: DatabaseTextLimit?

    /// A codec for an `events` table with these columns (names compared case-insensitively).
    ///
    /// - Throws: ``DatabaseSchemaError`` when a column ADK always had is missing.
    public init(
        store: String, eventColumns: some Sequence<String>, pickleProtocol: Int, errorMessageLimit: DatabaseTextLimit?
    ) throws(DatabaseSchemaError) {
        let present = Set(eventColumns.map { $0.lowercased() })
        if let missing = Self.requiredEventColumns.first(where: { !present.contains($0) }) {
            throw DatabaseSchemaError(
                message: "\(store): unknown schema: events has no column '\(missing)' required by ADK"
                    + " DatabaseSessionService v0 (columns: \(present.sorted().joined(separator: ", ")))")
        }
        self.store = store
        self.valueColumns = Self.allEventColumns.filter { present.contains($0) && !Self.keyColumns.contains($0) }
        self.pickleProtocol = pickleProtocol
        self.errorMessageLimit = errorMessageLimit
    }

    /// True when the table has `column`.
    public func hasColumn(_ column: String) -> Bool {
        Self.keyColumns.contains(column) || valueColumns.contains(column)
    }

    // MARK: - Reading

    /// The event of an `events` row; `values` are in ``valueColumns`` order.
    ///
    /// - Throws: ``SessionDataError`` naming `location` (which names the table, session and event)
    ///   for a bad pickle, bad JSON or a value ADK would refuse.
    public func event(id: String, values: [DatabaseV0Value], location: String) throws -> Event {
        var row: [String: DatabaseV0Value] = [:]
        for (column, value) in zip(valueColumns, values) { row[column] = value }
        let reader = DatabaseV0RowReader(row: row, store: store, location: location)
        var data = JSONObject()
        data["content"] = try reader.model("content")
        data["grounding_metadata"] = try reader.model("grounding_metadata")
        data["partial"] = try reader.bool("partial")
        data["turn_complete"] = try reader.bool("turn_complete")
        data["error_code"] = try reader.string("error_code")
        data["error_message"] = try reader.string("error_message")
        data["interrupted"] = try reader.bool("interrupted")
        data["custom_metadata"] = try reader.customMetadata()
        data["usage_metadata"] = try reader.model("usage_metadata")
        data["input_transcription"] = try reader.model("input_transcription")
        data["output_transcription"] = try reader.model("output_transcription")
        data["citation_metadata"] = try reader.model("citation_metadata")
        data["invocation_id"] = try reader.string("invocation_id") ?? .string("")
        guard let author = try reader.string("author") else { throw reader.error("author is NULL") }
        data["author"] = author
        data["actions"] = .object(try reader.actions())
        data["node_info"] = Self.defaultNodeInfo
        data["long_running_tool_ids"] = try reader.toolIds()
        data["branch"] = try reader.string("branch")
        data["id"] = .string(id)
        data["timestamp"] = .number(JSONNumber(try reader.timestamp()))
        do {
            return try Event(data: data)
        } catch {
            throw reader.error(error.description)
        }
    }
}

/// Reads the columns of one v0 `events` row, throwing ``SessionDataError``s that name it.
struct DatabaseV0RowReader {
    let row: [String: DatabaseV0Value]
    let store: String
    let location: String

    func error(_ message: String) -> SessionDataError {
        SessionDataError(store: store, location: location, message: message)
    }

    func text(_ column: String) throws -> String? {
        switch row[column] ?? .null {
        case .null: return nil
        case .text(let text): return text
        case .integer(let number): return String(number)
        case .bytes(let bytes):
            guard let text = String(validating: bytes, as: UTF8.self) else { throw error("\(column) is not UTF-8 text") }
            return text
        }
    }

    func string(_ column: String) throws -> JSONValue? {
        try text(column).map(JSONValue.string)
    }

    /// `BOOL` columns: 0 is false, any other integer true (Python's `bool`).
    func bool(_ column: String) throws -> JSONValue? {
        switch row[column] ?? .null {
        case .null: return nil
        case .integer(let number): return .bool(number != 0)
        default:
            guard let text = try text(column), let number = Int64(text).map(Double.init) ?? Double(text), !number.isNaN else {
                throw error("\(column) is not a boolean (0 or 1)")
            }
            return .bool(number != 0)
        }
    }

    func json(_ column: String) throws -> JSONValue? {
        guard let text = try text(column) else { return nil }
        do {
            return try JSONValue.parse(text)
        } catch {
            throw self.error("\(column) is not valid JSON (\(error))")
        }
    }

    /// A genai model column: ADK's `decode_model` reads anything but an object as `None`.
    func model(_ column: String) throws -> JSONValue? {
        guard case .object(let object)? = try json(column) else { return nil }
        return .object(object)
    }

    /// `custom_metadata` is a plain dict: JSON `null` is `None`, other non-objects fail validation.
    func customMetadata() throws -> JSONValue? {
        switch try json("custom_metadata") {
        case nil, .null?: return nil
        case .object(let object)?: return .object(object)
        default: throw error("custom_metadata is not a JSON object")
        }
    }

    /// `set(json.loads(text))` when the text is non-empty, else the empty set; serialized sorted.
    func toolIds() throws -> JSONValue {
        guard let text = try text("long_running_tool_ids_json"), !text.isEmpty else { return .array([]) }
        let parsed: JSONValue?
        do { parsed = try JSONValue.parse(text) } catch { throw self.error("long_running_tool_ids_json is not valid JSON (\(error))") }
        guard case .array(let items)? = parsed else { throw error("long_running_tool_ids_json is not a JSON list") }
        var ids: [String] = []
        var seen: Set<[UInt8]> = []
        for item in items {
            guard case .string(let id) = item else { throw error("long_running_tool_ids_json holds a non-string") }
            // Python compares strings by code point: compare UTF-8 bytes, never Swift's canonical equality.
            if seen.insert(Array(id.utf8)).inserted { ids.append(id) }
        }
        ids.sort { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        return .array(ids.map(JSONValue.string))
    }

    /// The unpickled `EventActions` as v1 `event_data` holds it; NULL reads as `EventActions()`.
    func actions() throws -> JSONObject {
        let bytes: [UInt8]
        switch row["actions"] ?? .null {
        case .null:
            return [
                "state_delta": .object([:]), "artifact_delta": .object([:]), "requested_auth_configs": .object([:]),
                "requested_tool_confirmations": .object([:]),
            ]
        case .bytes(let blob): bytes = blob
        case .text(let text): bytes = Array(text.utf8)
        case .integer: throw error("actions is not a pickle (an integer)")
        }
        do {
            return try EventActionsPickle.decode(bytes)
        } catch {
            throw self.error("actions is not a readable EventActions pickle (\(error))")
        }
    }

    /// The naive `timestamp` column read as UTC.
    func timestamp() throws -> Double {
        guard let text = try text("timestamp") else { throw error("timestamp is NULL") }
        return try DatabaseV1Codec.epoch(fromDatetime: text, store: store, location: location + ", timestamp")
    }
}
