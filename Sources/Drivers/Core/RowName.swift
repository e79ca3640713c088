import SessionModel

/// Names of rows in messages: keys and ids only, never payloads, each part through
/// ``Printable/name(_:limit:)`` (control characters escaped, at most 200 characters). Shared by the
/// SQL stores and the codecs so a row is named the same way in every store.
public enum RowName {
    /// `sessions row app/user/id`.
    public static func session(_ key: SessionKey) -> String { "sessions row \(key)" }
    /// `events row id='e1' of app/user/id`.
    public static func event(_ id: String, of key: SessionKey) -> String { "events row id='\(Printable.name(id))' of \(key)" }
    /// `app_states row app`.
    public static func appState(_ app: String) -> String { "app_states row \(Printable.name(app))" }
    /// `user_states row app/user`.
    public static func userState(_ app: String, _ user: String) -> String { "user_states row \(Printable.name(app))/\(Printable.name(user))" }
    /// `TABLE row a/b/c` for a row named by its key columns.
    public static func row(_ table: String, _ parts: [String]) -> String {
        "\(table) row " + parts.map { Printable.name($0) }.joined(separator: "/")
    }
}
