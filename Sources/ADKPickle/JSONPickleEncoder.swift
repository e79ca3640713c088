import SessionModel

/// JSON → pickle opcodes, guided by the model table where `bytes` and `float` fields are.
struct JSONPickleEncoder {
    var writer = PickleWriter()

    mutating func value(_ json: JSONValue, _ type: ModelSchema.FieldType?, owner: ModelSchema?, path: String, depth: Int) throws(PickleError) {
        guard depth <= PickleDecoder.maxDepth else { throw failure(path, "nesting deeper than \(PickleDecoder.maxDepth) levels") }
        switch json {
        case .null: writer.op("N")
        case .bool(let flag): writer.op(flag ? 0x88 : 0x89)
        case .number(let number):
            var isFloatField = false
            if case .float? = type { isFloatField = true }
            try self.number(number, isFloatField: isFloatField, path: path)
        case .string(let text):
            guard case .bytes? = type else { return writer.string(text) }
            guard owner?.base64Bytes ?? false else { return writer.bytes(Array(text.utf8)) }
            guard let bytes = Base64.decode(text) else { throw failure(path, "a bytes field holds text that is not base64") }
            writer.bytes(bytes)
        case .array(let items):
            writer.op("]")
            guard !items.isEmpty else { return }
            var inner: ModelSchema.FieldType?
            if case .list(let itemType)? = type { inner = itemType }
            writer.op("(")
            for (index, item) in items.enumerated() { try value(item, inner, owner: owner, path: "\(path)[\(index)]", depth: depth + 1) }
            writer.op("e")
        case .object(let object):
            switch type {
            case .model(let className)?: try self.object(object.members, schema: ModelSchema.generated[className], path: path, depth: depth)
            case .dict(let inner)?: try self.object(object.members, valueType: inner, owner: owner, path: path, depth: depth)
            default: try self.object(object.members, valueType: nil, owner: owner, path: path, depth: depth)
            }
        }
    }

    /// A dict whose values follow the fields of `schema` (unknown keys and no schema: plain).
    mutating func object(_ members: [(key: String, value: JSONValue)], schema: ModelSchema?, path: String, depth: Int = 0) throws(PickleError) {
        writer.op("}")
        guard !members.isEmpty else { return }
        writer.op("(")
        for member in members {
            writer.string(member.key)
            let type = schema?.fields.first { $0.name == member.key }?.type
            try value(member.value, type, owner: schema, path: path.isEmpty ? member.key : path + "." + member.key, depth: depth + 1)
        }
        writer.op("u")
    }

    private mutating func object(
        _ members: [(key: String, value: JSONValue)], valueType: ModelSchema.FieldType?, owner: ModelSchema?, path: String, depth: Int
    ) throws(PickleError) {
        writer.op("}")
        guard !members.isEmpty else { return }
        writer.op("(")
        for member in members {
            writer.string(member.key)
            try value(member.value, valueType, owner: owner, path: path + "." + member.key, depth: depth + 1)
        }
        writer.op("u")
    }

    private mutating func number(_ number: JSONNumber, isFloatField: Bool, path: String) throws(PickleError) {
        guard number.isInteger, !isFloatField else { return writer.float(number.doubleValue) }
        if let small = Int(number.literal) { return writer.int(small) }
        guard number.literal.utf8.count <= 2 * PickleInteger.maxDecimalBytes, let bytes = PickleInteger.bytes(decimal: number.literal) else {
            throw failure(path, "an integer of \(number.literal.utf8.count) digits is too large")
        }
        writer.bigInt(bytes)
    }

    private func failure(_ path: String, _ message: String) -> PickleError {
        PickleError(offset: nil, message: path.isEmpty ? message : "\(path): \(message)")
    }
}
