import SessionModel

extension PydanticView {
    /// A value under `Any`, as pydantic's json mode infers it: tuples and sets become lists, enums
    /// their value, NaN and infinities `null`, `bytes` base64 (genai models) or UTF-8 text (all
    /// others; non-UTF-8 bytes make ADK itself fail), models full dicts with `None` kept, and the
    /// stdlib types ADK allows (datetime, date, time, Decimal, UUID) their ISO/str forms.
    func freeForm(_ value: PickleValue, base64: Bool, path: String, depth: Int) throws(PickleError) -> JSONValue {
        guard depth <= PickleDecoder.maxDepth else { throw failure(path, "nesting deeper than \(PickleDecoder.maxDepth) levels") }
        switch value {
        case .none: return .null
        case .bool(let flag): return .bool(flag)
        case .int(let number): return .number(JSONNumber(number))
        case .bigInt(let bytes): return .number(try bigNumber(bytes, path: path))
        case .float(let number): return number.isFinite ? .number(JSONNumber(number)) : .null
        case .string(let text): return .string(text)
        case .bytes(let bytes), .bytearray(let bytes): return .string(try text(of: bytes, base64: base64, path: path))
        case .tuple(let items), .list(let items), .set(let items), .frozenset(let items):
            var array: [JSONValue] = []
            array.reserveCapacity(items.count)
            for (index, item) in items.enumerated() {
                array.append(try freeForm(item, base64: base64, path: "\(path)[\(index)]", depth: depth + 1))
            }
            return .array(array)
        case .dict(let entries):
            return .object(try freeFormObject(entries.map { ($0.key, $0.value) }, base64: base64, path: path, depth: depth))
        case .enumMember(_, let member):
            return try freeForm(member, base64: base64, path: path, depth: depth)
        case .global(let name):
            throw failure(path, "a reference to \(name) has no JSON form")
        case .object(let className, let args, let state):
            if ModelSchema.generated[className] != nil, let entries = try dumpEntries(value, as: nil, path: path) {
                return .object(try freeFormObject(entries.map { (.string($0.key), $0.value) }, base64: base64, path: path, depth: depth))
            }
            return .string(try StdlibJSON.text(className, args: args, state: state, path: path, view: self))
        }
    }

    private func freeFormObject(_ entries: [(PickleValue, PickleValue)], base64: Bool, path: String, depth: Int) throws(PickleError) -> JSONObject {
        // Built once from the members (keys that convert alike, `1` and `"1"`, keep the first
        // position and the last value, as setting them one by one would, without its n² cost).
        var members: [(key: String, value: JSONValue)] = []
        members.reserveCapacity(entries.count)
        for (key, value) in entries {
            let name = try freeFormKey(key, path: path)
            members.append((name, try freeForm(value, base64: base64, path: path.isEmpty ? name : path + "." + name, depth: depth + 1)))
        }
        return JSONObject(members)
    }

    /// A dict key as pydantic's json mode writes it: `1` → `"1"`, `False` → `"false"`, `None` → `"None"`.
    func freeFormKey(_ key: PickleValue, path: String) throws(PickleError) -> String {
        switch key {
        case .string(let text): return text
        case .int(let number): return String(number)
        case .bigInt(let bytes): return try bigNumber(bytes, path: path).literal
        case .bool(let flag): return flag ? "true" : "false"
        case .float(let number) where number.isFinite: return PythonFloat.repr(number)
        case .none: return "None"
        case .enumMember(_, let member): return try freeFormKey(member, path: path)
        default: throw failure(path, "a dict key of type \(key.kindName) has no JSON form")
        }
    }

    private func bigNumber(_ bytes: [UInt8], path: String) throws(PickleError) -> JSONNumber {
        guard bytes.count <= PickleInteger.maxDecimalBytes,
            case .number(let number)? = try? JSONValue.parse(PickleInteger.decimal(bytes))
        else {
            throw failure(path, "integer of \(bytes.count) bytes is too large to convert")
        }
        return number
    }

    private func text(of bytes: [UInt8], base64: Bool, path: String) throws(PickleError) -> String {
        if base64 { return Base64.urlSafe(bytes) }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw failure(path, "bytes that are not UTF-8 outside a google.genai model (ADK's own dump fails on them too)")
        }
        return text
    }
}
