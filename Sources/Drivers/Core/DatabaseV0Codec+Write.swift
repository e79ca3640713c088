internal import ADKPickle
import SessionModel

// Writing v0 rows as ADK 1.21's `StorageEvent.from_event` writes them, and reporting what a v0
// table cannot hold.
extension DatabaseV0Codec {
    /// What ADK ≥ 2.13 appends to a truncated `error_message` (`schemas/v0.py` `_truncate_str`).
    public static let truncationSuffix = "...[truncated]"

    /// The column values of `event` in ``valueColumns`` order.
    ///
    /// - Throws: ``SessionDataError`` naming `location` when `actions` cannot be pickled.
    public func values(for event: Event, location: String) throws -> [DatabaseV0Value] {
        try valueColumns.map { try value(of: $0, for: event, location: location) }
    }

    private func value(of column: String, for event: Event, location: String) throws -> DatabaseV0Value {
        let data = event.data
        switch column {
        case "invocation_id": return .text(event.invocationId)
        case "author": return .text(data["author"]?.stringValue ?? "")
        case "actions": return .bytes(try pickle(data["actions"]?.objectValue ?? [:], location: location))
        case "timestamp": return .text(PythonTime.naiveUTC(fromEpoch: event.timestamp))
        case "branch", "error_code": return data[column]?.stringValue.map(DatabaseV0Value.text) ?? .null
        case "error_message":
            guard let message = data["error_message"]?.stringValue else { return .null }
            return .text(truncatedErrorMessage(message))
        case "partial", "turn_complete", "interrupted":
            guard case .bool(let flag)? = data[column] else { return .null }
            return .integer(flag ? 1 : 0)
        case "custom_metadata":
            // `if event.custom_metadata:` an empty dict is not written.
            guard case .object(let object)? = data[column], !object.isEmpty else { return .null }
            return .text(JSONValue.object(object).serialized(.python))
        case "long_running_tool_ids_json":
            // `json.dumps(list(value))` unless the field is None.
            guard let ids = data["long_running_tool_ids"], ids != .null else { return .null }
            return .text(ids.serialized(.python))
        default:
            // The genai model columns: `model_dump(exclude_none=True, mode="json")` whenever set.
            guard Self.modelColumns.contains(column), let value = data[column], value != .null else { return .null }
            return .text(value.serialized(.python))
        }
    }

    private func pickle(_ actions: JSONObject, location: String) throws -> [UInt8] {
        do {
            return try EventActionsPickle.encode(actions, protocol: pickleProtocol)
        } catch {
            throw SessionDataError(
                store: store, location: location, message: "actions cannot be pickled as EventActions (\(error))")
        }
    }

    /// `error_message` cut to what the column holds, ending in ``truncationSuffix`` when cut (as
    /// ADK ≥ 2.13 does for old `VARCHAR(1024)` columns; here the limit is the column's own).
    public func truncatedErrorMessage(_ message: String) -> String {
        guard let limit = errorMessageLimit else { return message }
        let scalars = message.unicodeScalars
        guard scalars.count > limit.characters || message.utf8.count > limit.bytes else { return message }
        let suffix = Self.truncationSuffix
        var characters = 0
        var bytes = 0
        var kept = String.UnicodeScalarView()
        for scalar in scalars {
            let size = String(scalar).utf8.count
            guard characters + 1 + suffix.count <= limit.characters, bytes + size + suffix.utf8.count <= limit.bytes
            else { break }
            kept.append(scalar)
            characters += 1
            bytes += size
        }
        return String(kept) + suffix
    }

    // MARK: - What a v0 table cannot hold

    /// The fields of `event` a write into this table would lose, as dotted names: fields without
    /// a column (`event.model_version`, `event.node_info` unless it is the `{"path": ""}` every v0
    /// read gives back), `actions` fields unknown to ADK 1.21 (`event.actions.route`),
    /// `event.error_message (truncated)`, and `event.timestamp (rounded to microseconds)` (the
    /// column is a `DATETIME(6)`; v1 keeps the float in `event_data`).
    public func unrepresentableFields(in event: Event) -> [String] {
        var fields: [String] = []
        for (key, value) in event.data where value != .null {
            if key == "node_info", value == Self.defaultNodeInfo { continue }
            if let column = Self.columnOfField[key], hasColumn(column) { continue }
            fields.append("event." + key)
        }
        if let actions = event.data["actions"]?.objectValue {
            fields += EventActionsPickle.fieldsUnknownToV0Era(actions).map { "event.actions." + $0 }
        }
        if hasColumn("error_message"), let message = event.data["error_message"]?.stringValue,
            truncatedErrorMessage(message) != message
        {
            fields.append("event.error_message (truncated)")
        }
        if PythonTime.epoch(fromMicroseconds: PythonTime.microseconds(fromEpoch: event.timestamp)) != event.timestamp {
            fields.append("event.timestamp (rounded to microseconds)")
        }
        return fields
    }

    /// ``unrepresentableFields(in:)-(Event)`` over all events of `session`.
    public func unrepresentableFields(in session: Session) -> [String] {
        session.events.flatMap { unrepresentableFields(in: $0) }
    }

    // MARK: - Reading back

    /// `session` as this table gives it back once written: each event through
    /// ``values(for:location:)`` and ``event(id:values:location:)``, so without the fields it
    /// cannot hold, with `node_info` and `long_running_tool_ids` as a v0 read fills them in, the
    /// timestamp at microseconds and `actions` re-read from its pickle. Comparing a source session
    /// with a stored one in this form tells whether writing it would change anything.
    ///
    /// - Throws: ``SessionDataError`` when an event cannot be written (its `actions` cannot be pickled).
    public func readBack(_ session: Session) throws -> Session {
        var copy = DatabaseV1Codec.ordered(session)
        copy.events = try copy.events.map { event in
            let location = RowName.event(event.id, of: session.key)
            return try self.event(id: event.id, values: try values(for: event, location: location), location: location)
        }
        return copy
    }
}
