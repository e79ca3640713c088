extension TranscodingPass {
    /// How a `bytes` field's base64 is carried over (``Base64Alphabet``).
    enum Alphabet { case keep, urlSafe, standard }

    /// An object's members in order, with ``CommunityForm``'s rules where `transform` asks for them:
    /// `null` members of models dropped on the way to canonical form, `bytes` fields' alphabets
    /// converted, nothing inside free-form fields touched.
    mutating func object(depth: Int, freeForm: Bool, topLevel: Bool, inlineData: Bool) -> Bool {
        index += 1
        output.append(UInt8(ascii: "{"))
        let keysBase = keys.count
        defer { keys.removeSubrange(keysBase...) }
        skipWhitespace()
        if index < input.count, input[index] == UInt8(ascii: "}") {
            index += 1
            output.append(UInt8(ascii: "}"))
            return true
        }
        var written = 0
        let rules = transform != .none || tracksCommunity
        while true {
            skipWhitespace()
            guard let (key, plain) = rawKey() else { return false }
            for previous in keys[keysBase...] where same(previous, key) { return false }
            keys.append(key)
            skipWhitespace()
            guard index < input.count, input[index] == UInt8(ascii: ":") else { return false }
            index += 1
            skipWhitespace()
            if transform == .toCanonical, !freeForm, matchesLiteral("null") {
                index += 4  // a model's `None` field: exclude_none drops it
            } else {
                if written > 0 { separator(UInt8(ascii: ",")) }
                written += 1
                if plain {
                    output.append(UInt8(ascii: "\""))
                    output.append(UnsafeRawBufferPointer(rebasing: input[key]))
                    output.append(UInt8(ascii: "\""))
                    index = key.upperBound + 1
                } else {
                    index = key.lowerBound - 1
                    guard string(alphabet: .keep) else { return false }
                }
                skipWhitespace()
                index += 1  // the ':' checked above
                skipWhitespace()
                separator(UInt8(ascii: ":"))
                let childFreeForm = freeForm || rules && (isFreeForm(key) || topLevel && keyIs(key, "custom_metadata"))
                let bytesField = rules && !freeForm && (keyIs(key, "thought_signature") || keyIs(key, "sdk_blob") || inlineData && keyIs(key, "data"))
                let valueStart = index
                guard value(depth: depth + 1, freeForm: childFreeForm, inlineData: rules && keyIs(key, "inline_data"), bytesField: bytesField) else {
                    return false
                }
                if topLevel { guard capture(key, valueStart: valueStart) else { return false } }
            }
            skipWhitespace()
            guard index < input.count else { return false }
            if input[index] == UInt8(ascii: ",") {
                index += 1
                continue
            }
            guard input[index] == UInt8(ascii: "}") else { return false }
            index += 1
            output.append(UInt8(ascii: "}"))
            return true
        }
    }

    /// Keeps the top-level `id`, `invocation_id` and `timestamp` the event's fields are made of.
    mutating func capture(_ key: Range<Int>, valueStart: Int) -> Bool {
        let isString = input[valueStart] == UInt8(ascii: "\"")
        let content = UnsafeRawBufferPointer(rebasing: input[(valueStart + 1)..<max(valueStart + 1, index - 1)])
        if keyIs(key, "id") {
            guard isString, !content.contains(UInt8(ascii: "\\")) else { return false }
            id = String(decoding: content, as: UTF8.self)
        } else if keyIs(key, "invocation_id"), isString {
            guard !content.contains(UInt8(ascii: "\\")) else { return false }
            invocationId = String(decoding: content, as: UTF8.self)
        } else if keyIs(key, "timestamp"), lastNumber.lowerBound == valueStart, lastNumber.upperBound == index {
            let value = Self.double(UnsafeRawBufferPointer(rebasing: input[lastNumber]))
            guard value.isFinite else { return false }
            timestamp = value
        }
        return true
    }

    /// The content range of the key at `index` (which must open a string), `index` after it, and
    /// whether the key is written as it is (`plain`: no control character, and in python output
    /// nothing from 0x7F up). A key with an escape declines; its UTF-8 is checked here (a dropped
    /// member is not written).
    mutating func rawKey() -> (key: Range<Int>, plain: Bool)? {
        guard index < input.count, input[index] == UInt8(ascii: "\"") else { return nil }
        index += 1
        let start = index
        var plain = true
        while index < input.count {
            let byte = input[index]
            if byte == UInt8(ascii: "\"") {
                index += 1
                return (start..<(index - 1), plain)
            }
            if byte == UInt8(ascii: "\\") { return nil }
            if byte >= 0x80 {
                guard let length = utf8Length(at: index) else { return nil }
                index += length
                if python { plain = false }
            } else {
                if byte < 0x20 || (byte == 0x7F && python) { plain = false }
                index += 1
            }
        }
        return nil
    }

    func same(_ a: Range<Int>, _ b: Range<Int>) -> Bool {
        guard a.count == b.count else { return false }
        for offset in 0..<a.count where input[a.lowerBound + offset] != input[b.lowerBound + offset] { return false }
        return true
    }

    func keyIs(_ key: Range<Int>, _ name: StaticString) -> Bool {
        guard key.count == name.utf8CodeUnitCount else { return false }
        for offset in 0..<key.count where input[key.lowerBound + offset] != name.utf8Start[offset] { return false }
        return true
    }

    /// ``CommunityForm/isFreeForm(_:)`` on the key's bytes.
    func isFreeForm(_ key: Range<Int>) -> Bool {
        switch key.count {
        case 4: keyIs(key, "args")
        case 6: keyIs(key, "output")
        case 7: keyIs(key, "payload")
        case 8: keyIs(key, "response")
        case 11: keyIs(key, "state_delta") || keyIs(key, "agent_state")
        case 13: keyIs(key, "part_metadata")
        case 18: keyIs(key, "set_model_response")
        default: false
        }
    }
}
