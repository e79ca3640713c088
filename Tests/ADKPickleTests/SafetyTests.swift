import ADKPickle
import SessionModel
import Testing

/// Hand-made hostile and malformed pickles: each must fail with a `PickleError` that says why.
@Suite struct SafetyTests {
    /// `text` with `\xNN` escapes as bytes (the way pickletools shows pickles).
    static func bytes(_ text: String) -> [UInt8] {
        var out: [UInt8] = []
        var scalars = Array(text.unicodeScalars)[...]
        while let scalar = scalars.popFirst() {
            if scalar == "\\", scalars.first == "x", let value = UInt8(String(String.UnicodeScalarView(scalars.dropFirst().prefix(2))), radix: 16) {
                out.append(value)
                scalars = scalars.dropFirst(3)
            } else {
                out.append(UInt8(truncatingIfNeeded: scalar.value))
            }
        }
        return out
    }

    static func error(_ text: String) -> PickleError? {
        do {
            _ = try PickleDecoder.decode(bytes(text))
            return nil
        } catch {
            return error
        }
    }

    static let forbidden: [(pickle: String, global: String, offset: Int)] = [
        ("\\x80\\x02cos\nsystem\n(X\\x02\\x00\\x00\\x00lstR.", "os.system", 2),
        ("\\x80\\x02cposix\nsystem\nX\\x02\\x00\\x00\\x00ls\\x85R.", "posix.system", 2),
        ("\\x80\\x04\\x8c\\x08builtins\\x8c\\x04eval\\x93\\x8c\\x011\\x85R.", "builtins.eval", 18),
        ("\\x80\\x02c__builtin__\neval\n.", "builtins.eval", 2),
        ("\\x80\\x04\\x8c\\x0asubprocess\\x8c\\x05Popen\\x93.", "subprocess.Popen", 21),
        ("\\x80\\x04\\x8c\\x08builtins\\x8c\\x07getattr\\x93.", "builtins.getattr", 21),
        ("cnt\nsystem\n.", "nt.system", 0),
        ("\\x80\\x05\\x95\\x0e\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x8c\\x02os\\x8c\\x06system\\x93.", "os.system", 23),
    ]

    @Test(arguments: 0..<forbidden.count)
    func refusesGlobalsOutsideTheAllowlist(_ index: Int) throws {
        let item = Self.forbidden[index]
        let error = try #require(Self.error(item.pickle))
        #expect(error.message.contains("global \(item.global) is not allowed"))
        #expect(error.offset == item.offset)
    }

    static let malformed: [(pickle: String, message: String)] = [
        ("", "truncated"),
        ("\\x80\\x04K\\x01", "truncated"),
        ("s.", "SETITEM: stack underflow"),
        ("(K\\x01K\\x02s.", "SETITEM: stack underflow"),
        ("\\x80\\x04.", "STOP"),
        ("h\\x05.", "BINGET: memo index 5 was never stored"),
        ("j\\xff\\xff\\xff\\xff.", "memo index 4294967295"),
        ("}K\\x01a.", "APPEND: needs a list, got dict"),
        ("]K\\x01K\\x02s.", "SETITEM: needs a dict, got list"),
        ("K\\x01K\\x02R.", "REDUCE: arguments must be a tuple, got int"),
        ("X\\xff\\xff\\xff\\x7fabc.", "BINUNICODE: length 2147483647 exceeds the 4 bytes left"),
        ("\\x8e\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xff.", "exceeds"),
        ("\\x8b\\xff\\xff\\xff\\xff.", "LONG4: negative length"),
        ("\\x95\\x00\\x00\\x00\\x00\\x01\\x00\\x00\\x00.", "FRAME: length 4294967296 exceeds"),
        ("\\x80\\x06.", "protocol 6"),
        ("\\xff.", "unknown opcode 0xff"),
        ("Q.", "unsupported opcode BINPERSID"),
        ("\\x97.", "unsupported opcode NEXT_BUFFER"),
        ("\\x8c\\x02\\xed\\xa0.", "str is not valid UTF-8"),
        ("}]K\\x01s.", "unhashable list"),
        ("(K\\x01d.", "odd number of items"),
        ("]\\x94h\\x00a.", "recursive list"),
        ("\\x80\\x02c__builtin__\nset\nK\\x01\\x85R.", "cannot iterate int"),
    ]

    @Test(arguments: 0..<malformed.count)
    func refusesMalformedInput(_ index: Int) throws {
        let item = Self.malformed[index]
        let error = try #require(Self.error(item.pickle), "\(item.message)")
        #expect(error.description.contains(item.message), "\(error)")
    }

    @Test func refusesNestingDeeperThanTheBound() throws {
        let deep = [UInt8](repeating: UInt8(ascii: "]"), count: 300) + [UInt8](repeating: UInt8(ascii: "a"), count: 299) + [UInt8(ascii: ".")]
        #expect(throws: PickleError.self) { try PickleDecoder.decode(deep) }
        let fine = [UInt8](repeating: UInt8(ascii: "]"), count: 100) + [UInt8](repeating: UInt8(ascii: "a"), count: 99) + [UInt8(ascii: ".")]
        #expect(throws: Never.self) { try PickleDecoder.decode(fine) }
    }

    /// Each level is a list of ten references to the level below: 10^40 leaves from 1 KB.
    @Test(.timeLimit(.minutes(1)))
    func refusesExponentialExpansion() throws {
        var pickle: [UInt8] = [0x80, 4, UInt8(ascii: "]"), 0x94]
        for level in 0..<40 {
            pickle += [UInt8(ascii: "(")] + Array(repeating: [UInt8(ascii: "h"), UInt8(level)], count: 10).flatMap { $0 }
            pickle += [UInt8(ascii: "l"), 0x94]
        }
        pickle.append(UInt8(ascii: "."))
        do {
            _ = try PickleDecoder.decode(pickle)
            Issue.record("an exponential expansion decoded")
        } catch {
            #expect(error.message.contains("expands beyond"))
        }
    }

    @Test func refusesPicklesThatAreNotEventActions() throws {
        #expect(throws: PickleError.self) { try EventActionsPickle.decode(Self.bytes("K\\x01.")) }
        let confirmation = Self.bytes("\\x80\\x04\\x8c\\x22google.adk.tools.tool_confirmation\\x8c\\x10ToolConfirmation\\x93)\\x81}b.")
        #expect(throws: PickleError.self) { try EventActionsPickle.decode(confirmation) }
        let defaults = ["state_delta", "artifact_delta", "requested_auth_configs", "requested_tool_confirmations"]
        #expect(try EventActionsPickle.decode(Self.bytes("N.")).keys == defaults)
        #expect(try EventActionsPickle.decode(Self.bytes("}\\x8c\\x08escalate\\x88s.")).keys.contains("escalate"))
    }
}
