/// Names from stored data (keys, ids, rows) as messages show them: control characters escaped and
/// the length bounded, so a stored name can neither forge a terminal line (`ESC[31m`, a newline)
/// nor flood it (a 200 KB id).
///
/// The one place this is done: ``SessionKey/description``, the errors that name keys and rows
/// (`SessionDataError`, `SkippedSession`, `SessionRejectedError`, `ResumeTokenError`, the backends'
/// errors) and the CLI's terminal output call it. It lives in SessionModel, below DriverCore, so that
/// ``SessionKey`` can use it.
///
/// Escapes: `\n`, `\r`, `\t`; other C0 controls and DEL as `\xHH`; C1 controls, line and paragraph
/// separators and bidirectional overrides (which reorder what a terminal shows) as `\u{HHHH}`.
/// A backslash is left as it is, so escaping twice changes nothing.
public enum Printable {
    /// The characters of one name shown in a message.
    public static let nameLimit = 200
    /// The characters of a message field built from several names (a row's location, a reason).
    public static let messageLimit = 1000

    /// `text` escaped, cut after `limit` characters (Unicode scalars) of escaped text with
    /// `… (N bytes)` appended, N being the UTF-8 size of the whole of `text`.
    public static func name(_ text: String, limit: Int = nameLimit) -> String {
        if text.utf8.count <= limit, !text.unicodeScalars.contains(where: needsEscape) { return text }
        var shown = String.UnicodeScalarView()
        var count = 0
        for scalar in text.unicodeScalars {
            let piece = escape(scalar)
            count += piece.count
            if count > limit { return String(shown) + "… (\(text.utf8.count) bytes)" }
            shown.append(contentsOf: piece)
        }
        return String(shown)
    }

    /// `text` with every control character escaped except newlines and tabs (for multi-line output),
    /// as JSON's `\uXXXX`: JSON output keeps its meaning (a serializer has escaped C0 controls inside
    /// strings already, and the others can only occur inside strings), and text output shows them.
    public static func lines(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: { needsEscape($0) && $0 != "\n" && $0 != "\t" }) else { return text }
        var shown = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            if scalar == "\n" || scalar == "\t" || !needsEscape(scalar) {
                shown.append(scalar)
            } else {
                let hex = String(scalar.value, radix: 16)
                shown.append(contentsOf: ("\\u" + String(repeating: "0", count: 4 - hex.count) + hex).unicodeScalars)
            }
        }
        return String(shown)
    }

    /// True for the scalars ``name(_:limit:)`` escapes.
    public static func needsEscape(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0..<0x20, 0x7F...0x9F, 0x200E, 0x200F, 0x2028...0x202E, 0x2066...0x2069: true
        default: false
        }
    }

    private static func escape(_ scalar: Unicode.Scalar) -> String.UnicodeScalarView {
        guard needsEscape(scalar) else { return String.UnicodeScalarView([scalar]) }
        let text: String
        switch scalar {
        case "\n": text = "\\n"
        case "\r": text = "\\r"
        case "\t": text = "\\t"
        default:
            let hex = String(scalar.value, radix: 16)
            text = scalar.value < 0x80 ? "\\x" + (hex.count < 2 ? "0" + hex : hex) : "\\u{\(hex)}"
        }
        return text.unicodeScalars
    }
}
