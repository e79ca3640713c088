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

/// Base64 encoding and decoding, shared by pydantic's bytes fields (URL-safe, padded) and resume
/// tokens (URL-safe, unpadded).
public enum Base64 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    /// URL-safe base64, with `=` padding as pydantic writes it (`b"\xfb\xff\xfe"` → `-__-`), or
    /// without.
    public static func urlSafe(_ bytes: [UInt8], padded: Bool = true) -> String {
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count + 2) / 3 * 4)
        var index = 0
        while index < bytes.count {
            let count = min(3, bytes.count - index)
            var chunk: UInt32 = 0
            for offset in 0..<3 { chunk = chunk << 8 | UInt32(offset < count ? bytes[index + offset] : 0) }
            for position in 0..<4 {
                if position <= count {
                    out.append(alphabet[Int(chunk >> UInt32(18 - 6 * position)) & 63])
                } else if padded {
                    out.append(UInt8(ascii: "="))
                }
            }
            index += 3
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The bytes of base64 text, or `nil` if it is not base64. Leniently (the default): either
    /// alphabet, padding optional. With `strictURLSafeUnpadded`: only the URL-safe alphabet and no
    /// padding at all.
    public static func decode(_ text: String, strictURLSafeUnpadded: Bool = false) -> [UInt8]? {
        var out: [UInt8] = []
        var chunk: UInt32 = 0, bits = 0
        var padding = 0
        for char in text.utf8 {
            if char == UInt8(ascii: "="), !strictURLSafeUnpadded {
                padding += 1
                continue
            }
            guard padding == 0, let value = sextet(char, urlSafeOnly: strictURLSafeUnpadded) else { return nil }
            chunk = chunk << 6 | UInt32(value)
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8(truncatingIfNeeded: chunk >> UInt32(bits)))
            }
        }
        let dataCount = text.utf8.count - padding
        guard dataCount % 4 != 1, padding <= 2, padding == 0 || (dataCount + padding) % 4 == 0 else { return nil }
        return out
    }

    private static func sextet(_ char: UInt8, urlSafeOnly: Bool) -> UInt8? {
        switch char {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): return char - UInt8(ascii: "A")
        case UInt8(ascii: "a")...UInt8(ascii: "z"): return char - UInt8(ascii: "a") + 26
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return char - UInt8(ascii: "0") + 52
        case UInt8(ascii: "-"): return 62
        case UInt8(ascii: "_"): return 63
        case UInt8(ascii: "+") where !urlSafeOnly: return 62
        case UInt8(ascii: "/") where !urlSafeOnly: return 63
        default: return nil
        }
    }
}
