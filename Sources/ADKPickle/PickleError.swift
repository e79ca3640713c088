/// Why a pickle could not be read or written.
///
/// Errors from the pickle machine carry the byte `offset` of the opcode that failed; errors from
/// turning a decoded value into ADK's JSON (or JSON into a pickle) carry `offset == nil` and name
/// the JSON path instead. Messages never quote string or bytes payloads.
public struct PickleError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Byte offset of the failing opcode in the pickle, or nil for a conversion error.
    public var offset: Int?
    /// What went wrong, naming the opcode, global or JSON path involved.
    public var message: String

    /// Creates an error at a byte offset (`nil` when it is not about a position in the input).
    public init(offset: Int?, message: String) {
        self.offset = offset
        self.message = message
    }

    public var description: String {
        if let offset { return "invalid pickle at byte \(offset): \(message)" }
        return "pickle conversion failed: \(message)"
    }
}
