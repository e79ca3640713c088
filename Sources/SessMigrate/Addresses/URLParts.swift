import Foundation

/// The pieces of `scheme://[user[:password]@]host[:port][/path][?query]`, percent-decoded.
///
/// A tiny parser of our own: Foundation's `URL` rejects characters that appear in real
/// passwords and session database names, and would echo the password in its errors.
public struct URLParts {
    var scheme: String
    var user: String?
    var password: String?
    var host: String
    var port: Int?
    var path: String
    var query: [(name: String, value: String)]

    /// Parses `text`; error messages never include the credentials.
    init(_ text: String) throws(AddressError) {
        guard let schemeEnd = text.range(of: "://") else {
            throw AddressError("'\(Self.redactedForError(text))' is not an address: expected scheme://…")
        }
        scheme = text[..<schemeEnd.lowerBound].lowercased()
        var rest = Substring(text[schemeEnd.upperBound...])
        // Credentials end at the last '@', so a pasted password may hold '/', '?', ':' or '@'.
        if let at = rest.lastIndex(of: "@") {
            let credentials = rest[..<at]
            rest = rest[rest.index(after: at)...]
            if let colon = credentials.firstIndex(of: ":") {
                user = try Self.decode(credentials[..<colon], what: "user name")
                password = try Self.decode(credentials[credentials.index(after: colon)...], what: "password")
            } else {
                user = try Self.decode(credentials, what: "user name")
            }
        }
        query = []
        if let mark = rest.firstIndex(of: "?") {
            query = try Self.parseQuery(rest[rest.index(after: mark)...])
            rest = rest[..<mark]
        }
        var authority = rest
        path = ""
        if let slash = rest.firstIndex(of: "/") {
            authority = rest[..<slash]
            path = try Self.decode(rest[rest.index(after: slash)...], what: "path")
        }
        (host, port) = try Self.parseHostPort(authority)
    }

    func queryValue(_ name: String) -> String? {
        query.last { $0.name == name }?.value
    }

    private static func parseHostPort(_ authority: Substring) throws(AddressError) -> (String, Int?) {
        var hostPart = authority
        var portPart: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { throw AddressError("unterminated '[' in host") }
            hostPart = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            if after.hasPrefix(":") {
                portPart = after.dropFirst()
            } else if !after.isEmpty {
                throw AddressError("unexpected text after ']' in host")
            }
        } else if let colon = authority.lastIndex(of: ":") {
            hostPart = authority[..<colon]
            portPart = authority[authority.index(after: colon)...]
        }
        var port: Int?
        if let portPart {
            guard let value = Int(portPart), (1...65535).contains(value) else {
                throw AddressError("port '\(portPart)' is not a number from 1 to 65535")
            }
            port = value
        }
        return (try decode(hostPart, what: "host"), port)
    }

    private static func parseQuery(_ text: Substring) throws(AddressError) -> [(name: String, value: String)] {
        var result: [(name: String, value: String)] = []
        for pair in text.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = try decode(parts[0], what: "query parameter")
            let value = parts.count > 1 ? try decode(parts[1], what: "query parameter '\(name)'") : ""
            result.append((name: name, value: value))
        }
        return result
    }

    /// Percent-decoding (`%40` → `@`); `+` stays `+`.
    static func decode(_ text: Substring, what: String) throws(AddressError) -> String {
        guard text.contains("%") else { return String(text) }
        var bytes: [UInt8] = []
        var index = text.utf8.startIndex
        let utf8 = text.utf8
        while index < utf8.endIndex {
            let byte = utf8[index]
            if byte == UInt8(ascii: "%") {
                let first = utf8.index(after: index)
                guard first < utf8.endIndex, utf8.index(after: first) < utf8.endIndex,
                    let high = hexValue(utf8[first]), let low = hexValue(utf8[utf8.index(after: first)])
                else { throw AddressError("bad percent-escape in the \(what)") }
                bytes.append(high << 4 | low)
                index = utf8.index(first, offsetBy: 2)
            } else {
                bytes.append(byte)
                index = utf8.index(after: index)
            }
        }
        guard let decoded = String(validating: bytes, as: UTF8.self) else {
            throw AddressError("the \(what) is not valid UTF-8 after percent-decoding")
        }
        return decoded
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    /// The text with anything between `://` (or the start, without a scheme) and the last `@`
    /// replaced, for error messages.
    static func redactedForError(_ text: String) -> String {
        guard let schemeEnd = text.range(of: "://") else {
            return text.lastIndex(of: "@").map { "***" + String(text[$0...]) } ?? text
        }
        guard let at = text[schemeEnd.upperBound...].lastIndex(of: "@") else {
            return text
        }
        return String(text[..<schemeEnd.upperBound]) + "***" + String(text[at...])
    }
}
