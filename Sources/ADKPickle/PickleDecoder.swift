/// A restricted pickle reader (protocols 0–5 as CPython writes them for plain data and pydantic
/// models) that never executes anything.
///
/// `GLOBAL`/`STACK_GLOBAL` resolve only names in ``allowedGlobals`` (ADK 2.13's restricted
/// unpickler list plus a few that ADK's own pickles of older protocols use); `REDUCE`, `NEWOBJ`
/// and `BUILD` only record the class, its arguments and its state. Work and memory are
/// O(input size): length prefixes are checked against the remaining input before anything is
/// allocated, and the opcode loop does not recurse.
///
/// ```swift
/// let value = try PickleDecoder.decode(bytes)   // PickleValue.object(className: "...EventActions", ...)
/// ```
public enum PickleDecoder {
    /// Deepest nesting of containers and objects a decoded value may have.
    public static let maxDepth = 200

    /// Decodes one pickle. Bytes after the `STOP` opcode are ignored, as Python does.
    public static func decode(_ bytes: [UInt8]) throws(PickleError) -> PickleValue {
        var machine = PickleMachine(input: bytes)
        let root = try machine.run()
        return try machine.heap.materialize(root)
    }

    /// Every `module.qualname` a pickle may name: ADK 2.13's allowlist (derived from the
    /// `EventActions` and `AuthConfig` model trees, plus builtins and stdlib data types), and
    /// `builtins.frozenset`, `builtins.object`, `copyreg._reconstructor`, `copyreg.__newobj__`,
    /// `copyreg.__newobj_ex__` and `_codecs.encode` (protocols 0–3 spell sets and bytes with them).
    public static var allowedGlobals: Set<String> { PickleAllowlist.all }
}

enum PickleAllowlist {
    /// Globals beyond ADK's list that CPython's own pickles of plain data use (protocols < 4).
    static let compatibility: Set<String> = [
        "builtins.frozenset", "builtins.object", "copyreg._reconstructor", "copyreg.__newobj__",
        "copyreg.__newobj_ex__", "_codecs.encode",
    ]

    static let all: Set<String> =
        compatibility
        .union(ModelSchema.generated.keys)
        .union(ModelSchema.generatedEnums)
        .union(ModelSchema.generatedOthers)

    /// Python 2 module names that protocols < 3 write (`fix_imports`).
    static func fixImports(_ module: String) -> String {
        switch module {
        case "__builtin__": return "builtins"
        case "copy_reg": return "copyreg"
        default: return module
        }
    }
}
