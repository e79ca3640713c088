/// Converts base64 text between the standard (`+/`) and URL-safe (`-_`) alphabets, padding kept.
///
/// pydantic's json mode writes `bytes` URL-safe (DatabaseSessionService, SqliteSessionService,
/// google-adk-redis); google-adk-community's orjson fallback writes them standard. The mapping is
/// one character for one, so it never changes the decoded bytes.
public enum Base64Alphabet {
    /// `+` → `-`, `/` → `_`.
    public static func toURLSafe(_ text: String) -> String {
        String(decoding: text.utf8.map { $0 == UInt8(ascii: "+") ? UInt8(ascii: "-") : $0 == UInt8(ascii: "/") ? UInt8(ascii: "_") : $0 }, as: UTF8.self)
    }

    /// `-` → `+`, `_` → `/`.
    public static func toStandard(_ text: String) -> String {
        String(decoding: text.utf8.map { $0 == UInt8(ascii: "-") ? UInt8(ascii: "+") : $0 == UInt8(ascii: "_") ? UInt8(ascii: "/") : $0 }, as: UTF8.self)
    }
}
