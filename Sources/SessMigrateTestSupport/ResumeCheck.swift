import DriverCore
import SessionModel
import Testing

/// Checks that scans resumed from `SessionCursor.resumeToken` skip no session.
/// Shared by the driver test targets (SessMigrateTestSupport is linked into tests only).
public enum ResumeCheck {
    /// Every session of a scan (resumed from `token` when given), in order.
    public static func scan(_ store: any SessionStore, batchSize: Int, after token: String? = nil) throws -> (keys: [SessionKey], sessions: [Session]) {
        let cursor = try store.scanSessions(SessionQuery(batchSize: batchSize, resumeAfter: token))
        var sessions: [Session] = []
        while let session = try cursor.next() { sessions.append(session) }
        return (sessions.map(\.key), sessions)
    }

    /// The keys of the first `count` sessions of a scan and the cursor's token after them.
    public static func firstPart(_ store: any SessionStore, batchSize: Int, count: Int, after start: String? = nil) throws -> ([SessionKey], String?) {
        let cursor = try store.scanSessions(SessionQuery(batchSize: batchSize, resumeAfter: start))
        var keys: [SessionKey] = []
        while keys.count < count, let session = try cursor.next() { keys.append(session.key) }
        return (keys, cursor.resumeToken)
    }

    /// For each `k` in `stops`: a scan stopped after `k` sessions, then one resumed from its token,
    /// return every session together. With `exact` nothing is returned twice; otherwise the repeats
    /// are the last sessions the first scan returned (its last page), at most `maxRepeats` of them.
    public static func expectResumes(
        _ store: any SessionStore, batchSize: Int, stops: [Int], exact: Bool, maxRepeats: Int = 0,
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        let all = Set(try scan(store, batchSize: batchSize).keys)
        for k in stops {
            let (first, token) = try firstPart(store, batchSize: batchSize, count: k)
            if k == 0 { #expect(token == nil, sourceLocation: sourceLocation) }
            #expect(token.map(isPrintableASCII) ?? true, "token \(token ?? "")", sourceLocation: sourceLocation)
            let rest = try scan(store, batchSize: batchSize, after: token).keys
            #expect(Set(first).union(rest) == all, "stopped after \(k)", sourceLocation: sourceLocation)
            let repeated = Set(first).intersection(rest)
            if exact {
                #expect(repeated.isEmpty, "stopped after \(k): \(repeated.count) repeated", sourceLocation: sourceLocation)
            } else {
                #expect(Set(first.suffix(repeated.count)) == repeated, "repeats after \(k) are not the last page", sourceLocation: sourceLocation)
                #expect(repeated.count <= maxRepeats, "stopped after \(k): \(repeated.count) repeated", sourceLocation: sourceLocation)
            }
        }
    }

    /// Scans the store as a chain of scans, each resumed from the previous one's token after
    /// `every` sessions, and expects all sessions returned (exactly once with `exact`).
    public static func expectChainedResumes(
        _ store: any SessionStore, batchSize: Int, every steps: [Int], exact: Bool,
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        let all = Set(try scan(store, batchSize: batchSize).keys)
        for step in steps {
            var seen: [SessionKey] = []
            var token: String?
            for _ in 0...(all.count * 4 + 10) {
                let (keys, next) = try firstPart(store, batchSize: batchSize, count: step, after: token)
                seen += keys
                token = next
                if keys.count < step { break }
            }
            #expect(Set(seen) == all, "every \(step)", sourceLocation: sourceLocation)
            if exact { #expect(seen.count == all.count, "every \(step): \(seen.count) returned", sourceLocation: sourceLocation) }
        }
    }

    public static func isPrintableASCII(_ token: String) -> Bool {
        token.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "\\") }
    }

    /// Tokens no keyset store accepts.
    public static let malformedKeysetTokens: [String] = [
        "", "garbage", "k1", "k1:", "k1:!!!!", "k2:WyJhIiwidSIsInMiXQ", "s1:0:0",
        "k1:" + ResumeToken.base64URLForTests(#"["a","u"]"#), "k1:" + ResumeToken.base64URLForTests(#"["a","u",3]"#),
        "k1:" + ResumeToken.base64URLForTests(#"{"a":1}"#), "k1:" + ResumeToken.base64URLForTests("not json"),
        "k1:WyJhIiwidSIsInMiXQ=", "k1:WyJhIiwidSIsInMiX", "k1:/w",
    ]
}

extension ResumeToken {
    /// A keyset-style payload of arbitrary text, for malformed-token tests.
    public static func base64URLForTests(_ text: String) -> String {
        Base64.urlSafe(Array(text.utf8), padded: false)
    }
}
