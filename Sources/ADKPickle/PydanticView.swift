import SessionModel

/// The JSON ADK 2.13 makes of a decoded v0 `actions` value:
/// `EventActions.model_validate(pickled.model_dump()).model_dump(mode="json", exclude_none=True)`.
///
/// Every model on a typed path is first dumped to a dict (a subclass instance through its declared
/// class, so subclass-only fields drop out) and then validated against the declared class: fields
/// in the declared order, missing ones take their default, `None` ones are dropped, unknown keys
/// become extras (`extra='allow'`) after the fields. Values under `Any` stay Python values: models
/// there become full dicts, `None` kept. See ``ModelSchema`` for the per-class table.
struct PydanticView {
    typealias Entries = [(key: String, value: PickleValue)]

    /// The actions JSON for a decoded pickle: an `EventActions` instance, a plain dict (which ADK
    /// also accepts) or `None` (ADK then uses `EventActions()`).
    func eventActions(_ value: PickleValue) throws(PickleError) -> JSONObject {
        let className = ModelSchema.eventActionsClass
        guard let schema = ModelSchema.generated[className] else { throw failure("", "no table for EventActions") }
        switch value {
        case .none:
            return try validate([], schema, className: className, path: "", depth: 0)
        case .object(className, _, _), .dict:
            guard let entries = try dumpEntries(value, as: className, path: "") else { break }
            return try validate(entries, schema, className: className, path: "", depth: 0)
        default:
            break
        }
        throw failure("", "the pickle holds \(value.kindName), not EventActions")
    }

    /// A value at a field of declared type `type` in model `owner`.
    func typed(_ value: PickleValue, _ type: ModelSchema.FieldType, owner: ModelSchema, path: String, depth: Int) throws(PickleError) -> JSONValue {
        guard depth <= PickleDecoder.maxDepth else { throw failure(path, "nesting deeper than \(PickleDecoder.maxDepth) levels") }
        switch (type, value) {
        case (_, .none):
            return .null
        case (.float, .int(let number)):
            return .number(JSONNumber(Double(number)))
        case (.bytes, .string(let text)) where owner.base64Bytes:
            return .string(Base64.urlSafe(Array(text.utf8)))
        case (.list(let inner), .list(let items)), (.list(let inner), .tuple(let items)),
            (.list(let inner), .set(let items)), (.list(let inner), .frozenset(let items)):
            var array: [JSONValue] = []
            for (index, item) in items.enumerated() {
                array.append(try typed(item, inner, owner: owner, path: "\(path)[\(index)]", depth: depth + 1))
            }
            return .array(array)
        case (.dict(let inner), .dict(let entries)):
            var members: [(key: String, value: JSONValue)] = []
            members.reserveCapacity(entries.count)
            for entry in entries {
                let key = try freeFormKey(entry.key, path: path)
                members.append((key, try typed(entry.value, inner, owner: owner, path: path + "." + key, depth: depth + 1)))
            }
            return .object(JSONObject(members))
        case (.model(let className), _):
            return try model(value, oneOf: [className], path: path, depth: depth)
        case (.union(let classNames), _):
            return try model(value, oneOf: classNames, path: path, depth: depth)
        default:
            return try freeForm(value, base64: owner.base64Bytes, path: path, depth: depth)
        }
    }

    /// A model (or union of models) field: dump the value, pick the class, validate.
    private func model(_ value: PickleValue, oneOf classNames: [String], path: String, depth: Int) throws(PickleError) -> JSONValue {
        guard let (entries, className, schema) = try resolve(value, oneOf: classNames, path: path) else {
            return try freeForm(value, base64: false, path: path, depth: depth)
        }
        return .object(try validate(entries, schema, className: className, path: path, depth: depth + 1))
    }

    /// The dumped entries of a model value and the class pydantic validates them as; nil for
    /// values that are neither instances nor dicts.
    func resolve(_ value: PickleValue, oneOf classNames: [String], path: String) throws(PickleError) -> (Entries, String, ModelSchema)? {
        var dumpedAs: String?
        if case .object(let className, _, _) = value {
            let bases = ModelSchema.generated[className]?.bases ?? []
            dumpedAs = classNames.contains(className) ? className : classNames.first(where: bases.contains)
        }
        guard let entries = try dumpEntries(value, as: dumpedAs, path: path) else { return nil }
        guard let chosen = choose(entries, classNames), let schema = ModelSchema.generated[chosen] else {
            throw failure(path, "ADK cannot validate this value as \(classNames.joined(separator: " or "))")
        }
        return (entries, chosen, schema)
    }

    /// pydantic's smart union: among members that validate, the one with most fields set; the
    /// first on a tie.
    private func choose(_ entries: Entries, _ classNames: [String]) -> String? {
        guard classNames.count > 1 else { return classNames.first }
        let values = Dictionary(entries.map { ($0.key, $0.value) }, uniquingKeysWith: { $1 })
        var best: (name: String, count: Int)?
        for name in classNames {
            guard let schema = ModelSchema.generated[name] else { continue }
            var count = 0, valid = true
            for field in schema.fields {
                let value = field.byName ? values[field.name] : nil
                if value == nil, field.required { valid = false }
                if case .str = field.type, let value, value.stringValue == nil, value != .none || field.required { valid = false }
                if value != nil { count += 1 }
            }
            if !schema.allowsExtra, values.keys.contains(where: { !schema.fieldNames.contains($0) }) { valid = false }
            if valid, count > (best?.count ?? -1) { best = (name, count) }
        }
        return best?.name
    }

    /// Validation of dumped entries against `schema`, then its json-mode dump with `exclude_none`
    /// (`includeExtras: false`: the declared fields only, as `model_extra.clear()` leaves them).
    func validate(
        _ entries: Entries, _ schema: ModelSchema, className: String, path: String, depth: Int, includeExtras: Bool = true
    ) throws(PickleError) -> JSONObject {
        let values = Dictionary(entries.map { ($0.key, $0.value) }, uniquingKeysWith: { $1 })
        // Members collected and built once: setting keys one by one is quadratic in their number.
        var members: [(key: String, value: JSONValue)] = []
        var used = Set<String>()
        for field in schema.fields {
            if className == ModelSchema.authConfigClass, field.name == "credential_key", values[field.name]?.stringValue.map(\.isEmpty) ?? true {
                // AuthConfig.__init__ derives a key when none is set (pickles of ADK < 1.5).
                used.insert(field.name)
                members.append((field.name, .string(try derivedCredentialKey(values, path: join(path, field.name), depth: depth))))
            } else if field.byName, let value = values[field.name] {
                used.insert(field.name)
                if case .none = value { continue }
                members.append((field.name, try typed(value, field.type, owner: schema, path: join(path, field.name), depth: depth + 1)))
            } else if let defaultValue = field.defaultValue {
                members.append((field.name, defaultValue))
            }
        }
        for (key, value) in entries where includeExtras && !used.contains(key) {
            if case .none = value { continue }
            if schema.allowsExtra {
                members.append((key, try freeForm(value, base64: schema.base64Bytes, path: join(path, key), depth: depth + 1)))
            } else {
                // A field this ADK does not know (written by a newer one): kept, after the known ones.
                var type = ModelSchema.FieldType.any
                if case .object(let className, _, _) = value, ModelSchema.generated[className] != nil { type = .model(className) }
                members.append((key, try typed(value, type, owner: schema, path: join(path, key), depth: depth + 1)))
            }
        }
        return JSONObject(members)
    }

    /// What `model_dump()` (python mode) gives for an instance or dict: `__dict__` items (only
    /// the fields of `dumpedAs` for a subclass instance), then `__pydantic_extra__` items, later
    /// keys replacing earlier ones in place. Nil for values that are neither.
    func dumpEntries(_ value: PickleValue, as dumpedAs: String?, path: String) throws(PickleError) -> Entries? {
        var fields: [PickleValue.Entry] = []
        var extras: [PickleValue.Entry] = []
        switch value {
        case .dict(let entries):
            fields = entries
        case .object(let className, _, let state):
            (fields, extras) = try instanceState(state, path: path)
            if let dumpedAs, dumpedAs != className, let schema = ModelSchema.generated[dumpedAs] {
                fields = fields.filter { $0.key.stringValue.map(schema.fieldNames.contains) ?? false }
            }
        default:
            return nil
        }
        var entries: Entries = []
        var positions: [String: Int] = [:]
        for entry in fields + extras {
            guard let key = entry.key.stringValue else { throw failure(path, "attribute name is \(entry.key.kindName), not str") }
            if let position = positions[key] {
                entries[position].value = entry.value
            } else {
                positions[key] = entries.count
                entries.append((key, entry.value))
            }
        }
        return entries
    }

    /// `(__dict__, __pydantic_extra__)` from a `BUILD` state: pydantic's dict, a plain `__dict__`,
    /// or `(dict_state, slot_state)`.
    private func instanceState(_ state: PickleValue?, path: String) throws(PickleError) -> ([PickleValue.Entry], [PickleValue.Entry]) {
        switch state {
        case nil, .none?:
            return ([], [])
        case .tuple(let parts)? where parts.count == 2:
            return try instanceState(parts[0], path: path)
        case .dict(let entries)?:
            guard let dict = entries.first(where: { $0.key == .string("__dict__") })?.value else { return (entries, []) }
            guard case .dict(let fields) = dict else { throw failure(path, "__dict__ is \(dict.kindName), not dict") }
            if case .dict(let extras)? = entries.first(where: { $0.key == .string("__pydantic_extra__") })?.value {
                return (fields, extras)
            }
            return (fields, [])
        case let other?:
            throw failure(path, "object state is \(other.kindName), not dict")
        }
    }

    func join(_ path: String, _ key: String) -> String { path.isEmpty ? key : path + "." + key }

    func failure(_ path: String, _ message: String) -> PickleError {
        PickleError(offset: nil, message: path.isEmpty ? message : "\(path): \(message)")
    }
}
